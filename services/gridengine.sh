#!/usr/bin/env bash
# A real Grid Engine on this host: Debian's Son of Grid Engine qmaster and execd.
#
#   bash services/gridengine.sh up     install gridengine-{master,exec,client}, configure, start
#   bash services/gridengine.sh down   stop them (only when no other checkout still uses them)
#
# Machine-wide (SGE_ROOT=/var/lib/gridengine, cell "default"); the spool is made afresh on
# every cold start, so no job survives a restart. The daemons listen on free ports, not
# 6444/6445: clients need SGE_QMASTER_PORT and SGE_EXECD_PORT from the env file.
# Writes services/run/gridengine.env: SGE_ROOT SGE_CELL SGE_QMASTER_PORT SGE_EXECD_PORT
# GE_QUEUE GE_HOST GE_PORTS_FILE (the ports of the daemons running now: another checkout's
# cold start may have moved them since this file was written).
source "$(dirname "$0")/_lib.sh"

NAME=gridengine
DIR=$MACHINE_DIR/gridengine
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
SPOOL=/var/spool/gridengine
QMASTER_PID=$SPOOL/qmaster/qmaster.pid
HOST=$(hostname -s)
# execd names its spool directory after the name its address resolves to (maybe localhost)
execd_pid() { ls "$SPOOL"/execd/*/execd.pid 2>/dev/null | head -1; }

# qconf edits objects with $EDITOR: this one rewrites "key value" lines given as arguments.
edit_with() {
  local script=$DIR/editor.sh
  printf '#!/bin/bash\nfile="${!#}"\n' > "$script"
  local kv
  for kv in "$@"; do
    printf 'sed -i "s|^%s .*|%s %s|" "$file"\n' "${kv%%=*}" "${kv%%=*}" "${kv#*=}" >> "$script"
  done
  chmod +x "$script"
  echo "$script"
}

fresh_spool() {
  # job ids restart at 1: an old accounting record must not answer for a new job
  rm -rf "$SPOOL/spooldb" "$SPOOL/qmaster" "$SPOOL/execd" \
    "$SGE_ROOT/$SGE_CELL/common/accounting"
  mkdir -p "$SPOOL/spooldb" "$SPOOL/qmaster/job_scripts" "$SPOOL/execd"
  chown -R sgeadmin:sgeadmin "$SPOOL"
  su -s /bin/sh -c "/usr/share/gridengine/scripts/init_cluster $SGE_ROOT $SGE_CELL \
    $SPOOL/spooldb sgeadmin" sgeadmin >/dev/null
  echo "$HOST" > "$SGE_ROOT/$SGE_CELL/common/act_qmaster"
  # every name of this host's loopback address is this host (qmaster checks names)
  echo "$HOST localhost $(awk '$1 == "127.0.0.1" {for (i = 2; i <= NF; i++) print $i}' \
    /etc/hosts | grep -vx -e localhost -e "$HOST" | tr '\n' ' ')" \
    > "$SGE_ROOT/$SGE_CELL/common/host_aliases"
}

configure() {
  qconf -ah "$HOST" >/dev/null 2>&1 || true   # init_cluster may have made it one
  qconf -as "$HOST" >/dev/null 2>&1
  # jobs run as root here (tests run as root); limits are checked every 15 s
  EDITOR=$(edit_with min_uid=0 min_gid=0 load_report_time=00:00:05 max_unheard=00:00:30) \
    qconf -mconf >/dev/null
  # accounting records (qacct: how a job ended) are written within a second, not 15 s
  printf '#!/bin/bash\nsed -i "/^reporting_params/,/[^\\\\]\$/c reporting_params accounting=true reporting=false flush_time=00:00:01 joblog=false sharelog=00:00:00" "${!#}"\n' \
    > "$DIR/editor-reporting.sh"
  chmod +x "$DIR/editor-reporting.sh"
  EDITOR=$DIR/editor-reporting.sh qconf -mconf >/dev/null
  EDITOR=$(edit_with hostlist="$HOST" slots=4 shell=/bin/bash shell_start_mode=unix_behavior \
    pe_list=NONE load_thresholds=NONE) \
    qconf -aq all.q >/dev/null
  # dispatch within a second of a submission, not at the next 15 s scheduling run
  EDITOR=$(edit_with schedule_interval=0:0:1 flush_submit_sec=1 flush_finish_sec=1) \
    qconf -msconf >/dev/null
}

do_up() {
  debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string default
gridengine-common shared/gridenginemaster string $HOST
EOF
  apt_install gridengine-master gridengine-exec gridengine-client
  mkdir -p "$DIR"
  if ! { pid_alive "$QMASTER_PID" && pid_alive "$(execd_pid)" && [ -s "$DIR/ports" ]; }; then
    do_stop
    printf 'SGE_QMASTER_PORT=%s\nSGE_EXECD_PORT=%s\n' "$(free_port)" "$(free_port)" \
      > "$DIR/ports"
    set -a; source "$DIR/ports"; set +a
    fresh_spool
    /usr/sbin/sge_qmaster
    wait_for 30 sge_qmaster qconf -sh
    configure
    /usr/sbin/sge_execd
    wait_for 40 sge_execd bash -c "qstat -f -q all.q | grep -q 'all.q@' && \
      ! qstat -f -q all.q | grep -E 'all.q@\S+ .* (au|u|E)\$'"
  fi
  set -a; source "$DIR/ports"; set +a
  lease_take "$NAME"
  write_env "$NAME" "SGE_ROOT=$SGE_ROOT" "SGE_CELL=$SGE_CELL" \
    "SGE_QMASTER_PORT=$SGE_QMASTER_PORT" "SGE_EXECD_PORT=$SGE_EXECD_PORT" GE_QUEUE=all.q \
    "GE_HOST=$HOST" "GE_PORTS_FILE=$DIR/ports"
}

do_stop() {
  if [ -s "$DIR/ports" ]; then
    set -a; source "$DIR/ports"; set +a
    if pid_alive "$QMASTER_PID"; then
      qdel -f -u '*' >/dev/null 2>&1 || true
      # the jobs' shepherds end with their jobs: wait for them before execd goes
      wait_for 20 "grid engine jobs to end" bash -c '[ -z "$(qstat -u "*")" ]' || true
      qconf -ke all >/dev/null 2>&1 || true
      qconf -km >/dev/null 2>&1 || true
    fi
  fi
  [ -z "$(execd_pid)" ] || stop_pidfile "$(execd_pid)" 15
  stop_pidfile "$QMASTER_PID" 20
  rm -f "$DIR/ports"
}

machine_service "$NAME" "${1:-}"
