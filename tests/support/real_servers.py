"""The real servers tests run against: the shared ones named by the environment, and private
``redis-server`` processes a test may stop and restart.

The shared servers come from ``REDIS_URL``, ``DATABASE_URL`` (PostgreSQL) and ``MONGO_URL``
(local defaults otherwise) and are only ever touched under a unique key prefix, database or
schema; they are never stopped or flushed.  An unreachable server skips its tests locally
and fails them when ``AVIAN_REQUIRE_SERVERS`` is set (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import NoReturn

import pytest
from tests.support.processes import free_port

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:54329/postgres"
DEFAULT_MONGO_URL = "mongodb://127.0.0.1:27017/"
REDIS_URL = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
STARTUP_TIMEOUT = 10.0


def servers_required() -> bool:
    """Whether an unreachable server is a failure (CI) rather than a reason to skip."""
    return os.environ.get("AVIAN_REQUIRE_SERVERS", "").strip().lower() not in ("", "0", "false")


def unavailable(reason: str) -> NoReturn:
    """Fail when CI requires the servers, skip otherwise."""
    if servers_required():
        pytest.fail(f"{reason} (AVIAN_REQUIRE_SERVERS is set)")
    pytest.skip(reason)


def shared_redis_url() -> str:
    """The shared Redis server's URL, after checking it answers."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


def unique_prefix(label: str = "avian-test") -> str:
    """A Redis key prefix no other test (or parallel run) uses."""
    return f"{label}:{uuid.uuid4().hex}:"


def prefixed_url(url: str, prefix: str) -> str:
    """``url`` with avian's ``?prefix=`` namespace added."""
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def delete_prefix(url: str, prefix: str) -> None:
    """Remove the keys a test wrote under its own prefix (never anything else)."""
    import redis

    with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
        for key in client.scan_iter(match=prefix + "*", count=500):
            client.delete(key)


class PrivateRedis:
    """A ``redis-server`` of a test's own (free port, no persistence, files in
    ``directory``), so the test may stop it and start it again on the same port."""

    def __init__(self, directory: Path, *extra: str, tls: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.extra = extra
        self.tls = tls
        self.url = f"{'rediss' if tls else 'redis'}://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait (10 s at most) until it answers."""
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed")
        ports = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        log = self.directory / f"redis-{self.port}.log"
        self.proc = proc = subprocess.Popen(
            [binary, *ports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--logfile", str(log), *self.extra],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                text = log.read_text(errors="replace") if log.exists() else ""
                raise AssertionError(f"the private redis-server did not start:\n{text}")
            time.sleep(0.02)

    def _answers(self) -> bool:
        """A PING is answered (for TLS, where that needs a handshake: the port accepts)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                if self.tls:
                    return True
                probe.sendall(b"PING\r\n")
                return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s); a no-op when not running."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
