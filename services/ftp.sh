#!/usr/bin/env bash
# The FTP server for the data-staging tests (services/ftp_server.py, pyftpdlib): up | down.
# Tests put files under ROOT; users are listed in ftp_server.py.
source "$(dirname "$0")/_lib.sh"
source "$SERVICES_DIR/_daemon.sh"

ROOT="$RUN_DIR/ftp-root"
case "${1:-}" in
  up)
    mkdir -p "$ROOT"
    daemon_up ftp ftp_server.py --root "$ROOT"
    write_env ftp "HOST=127.0.0.1" "PORT=$PORT" "ROOT=$ROOT" "USER=plait" \
      "PASSWORD=plait-test" "READER=reader" "READER_PASSWORD=reader-test"
    ;;
  down) daemon_down ftp ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
