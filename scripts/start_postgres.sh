#!/usr/bin/env bash
# A private PostgreSQL 15 + PostGIS server for the registry tests, listening on 127.0.0.1 only.
#
#   scripts/start_postgres.sh         install (when missing), init, start; print the test URL
#   scripts/start_postgres.sh stop    stop the server (the data directory stays)
#
# Idempotent: a second run finds the server running and only prints the URL (stdout holds
# nothing else, so `export EUDR_CHECK_TEST_PG_URL=$(scripts/start_postgres.sh)` works).
# The cluster is our own (data directory under /tmp, port 54329, socket in the same
# directory), so it never touches a system cluster on 5432. It is tuned for tests (fsync off):
# never point anything that matters at it.
set -euo pipefail

PG_VERSION=15
PORT=${EUDR_CHECK_PG_PORT:-54329}
DIR=${EUDR_CHECK_PG_DIR:-/tmp/eudr_check_pg}
DATA=$DIR/data
BIN=/usr/lib/postgresql/$PG_VERSION/bin
ROLE=eudr_check_test
PASSWORD=eudr_check_test  # local test server only
DB=eudr_check_test
URL="postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"

log() { echo "start_postgres: $*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The server refuses to run as root: as root, run its tools as the postgres user.
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

have_postgis() {
  [ -f "/usr/share/postgresql/$PG_VERSION/extension/postgis.control" ]
}

install_packages() {
  if ! is_root; then
    log "PostgreSQL $PG_VERSION (+ PostGIS) is not installed; as root run:"
    log "  apt-get update && apt-get install -y postgresql-$PG_VERSION postgresql-$PG_VERSION-postgis-3"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "installing PostgreSQL $PG_VERSION and PostGIS (Debian packages)"
  apt-get update -q >&2
  if [ ! -x "$BIN/postgres" ]; then
    # No default cluster on 5432: we run our own (the official postgres image does the same).
    apt-get install -y -q --no-install-recommends postgresql-common >&2
    sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf
  fi
  apt-get install -y -q --no-install-recommends "postgresql-$PG_VERSION" \
    "postgresql-$PG_VERSION-postgis-3" >&2
}

psql_super() {
  as_pg env PGOPTIONS="-c client_min_messages=warning" "$BIN/psql" -h "$DIR" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

if [ "${1:-start}" = "stop" ]; then
  if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  fi
  exit 0
fi

if [ ! -x "$BIN/postgres" ] || ! have_postgis; then
  install_packages
fi

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  if [ ! -f "$DATA/PG_VERSION" ]; then
    log "creating a test cluster in $DATA"
    mkdir -p "$DIR"
    if is_root; then
      chown postgres:postgres "$DIR"
    fi
    chmod 700 "$DIR"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >&2
    # Local socket only inside $DIR (mode 700), TCP on 127.0.0.1 only; durability off for speed.
    as_pg tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  fi
  log "starting PostgreSQL on 127.0.0.1:$PORT"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >&2
fi

# Role and database (idempotent). CREATEDB: every test gets its own throw-away database.
psql_super -d postgres <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END
\$\$;
EOF
if have_postgis; then
  # In template1 too, so the tests' fresh databases have PostGIS without a superuser.
  psql_super -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
else
  log "PostGIS is not installed: the registry tests will skip their PostGIS variant"
fi
if [ -z "$(psql_super -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  psql_super -d postgres -c "CREATE DATABASE $DB OWNER $ROLE"
fi
if have_postgis; then
  psql_super -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS postgis"
fi

echo "$URL"
