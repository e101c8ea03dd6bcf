#!/usr/bin/env bash
# Stop the server .ci/start-postgres.sh started (PG_CI_DIR, PG_CI_BIN) and remove its files.
[ -n "${PG_CI_DIR:-}" ] && [ -d "$PG_CI_DIR/data" ] || exit 0
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$PG_CI_BIN/pg_ctl" -D "$PG_CI_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
else
  "$PG_CI_BIN/pg_ctl" -D "$PG_CI_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
fi
rm -rf "$PG_CI_DIR"
