"""Shared pieces of the rate-limit tests: a clock moved by hand, the shared Redis, and a
private ``redis-server`` that tests may stop and restart."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis

T = TypeVar("T")

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_SERVERS = bool(os.environ.get("AVIAN_REQUIRE_SERVERS"))


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class FakeClock:
    """Unix seconds that only move when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def unavailable(reason: str) -> None:
    """Fail when CI requires the servers, skip otherwise."""
    if REQUIRE_SERVERS:
        pytest.fail(reason)
    pytest.skip(reason)


def require_redis() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    finally:
        client.close()
    return REDIS_URL


def unique_prefix() -> str:
    return f"avian-rl-test:{uuid.uuid4().hex}:"


def delete_prefix(url: str, prefix: str) -> None:
    """Remove the keys a test wrote under its own prefix (never anything else)."""
    with redis.Redis.from_url(url, socket_connect_timeout=2) as client:
        for key in client.scan_iter(match=prefix + "*", count=500):
            client.delete(key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivateRedis:
    """A ``redis-server`` of our own on a free port, in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server is not installed")
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.binary is not None
        self.proc = subprocess.Popen(
            [
                self.binary,
                *["--port", str(self.port), "--bind", "127.0.0.1"],
                *["--save", "", "--appendonly", "no", "--dir", str(self.directory)],
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.5) as client:
                    if client.ping():
                        return
            except redis.RedisError:
                pass
            assert self.proc.poll() is None, "redis-server exited at startup"
            assert time.monotonic() < deadline, "redis-server did not start within 10 s"
            time.sleep(0.05)

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.proc = None
