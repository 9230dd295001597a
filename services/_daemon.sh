# Shared by services written in Python (http.sh, ftp.sh): sourced after _lib.sh, never run.
# The server binds 127.0.0.1 on a port of its choosing and writes it to a port file once it
# listens, so there is no window between picking a free port and binding it.

# daemon_up NAME SCRIPT ARGS...: start `$PLAIT_PY SCRIPT ARGS --port-file F` unless it runs;
# on return the server listens and $PORT holds its port.
daemon_up() {
  local name=$1 script=$2; shift 2
  local pidfile="$RUN_DIR/$name.pid" portfile="$RUN_DIR/$name.port"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && [ -f "$portfile" ]; then
    PORT=$(cat "$portfile"); return 0
  fi
  rm -f "$portfile"
  : "${PLAIT_PY:?set PLAIT_PY to the python that has the test extra installed}"
  setsid "$PLAIT_PY" "$SERVICES_DIR/$script" "$@" --port-file "$portfile" \
    >"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 100); do  # up to 10 s
    [ -f "$portfile" ] && break
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -f "$portfile" ]; then
    echo "$name server did not start; its log, $RUN_DIR/$name.log, says:" >&2
    tail -20 "$RUN_DIR/$name.log" >&2
    return 1
  fi
  PORT=$(cat "$portfile")
}

# daemon_down NAME: stop the server started by daemon_up (its whole process group).
daemon_down() {
  local pidfile="$RUN_DIR/$1.pid"
  if [ -f "$pidfile" ]; then
    kill -- "-$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
  rm -f "$RUN_DIR/$1.port"
  drop_env "$1"
}
