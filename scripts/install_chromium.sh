#!/usr/bin/env bash
# Debian's Chromium at /usr/bin/chromium, for the browser test (tests/test_browser.py).
# Playwright drives this system browser: `playwright install` downloads its own builds from a
# CDN, which machines without general internet access cannot reach.
# Idempotent: does nothing when the browser is there already.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Chromium is missing (/usr/bin/chromium). As root, run:" >&2
  echo "  apt-get update && apt-get install -y chromium fonts-dejavu-core" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# DejaVu: text in screenshots on a machine without any fonts.
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
/usr/bin/chromium --version
