#!/usr/bin/env bash
# Regenerate the small Hopper-v5 fixture the Rust tests read (no MuJoCo needed there):
# crates/phaselab-core/tests/data/mujoco/{hopper_train,hopper_test}.npz (float32: 64 chunks of 3
# states, 2 test trajectories of 20 states) and the same data in the reference layout.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/../../crates/phaselab-core/tests/data/mujoco"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$here/run.sh" generate --env Hopper-v5 --out "$tmp" --steps 160 --episode-steps 40 \
  --train-chunks 64 --chunk 3 --test-trajectories 2 --test-length 20 --seed 0 \
  --float32 --reference-layout
mkdir -p "$dest"
cp "$tmp/train.npz" "$dest/hopper_train.npz"
cp "$tmp/test.npz" "$dest/hopper_test.npz"
cp "$tmp"/HopperFull-v0_*data.npy "$dest/"
ls -l "$dest"
