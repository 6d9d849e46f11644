#!/usr/bin/env bash
# phaselab's whole test suite: unit and end-to-end tests (native), the real MuJoCo engine path, a
# real Slurm cluster, and the browser playground built and tested in headless chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
# The wgpu parity test runs on Mesa's Vulkan driver (lavapipe, on the CPU) where there is no GPU.
if ! ldconfig -p | grep -q 'libvulkan.so.1' || ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    echo "tests/run.sh: install mesa-vulkan-drivers and libvulkan1 (Vulkan) for the wgpu test" >&2
  fi
fi
# No file-level import cycle in the Rust sources (a script over the use lines and inline paths).
python3 tools/check/import_cycles.py --self-test
python3 tools/check/import_cycles.py .
cargo test --workspace --release
# The GPU machine's one prepared script, every step of it (loader checks, steps on wgpu and flex,
# population sweeps, the fig4 projection, the wgpu/flex parity comparison) on Mesa's lavapipe at
# tiny sizes, so that it cannot fail there for a reason this machine could have found.
gpu_out=$(mktemp -d /tmp/phaselab-gpu-bench.XXXXXX)
OUT="$gpu_out" PHASELAB=target/release/phaselab bash tools/gpu/bench.sh --lavapipe
rm -rf "$gpu_out"
# The page's URL-hash parser, fuzzed (the Rust parsers' fuzzing runs in the tests above).
node tests/fuzz/hash.mjs 20000
# The real MuJoCo engine path (datasets made by the engine itself): the generator's own tests, a
# few hundred steps of Hopper-v5 through the real engine, and one epoch of every control-aware
# model on them.
mujoco=$(mktemp -d /tmp/phaselab-mujoco-ci.XXXXXX)
bash tools/mujoco/ci.sh "$mujoco"
tools/mujoco/.venv/bin/python -B tools/mujoco/test_generate.py
target/release/phaselab control --data "$mujoco" --epochs 1 --width 32 --out "$mujoco/runs"
# fig7 end to end on the real engine: every environment's smoke data generated, two seeds of every
# control-aware model trained as populations of 2, two at a time, then drawn.
target/release/phaselab reproduce fig7 --tier smoke --seeds 2 --population 2 --jobs 2 --out "$mujoco/fig7"
test -s "$mujoco/fig7/fig7/table.md"
rm -rf "$mujoco"
# A real Slurm (a one-node cluster on 127.0.0.1): fig4 at the smoke tier as a job array through
# tools/slurm/submit.sh, compared record for record with a local run.
bash tests/slurm/run.sh target/release/phaselab
# The playground: build the site (wasm32, wasm-bindgen, wasm-opt; installs its tools if missing),
# then the browser tests in headless Debian chromium (CPU and SwiftShader WebGPU), which also check
# checkpoints both ways against the CLI built above.
bash web/build.sh
bash tests/browser/run.sh
