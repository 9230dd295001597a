#!/usr/bin/env bash
# OpenSSH servers on loopback addresses, private to this checkout (own host keys, config, port).
#
#   bash services/sshd.sh up     install openssh-server, start one sshd per instance
#   bash services/sshd.sh down   stop them
#
# Instances are NAME@ADDRESS pairs (SSHD_INSTANCES overrides the default below); each gets
# services/run/NAME.env with:
#   SSHD_HOST SSHD_PORT SSHD_USER    where to connect (user: root, key-only login)
#   SSHD_KEY                         the client's private key (one for every instance)
#   SSHD_KNOWN_HOSTS                 a known_hosts file holding every instance's host key
# Reuse it from another test (rsync, scp, a remote provider): `service("sshd")` in Python.
# Several loopback addresses stand for several hosts (AdHocProvider's test): the whole of
# 127.0.0.0/8 is loopback on Linux, so no alias needs configuring.
source "$(dirname "$0")/_lib.sh"

INSTANCES=${SSHD_INSTANCES:-"sshd@127.0.0.1 sshd-b@127.0.0.2 sshd-c@127.0.0.3"}
DIR=$RUN_DIR/sshd

up_instance() {
  local name=${1%@*} address=${1#*@} port
  if pid_alive "$DIR/$name.pid" && [ -f "$RUN_DIR/$name.env" ]; then return 0; fi
  stop_pidfile "$DIR/$name.pid" 5
  port=$(free_port)
  cat > "$DIR/$name.conf" <<EOF
# written by services/sshd.sh for instance $name
ListenAddress $address
Port $port
HostKey $DIR/host_ed25519
PidFile $DIR/$name.pid
AuthorizedKeysFile $DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# the checkout's directories may be group-writable
StrictModes no
# the provider's shared connection runs many sessions at once
MaxSessions 50
MaxStartups 50:30:100
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
  /usr/sbin/sshd -f "$DIR/$name.conf" -E "$DIR/$name.log"
  echo "[$address]:$port $(cut -d' ' -f1,2 "$DIR/host_ed25519.pub")" >> "$DIR/known_hosts"
  wait_for 10 "sshd $name" ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$DIR/known_hosts" -o IdentitiesOnly=yes -i "$DIR/id_ed25519" \
    -p "$port" "root@$address" true
  write_env "$name" "SSHD_HOST=$address" "SSHD_PORT=$port" SSHD_USER=root \
    "SSHD_KEY=$DIR/id_ed25519" "SSHD_KNOWN_HOSTS=$DIR/known_hosts"
}

do_up() {
  apt_install openssh-server openssh-client
  mkdir -p /run/sshd "$DIR"
  chmod 0755 /run/sshd
  [ -f "$DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/host_ed25519"
  [ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$DIR/id_ed25519"
  cp "$DIR/id_ed25519.pub" "$DIR/authorized_keys"
  chmod 600 "$DIR/id_ed25519" "$DIR/authorized_keys"
  local inst
  for inst in $INSTANCES; do up_instance "$inst"; done
}

do_down() {
  local inst name
  for inst in $INSTANCES; do
    name=${inst%@*}
    stop_pidfile "$DIR/$name.pid" 5
    drop_env "$name"
  done
  rm -f "$DIR/known_hosts"
}

case "${1:-}" in
  up) do_up ;;
  down) do_down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
