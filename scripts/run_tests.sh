#!/usr/bin/env bash
# The whole test suite plus lint and type checks, in a fresh virtual environment if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests benchmarks scripts flows
.venv/bin/ruff format --check src tests benchmarks scripts flows
.venv/bin/mypy
# Import contracts (pyproject.toml [tool.importlinter]): no cycle, no import from a shell.
.venv/bin/lint-imports
# A real PostgreSQL (with PostGIS) on 127.0.0.1 for the registry tests, installed if missing.
if [ -z "${EUDR_CHECK_TEST_PG_URL:-}" ]; then
  EUDR_CHECK_TEST_PG_URL=$(bash scripts/start_postgres.sh)
fi
export EUDR_CHECK_TEST_PG_URL
# Debian's Chromium for the browser test (tests/test_browser.py), installed if missing.
bash scripts/install_chromium.sh
# Installed above: from here a missing browser is a failure, never a skip.
export EUDR_CHECK_REQUIRE_BROWSER=1
status=0
.venv/bin/pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$status"
