#!/usr/bin/env bash
# The service stack without Docker: the processes of docker/compose.yaml, on 127.0.0.1 only.
#
#   scripts/start_stack.sh            start, wait until each process is healthy, print the env
#   scripts/start_stack.sh stop       stop exactly what it started (= scripts/stop_stack.sh)
#   scripts/start_stack.sh status     the health of each process (exit 1 if any is unhealthy)
#   scripts/start_stack.sh commands   each process's command line (tests compare with compose)
#
# Processes: Dask scheduler and workers, Prefect server (its database on PostgreSQL), the
# Prefect worker (`python -m flows.deploy`, serving the flows' deployments) and the API
# (`eudr-check serve`). PostgreSQL is the private test cluster of scripts/start_postgres.sh
# (or EUDR_CHECK_STACK_PG_URL), in databases of the stack's own, so the stack never touches
# the test database; `scripts/start_postgres.sh stop` stops it.
#
# stdout holds only the environment, in shell syntax with the URLs as comments, so
# `eval "$(scripts/start_stack.sh)"` points eudr-check, prefect and Dask clients at the stack.
# Progress and errors go to stderr. Logs, pid files and PREFECT_HOME are in the run directory.
# A second start finds the stack healthy and prints the same env, or refuses when it is only
# partly running. Settings (environment):
#   EUDR_CHECK_STACK_DIR         run directory                             .stack
#   EUDR_CHECK_STACK_API_PORT    the API                                   8000
#   EUDR_CHECK_STACK_PREFECT_PORT  Prefect server (API and UI)             4200
#   EUDR_CHECK_STACK_DASK_PORT   Dask scheduler                            8786
#   EUDR_CHECK_STACK_DASK_HTTP_PORT  scheduler's /health and /metrics      8787
#   EUDR_CHECK_STACK_DASK_WORKERS  Dask worker processes                   2
#   EUDR_CHECK_STACK_DB          registry database (Prefect's: <name>_prefect)  eudr_check_stack
#   EUDR_CHECK_STACK_PG_URL      a PostgreSQL URL whose role may create databases; default: the
#                                server of scripts/start_postgres.sh
#   EUDR_CHECK_STACK_DATASETS    raster folder                             sample_data/
#   EUDR_CHECK_STACK_TIMEOUT     seconds each process has to become healthy  180
#   EUDR_CHECK_STACK_STOP_TIMEOUT  seconds each process has to stop before SIGKILL  20
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

HOST=127.0.0.1
RUN=$(realpath -m "${EUDR_CHECK_STACK_DIR:-.stack}")
API_PORT=${EUDR_CHECK_STACK_API_PORT:-8000}
PREFECT_PORT=${EUDR_CHECK_STACK_PREFECT_PORT:-4200}
DASK_PORT=${EUDR_CHECK_STACK_DASK_PORT:-8786}
DASK_HTTP_PORT=${EUDR_CHECK_STACK_DASK_HTTP_PORT:-8787}
DASK_WORKERS=${EUDR_CHECK_STACK_DASK_WORKERS:-2}
DB=${EUDR_CHECK_STACK_DB:-eudr_check_stack}
DATASETS=$(realpath -m "${EUDR_CHECK_STACK_DATASETS:-sample_data}")
TIMEOUT=${EUDR_CHECK_STACK_TIMEOUT:-180}
STOP_TIMEOUT=${EUDR_CHECK_STACK_STOP_TIMEOUT:-20}

log() { echo "start_stack: $*" >&2; }
die() {
  log "$*"
  exit 1
}

for n in "$API_PORT" "$PREFECT_PORT" "$DASK_PORT" "$DASK_HTTP_PORT" "$DASK_WORKERS" "$TIMEOUT" \
  "$STOP_TIMEOUT"; do
  [[ $n =~ ^[0-9]+$ ]] || die "not a number: '$n' (check the EUDR_CHECK_STACK_* settings)"
done
[[ $DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "EUDR_CHECK_STACK_DB: lower-case letters, digits and _"

PREFECT_API=http://$HOST:$PREFECT_PORT/api
DASK_ADDRESS=tcp://$HOST:$DASK_PORT
DASK_HTTP=http://$HOST:$DASK_HTTP_PORT
API_URL=http://$HOST:$API_PORT

# Each process's command: the same as in docker/compose.yaml but for addresses and directories.
# --no-dashboard leaves out Dask's Bokeh dashboard, not its HTTP server (/health, /metrics):
# --dashboard-address keeps that on 127.0.0.1 instead of 0.0.0.0:8787 (port 0: any free one).
cmd_dask_scheduler=(dask scheduler --host "$HOST" --port "$DASK_PORT" --no-dashboard
  --dashboard-address "$HOST:$DASK_HTTP_PORT")
cmd_dask_worker=(dask worker "$DASK_ADDRESS" --host "$HOST" --nworkers 1 --nthreads 1
  --no-dashboard --dashboard-address "$HOST:0" --local-directory "$RUN/dask")
cmd_prefect_server=(prefect server start --host "$HOST" --port "$PREFECT_PORT")
cmd_worker=(python -m flows.deploy)
cmd_api=(eudr-check serve --host "$HOST" --port "$API_PORT")

tool() { .venv/bin/python scripts/stack_tool.py "$@"; }

print_commands() {
  local name var
  for name in dask-scheduler dask-worker prefect-server worker api; do
    var="cmd_${name//-/_}[@]"
    printf '%s\t' "$name"
    printf '%q ' "${!var}"
    echo
  done
}

# The pid files: "<order>-<name>.pid" holding "pid start-time stop-signal".
# 0 when any recorded process (group) still runs.
any_running() {
  local f pid
  for f in "$RUN"/pids/*.pid; do
    [ -e "$f" ] || continue
    read -r pid _ <"$f"
    if kill -0 -- "-$pid" 2>/dev/null; then
      return 0
    fi
  done
  return 1
}

status() {
  local bad=0
  tool health dask "$DASK_HTTP" --workers "$DASK_WORKERS" >&2 || bad=1
  tool health prefect "$PREFECT_API" >&2 || bad=1
  local f worker=""
  for f in "$RUN"/pids/[0-9][0-9]-worker.pid; do
    [ -e "$f" ] && read -r worker _ <"$f"
  done
  if [ -n "$worker" ]; then
    tool health deployments "$PREFECT_API" --since-pid "$worker" >&2 || bad=1
  else
    log "worker: not started"
    bad=1
  fi
  tool health api "$API_URL" >&2 || bad=1
  return "$bad"
}

stop_stack() {
  if [ -d "$RUN/pids" ]; then
    tool stop "$RUN" --timeout "$STOP_TIMEOUT"
  fi
}

case "${1:-start}" in
  commands)
    print_commands
    exit 0
    ;;
  stop)
    stop_stack
    exit 0
    ;;
  status)
    if status; then
      log "healthy"
      exit 0
    fi
    die "not healthy"
    ;;
  start) ;;
  *) die "unknown command '$1': start, stop, status or commands" ;;
esac

bash scripts/bootstrap.sh
mkdir -p "$RUN/logs" "$RUN/pids" "$RUN/dask" "$RUN/prefect"
# Keep the run directory out of git without touching the project's .gitignore.
[ -f "$RUN/.gitignore" ] || echo '*' >"$RUN/.gitignore"

# One start or stop at a time per run directory.
exec 9>"$RUN/lock"
flock -n 9 || die "another start is running in $RUN"

if any_running; then
  if [ -f "$RUN/env" ] && status; then
    log "already running in $RUN"
    cat "$RUN/env"
    exit 0
  fi
  die "a stack runs in $RUN but is not healthy (or not on these ports): stop it first" \
    "with scripts/stop_stack.sh"
fi
rm -f "$RUN"/pids/*.pid

tool ports-free "$API_PORT" "$PREFECT_PORT" "$DASK_PORT" "$DASK_HTTP_PORT" ||
  die "set EUDR_CHECK_STACK_*_PORT to free ports"

# PostgreSQL: the registry database (PostGIS) and Prefect's (pg_trgm, which its migrations
# create), both owned by the URL's role.
PG_URL=${EUDR_CHECK_STACK_PG_URL:-}
if [ -z "$PG_URL" ]; then
  PG_URL=$(bash scripts/start_postgres.sh)
fi
REGISTRY_URL=$(tool create-db "$PG_URL" "$DB" --extension postgis) ||
  die "cannot create the registry database $DB"
PREFECT_DB_URL=$(tool create-db "$PG_URL" "${DB}_prefect" --extension pg_trgm) ||
  die "cannot create the Prefect database ${DB}_prefect"
tool health postgis "$REGISTRY_URL" >/dev/null || die "db: PostGIS is not usable in $DB"

# The environment of every process (and of the clients, via the printed env). The flows are
# installed with the package, so the Dask workers import them without a PYTHONPATH.
export PATH="$ROOT/.venv/bin:$PATH"
export PREFECT_HOME="$RUN/prefect"
export PREFECT_API_URL="$PREFECT_API"
export EUDR_CHECK_REGISTRY_URL="$REGISTRY_URL"
export EUDR_CHECK_DATASETS="$DATASETS"
export EUDR_CHECK_DASK_ADDRESS="$DASK_ADDRESS"
export EUDR_CHECK_CHECK_DEPLOYMENT=check-queue/check-queue
export DO_NOT_TRACK=1 # no Prefect SDK telemetry

order=0
# launch NAME SIGNAL CMD...: start CMD in a session (so a process group) of its own, logs in
# the run directory; record its pid, start time and the signal that stops it.
launch() {
  local name=$1 stop_signal=$2 pid stat rest fields
  shift 2
  order=$((order + 1))
  # env --default-signal: undo the SIGINT/SIGQUIT ignore bash gives background jobs (Python
  # would keep ignoring SIGINT). 9>&-: the children must not hold the lock.
  setsid env --default-signal "$@" >"$RUN/logs/$name.log" 2>&1 </dev/null 9>&- &
  pid=$!
  # setsid and env exec in place (we are not a group leader), so $! is the new group's leader.
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || die "$name exited at once: see $RUN/logs/$name.log"
  rest=${stat##*) }
  read -r -a fields <<<"$rest"
  printf '%s %s %s\n' "$pid" "${fields[19]}" "$stop_signal" \
    >"$RUN/pids/$(printf '%02d' "$order")-$name.pid"
  pids[$name]=$pid
}

declare -A pids
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    log "stopping what was started"
    stop_stack || true
  fi
}
trap on_exit EXIT

# wait_healthy NAME [health args...]: until healthy, or fail naming NAME with its log's tail.
wait_healthy() {
  local name=$1 status=0 start=$SECONDS p
  shift
  local watch=()
  for p in ${name//,/ }; do
    watch+=(--pid "${pids[$p]}")
  done
  tool health "$@" --wait "$TIMEOUT" "${watch[@]}" >/dev/null || status=$?
  if [ "$status" -ne 0 ]; then
    for p in ${name//,/ }; do
      log "---- last lines of $RUN/logs/$p.log"
      tail -n 30 "$RUN/logs/$p.log" >&2 || true
    done
    if [ "$status" -eq 3 ]; then
      die "$name exited before becoming healthy (log above)"
    fi
    die "$name is not healthy after ${TIMEOUT}s (log above)"
  fi
  log "$name healthy ($((SECONDS - start))s)"
}

log "starting in $RUN"
launch dask-scheduler TERM "${cmd_dask_scheduler[@]}"
# The server's own settings: its database (on asyncpg) and no analytics.
server_env=(
  PREFECT_SERVER_API_HOST="$HOST"
  PREFECT_SERVER_API_PORT="$PREFECT_PORT"
  PREFECT_SERVER_DATABASE_CONNECTION_URL="${PREFECT_DB_URL/postgresql+psycopg:/postgresql+asyncpg:}"
  PREFECT_SERVER_ANALYTICS_ENABLED=false
)
launch prefect-server TERM env "${server_env[@]}" "${cmd_prefect_server[@]}"
wait_healthy dask-scheduler dask "$DASK_HTTP"
workers=""
for i in $(seq 1 "$DASK_WORKERS"); do
  launch "dask-worker-$i" TERM "${cmd_dask_worker[@]}"
  workers+="${workers:+,}dask-worker-$i"
done
wait_healthy prefect-server prefect "$PREFECT_API"
# INT: Prefect 3.8's serve handles SIGTERM by calling its async stop from inside its own event
# loop ("coroutine 'Runner.astop' was never awaited"), and once hung here for the whole grace
# period; SIGINT goes through asyncio's KeyboardInterrupt path and shuts down cleanly.
launch worker INT "${cmd_worker[@]}"
launch api TERM "${cmd_api[@]}"
wait_healthy "$workers" dask "$DASK_HTTP" --workers "$DASK_WORKERS"
wait_healthy worker deployments "$PREFECT_API" --since-pid "${pids[worker]}"
wait_healthy api api "$API_URL"

{
  echo "# eudr_check stack in $RUN (stop: scripts/stop_stack.sh)"
  echo "# API:           $API_URL"
  echo "# Prefect UI:    http://$HOST:$PREFECT_PORT"
  echo "# Dask:          $DASK_ADDRESS (health: $DASK_HTTP/health)"
  for var in PREFECT_HOME PREFECT_API_URL EUDR_CHECK_REGISTRY_URL EUDR_CHECK_DATASETS \
    EUDR_CHECK_DASK_ADDRESS EUDR_CHECK_CHECK_DEPLOYMENT; do
    printf 'export %s=%q\n' "$var" "${!var}"
  done
  printf 'export EUDR_CHECK_API_URL=%q\n' "$API_URL"
} >"$RUN/env"
log "all healthy in $((SECONDS))s"
cat "$RUN/env"
