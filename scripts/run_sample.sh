#!/usr/bin/env bash
# The main job on the bundled sample cooperative: check every plot against the bundled
# (synthetic) forest rasters and write the due-diligence reports, export the plots for the EU
# Information System, and validate every other sample format. Reports go to out/sample (or $1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
out=${1:-out/sample}
mkdir -p "$out"
cli=.venv/bin/eudr-check

# Exit code 1 only means "errors remain": the sample files break every rule on purpose.
ok_or_findings() { local s=0; "$@" || s=$?; [ "$s" -le 1 ] || exit "$s"; }

"$cli" check sample_plots/cooperativa.geojson --datasets sample_data --out "$out"
ok_or_findings "$cli" validate sample_plots/cooperativa.geojson --fix --out "$out" > "$out/validate.log"
"$cli" export-traces sample_plots/cooperativa.geojson --out "$out/traces"

echo
for f in sample_plots/cooperativa.{kml,kmz,gpkg,gpx,xlsx} sample_plots/cooperativa_*.{csv,zip}; do
  name=$(basename "$f")
  ok_or_findings "$cli" validate "$f" --fix --country PE --out "$out/$name" > "$out/$name.log"
  echo "$name: $(grep -E 'sin problemas|without problems' "$out/$name.log" | tail -n 1)"
done
echo
echo "Reports written to $out"
