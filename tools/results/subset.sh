#!/usr/bin/env bash
# Train part of a figure's grid at any tier: the runs whose ids match a pattern, one after another,
# committing each run record as it lands, so that a study killed on one machine continues on
# another from what is committed (a run with a record is finished and skipped).
#
#   FIGURE=fig5 TIER=paper SEEDS=3 MATCH='^spring-pendulum-[12]__' \
#     RECORDS=docs/results/paper/runs tools/results/subset.sh
#   FIGURE=fig7 TIER=paper MATCH='^fig7__hopper' PAGE=docs/results/PAPER-TIER.md tools/results/subset.sh
#
# MATCH is an extended regular expression over run ids such as spring-pendulum-1__hnn__l2__seed0
# (`phaselab reproduce FIGURE --plan P` lists them). With PAGE, that page is regenerated from the
# records (beside BASE's, the reference tier by default) and committed with each record, with the
# figures it embeds (figures/TIER beside it), so the committed page always equals its records. COMMIT=0 commits nothing. It runs a copy of the
# built binary, so rebuilding meanwhile does not change the code mid-way.
set -uo pipefail
cd "$(dirname "$0")/../.."
figure=${FIGURE:?FIGURE, for example fig5}
tier=${TIER:-paper}
# fig7's records (control runs on MuJoCo data) live beside the tier's other records.
default_records=docs/results/$tier/runs
[ "$figure" = fig7 ] && default_records=docs/results/$tier/fig7
records=${RECORDS:-$default_records}
match=${MATCH:-.}
commit=${COMMIT:-1}
page=${PAGE:-}
base=${BASE:-reference}
src=${PHASELAB:-target/release/phaselab}
[ -x "$src" ] || { echo "build it first: cargo build --release -p phaselab-cli" >&2; exit 1; }
seeds=(); [ -n "${SEEDS:-}" ] && seeds=(--seeds "$SEEDS")
bin=$(mktemp /tmp/phaselab-subset.XXXXXX)
plan=$(mktemp /tmp/phaselab-plan.XXXXXX.json)
trap 'rm -f "$bin" "$plan"' EXIT
cp "$src" "$bin" && chmod +x "$bin"
mkdir -p "$records"
"$bin" reproduce "$figure" --tier "$tier" ${seeds[@]+"${seeds[@]}"} --plan "$plan" \
  --records "$records" --out "out/$tier" >/dev/null || exit 1
mapfile -t tasks < <(python3 - "$plan" "$match" <<'PY'
import json, re, sys
plan = json.load(open(sys.argv[1]))
for t in plan["tasks"]:
    if re.search(sys.argv[2], t["id"]):
        print(t["index"], t["id"])
PY
)
[ "${#tasks[@]}" -gt 0 ] || { echo "subset.sh: no run of $figure matches '$match'" >&2; exit 1; }
echo "subset.sh: ${#tasks[@]} run(s) of $figure at the $tier tier into $records"
for t in "${tasks[@]}"; do
  index=${t%% *} id=${t#* }
  nice -n 10 "$bin" reproduce --plan "$plan" --task "$index" || { echo "subset.sh: $id failed; going on" >&2; continue; }
  [ "$commit" = 1 ] && [ -n "$(git status --porcelain -- "$records/$id.json")" ] || continue
  files=("$records/$id.json")
  if [ -n "$page" ]; then
    page_records=$records fig7=()
    [ "$figure" = fig7 ] && page_records=docs/results/$tier/runs fig7=(--fig7-records "$records")
    # `results` leaves a page that was edited while it ran as it is and fails: try again.
    regenerated=0
    for _ in 1 2 3; do
      "$bin" results --tier "$tier" --records "$page_records" ${fig7[@]+"${fig7[@]}"} --page "$page" \
        --base-tier "$base" --base-records "docs/results/$base/runs" >/dev/null && { regenerated=1; break; }
      sleep 5
    done
    [ "$regenerated" = 1 ] || { echo "subset.sh: $page not regenerated" >&2; continue; }
    files+=("$page")
    # The figures the page embeds, redrawn from the same records (`phaselab results`).
    figures="$(dirname "$page")/figures/$tier"
    [ -d "$figures" ] && files+=("$figures")
  fi
  git add "${files[@]}"
  for _ in 1 2 3 4 5; do
    git commit -q -m "results: $tier-tier record $id${page:+, $page regenerated}" --only -- "${files[@]}" && break
    sleep 5 # another git command holds the index
  done
done
