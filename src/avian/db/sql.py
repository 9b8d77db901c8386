"""A SQL connection of the manager (``app.with_sql()``): a SQLAlchemy 2 ``AsyncEngine`` and an
``async_sessionmaker`` bound to it.

SQLite goes through ``aiosqlite`` (``avian[sql]``), PostgreSQL through ``asyncpg``
(``avian[postgres]``).  The plain ``postgresql://``/``postgres://`` and ``sqlite://`` URLs
many hosts hand out are read as the asyncpg/aiosqlite ones (``mysql://`` as aiomysql), since
the manager is async.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .connection import DEFAULT_STARTUP_TIMEOUT, ConnectionSpec
from .errors import missing_driver
from .events import ConnectionReporter
from .redaction import redact_options, redact_url

__all__ = ["ASYNC_DRIVERS", "DRIVER_EXTRAS", "SQLConnection", "async_url"]

ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "mysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
}
"""Bare schemes and the async driver used for them."""

DRIVER_EXTRAS = {"asyncpg": "postgres", "aiosqlite": "sql"}
"""Driver modules avian's extras provide; other drivers are installed by name."""


def _import_sqlalchemy() -> None:
    try:
        import sqlalchemy.ext.asyncio  # noqa: F401
    except ImportError:
        raise missing_driver("sqlalchemy", "sql", "SQL support") from None


def async_url(url: str) -> str:
    """``url`` with a bare ``postgresql``/``postgres``/``sqlite`` scheme given its async driver."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ASYNC_DRIVERS:
        return f"{ASYNC_DRIVERS[scheme]}://{rest}"
    return url


class SQLConnection(ConnectionSpec):
    """``url``, the session options, the migration settings and any ``create_async_engine``
    option (``echo``, ``pool_size``, ``max_overflow``, ``pool_pre_ping``, ``connect_args``...)."""

    kind = "sql"

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        session_options: Mapping[str, Any] | None = None,
        metadata: Any = None,
        migrations: str | os.PathLike[str] = "migrations",
        required: bool = True,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        **engine_options: Any,
    ) -> None:
        super().__init__(name, required=required, startup_timeout=startup_timeout)
        _import_sqlalchemy()
        if url is None:
            url = os.environ.get("DATABASE_URL") or None
            if url is None:
                raise ConfigurationError(
                    f"SQL connection {name!r} needs url= (e.g. 'sqlite+aiosqlite:///app.db') "
                    "or the DATABASE_URL environment variable"
                )
        if not isinstance(url, str):
            raise ConfigurationError(f"SQL url must be a string, got {url!r}")
        if session_options is not None and not isinstance(session_options, Mapping):
            raise ConfigurationError(f"session_options must be a mapping, got {session_options!r}")
        self.url = async_url(url)
        self.engine_options = dict(engine_options)
        self.session_options: dict[str, Any] = {
            "expire_on_commit": False,
            **(session_options or {}),
        }
        self.metadata = metadata
        """``MetaData`` (or ``"module:Base.metadata"``) that migrations autogenerate from."""
        self.migrations = Path(migrations)
        """The Alembic directory ``avian db`` uses (relative to the app directory)."""
        # Creating an engine loads the dialect and driver and checks every option; it does
        # not connect.  The session factory likewise checks the session options.
        engine = self.create_engine()
        try:
            self.session_factory(engine)()
        except TypeError as exc:
            raise ConfigurationError(f"invalid session option for {name!r}: {exc}") from None

    @property
    def target(self) -> str:
        return redact_url(self.url)

    def describe(self) -> dict[str, Any]:
        return {
            "url": self.target,
            **redact_options(self.engine_options),
            "session_options": dict(self.session_options),
            "migrations": str(self.migrations),
        }

    def create_engine(self) -> Any:
        """A new ``AsyncEngine`` with this connection's options (no I/O)."""
        from sqlalchemy.exc import ArgumentError, InvalidRequestError, NoSuchModuleError
        from sqlalchemy.ext.asyncio import create_async_engine

        try:
            return create_async_engine(self.url, **self.engine_options)
        except ModuleNotFoundError as exc:
            module = (exc.name or "").split(".")[0]
            if module in DRIVER_EXTRAS:
                raise missing_driver(
                    module, DRIVER_EXTRAS[module], f"the URL {self.target}"
                ) from None
            raise ConfigurationError(
                f"the URL {self.target} needs the {module!r} driver, which is not installed: "
                f"pip install {module}"
            ) from None
        except NoSuchModuleError as exc:
            raise ConfigurationError(
                f"unknown SQL dialect or driver in {self.target}: {exc}"
            ) from None
        except ArgumentError as exc:
            raise ConfigurationError(f"invalid SQL url for {self.name!r}: {exc}") from None
        except InvalidRequestError as exc:  # e.g. a driver that is not async
            raise ConfigurationError(f"SQL connection {self.name!r}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"invalid SQL engine option for {self.name!r}: {exc}"
            ) from None

    def build(self, reporter: ConnectionReporter) -> Any:
        from sqlalchemy import event

        engine = self.create_engine()
        target = self.target

        def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            reporter.connected(target)

        def on_error(context: Any) -> None:
            # Query errors (constraint violations, syntax) are the caller's business; only
            # losing or failing to reach the server is a connection event.
            if context.is_disconnect or context.connection is None:
                reporter.failed(context.original_exception, target)

        event.listen(engine.sync_engine, "connect", on_connect)
        event.listen(engine.sync_engine, "handle_error", on_error)
        return engine

    def session_factory(self, client: Any) -> Any:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        return async_sessionmaker(client, **self.session_options)

    async def ping(self, client: Any) -> None:
        from sqlalchemy import text

        async with client.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self, client: Any) -> None:
        await client.dispose()
