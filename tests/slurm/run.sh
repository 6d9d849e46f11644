#!/usr/bin/env bash
# A real Slurm in the tests: a one-node cluster on 127.0.0.1 (Debian's slurmctld, slurmd,
# slurm-client and munge), fig4 at the smoke tier submitted through tools/slurm/submit.sh, and
# the table its drawing job writes compared with a local `phaselab reproduce fig4 --tier smoke`.
# Needs root (it installs the packages and starts the daemons); usage: tests/slurm/run.sh [PHASELAB]
set -euo pipefail
cd "$(dirname "$0")/../.."
phaselab=$(realpath "${1:-target/release/phaselab}")
# It writes /etc/munge's key and starts daemons: only as root, and never beside a real cluster's.
if [ "$(id -u)" != 0 ]; then
  echo "tests/slurm/run.sh: skipped (needs root to install and start munge and Slurm)" >&2
  exit 0
fi
if pgrep -x munged >/dev/null || pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  echo "tests/slurm/run.sh: skipped (munge or Slurm already runs here; not touching a real cluster)" >&2
  exit 0
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
fi
tmp=$(mktemp -d /tmp/phaselab-slurm.XXXXXX)
host=$(hostname -s)
conf=$tmp/slurm.conf
# The daemons this script started, stopped and waited for (slurmctld saves its state on the way).
cleanup() {
  local pids=()
  for f in "$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munge/munged.pid"; do
    [ -f "$f" ] && pids+=("$(cat "$f")")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  kill "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.2
  done
}
trap cleanup EXIT

# munge: a fresh key, the daemon as the munge user (its pid file in a folder it may write).
chmod 755 "$tmp"
mkdir -p "$tmp/munge" && chown munge:munge "$tmp/munge"
mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
chmod 400 /etc/munge/munge.key
chmod 755 /run/munge
runuser -u munge -- munged --pid-file="$tmp/munge/munged.pid" --force

mkdir -p "$tmp/state" "$tmp/spool" "$tmp/log"
cat >"$conf" <<CONF
ClusterName=phaselab-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf
slurmctld -f "$conf"
slurmd -f "$conf"
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 1
done
sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)' || { echo "slurm did not come up"; cat "$tmp"/log/*; exit 1; }

# The figure through Slurm, then locally, and the two tables compared.
PHASELAB=$phaselab tools/slurm/submit.sh fig4 smoke "$tmp/cluster" | tee "$tmp/submit.txt"
array=$(sed -n 's/^array job //p' "$tmp/submit.txt")
draw=$(sed -n 's/^draw job //p' "$tmp/submit.txt")
deadline=$((SECONDS + 300))
while squeue -h -j "$array,$draw" 2>/dev/null | grep -q .; do
  [ $SECONDS -lt $deadline ] || { echo "slurm jobs still queued after 300 s"; squeue; exit 1; }
  sleep 2
done
"$phaselab" reproduce --plan "$tmp/cluster/fig4.plan.json" --status
"$phaselab" reproduce fig4 --tier smoke --population 1 --out "$tmp/local" >/dev/null
diff "$tmp/local/fig4/table.md" "$tmp/cluster/fig4/table.md"
# Run for run: every record's scores equal the local run's.
for f in "$tmp"/local/records/*.json; do
  cmp <(grep -v train_seconds "$f") <(grep -v train_seconds "$tmp/cluster/records/$(basename "$f")")
done
echo "slurm: fig4 smoke through a job array equals the local run, record for record"
cleanup
trap - EXIT
rm -rf "$tmp" || true
