#!/usr/bin/env bash
# TEMPORARY: sshd on loopback for the rsync staging tests, until services/sshd.sh (issue 15)
# lands on main; it writes the same services/run/sshd.env and sshd-b.env keys, so the tests
# read service("sshd") either way. Remove this file once sshd.sh is on main.
#   SSHD_HOST SSHD_PORT SSHD_USER SSHD_KEY SSHD_KNOWN_HOSTS
source "$(dirname "$0")/_lib.sh"

DIR=$RUN_DIR/sshd-rsync
INSTANCES="sshd@127.0.0.1 sshd-b@127.0.0.2"

up_instance() {
  local name=${1%@*} address=${1#*@} port
  if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null \
      && [ -f "$RUN_DIR/$name.env" ]; then return 0; fi
  port=$(free_port)
  cat > "$DIR/$name.conf" <<CONF
ListenAddress $address
Port $port
HostKey $DIR/host_ed25519
PidFile $DIR/$name.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50:30:100
LogLevel ERROR
CONF
  /usr/sbin/sshd -f "$DIR/$name.conf" -E "$DIR/$name.log"
  echo "[$address]:$port $(cut -d' ' -f1,2 "$DIR/host_ed25519.pub")" >> "$DIR/known_hosts"
  for _ in $(seq 100); do
    ssh -o BatchMode=yes -o UserKnownHostsFile="$DIR/known_hosts" -o IdentitiesOnly=yes \
      -i "$DIR/id_ed25519" -p "$port" "root@$address" true 2>/dev/null && break
    sleep 0.1
  done
  write_env "$name" "SSHD_HOST=$address" "SSHD_PORT=$port" SSHD_USER=root \
    "SSHD_KEY=$DIR/id_ed25519" "SSHD_KNOWN_HOSTS=$DIR/known_hosts"
}

case "${1:-}" in
  up)
    apt_install openssh-server openssh-client rsync
    mkdir -p /run/sshd "$DIR"
    [ -f "$DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_ed25519"
    [ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/id_ed25519"
    cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
    chmod 600 "$DIR/id_ed25519" "$DIR/authorized_keys"
    for inst in $INSTANCES; do up_instance "$inst"; done
    ;;
  down)
    for inst in $INSTANCES; do
      name=${inst%@*}
      if [ -f "$DIR/$name.pid" ]; then kill "$(cat "$DIR/$name.pid")" 2>/dev/null || true; fi
      rm -f "$DIR/$name.pid"
      drop_env "$name"
    done
    rm -f "$DIR/known_hosts"
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
