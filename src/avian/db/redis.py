"""A Redis connection of the manager (``app.with_redis()``, DB-01), built by
:func:`avian.redis_connection.connect_redis` so it reads the same options and environment
variables as the Redis store and the rate limiter."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from .connection import DEFAULT_STARTUP_TIMEOUT, ConnectionSpec
from .events import ConnectionReporter
from .redaction import redact_options, redact_url

__all__ = ["RedisConnection"]


class RedisConnection(ConnectionSpec):
    """``url`` or ``host``/``port``/``tls``, ``username``/``password``, ``database``,
    ``cluster``, ``max_retries`` and any redis-py client option (``socket_timeout``,
    ``max_connections``, ``decode_responses``...)."""

    kind = "redis"

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        host: str | None = None,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        database: int | None = None,
        tls: bool = False,
        cluster: bool = False,
        max_retries: int = 3,
        required: bool = True,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        **client_options: Any,
    ) -> None:
        super().__init__(name, required=required, startup_timeout=startup_timeout)
        if database is not None and (
            isinstance(database, bool) or not isinstance(database, int) or database < 0
        ):
            raise ConfigurationError(f"Redis database must be an int >= 0, got {database!r}")
        self.options: dict[str, Any] = {
            "url": url,
            "host": host,
            "port": port,
            "username": username,
            "password": password,
            "db": database,
            "tls": tls,
            "cluster": cluster,
            "max_retries": max_retries,
            **client_options,
        }
        # Building the client parses the URL and checks every option, without any I/O.
        self._client_for(None)

    @property
    def target(self) -> str:
        url = self.options["url"]
        if url:
            return redact_url(url)
        host = self.options["host"]
        if host:
            return f"{host}:{self.options['port'] or 6379}"
        return "REDIS_URL / REDIS_HOST from the environment"

    def describe(self) -> dict[str, Any]:
        return redact_options({k: v for k, v in self.options.items() if v is not None})

    def _client_for(self, reporter: ConnectionReporter | None) -> Any:
        from ..redis_connection import connect_redis

        options = dict(self.options)
        if reporter is not None and not options["cluster"]:
            options["redis_connect_func"] = _report_connects(
                reporter, options.get("redis_connect_func")
            )
        try:
            return connect_redis(**options)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"invalid Redis option for {self.name!r}: {exc}") from None

    def build(self, reporter: ConnectionReporter) -> Any:
        return self._client_for(reporter)

    async def ping(self, client: Any) -> None:
        await client.ping()

    async def close(self, client: Any) -> None:
        await client.aclose()


def _report_connects(reporter: ConnectionReporter, user_callback: Any) -> Any:
    """A redis-py ``redis_connect_func`` that runs the normal handshake (or the user's own
    callback), then reports the new socket."""

    async def on_connect(connection: Any) -> None:
        if user_callback is None:
            await connection.on_connect()
        else:
            outcome = user_callback(connection)
            if hasattr(outcome, "__await__"):
                await outcome
        host = getattr(connection, "host", None)
        where = f"{host}:{connection.port}" if host else getattr(connection, "path", "")
        reporter.connected(str(where))

    return on_connect
