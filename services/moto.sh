#!/usr/bin/env bash
# moto's server mode: a local HTTP server implementing the EC2 API, the stand-in for AWS in
# tests/providers/cloud/test_aws.py (no real cloud is reachable from these machines).
# `up` starts it on a free port (pid and port in services/run/moto.*), `down` stops it.
source "$(dirname "${BASH_SOURCE[0]}")/_lib.sh"

NAME=moto
PIDFILE="$RUN_DIR/$NAME.pid"
LOG="$RUN_DIR/$NAME.log"
PY="${PLAIT_PY:-$SERVICES_DIR/../.venv/bin/python}"

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

up() {
  if running && [ -f "$RUN_DIR/$NAME.env" ]; then return 0; fi
  "$PY" -c 'import moto.server' 2>/dev/null || {
    echo "moto.sh: moto[server] is not installed in $PY (it is in plait's test extra)" >&2
    return 1; }
  local port; port=$(free_port)
  # its own session, so `down` stops the server and nothing else
  # Validate what real EC2 validates: AMI ids, instance types, key pairs; and credentials
  # after the few unauthenticated calls that create the test account (below).
  MOTO_ENABLE_AMI_VALIDATION=true MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION=true \
  MOTO_ENABLE_KEYPAIR_VALIDATION=true INITIAL_NO_AUTH_ACTION_COUNT=6 \
  setsid "$PY" -m moto.server -H 127.0.0.1 -p "$port" >"$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  for _ in $(seq 1 100); do
    if "$PY" - "$port" <<'PY' 2>/dev/null; then
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
      # The test accounts, made with the server's unauthenticated calls (6, as counted
      # above): plait-test may use all of EC2, plait-readonly may only look.
      local keys
      keys=$("$PY" "$SERVICES_DIR/moto_accounts.py" "http://127.0.0.1:$port") || { down; return 1; }
      write_env "$NAME" "ENDPOINT=http://127.0.0.1:$port" $keys
      return 0
    fi
    running || break
    sleep 0.1
  done
  echo "moto.sh: moto_server did not start; its log:" >&2; cat "$LOG" >&2
  down; return 1
}

down() {
  drop_env "$NAME"
  if running; then
    local pid; pid=$(cat "$PIDFILE")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
