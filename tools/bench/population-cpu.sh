#!/usr/bin/env bash
# CPU population benchmark, the figures of docs/benchmarks.md's population table in one run:
# phaselab's `bench train-step --population` for node, node-so and hnn with PyTorch's batched script
# beside it, and, where OLD names an earlier phaselab binary, that binary's K = 1 and 8 beside too.
#   tools/bench/population-cpu.sh > docs/bench-logs/population-cpu-DATE.txt
#   OLD=/path/to/old/phaselab PYTHON=/path/to/venv/bin/python3 tools/bench/population-cpu.sh
# Stop other work on the machine first (the reproduction: kill -STOP its pid).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${PHASELAB:-target/release/phaselab}
ks=${POPULATIONS:-1,2,4,8,16,32}
# PyTorch's scripts run under the python3 first on PATH.
[ -n "${PYTHON:-}" ] && export PATH="$(dirname "$PYTHON"):$PATH"
uptime
for m in ${MODELS:-node node-so hnn}; do
  echo "== phaselab bench train-step --model $m --population $ks"
  "$bin" bench train-step --model "$m" --population "$ks"
  if [ -n "${OLD:-}" ]; then
    echo "== OLD: $OLD bench train-step --model $m --population 1,8"
    "$OLD" bench train-step --model "$m" --population 1,8 --torch-population /dev/null/none \
      | grep -v '^pytorch'
  fi
done
