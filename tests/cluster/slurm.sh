#!/bin/bash
# A real Slurm on this one machine: starts munge, slurmctld and slurmd from Debian's packages
# (configuration and state in BUILD/slurm-test, on loopback, ports 16817-16818), then:
#   1. uniem label and uniem filter of a 256^3 OME-Zarr volume as a 4-worker Slurm array (the
#      reduce and the finish as dependent jobs; MaxArraySize is 3 here, so the 4 workers are
#      split into two arrays) give exactly the files of a run in one process;
#   2. a worker killed with SIGKILL in the middle of its task, inside its Slurm job, loses nothing:
#      the lease runs out, a worker of a later stage does the task again, the result is the same.
# Where Slurm cannot start, it says why and fails (never a silent skip).
# Usage: tests/cluster/slurm.sh UNIEM BUILD_FOLDER
set -u
uniem=$(realpath "$1")
top=$(realpath "$2")/slurm-test
fail() { echo "slurm test: FAILED: $*" >&2; exit 1; }
for p in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v $p >/dev/null || fail "$p is missing: scripts/setup.sh --cluster installs slurm-wlm and munge"
done
[ "$(id -u)" = 0 ] || fail "the test Slurm runs its daemons as root (this is $(id -un))"

stop_all() {
  [ -f "$top/slurmd.pid" ] && kill "$(cat "$top/slurmd.pid")" 2>/dev/null
  [ -f "$top/slurmctld.pid" ] && kill "$(cat "$top/slurmctld.pid")" 2>/dev/null
  [ -f "$top/munged.pid" ] && kill "$(cat "$top/munged.pid")" 2>/dev/null
  sleep 1
}
if [ -d "$top" ]; then stop_all; rm -rf "$top"; fi
trap stop_all EXIT
mkdir -p "$top"/{state,spool,munge,work}
chmod 700 "$top/munge"
host=$(hostname -s)

# munge: its own key and socket, so that nothing of the machine's is touched.
mungekey --create --keyfile="$top/munge/munge.key" --force >/dev/null 2>&1 || fail "mungekey could not make a key"
chmod 400 "$top/munge/munge.key"
munged --force --key-file="$top/munge/munge.key" --socket="$top/munge/socket" --pid-file="$top/munged.pid" \
  --log-file="$top/munge/munged.log" --seed-file="$top/munge/seed" || fail "munged did not start: $(tail -3 "$top/munge/munged.log")"

node=$(slurmd -C | head -1)  # this machine as slurmd sees it: NodeName=... CPUs=... RealMemory=...
cat > "$top/slurm.conf" <<CONF
ClusterName=uniemtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$top/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$top/state
SlurmdSpoolDir=$top/spool
SlurmctldPidFile=$top/slurmctld.pid
SlurmdPidFile=$top/slurmd.pid
SlurmctldLogFile=$top/slurmctld.log
SlurmdLogFile=$top/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MaxArraySize=3
MinJobAge=30
${node/NodeName=$host/NodeName=$host NodeAddr=127.0.0.1} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$top/slurm.conf"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -5 "$top/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" || fail "slurmd did not start: $(tail -5 "$top/slurmd.log" 2>/dev/null)"
for i in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "the Slurm node is '$state', not idle: $(tail -5 "$top/slurmctld.log")"
echo "Slurm is up: $(sinfo -h -o '%P %D node, %c CPUs, %T')"

cd "$top/work"
"$uniem" synth s --shape 256,256,256 --seed 7 --quiet || fail "synth"
"$uniem" convert s/neurons neurons.zarr --quiet || fail "convert"
"$uniem" convert s/image image.zarr --quiet || fail "convert"
"$uniem" label neurons.zarr one-labels.zarr --connectivity 6 --quiet || fail "label in one process"
"$uniem" filter image.zarr one-smooth.zarr --gaussian 2 --3d --quiet || fail "filter in one process"

same() {  # every file of two OME-Zarr folders, but the image's name in .zattrs
  diff -r -x .zattrs "$1" "$2" >/dev/null || fail "$2 differs from $1"
  [ "$(find "$2" -type f | wc -l)" = "$(find "$1" -type f | wc -l)" ] || fail "$2 has other files than $1"
}

# 1. Label and filter as Slurm arrays of 4 workers.
"$uniem" label neurons.zarr labels.zarr --connectivity 6 --cluster slurm --workers 4 --block-sections 32 --wait --quiet \
  > label.txt 2>&1 || fail "label on Slurm: $(cat label.txt)"
cat label.txt
same one-labels.zarr labels.zarr
grep -q "objects (label-preserving, 6-connectivity; in 8 block tasks of 32 sections)" label.txt || fail "label's summary: $(cat label.txt)"
jobs=$(grep -o 'Submitted to Slurm:.*' label.txt | grep -o '[0-9]\+ (components' | wc -l)
[ "$jobs" = 2 ] || fail "4 workers should make two arrays under MaxArraySize=3 (saw $jobs): $(cat label.txt)"
ls labels.zarr.queue/logs/slurm-*.out >/dev/null || fail "no Slurm output in the queue's logs"
"$uniem" status labels.zarr.queue | grep -q "8 of 8 done" || fail "status: $("$uniem" status labels.zarr.queue)"

"$uniem" filter image.zarr smooth.zarr --gaussian 2 --3d --cluster slurm --workers 4 --block-sections 48 --wait --quiet \
  > filter.txt 2>&1 || fail "filter on Slurm: $(cat filter.txt)"
cat filter.txt
same one-smooth.zarr smooth.zarr

# 2. A worker killed with SIGKILL inside its Slurm job.
"$uniem" label neurons.zarr killed.zarr --connectivity 6 --cluster slurm --workers 2 --block-sections 16 --lease 3 \
  > killed.txt 2>&1 || fail "label on Slurm: $(cat killed.txt)"
victim=""
for i in $(seq 600); do
  for lease in killed.zarr.queue/leased/*@*; do
    [ -e "$lease" ] || continue
    pid=${lease##*-}
    kill -STOP "$pid" 2>/dev/null || continue
    if [ -e "$lease" ]; then kill -KILL "$pid"; victim="$lease"; break 2; fi
    kill -CONT "$pid"
  done
  sleep 0.05
done
[ -n "$victim" ] || fail "no worker was caught holding a task"
echo "killed the worker holding $(basename "$victim")"
for i in $(seq 240); do
  "$uniem" status killed.zarr.queue | grep -q finished && break
  "$uniem" status killed.zarr.queue | grep -q FAILED && fail "$("$uniem" status killed.zarr.queue)"
  sleep 0.5
done
"$uniem" status killed.zarr.queue | grep -q finished || fail "the run did not finish after the kill: $("$uniem" status killed.zarr.queue)"
grep -q "expired lease" killed.zarr.queue/logs/*.log || fail "no worker gave the killed worker's task back"
same one-labels.zarr killed.zarr
echo "slurm test: passed"
