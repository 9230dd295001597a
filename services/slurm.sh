#!/usr/bin/env bash
# A real Slurm on this host: munged, slurmctld and three `slurmd -N nX` node daemons.
#
#   bash services/slurm.sh up     install Debian's slurm-wlm + munge, write the config, start
#   bash services/slurm.sh down   stop them (only when no other checkout still uses them)
#
# Machine-wide: the config is /etc/slurm/slurm.conf (so sbatch/squeue work from any shell, and
# over SSH), state and logs are in /var/lib/plait-services/slurm. Every "node" is this host:
# only SLURMD_NODENAME tells them apart. No slurmdbd: `sacct` does not work; finished jobs stay
# visible to `squeue --states=all` and `scontrol show job` for MinJobAge seconds.
# Writes services/run/slurm.env: SLURM_PARTITION, SLURM_NODES, SLURM_CONF, SLURM_DIR.
source "$(dirname "$0")/_lib.sh"

NAME=slurm
DIR=$MACHINE_DIR/slurm
CONF=/etc/slurm/slurm.conf
NODES=(n1 n2 n3)
MARKER="# written by plait services/slurm.sh"

write_config() {
  if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    echo "slurm: $CONF exists and was not written by plait; not touching it" >&2
    return 1
  fi
  mkdir -p "$DIR/state" "$DIR/log" "$DIR/spool"
  local host ctld_port node_lines="" n
  host=$(hostname -s)
  ctld_port=$(free_port)
  for n in "${NODES[@]}"; do
    node_lines+="NodeName=$n NodeHostname=$host NodeAddr=127.0.0.1 Port=$(free_port) CPUs=2 RealMemory=2000 State=UNKNOWN"$'\n'
  done
  cat > "$CONF.tmp" <<EOF
$MARKER: 'bash services/slurm.sh down' removes it
ClusterName=plait
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
# linuxproc tracks a job's processes by parentage (no cgroups in this container), so
# scancel and the walltime kill reach the workers a block started.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
# short grace between SIGTERM and SIGKILL at scancel/walltime; finished jobs stay listed 5 min
KillWait=5
OverTimeLimit=0
MinJobAge=300
InactiveLimit=0
SlurmdTimeout=60
MessageTimeout=10
# submissions over a partition's limits are refused at once (tests: "short" allows 1 minute)
EnforcePartLimits=ALL
${node_lines}PartitionName=debug Nodes=$(IFS=,; echo "${NODES[*]}") Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
PartitionName=short Nodes=$(IFS=,; echo "${NODES[*]}") MaxTime=1 State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

start_munge() {
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  if munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then return 0; fi
  [ -s /etc/munge/munge.key ] || { mungekey --create --force && chown munge:munge /etc/munge/munge.key; }
  # its default pid file (/run/munge/munged.pid) is where do_stop looks
  runuser -u munge -- /usr/sbin/munged
  wait_for 10 munged bash -c 'munge -n </dev/null | unmunge'
}

all_up() {
  pid_alive "$DIR/slurmctld.pid" || return 1
  local n
  for n in "${NODES[@]}"; do pid_alive "$DIR/slurmd-$n.pid" || return 1; done
}

nodes_idle() {
  # every node answers and is idle (or allocated by a job of a checkout already using it)
  local states
  states=$(sinfo --noheader --Node --partition=debug --format='%N %t' 2>/dev/null) || return 1
  [ "$(echo "$states" | grep -cE ' (idle|alloc|mix|comp)$')" -eq ${#NODES[@]} ]
}

do_up() {
  apt_install munge slurmctld slurmd slurm-client
  mkdir -p "$DIR"
  if ! all_up; then
    do_stop
    write_config
    start_munge
    slurmctld -f "$CONF"
    wait_for 20 slurmctld scontrol ping
    local n
    for n in "${NODES[@]}"; do slurmd -f "$CONF" -N "$n"; done
    # a node that was DOWN in the saved state comes back at once
    wait_for 30 "slurm nodes" nodes_idle || {
      scontrol update nodename="$(IFS=,; echo "${NODES[*]}")" state=resume || true
      wait_for 15 "slurm nodes" nodes_idle
    }
  fi
  lease_take "$NAME"
  write_env "$NAME" SLURM_PARTITION=debug "SLURM_NODES=${NODES[*]}" "SLURM_CONF=$CONF" \
    "SLURM_DIR=$DIR"
}

no_jobs_left() {
  [ -z "$(squeue --noheader --states=PENDING,RUNNING,SUSPENDED,COMPLETING --format=%i)" ]
}

do_stop() {
  # Jobs first: a running block must not come back to life when Slurm next starts.
  if pid_alive "$DIR/slurmctld.pid"; then
    scancel --quiet --full --state=PENDING,RUNNING,SUSPENDED --user=root 2>/dev/null || true
    scancel --quiet --user=root 2>/dev/null || true
    # their slurmstepd must see the jobs end before slurmd goes, or job processes outlive it
    wait_for 20 "slurm jobs to end" no_jobs_left || true
  fi
  local n
  for n in "${NODES[@]}"; do stop_pidfile "$DIR/slurmd-$n.pid" 10; done
  stop_pidfile "$DIR/slurmctld.pid" 10
  stop_pidfile /run/munge/munged.pid 5
  rm -rf "$DIR/state" "$DIR/spool"
  if [ -e "$CONF" ] && grep -qF "$MARKER" "$CONF"; then rm -f "$CONF"; fi
}

machine_service "$NAME" "${1:-}"
