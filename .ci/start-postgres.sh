#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the ledger tests, and export
# POLICY_ENGINE_TEST_PG. Sourced by .ci/run (as root, on a fresh Debian machine);
# a developer can source it too:  . .ci/start-postgres.sh
# Installs Debian's postgresql package when initdb/pg_ctl are missing.
# Stop with .ci/stop-postgres.sh (it reads PG_CI_DIR).

_pg_start() {
  local bindir="" d
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    bindir="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"
  else
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir="$d"; done
  fi
  if [ -z "$bindir" ]; then
    echo "start-postgres: installing postgresql from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null || { echo "start-postgres: apt-get install postgresql failed" >&2; return 1; }
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir="$d"; done
  fi
  [ -n "$bindir" ] || { echo "start-postgres: no pg_ctl found" >&2; return 1; }

  local runas=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql --shell /bin/sh postgres
    runas=(runuser -u postgres --)
  fi
  PG_CI_DIR="$(mktemp -d /tmp/policy-engine-pg.XXXXXX)"
  chmod 755 "$PG_CI_DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$PG_CI_DIR"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  "${runas[@]}" "$bindir/initdb" -D "$PG_CI_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_CI_DIR/initdb.log" 2>&1 \
    || "${runas[@]}" "$bindir/initdb" -D "$PG_CI_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_CI_DIR/initdb.log" 2>&1 \
    || { cat "$PG_CI_DIR/initdb.log" >&2; return 1; }
  "${runas[@]}" "$bindir/pg_ctl" -D "$PG_CI_DIR/data" -l "$PG_CI_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_CI_DIR -c max_connections=200 -c fsync=off" start >/dev/null \
    || { cat "$PG_CI_DIR/server.log" >&2; return 1; }
  "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAtc "CREATE DATABASE policy_engine_test" >/dev/null \
    || { echo "start-postgres: createdb failed" >&2; return 1; }
  export PG_CI_DIR PG_CI_BIN="$bindir"
  export POLICY_ENGINE_TEST_PG="postgresql://postgres@127.0.0.1:$port/policy_engine_test"
  echo "start-postgres: PostgreSQL $("$bindir/pg_ctl" --version | sed "s/.*) //") on 127.0.0.1:$port; POLICY_ENGINE_TEST_PG=$POLICY_ENGINE_TEST_PG" >&2
}
_pg_start
