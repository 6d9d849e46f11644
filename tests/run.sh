#!/usr/bin/env bash
# phaselab's whole test suite: unit and end-to-end tests (native), and the browser crate built for
# wasm32 so the core never grows something that breaks the playground.
set -euo pipefail
cd "$(dirname "$0")/.."
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || rustup target add wasm32-unknown-unknown
cargo test --workspace --release
cargo build --release --target wasm32-unknown-unknown -p phaselab-wasm
echo "wasm32: built $(du -h target/wasm32-unknown-unknown/release/phaselab_wasm.wasm | cut -f1) phaselab_wasm.wasm"
