#!/usr/bin/env bash
# Quick real-engine check for CI: install (via run.sh) and generate a small Hopper-v5 dataset into
# $1 (default /tmp/phaselab-mujoco-ci): train.npz (200 chunks of 3 states), test.npz (2 x 50 states).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-/tmp/phaselab-mujoco-ci}"
"$here/run.sh" generate --env Hopper-v5 --out "$out" --steps 400 --train-chunks 200 \
  --test-trajectories 2 --test-length 50 --seed 0 --reference-layout
