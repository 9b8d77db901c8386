"""SRV-08: a client gets `header_timeout` seconds to send each request head (slowloris)."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from server_helpers import APPS, ServerProcess
from websockets.sync.client import connect

pytestmark = pytest.mark.e2e


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    began = time.monotonic()
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - began


@pytest.fixture(scope="module", params=["httptools", "h11"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A server with a 0.5 s header timeout, for each of uvicorn's HTTP/1.1 parsers."""
    python = [sys.executable]
    if request.param == "h11":
        args = [*python, str(APPS / "script_app.py"), "h11"]
    else:
        args = [*python, "-m", "avian.cli.main", "run", "basic:app", "--port", "0"]
        args += ["--header-timeout", "0.5"]
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    server = ServerProcess(args, cwd=APPS, env=env)
    try:
        yield server.port()
    finally:
        server.kill()


def test_idle_connection_is_closed_silently(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        data, elapsed = read_until_closed(sock)
    assert data == b""
    assert 0.4 < elapsed < 3


def test_trickled_request_head_gets_408(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n")  # the head never ends
        data, elapsed = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert elapsed < 3


def test_second_request_on_a_kept_alive_connection_is_timed_too(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        sock.settimeout(5)
        first = b""
        while not first.endswith(b"0\r\n\r\n"):  # the end of the chunked response
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n")
        sock.sendall(b"GET / HTTP/1.1\r\nHo")
        data, _ = read_until_closed(sock)
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_slow_handlers_and_websockets_are_not_affected(port: int) -> None:
    response = httpx.get(f"http://127.0.0.1:{port}/slow?seconds=1", timeout=5)
    assert response.status_code == 200
    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=5) as ws:
        time.sleep(1)  # longer than the header timeout: the upgraded connection must stay
        ws.send("still here")
        assert ws.recv(timeout=5) == "echo:still here"
