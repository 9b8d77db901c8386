"""Helpers for the database tests: unique names, schemas, other Redis databases, a hung server.

The servers themselves (``REDIS_URL``, ``DATABASE_URL``, ``MONGO_URL``, private
``redis-server`` processes, free ports) come from ``tests.support``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tests.support.real_servers import unavailable


def unreachable(what: str, url: str, exc: BaseException) -> None:
    """Skip (locally) or fail (CI) because ``what`` at ``url`` did not answer."""
    unavailable(f"{what} at {url} is unreachable: {type(exc).__name__}: {exc}")


def unique_name(prefix: str = "avian") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


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
