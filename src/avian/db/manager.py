"""The app's named database connections (DB-01..06), reachable as ``app.db`` and ``ctx.db``.

Connections are registered before the app starts (``app.with_sql(...)``), opened at startup
in registration order (a required connection that cannot be reached fails the startup, and
the ones already opened are closed again) and closed at shutdown in reverse order.  Each
startup builds new clients, inside the event loop that will use them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from ..errors import ConfigurationError
from .errors import ConnectionFailedError, ConnectionNotOpenError, UnknownConnectionError
from .events import ConnectionReporter, EventEmitter, EventListener, logger

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from ..app import App
    from .connection import ConnectionSpec
    from .health import HealthReport

__all__ = ["ActiveConnection", "ConnectionState", "DatabaseManager"]


class ConnectionState(TypedDict):
    """What ``has_connection()`` answers."""

    exists: bool
    """The connection is open (its client can be used)."""
    initializing: bool
    """It is being opened right now."""


@dataclass(frozen=True, slots=True)
class ActiveConnection:
    """An open connection, as ``active_connections()`` lists it."""

    name: str
    kind: str
    """``"redis"``, ``"mongo"`` or ``"sql"``."""
    client: Any
    """``redis.asyncio.Redis``, ``pymongo.AsyncMongoClient`` or SQLAlchemy ``AsyncEngine``."""
    config: dict[str, Any]
    """The options it was registered with, passwords hidden."""


@dataclass(eq=False, slots=True)
class _Slot:
    spec: ConnectionSpec
    reporter: ConnectionReporter
    client: Any = None
    sessions: Any = None
    initializing: bool = False


class DatabaseManager:
    """Named connections opened at startup and closed at shutdown.

    ``app.db.sql`` (or ``app.db["sql"]``, ``app.db.get_connection("sql")``) is the client of
    the connection named ``sql``; ``ctx.db`` is the same manager.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self._slots: dict[str, _Slot] = {}
        self._events = EventEmitter()
        self._hooked = False

    # --- registration -------------------------------------------------------------------------

    def add_redis(self, name: str = "redis", **options: Any) -> None:
        """Register a Redis client (see :class:`avian.db.redis.RedisConnection` for options)."""
        from .redis import RedisConnection

        self._register(name, lambda: RedisConnection(name, **options))

    def add_mongo(self, name: str = "mongo", **options: Any) -> None:
        """Register a MongoDB client (see :class:`avian.db.mongo.MongoConnection`)."""
        from .mongo import MongoConnection

        self._register(name, lambda: MongoConnection(name, **options))

    def add_sql(self, name: str = "sql", **options: Any) -> None:
        """Register a SQLAlchemy async engine (see :class:`avian.db.sql.SQLConnection`)."""
        from .sql import SQLConnection

        self._register(name, lambda: SQLConnection(name, **options))

    def _register(self, name: str, make_spec: Callable[[], ConnectionSpec]) -> None:
        if getattr(self.app, "_frozen", False):
            raise ConfigurationError(
                f"cannot add database connection {name!r}: the app has started; "
                "register connections before it starts"
            )
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a connection name must be a non-empty string, got {name!r}")
        if name.startswith("_") or name in vars(self) or hasattr(DatabaseManager, name):
            raise ConfigurationError(
                f"{name!r} cannot name a connection: it would hide app.db.{name}"
            )
        if name in self._slots:
            raise ConfigurationError(f"a database connection named {name!r} is already registered")
        try:
            spec = make_spec()
        except TypeError as exc:  # a positional argument or a clash of keywords
            raise ConfigurationError(f"bad options for connection {name!r}: {exc}") from None
        self._slots[name] = _Slot(spec, ConnectionReporter(self._events, name, spec.kind))
        if not self._hooked:
            self._hooked = True
            self.app._service_startup.append(self._open_all)
            self.app._service_shutdown.append(self.close_all_connections)

    # --- access -------------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """Registered connection names, in registration order."""
        return tuple(self._slots)

    def __contains__(self, name: object) -> bool:
        return name in self._slots

    def __iter__(self) -> Iterator[str]:
        return iter(self._slots)

    def _slot(self, name: str) -> _Slot:
        try:
            return self._slots[name]
        except KeyError:
            known = ", ".join(repr(n) for n in self._slots) or "none"
            raise UnknownConnectionError(
                f"no database connection named {name!r} (registered: {known})"
            ) from None

    def spec(self, name: str) -> ConnectionSpec:
        """The registered options of a connection (migrations read the SQL ones)."""
        return self._slot(name).spec

    def _reporter(self, name: str) -> ConnectionReporter:
        return self._slot(name).reporter

    def _client(self, name: str) -> Any:
        """The client, or ``None`` when the connection is not open."""
        return self._slot(name).client

    def get_connection(self, name: str) -> Any:
        """The client of an open connection (``Redis``, ``AsyncMongoClient``, ``AsyncEngine``)."""
        slot = self._slot(name)
        if slot.client is None:
            why = (
                "it is being opened"
                if slot.initializing
                else "the app has not started, or it was closed"
            )
            raise ConnectionNotOpenError(f"database connection {name!r} is not open: {why}")
        return slot.client

    def __getitem__(self, name: str) -> Any:
        return self.get_connection(name)

    def __getattr__(self, name: str) -> Any:
        slots = self.__dict__.get("_slots")
        if slots is None or name not in slots:
            known = ", ".join(repr(n) for n in slots or ()) or "none"
            raise AttributeError(f"no database connection named {name!r} (registered: {known})")
        return self.get_connection(name)

    def has_connection(self, name: str) -> ConnectionState:
        """``{"exists": open?, "initializing": being opened?}``; both false for unknown names."""
        slot = self._slots.get(name)
        if slot is None:
            return {"exists": False, "initializing": False}
        return {"exists": slot.client is not None, "initializing": slot.initializing}

    def active_connections(self) -> dict[str, ActiveConnection]:
        """The open connections by name, with their kind, client and (redacted) options."""
        return {
            name: ActiveConnection(name, slot.spec.kind, slot.client, slot.spec.describe())
            for name, slot in self._slots.items()
            if slot.client is not None
        }

    # --- SQL sessions -------------------------------------------------------------------------

    def sessionmaker(self, name: str = "sql") -> Any:
        """The ``async_sessionmaker`` of a SQL connection (``expire_on_commit=False``)."""
        slot = self._slot(name)
        if slot.spec.kind != "sql":
            raise ConfigurationError(f"{name!r} is a {slot.spec.kind} connection, not SQL")
        self.get_connection(name)
        return slot.sessions

    def session(self, name: str = "sql") -> AbstractAsyncContextManager[Any]:
        """``async with ctx.db.session() as s:`` a new ``AsyncSession`` inside a transaction
        that commits when the block ends and rolls back if it raises."""
        begin: AbstractAsyncContextManager[Any] = self.sessionmaker(name).begin()
        return begin

    # --- opening and closing ------------------------------------------------------------------

    async def _open_all(self) -> None:
        opened: list[str] = []
        try:
            for name in self._slots:
                await self.open_connection(name)
                opened.append(name)
        except BaseException:
            for name in reversed(opened):
                with contextlib.suppress(Exception):
                    await self.close_connection(name)
            raise

    async def open_connection(self, name: str) -> Any:
        """Open a registered connection (startup does this); returns its client.

        A ``required`` connection that does not answer a ping within ``startup_timeout`` is
        closed again and :class:`~avian.db.errors.ConnectionFailedError` is raised; an
        optional one stays open and is reported down until it answers.
        """
        slot = self._slot(name)
        if slot.client is not None:
            return slot.client
        if slot.initializing:
            raise ConnectionNotOpenError(f"database connection {name!r} is already being opened")
        spec = slot.spec
        slot.initializing = True
        try:
            client = spec.build(slot.reporter)
            try:
                async with asyncio.timeout(spec.startup_timeout):
                    await spec.ping(client)
            except Exception as exc:
                if isinstance(exc, TimeoutError):
                    exc = TimeoutError(f"no answer within {spec.startup_timeout:g}s")
                if spec.required:
                    with contextlib.suppress(Exception):
                        await spec.close(client)
                    raise ConnectionFailedError(
                        f"cannot open {spec.kind} connection {name!r} ({spec.target}): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                slot.reporter.failed(exc, spec.target)
            slot.sessions = spec.session_factory(client)
            slot.client = client
        finally:
            slot.initializing = False
        slot.reporter.opened(spec.target)
        return client

    async def close_connection(self, name: str) -> None:
        """Close one connection; closing one that is not open does nothing."""
        slot = self._slot(name)
        client = slot.client
        if client is None:
            return
        slot.client = None
        slot.sessions = None
        try:
            await slot.spec.close(client)
        finally:
            slot.reporter.closed(slot.spec.target)

    async def close_all_connections(self) -> None:
        """Close every open connection, last opened first; every one is tried even if one
        fails, then the first failure is raised."""
        failures: list[Exception] = []
        for name in reversed(tuple(self._slots)):
            try:
                await self.close_connection(name)
            except Exception as exc:
                logger.warning("closing database connection %r failed: %s", name, exc)
                failures.append(exc)
        if failures:
            raise failures[0]

    # --- health and events --------------------------------------------------------------------

    async def health(
        self, *, timeout: float | None = None, names: Iterable[str] | None = None
    ) -> HealthReport:
        """Ping every connection (or ``names``) at once: ``{"status": "up"|"down",
        "connections": {name: {kind, status, latency_ms, error}}}``."""
        from .health import DEFAULT_HEALTH_TIMEOUT, check_health

        return await check_health(
            self, timeout=DEFAULT_HEALTH_TIMEOUT if timeout is None else timeout, names=names
        )

    def readiness(
        self,
        path: str = "/health/ready",
        *,
        timeout: float | None = None,
        names: Iterable[str] | None = None,
        show_errors: bool = False,
        **route_options: Any,
    ) -> App:
        """Register ``GET path`` answering 200 with the health report when every connection
        is up, 503 problem+json (code ``NOT_READY``) when one is down."""
        from .health import DEFAULT_HEALTH_TIMEOUT, install_readiness

        install_readiness(
            self.app,
            self,
            path,
            timeout=DEFAULT_HEALTH_TIMEOUT if timeout is None else timeout,
            names=names,
            show_errors=show_errors,
            route_options=route_options,
        )
        return self.app

    def add_listener(self, listener: EventListener) -> EventListener:
        """Call ``listener(event)`` for every :class:`~avian.db.events.ConnectionEvent`
        (``open``, ``connect``, ``reconnect``, ``error``, ``close``); usable as a decorator."""
        self._events.add(listener)
        return listener

    def remove_listener(self, listener: EventListener) -> None:
        self._events.remove(listener)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={slot.spec.kind}{'' if slot.client is not None else ' (closed)'}"
            for name, slot in self._slots.items()
        )
        return f"<DatabaseManager {shown}>"
