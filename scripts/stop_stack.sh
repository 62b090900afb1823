#!/usr/bin/env bash
# Stop the stack of scripts/start_stack.sh (same settings: EUDR_CHECK_STACK_DIR, ...).
set -euo pipefail
exec bash "$(dirname "$0")/start_stack.sh" stop "$@"
