#!/usr/bin/env bash
# The HTTP server for the data-staging tests (services/http_server.py): up | down.
# Tests put files under ROOT and fetch them from URL (see http_server.py for fault routes).
source "$(dirname "$0")/_lib.sh"
source "$SERVICES_DIR/_daemon.sh"

ROOT="$RUN_DIR/http-root"
case "${1:-}" in
  up)
    mkdir -p "$ROOT"
    daemon_up http http_server.py --root "$ROOT"
    write_env http "URL=http://127.0.0.1:$PORT" "ROOT=$ROOT"
    ;;
  down) daemon_down http ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
