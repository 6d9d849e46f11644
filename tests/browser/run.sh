#!/usr/bin/env bash
# The playground's browser tests: installs Debian's chromium (as root) and the npm dependencies if
# they are missing, builds www/ if it is missing (web/build.sh), refreshes the page's files from
# web/, then runs tests/browser/run.mjs (node's test runner).
#   PHASELAB_REBUILD=1 tests/browser/run.sh    rebuild the wasm first
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "tests/browser/run.sh: install Debian's chromium (/usr/bin/chromium)" >&2
    exit 1
  fi
fi
if [ ! -d tests/node_modules/playwright-core ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ -n "${PHASELAB_REBUILD:-}" ] || [ ! -f www/pkg/phaselab_wasm.js ]; then
  web/build.sh
else
  cp web/*.html web/*.js web/*.css www/
fi
exec node tests/browser/run.mjs "$@"
