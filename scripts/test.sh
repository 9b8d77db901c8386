#!/usr/bin/env bash
# Install avian with its development tools into a virtualenv and run every check:
# ruff (lint + format), mypy on src/, then the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${AVIAN_VENV:-.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
"$VENV/bin/ruff" check src tests examples bench
"$VENV/bin/ruff" format --check src tests examples bench
"$VENV/bin/mypy"
"$VENV/bin/python" -m pytest "$@"
