#!/usr/bin/env bash
# Train RESULTS.md's figures at the reference tier, resuming from the records committed in
# docs/results/reference/runs (a run with a record is finished), and commit each new record as it
# lands, so that a reproduction killed on one machine continues on another from what is committed.
#
#   tools/results/reference.sh                      # every figure, in the order below
#   FIGURES="fig9 fig6" tools/results/reference.sh  # some of them
#   COMMIT=0 tools/results/reference.sh             # train, commit nothing
#   POPULATION=3 tools/results/reference.sh         # runs differing only in data seed or loss train
#                                                   # as populations of up to 3 (each equal to its solo run)
#
# It runs a copy of the built binary, so rebuilding meanwhile does not change the code mid-way.
# Then: `phaselab results` fills RESULTS.md from the records.
set -uo pipefail
cd "$(dirname "$0")/../.."
records=docs/results/reference/runs
fig7_records=docs/results/reference/fig7
# The figures RESULTS.md embeds, redrawn by `phaselab results` with the page.
figures_dir=docs/results/figures/reference
figures=${FIGURES:-fig4 fig5 fig2 rollouts fig7 fig9 fig6 fig8 fig3 ladder lagrangian dissipation}
commit=${COMMIT:-1}
population=${POPULATION:-1}
src=${PHASELAB:-target/release/phaselab}
[ -x "$src" ] || { echo "build it first: cargo build --release -p phaselab-cli" >&2; exit 1; }
bin=$(mktemp /tmp/phaselab-reference.XXXXXX)
cp "$src" "$bin" && chmod +x "$bin"
mkdir -p "$records" "$fig7_records"

# New records, RESULTS.md and its figures regenerated from them go into one commit, so that the
# committed page always equals what the committed records give (a test checks it).
commit_records() {
  [ "$commit" = 1 ] || return 0
  # Stage, regenerate, and stage again until no record landed in between, so that the page counts
  # exactly the staged records.
  for _ in 1 2 3; do
    git add "$records" "$fig7_records" 2>/dev/null || return 0
    "$bin" results >/dev/null || { git reset -q -- "$records" "$fig7_records"; return 0; }
    git add "$figures_dir" 2>/dev/null
    git status --porcelain --untracked-files=all -- "$records" "$fig7_records" | grep -q '^??' || break
  done
  local n
  n=$(git diff --cached --name-only -- "$records" "$fig7_records" | wc -l)
  [ "$n" -gt 0 ] || return 0
  for _ in 1 2 3 4 5; do
    git commit -q -m "results: $n reference-tier run record(s), RESULTS.md regenerated" \
      --only -- "$records" "$fig7_records" docs/results/RESULTS.md "$figures_dir" && return 0
    sleep 5 # another git command holds the index
  done
  git reset -q -- "$records" "$fig7_records" "$figures_dir" # leave nothing staged for someone else's commit
}

pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$bin"' EXIT
trap 'exit 130' INT TERM
for f in $figures; do
  # fig3's 108 runs of the exact-Jacobian penalty do not fit in 2 cores' hours: 2 seeds.
  seeds=(); [ "$f" = fig3 ] && seeds=(--seeds "${FIG3_SEEDS:-2}")
  dir=$records; [ "$f" = fig7 ] && dir=$fig7_records
  nice -n 10 "$bin" reproduce "$f" --tier reference ${seeds[@]+"${seeds[@]}"} --records "$dir" \
    --population "$population" --out out/reference &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 60
    commit_records
  done
  wait "$pid" || echo "reference.sh: $f ended with an error (see above); going on" >&2
  commit_records
done
rm -f "$bin"
