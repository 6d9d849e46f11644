#!/usr/bin/env bash
# Run tools/mujoco/generate.py in its own virtual environment (tools/mujoco/.venv), creating it and
# installing requirements.txt first when needed. Usage: tools/mujoco/run.sh generate --env Hopper-v5 --out DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [ ! -x "$venv/bin/python" ]; then
  if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    echo "run.sh: '$py -m venv' failed; installing python3-venv" >&2
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq && $sudo apt-get install -y -qq python3-venv >/dev/null
    "$py" -m venv "$venv"
  fi
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "run.sh: installing tools/mujoco/requirements.txt into $venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
exec "$venv/bin/python" "$here/generate.py" "$@"
