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
