#!/usr/bin/env bash
# A single-node SLURM (munged + slurmctld + slurmd) on this machine, for the cluster tests.
#
#   scripts/slurm-local.sh start DIR   writes DIR/slurm.conf, starts the daemons, waits until the
#                                      node is idle; prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-local.sh stop DIR    stops exactly the daemons started for DIR (pid files)
#
# Configuration: localhost only, proctrack/linuxproc, task/none, no accounting. Needs root and
# the Debian packages slurm-wlm and munge (scripts/install-deps.sh test installs them).
set -euo pipefail
cmd=${1:?start|stop}
dir=$(mkdir -p "${2:?folder}" && cd "$2" && pwd)
host=$(hostname -s)
conf=$dir/slurm.conf

stop() {
  for name in slurmd slurmctld munged; do
    pidfile=$dir/$name.pid
    if [ -f "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi

mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/log"
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
cat > "$conf" <<CONF
ClusterName=bioembedtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldPort=$(( 16817 + RANDOM % 1000 ))
SlurmdPort=$(( 17818 + RANDOM % 1000 ))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=600
MaxArraySize=1001
InactiveLimit=0
KillWait=5
Waittime=0
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

# munged with its own socket, key and pid file (the system key is reused).
munged --socket="$dir/munge/munge.socket" --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/seed" --key-file=/etc/munge/munge.key --force
export SLURM_CONF=$conf
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 100); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  case "$state" in idle*|mix*|alloc*) break ;; esac
  sleep 0.2
done
state=$(sinfo -h -o %t 2>/dev/null || true)
case "$state" in
  idle*|mix*|alloc*) echo "export SLURM_CONF=$conf" ;;
  *) echo "slurm did not come up (node state '$state'); logs in $dir/log" >&2; stop; exit 1 ;;
esac
