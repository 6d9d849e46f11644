#!/usr/bin/env bash
# Serves the built playground (www/) on http://127.0.0.1:PORT/ (default 8080).
# Python's http.server sends .wasm as application/wasm and .js as text/javascript.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8080}"
[ -f www/pkg/phaselab_wasm.js ] || { echo "web/serve.sh: www/ is not built: run web/build.sh" >&2; exit 1; }
echo "phaselab playground: http://127.0.0.1:$port/"
cd www && exec python3 -m http.server --bind 127.0.0.1 "$port"
