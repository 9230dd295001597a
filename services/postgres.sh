#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the monitoring tests: `up` starts it on a free port on
# 127.0.0.1 (trust auth, fsync off), `down` stops it and deletes its files.
# Writes services/run/postgres.env: PG_PORT, PG_HOST (the socket directory), PG_URL.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

PG_DIR="$RUN_DIR/postgres"
PG_DATA="$PG_DIR/data"

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] || { echo "postgres.sh: no /usr/lib/postgresql/*/bin after installing postgresql" >&2; exit 1; }
  echo "$bin"
}

as_postgres() { runuser -u postgres -- "$@"; }  # initdb refuses to run as root

up() {
  apt_install postgresql
  local bin; bin=$(pg_bin)
  if [ -f "$RUN_DIR/postgres.env" ] && as_postgres "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  chown postgres: "$PG_DIR"
  as_postgres "$bin/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  local port; port=$(free_port)
  as_postgres "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; exit 1; }
  write_env postgres "PG_PORT=$port" "PG_HOST=$PG_DIR" \
    "PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  echo "postgres up on 127.0.0.1:$port"
}

down() {
  drop_env postgres
  if [ -d "$PG_DATA" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
