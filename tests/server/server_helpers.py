"""Helpers for the end-to-end server tests: start real processes, read their address.

Every process runs in its own session and is killed (with its workers) when the test
ends; every wait has a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

APPS = Path(__file__).parent / "apps"
LISTENING = re.compile(r"avian listening on (\S+)")


class ServerProcess:
    """A running ``avian`` process whose output is collected in the background."""

    def __init__(self, args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(
                target=self._collect, args=(self.proc.stdout, self.stdout), daemon=True
            ),
            threading.Thread(
                target=self._collect, args=(self.proc.stderr, self.stderr), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _collect(stream, lines: list[str]) -> None:
        for line in stream:
            lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.stderr) + "".join(self.stdout)

    def wait_listening(self, timeout: float = 15.0) -> str:
        """The URL from the ``avian listening on URL`` line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                match = LISTENING.search(line)
                if match:
                    return match.group(1)
            if self.proc.poll() is not None:
                self.join_output()
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output}")
            time.sleep(0.02)
        raise AssertionError(f"server did not report listening within {timeout}s:\n{self.output}")

    def port(self) -> int:
        return int(self.wait_listening().rsplit(":", 1)[1])

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 10.0) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server still running after {timeout}s:\n{self.output}") from None
        self.join_output()
        return code

    def join_output(self) -> None:
        for reader in self._readers:
            reader.join(timeout=5)

    def kill(self) -> None:
        """Kill the process and its whole session (workers too), then close the pipes."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(5)
        self.join_output()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


Spawn = Callable[..., ServerProcess]


@pytest.fixture
def events(tmp_path: Path) -> Path:
    """File the test apps append their events to (``start``, ``end``, ``shutdown``)."""
    return tmp_path / "events.txt"


def read_events(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def spawn(events: Path) -> Iterator[Spawn]:
    """Start ``avian <args>`` (or ``python <script>``) and kill it after the test."""
    started: list[ServerProcess] = []

    def start(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, script: bool = False
    ) -> ServerProcess:
        environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "AVIAN_APP")}
        environ["AVIAN_TEST_EVENTS"] = str(events)
        environ["PYTHONUNBUFFERED"] = "1"
        environ.update(env or {})
        command = (
            [sys.executable, *args] if script else [sys.executable, "-m", "avian.cli.main", *args]
        )
        process = ServerProcess(command, cwd=cwd or APPS, env=environ)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def start_slow_request(url: str, seconds: float) -> tuple[threading.Thread, dict[str, object]]:
    """GET /slow in a thread; the result dict gets ``response`` or ``error``."""
    result: dict[str, object] = {}

    def call() -> None:
        try:
            result["response"] = httpx.get(f"{url}/slow?seconds={seconds}", timeout=30)
        except httpx.HTTPError as exc:
            result["error"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread, result


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True
