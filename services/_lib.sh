# Shared by the service scripts in services/: sourced, never run.
# A service script takes `up` or `down`, is idempotent both ways, and on `up` writes
# services/run/<name>.env (KEY=VALUE lines) that tests read through tests/services.py.
set -euo pipefail

SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUN_DIR="$SERVICES_DIR/run"
mkdir -p "$RUN_DIR"

# apt_install PACKAGE...: install the Debian packages that are missing (quietly).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# write_env NAME KEY=VALUE...: record how tests reach service NAME.
write_env() {
  local name=$1; shift
  printf '%s\n' "$@" > "$RUN_DIR/$name.env.tmp"
  mv "$RUN_DIR/$name.env.tmp" "$RUN_DIR/$name.env"
}

# drop_env NAME: the service is down.
drop_env() { rm -f "$RUN_DIR/$1.env"; }

# Machine-wide daemons (Slurm, munge, Grid Engine) are shared by every checkout on this machine
# that runs `make test`: each checkout takes a lease on `up` and drops it on `down`, and the
# daemons stop only when the last lease goes. State lives in $MACHINE_DIR/<name>, not in a
# checkout, so that one checkout's `down` or `git clean` never pulls them from under another.
MACHINE_DIR=${PLAIT_MACHINE_DIR:-/var/lib/plait-services}

# with_lock NAME ACTION: re-run this script as `SCRIPT _ACTION` holding the machine-wide lock
# of service NAME. (flock -o: the daemons the action starts must not inherit the lock.)
with_lock() {
  mkdir -p "$MACHINE_DIR/$1/leases"
  flock -o -w 300 "$MACHINE_DIR/$1.lock" bash "$0" "_$2" \
    || { echo "$1: $2 failed (or the lock $MACHINE_DIR/$1.lock was held for 300 s)" >&2; return 1; }
}

# machine_service NAME ACTION: the entry point of a machine-wide service script, which
# defines do_up (start if needed, take a lease, write the env file) and do_stop.
# `up`/`down` run under the lock; `down` stops the daemons only if no other lease is left.
machine_service() {
  local name=$1
  case "$2" in
    up|down) with_lock "$name" "$2" ;;
    _up) do_up ;;
    _down)
      if lease_drop "$name"; then
        echo "$name: still used by another checkout; leaving it running"
      else
        do_stop
      fi
      drop_env "$name" ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
  esac
}

# lease_take NAME: this checkout uses service NAME.
lease_take() { mkdir -p "$MACHINE_DIR/$1/leases"; echo "$RUN_DIR" > "$MACHINE_DIR/$1/leases/$(lease_id)"; }

# lease_drop NAME: this checkout is done with NAME; succeeds if other live leases remain.
lease_drop() {
  rm -f "$MACHINE_DIR/$1/leases/$(lease_id)"
  leases_prune "$1"
  [ -n "$(ls -A "$MACHINE_DIR/$1/leases" 2>/dev/null)" ]
}

# leases_prune NAME: remove the leases nobody holds any more. A lease records its checkout's
# services/run directory; it is stale when that directory is gone (checkout deleted, or a
# machine image that kept /var/lib/plait-services) or no longer holds NAME's env file (that
# checkout's `down` or `git clean` ran, or its `up` failed half-way). Called under the lock,
# so no checkout is between its lease_take and its write_env.
leases_prune() {
  local lease run_dir
  for lease in "$MACHINE_DIR/$1/leases"/*; do
    [ -f "$lease" ] || continue
    run_dir=$(cat "$lease" 2>/dev/null || true)
    if [ -z "$run_dir" ] || [ ! -f "$run_dir/$1.env" ]; then
      echo "$1: dropping the stale lease of ${run_dir:-an unknown checkout}"
      rm -f "$lease"
    fi
  done
}

lease_id() { printf '%s' "$RUN_DIR" | md5sum | cut -c1-16; }

# pid_alive FILE: the process whose pid FILE holds is running.
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile FILE [SECONDS]: SIGTERM the process in FILE, SIGKILL it after SECONDS (10).
stop_pidfile() {
  local file=$1 wait=${2:-10} pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < wait * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

# wait_for SECONDS WHAT CMD...: retry CMD every 0.2 s until it succeeds; fail after SECONDS.
wait_for() {
  local seconds=$1 what=$2 i; shift 2
  for ((i = 0; i < seconds * 5; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "$what did not come up within $seconds s" >&2
  return 1
}
