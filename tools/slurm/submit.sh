#!/usr/bin/env bash
# Submit a figure's grid to Slurm as a job array, and a drawing job that runs once every task has
# succeeded:
#
#   tools/slurm/submit.sh FIGURE TIER [OUT] [-- extra sbatch options, e.g. --partition=cpu]
#
# OUT (default out/reproduce-TIER) must be on a file system every node sees. PHASELAB names the
# binary (default: phaselab on PATH); RECORDS the record directory (default OUT/records, for fig7
# OUT/records-fig7). fig7's tasks make each environment's MuJoCo dataset in OUT first (once, under
# a lock) with MUJOCO_GENERATOR (default: tools/mujoco/run.sh of the checkout phaselab was built
# from), which every node must see too. Prints the two job ids. `phaselab reproduce --plan
# OUT/FIGURE.plan.json --status` says how far the array got; resubmitting the same command trains
# only what has no record.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
figure=$1 tier=$2; shift 2
out=out/reproduce-$tier
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out=$1; shift; fi
[ "${1:-}" = "--" ] && shift
phaselab=$(realpath "$(command -v "${PHASELAB:-phaselab}")") || { echo "submit.sh: no phaselab binary (set PHASELAB)" >&2; exit 1; }
if [ "$figure" = fig7 ]; then
  records=${RECORDS:-$out/records-fig7}
else
  records=${RECORDS:-$out/records}
fi
generator=()
[ -n "${MUJOCO_GENERATOR:-}" ] && generator=(--mujoco-generator "$MUJOCO_GENERATOR")
here=$(cd "$(dirname "$0")" && pwd)
# Absolute paths: the jobs run in OUT, on other nodes.
mkdir -p "$out" "$records"
out=$(cd "$out" && pwd)
records=$(cd "$records" && pwd)
plan=$out/$figure.plan.json
n=$("$phaselab" reproduce "$figure" --tier "$tier" --out "$out" --records "$records" --plan "$plan" \
  ${generator[@]+"${generator[@]}"} | sed -n 's/^tasks: //p')
[ -n "$n" ] && [ "$n" -gt 0 ] || { echo "submit.sh: the plan has no tasks" >&2; exit 1; }
array=$(sbatch --parsable --array="0-$((n - 1))" --chdir="$out" \
  --export="ALL,PLAN=$plan,PHASELAB=$phaselab" "$@" "$here/reproduce.sbatch")
array=${array%%;*}
draw=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --chdir="$out" --job-name=phaselab-draw \
  --output="$out/slurm-phaselab-draw-%j.out" "$@" \
  --wrap="'$phaselab' reproduce '$figure' --tier '$tier' --out '$out' --records '$records' --draw-only")
draw=${draw%%;*}
echo "plan $plan: $n tasks"
echo "array job $array"
echo "draw job $draw"
