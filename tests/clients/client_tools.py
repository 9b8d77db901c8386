"""Shared helpers of the client tests: generating clients, checking them with the real tools
(mypy, ruff, tsc), importing them, and a real uvicorn serving ``tests/clients/zoo_app.py``.

TypeScript is installed with npm into ``.cache/avian-ts`` (gitignored) the first time a
test needs it; every subprocess has a deadline.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.support.processes import serve_uvicorn

from avian.clients import generate_client

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SPEC_PATH = HERE / "sample_openapi.json"
APP = "tests.clients.zoo_app:app"
TYPESCRIPT_VERSION = "5.9.3"
TS_DIR = ROOT / ".cache" / "avian-ts"
NPM_TIMEOUT = 300.0
TOOL_TIMEOUT = 180.0
STARTUP_TIMEOUT = 20.0


def load_spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return data


def write_client(directory: Path, language: str, document: dict[str, Any], name: str) -> Path:
    path = directory / name
    path.write_text(generate_client(document, language), "utf-8")
    return path


def import_client(path: Path) -> ModuleType:
    """Import a generated Python client under a unique module name.

    msgspec resolves the models' postponed annotations through ``sys.modules``, so the
    module is registered there (and stays: its classes must keep resolving).
    """
    name = f"generated_client_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_tool(args: list[str], cwd: Path, timeout: float = TOOL_TIMEOUT) -> str:
    """Run a checker; fail the test with its output if it does not exit 0."""
    try:
        done = subprocess.run(
            args,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args[0]} did not finish within {timeout}s: {' '.join(args)}")
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def check_python_tools(path: Path) -> None:
    """``mypy --strict``, ``ruff check`` (a broad rule set) and ``ruff format --check``."""
    cache = path.parent / ".mypy_cache"
    run_tool(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), path.name],
        path.parent,
    )
    rules = "E,F,W,I,B,UP,SIM,RUF,PIE,C4,PT,ASYNC"
    # ASYNC109 objects to any ``timeout`` parameter on an async function; the per-call
    # ``timeout=`` (httpx's own timeouts) is a documented part of the client's API.
    ignored = "ASYNC109"
    base = [sys.executable, "-m", "ruff"]
    common = ["--isolated", "--target-version", "py311"]
    check = ["check", *common, "--select", rules, "--ignore", ignored, path.name]
    run_tool([*base, *check], path.parent)
    run_tool([*base, "format", "--check", *common, path.name], path.parent)


# -- TypeScript --------------------------------------------------------------------------


def tsc() -> Path:
    """The ``tsc`` binary, installed into ``.cache/avian-ts`` with npm when missing."""
    binary = TS_DIR / "node_modules" / ".bin" / "tsc"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        message = "node and npm are needed to compile the TypeScript client"
        if os.environ.get("CI"):
            pytest.fail(message + " (install nodejs/npm in CI)")
        pytest.skip(message)
    TS_DIR.mkdir(parents=True, exist_ok=True)
    with (TS_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test processes install once
        if not binary.exists():
            run_tool(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(TS_DIR),
                    "--no-audit",
                    "--no-fund",
                    "--no-save",
                    f"typescript@{TYPESCRIPT_VERSION}",
                ],
                TS_DIR,
                timeout=NPM_TIMEOUT,
            )
    assert binary.exists(), f"npm did not install {binary}"
    return binary


TSC_FLAGS = [
    "--strict",
    "--target",
    "ES2022",
    "--lib",
    "ES2022,DOM",
    "--module",
    "nodenext",
    "--moduleResolution",
    "nodenext",
    "--noUnusedLocals",
    "--noUnusedParameters",
    "--noImplicitReturns",
    "--exactOptionalPropertyTypes",
    "--skipLibCheck",
]


def compile_typescript(directory: Path, files: list[str], emit: bool) -> None:
    """Type-check (and with ``emit`` transpile next to them) ``files`` in ``directory``."""
    (directory / "package.json").write_text('{"type": "module"}\n')
    args = [str(tsc()), *TSC_FLAGS, *files]
    if not emit:
        args.insert(1, "--noEmit")
    run_tool(args, directory)


# -- a real server -----------------------------------------------------------------------


@contextlib.contextmanager
def serve_zoo(log: Path, app: str = APP) -> Iterator[str]:
    """``uvicorn APP`` on a free loopback port; yields its base URL, kills it afterwards."""
    quiet = ["--log-level", "warning", "--no-access-log"]
    with serve_uvicorn(app, log, *quiet, cwd=ROOT, startup_timeout=STARTUP_TIMEOUT) as server:
        yield server.url
