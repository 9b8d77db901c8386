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

# Real servers for the data tests (Redis, PostgreSQL, a MongoDB-wire server): use the ones
# named by REDIS_URL / DATABASE_URL / MONGO_URL, else start throwaway ones on loopback with
# ../shared/servers.sh (stopped on exit).  Either way an unreachable server fails its tests.
if [ -z "${REDIS_URL:-}" ] || [ -z "${DATABASE_URL:-}" ] || [ -z "${MONGO_URL:-}" ]; then
  SERVERS="${AVIAN_SERVERS_SH:-../shared/servers.sh}"
  if [ ! -f "$SERVERS" ]; then
    echo "test.sh: set REDIS_URL, DATABASE_URL and MONGO_URL, or provide $SERVERS" >&2
    exit 2
  fi
  # shellcheck source=/dev/null
  source "$SERVERS"
  trap ci_servers_stop_all EXIT
  ci_servers_start_all
fi
export AVIAN_REQUIRE_SERVERS=1
"$VENV/bin/python" -m pytest "$@"
