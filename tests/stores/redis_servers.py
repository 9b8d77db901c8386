"""Redis servers for the store tests: the shared one (checked) and private ones to stop.

The shared server is only ever touched under a unique key prefix; a test that needs Redis
to go down starts its own ``redis-server`` on a free port in a temporary directory.
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
import redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVERS = bool(os.environ.get("AVIAN_REQUIRE_SERVERS"))


def unavailable(reason: str) -> NoReturn:
    """Fail when CI requires the servers, skip otherwise."""
    if REQUIRE_SERVERS:
        pytest.fail(reason)
    pytest.skip(reason)


def shared_redis_url() -> str:
    """The shared Redis server's URL, after checking it answers."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


def unique_prefix() -> str:
    return f"avian-test:{uuid.uuid4().hex}:"


def prefixed_url(url: str, prefix: str) -> str:
    """``url`` with avian's ``?prefix=`` namespace added."""
    return f"{url}{'&' if '?' in url else '?'}prefix={prefix}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A private ``redis-server`` (no persistence) a test may stop and restart."""

    def __init__(self, directory: Path, *extra: str, tls: bool = False) -> None:
        self.directory = directory
        self.port = free_port()
        self.extra = extra
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'rediss' if self.tls else 'redis'}://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed")
        port_args = (
            ["--port", "0", "--tls-port", str(self.port)]
            if self.tls
            else ["--port", str(self.port)]
        )
        args = [str(binary), *port_args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = self.directory / f"redis-{self.port}.log"
        self.proc = subprocess.Popen(
            [*args, "--dir", str(self.directory), "--logfile", str(log), *self.extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = log.read_text() if log.exists() else ""
                    raise AssertionError(
                        f"the private redis-server did not start:\n{text}"
                    ) from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
