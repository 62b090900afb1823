#!/usr/bin/env bash
# Re-fetch the vendored Leaflet (src/eudr_check/api/static/vendor/leaflet/) from the npm registry.
# The pages serve it themselves: no CDN, so maps work on an offline server and no third party
# learns who looks at which plots. The version is pinned and the tarball checked against the
# registry's sha512 integrity (`npm view leaflet@1.9.4 dist.integrity`), so the copy is
# reproducible.
set -euo pipefail

VERSION=1.9.4
INTEGRITY="sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/src/eudr_check/api/static/vendor/leaflet"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
tarball="$(npm pack --silent "leaflet@$VERSION")"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "leaflet-$VERSION: integrity mismatch" >&2
  echo "  expected $INTEGRITY" >&2
  echo "  got      $actual" >&2
  exit 1
fi
tar -xzf "$tarball"

rm -rf "$dest"
mkdir -p "$dest/images"
cp package/dist/leaflet.js package/dist/leaflet.css "$dest/"
cp package/dist/images/*.png "$dest/images/"
cp package/LICENSE "$dest/LICENSE"
printf 'leaflet %s from the npm registry, %s\n' "$VERSION" "$INTEGRITY" > "$dest/VERSION"
echo "leaflet $VERSION vendored into ${dest#"$root"/}"
