#!/usr/bin/env bash
# Benchmark avian against its peers with the shared harness (../shared/bench), in one run.
#
#   bash bench/run.sh --servers uvicorn --frameworks raw,avian,blacksheep,starlette,litestar,fastapi
#   bash bench/run.sh inproc --frameworks raw,avian,blacksheep,starlette,litestar,fastapi
#
# The harness is copied to a scratch directory with bench/avian_app.py added to its apps,
# avian (this checkout) is installed into the harness venv, and results are copied back to
# bench/results/. The first argument "inproc" runs the in-process driver instead of wrk.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SHARED="${AVIAN_SHARED_BENCH:-$ROOT/../shared/bench}"
VENV="${VENV:-/tmp/anchors-venv}"
export VENV
if [ ! -x "$VENV/bin/python" ] || ! command -v wrk >/dev/null 2>&1; then
  bash "$SHARED/setup.sh"
fi
"$VENV/bin/python" -m pip install --quiet -e "$ROOT"
WORK="$(mktemp -d /tmp/avian-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cp -r "$SHARED/." "$WORK/"
cp "$HERE/avian_app.py" "$WORK/apps/avian_app.py"
# The harness records versions of a fixed package list and skips apps whose package it
# cannot see: add avian to that list in the scratch copy.
sed -i 's/^KEY_PACKAGES = \[/KEY_PACKAGES = ["avian", /' "$WORK/run.py"
mkdir -p "$HERE/results"
if [ "${1:-}" = "inproc" ]; then
  shift
  "$VENV/bin/python" "$WORK/inproc.py" --apps "$WORK/apps" "$@" | tee "$HERE/results/inproc-$(date +%F-%H%M).md"
else
  "$VENV/bin/python" "$WORK/run.py" --venv "$VENV" --out "$WORK/results" "$@"
  cp -r "$WORK/results/." "$HERE/results/"
fi
