"""Real processes for end-to-end tests: free loopback ports, bounded waits, and ``uvicorn``
(one process or ``--workers N``) serving a test app until the test is done.

Every process runs in its own session so that stopping it takes its workers too, and every
wait has a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]  # the repository: ``tests.*`` apps import from here
STARTUP_TIMEOUT = 15.0
GRACEFUL_TIMEOUT = 20.0


def free_port() -> int:
    """A loopback TCP port nothing listens on right now (bound, read, released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def run_avian(
    *args: str,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> subprocess.CompletedProcess[str]:
    """``python -m avian.cli.main *args`` to completion, output captured as text.

    ``AVIAN_APP`` is left out of the environment (so the command resolves its app from
    its arguments and ``cwd``); ``env`` is added.
    """
    environ = {k: v for k, v in os.environ.items() if k != "AVIAN_APP"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "avian.cli.main", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def answers(url: str, path: str = "/health") -> bool:
    """Whether ``GET url+path`` answers 200 right now."""
    try:
        return httpx.get(url + path, timeout=1.0, trust_env=False).status_code == 200
    except httpx.TransportError:
        return False


def stop_process(proc: subprocess.Popen[bytes], *, graceful: bool = False) -> None:
    """Stop ``proc`` and its session: SIGTERM first when ``graceful`` (waiting up to 20 s),
    SIGKILL otherwise or when that did not end it.  A no-op for an exited process."""
    if proc.poll() is None:
        if graceful:
            proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(GRACEFUL_TIMEOUT)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(5)


@dataclass
class Uvicorn:
    """A running ``uvicorn``: its process, base URL and the log both its streams go to."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextlib.contextmanager
def serve_uvicorn(
    app: str,
    log: Path,
    *options: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    startup_timeout: float = STARTUP_TIMEOUT,
    graceful: bool = False,
) -> Iterator[Uvicorn]:
    """``uvicorn app --host 127.0.0.1 --port FREE *options`` until ``/health`` answers 200.

    ``env`` is added to this process's environment.  The port is retried once when another
    process took it before uvicorn bound it.  On exit the server is stopped (``graceful``:
    SIGTERM, so workers run their shutdown; otherwise killed).
    """
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    for attempt in range(2):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(
                [*args, *options],
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        server = Uvicorn(proc, url, log)
        try:
            deadline = time.monotonic() + startup_timeout
            while not answers(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            else:
                yield server
                return
        finally:
            stop_process(proc, graceful=graceful)
        output = server.output()
        if attempt == 0 and "address already in use" in output.lower():
            continue
        raise AssertionError(f"uvicorn {app} did not answer on {url}:\n{output}")


@contextlib.contextmanager
def serve_uvicorn_workers(
    app: str, app_dir: Path, log: Path, *, workers: int, env: Mapping[str, str]
) -> Iterator[Uvicorn]:
    """``uvicorn app --app-dir app_dir --workers N`` sharing one free port.

    Stopped with SIGTERM so every worker runs its shutdown (closing stores, say); a
    traceback in the log afterwards fails the test.
    """
    with serve_uvicorn(
        app,
        log,
        *["--app-dir", str(app_dir), "--workers", str(workers)],
        *["--no-access-log", "--timeout-graceful-shutdown", "5"],
        env=env,
        startup_timeout=30.0,
        graceful=True,
    ) as server:
        yield server
    output = server.output()
    assert "Traceback" not in output, output
