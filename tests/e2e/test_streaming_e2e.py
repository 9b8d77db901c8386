"""Streaming, downloads and lifecycle hooks end to end: ``tests/e2e/apps/stream_app.py``
served by a plain ``python -m uvicorn`` subprocess (LIFE-07), driven by httpx over TCP.

The app and the tests talk through marker files.  Every wait has a deadline and every
process is killed when its test ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.support.processes import Uvicorn, serve_uvicorn, wait_until

pytestmark = pytest.mark.e2e

APP = "tests.e2e.apps.stream_app:app"
TIMEOUT = 5.0  # any single wait
DOWNLOAD_SIZE = 5 * 1024 * 1024


@dataclass
class Server:
    uvicorn: Uvicorn
    markers: Path

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.uvicorn.proc

    @property
    def url(self) -> str:
        return self.uvicorn.url

    def output(self) -> str:
        return self.uvicorn.output()

    def marker(self, name: str) -> Path:
        return self.markers / name


@pytest.fixture(scope="module")
def download_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("download") / "blob.bin"
    path.write_bytes(os.urandom(DOWNLOAD_SIZE))
    return path


@pytest.fixture(scope="module")
def start_server(
    tmp_path_factory: pytest.TempPathFactory, download_file: Path
) -> Iterator[Callable[[], Server]]:
    """Start servers on demand; every one still running at the end is killed."""
    with contextlib.ExitStack() as running:

        def start() -> Server:
            folder = tmp_path_factory.mktemp("server")
            markers = folder / "markers"
            markers.mkdir()
            env = {"AVIAN_E2E_DIR": str(markers), "AVIAN_E2E_FILE": str(download_file)}
            options = ["--lifespan", "on", "--log-level", "info", "--no-access-log"]
            uvicorn = running.enter_context(
                serve_uvicorn(APP, folder / "uvicorn.log", *options, env=env)
            )
            return Server(uvicorn, markers)

        yield start


@pytest.fixture(scope="module")
def server(start_server: Callable[[], Server]) -> Server:
    return start_server()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT, trust_env=False) as http:
        yield http


def test_chunks_arrive_as_they_are_produced(client: httpx.Client):
    produced: list[float] = []
    arrived: list[float] = []
    with client.stream("GET", "/stream", params={"count": 6, "delay": 0.25}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert "content-length" not in response.headers
        for line in response.iter_lines():
            arrived.append(time.time())
            produced.append(float(line.split()[1]))

    assert len(produced) == 6
    # The first line reached us long before the server produced the last one (1.25 s later)...
    assert arrived[0] < produced[-1]
    # ...and the lines came spread out, not in one buffered burst at the end.
    assert arrived[-1] - arrived[0] > 0.6


def test_first_chunk_is_sent_before_the_generator_continues(server: Server):
    gate = uuid.uuid4().hex
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT, trust_env=False) as http,
        http.stream("GET", "/gated", params={"id": gate}) as response,
    ):
        lines = response.iter_lines()
        assert next(lines) == "first"
        # The server holds the second line until it sees this file: if the first line had
        # been buffered with the rest, we could not have read it.
        server.marker(f"release-{gate}").touch()
        assert list(lines) == ["released"]


def test_client_disconnect_stops_the_generator(server: Server):
    name = uuid.uuid4().hex
    stopped = server.marker(f"stopped-{name}")
    http = httpx.Client(base_url=server.url, timeout=TIMEOUT, trust_env=False)
    try:
        with http.stream("GET", "/endless", params={"id": name}) as response:
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > 8 * 1024:
                    break
    finally:
        http.close()  # drops the connection mid-stream

    # The generator loops forever: its `finally` runs only if the server stops it.
    wait_until(stopped.exists, TIMEOUT, "the stream generator's cleanup after the disconnect")
    assert int(stopped.read_text()) >= 8


def test_file_download_is_intact(client: httpx.Client, download_file: Path):
    digest = hashlib.sha256()
    size = 0
    with client.stream("GET", "/download") as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(DOWNLOAD_SIZE)
        assert response.headers["content-disposition"] == 'attachment; filename="blob.bin"'
        for chunk in response.iter_bytes():
            digest.update(chunk)
            size += len(chunk)

    assert size == DOWNLOAD_SIZE
    assert digest.hexdigest() == hashlib.sha256(download_file.read_bytes()).hexdigest()


def test_head_of_a_stream_sends_headers_only(client: httpx.Client):
    response = client.head("/stream")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b""
    assert client.get("/health").json()["ready"] is True  # the connection is still usable


def test_lifecycle_hooks_run_under_plain_uvicorn(start_server: Callable[[], Server]):
    server = start_server()
    ready = server.marker("ready")
    shutdown = server.marker("shutdown")

    # on_ready ran before uvicorn accepted the first request.
    assert ready.read_text() == str(server.proc.pid)
    health = httpx.get(f"{server.url}/health", timeout=TIMEOUT, trust_env=False).json()
    assert health == {"ready": True, "pid": server.proc.pid}
    assert not shutdown.exists()

    server.proc.send_signal(signal.SIGTERM)
    try:
        returncode = server.proc.wait(TIMEOUT)
    except subprocess.TimeoutExpired:  # pragma: no cover - reported below
        raise AssertionError(f"uvicorn ignored SIGTERM:\n{server.output()}") from None

    # uvicorn re-raises the signal after its graceful shutdown, so the exit status is
    # either 0 or "terminated by SIGTERM"; never a crash or a kill.
    assert returncode in (0, -signal.SIGTERM), server.output()
    assert shutdown.read_text() == str(server.proc.pid)
    assert "Application shutdown complete" in server.output()
