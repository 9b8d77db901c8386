#!/usr/bin/env bash
# Install avian into a virtualenv and run the showcase app on embedded defaults
# (http://127.0.0.1:3000 unless PORT is set). Extra arguments go to `avian run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${AVIAN_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e .
exec "$VENV/bin/avian" run examples.showcase.app:app "$@"
