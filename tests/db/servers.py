"""Helpers for the database tests: server URLs, unique names, free ports, schemas.

Servers come from ``REDIS_URL``, ``DATABASE_URL`` (PostgreSQL) and ``MONGO_URL`` (local
defaults otherwise).  An unreachable server skips its tests locally, and fails them when
``AVIAN_REQUIRE_SERVERS`` is set (CI).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:54329/postgres"
DEFAULT_MONGO_URL = "mongodb://127.0.0.1:27017/"


def _servers_required() -> bool:
    return os.environ.get("AVIAN_REQUIRE_SERVERS", "").strip().lower() not in ("", "0", "false")


def unreachable(what: str, url: str, exc: BaseException) -> None:
    message = f"{what} at {url} is unreachable: {type(exc).__name__}: {exc}"
    if _servers_required():
        pytest.fail(f"{message} (AVIAN_REQUIRE_SERVERS is set)")
    pytest.skip(message)


def unique_name(prefix: str = "avian") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    """A TCP port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plain_postgres_dsn(url: str) -> str:
    """``postgresql://...`` for asyncpg itself, whatever driver the URL names."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


@dataclass
class PostgresSchema:
    """A schema of its own on the shared server, used through ``search_path``."""

    url: str
    name: str

    @property
    def connect_args(self) -> dict[str, Any]:
        return {"server_settings": {"search_path": self.name}}

    def run(self, sql: str) -> Any:
        async def go() -> Any:
            import asyncpg

            connection = await asyncpg.connect(plain_postgres_dsn(self.url), timeout=5)
            try:
                await connection.execute(f"SET search_path TO {self.name}")
                return await connection.fetch(sql)
            finally:
                await connection.close()

        return asyncio.run(go())


def redis_url_for_db(url: str, database: int) -> str:
    """The same server, another logical database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


class SilentServer:
    """A TCP server that accepts connections and never answers: a hung database."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for connection in self._accepted:
            connection.close()


class RedisProcess:
    """A private ``redis-server`` on a free port, so a test may stop and restart it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unreachable("redis-server", "PATH", FileNotFoundError("redis-server not installed"))
            return
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
