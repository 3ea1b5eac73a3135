#!/usr/bin/env bash
# A single-node SLURM cluster for the tests, started as root without systemd:
#
#   tests/support/slurm_cluster.sh start DIR   # munged, slurmctld, slurmd; waits for the node to be idle
#   . DIR/env                                  # SLURM_CONF for sbatch, squeue, scontrol, ...
#   tests/support/slurm_cluster.sh stop DIR    # stops exactly the daemons `start` started (by pid)
#
# Everything lives in DIR (made if missing): munge's key, socket (its folder mode 0755), pid, log
# and seed; slurm.conf with free ports, state and spool in DIR, proctrack/linuxproc, task/none, no
# accounting, DependencyParameters=kill_invalid_depend (22.05 reads it there, not in
# SchedulerParameters: a job whose dependency can never be met is cancelled, not left pending)
# and batch_sched_delay=0; the node has this machine's CPUs and memory, and its partition lets up
# to 4 jobs share a CPU (OverSubscribe=FORCE:4: the tests' jobs are small, and 4 array tasks then
# run at once on 2 cores). `start` prints one line and
# exits 77 when the cluster cannot run here (not root, a package missing) and 1 when it should
# have started but did not; either way it stops what it started. The daemons' logs stay in DIR.
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
action=$1
dir=$2

stop() {
  local d=$1 f pid pids=()
  # slurmd first (it may be running jobs), then the controller, then munge; all asked at once,
  # killed if still there after 5 s.
  for f in slurmd slurmctld munged; do
    [[ -f "$d/pids/$f" ]] || continue
    pid=$(cat "$d/pids/$f")
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$d"/pids/*
}

# A TCP port nothing listens on (two test runs at once take different ones).
free_port() {
  /usr/bin/python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

skip() { echo "SLURM cluster unavailable: $*" >&2; exit 77; }

start() {
  local d=$1
  [[ $(id -u) -eq 0 ]] || skip "the single-node cluster runs its daemons as root (run as root)"
  local tool
  for tool in munged slurmctld slurmd sbatch sinfo scontrol; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] ||
      skip "$tool not found (scripts/setup.sh installs slurm-wlm and munge)"
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$d"
  d=$(cd "$d" && pwd)
  mkdir -p "$d/munge" "$d/pids" "$d/state" "$d/spool" "$d/log"
  chmod 0700 "$d/munge"
  mkdir -p "$d/munge/socket"
  chmod 0755 "$d/munge/socket"  # munged refuses a socket folder others may write to
  trap 'stop "$d"' ERR

  # munge: a fresh key for this cluster only.
  head -c 1024 /dev/urandom >"$d/munge/munge.key"
  chmod 0400 "$d/munge/munge.key"
  munged --force --socket="$d/munge/socket/munge.socket" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge/munged.pid" --log-file="$d/log/munged.log" \
    --seed-file="$d/munge/munged.seed" ||
    { echo "munged did not start: $(tail -1 "$d/log/munged.log" 2>/dev/null)" >&2; stop "$d"; exit 1; }
  for _ in $(seq 50); do [[ -s "$d/munge/munged.pid" ]] && break; sleep 0.1; done
  cp "$d/munge/munged.pid" "$d/pids/munged"

  # This machine as one node: its CPUs and memory as slurmd sees them.
  local cpus mem
  cpus=$(slurmd -C | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
  mem=$(slurmd -C | sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p')
  local ctld_port slurmd_port
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [[ $slurmd_port == "$ctld_port" ]]; do slurmd_port=$(free_port); done
  cat >"$d/slurm.conf" <<EOF
ClusterName=repbench-test
SlurmctldHost=$(hostname -s)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$d/munge/socket/munge.socket
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
InactiveLimit=0
KillWait=2
Waittime=0
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  export SLURM_CONF="$d/slurm.conf"
  printf 'export SLURM_CONF=%q\nexport PATH="$PATH:/usr/sbin"\n' "$d/slurm.conf" >"$d/env"

  slurmctld -D -i -f "$d/slurm.conf" >"$d/log/slurmctld.out" 2>&1 &
  echo $! >"$d/pids/slurmctld"
  slurmd -D -N localhost -f "$d/slurm.conf" >"$d/log/slurmd.out" 2>&1 &
  echo $! >"$d/pids/slurmd"

  # Up when the node reports idle (the controller answers and the node registered).
  local state=""
  for _ in $(seq 300); do
    state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
    [[ $state == idle ]] && break
    for f in slurmctld slurmd; do
      kill -0 "$(cat "$d/pids/$f")" 2>/dev/null ||
        { echo "$f exited: $(tail -1 "$d/log/$f.log" 2>/dev/null || tail -1 "$d/log/$f.out")" >&2
          stop "$d"; exit 1; }
    done
    sleep 0.1
  done
  if [[ $state != idle ]]; then
    echo "the node is '$state', not idle, after 30 s (logs in $d/log)" >&2
    stop "$d"
    exit 1
  fi
  trap - ERR
}

case $action in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  *) usage ;;
esac
