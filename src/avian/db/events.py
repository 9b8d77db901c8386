"""Client events (open, connect, reconnect, error, close) sent to the ``avian.db`` logger and
to listeners added with ``app.db.add_listener()``.

Drivers report trouble in different ways (PyMongo monitoring, SQLAlchemy pool events, a
redis-py connect callback, and the manager's own startup and health pings); each
connection's :class:`ConnectionReporter` turns them into one small vocabulary, and reports
``error``/``reconnect`` only when the connection changes between working and failing, so a
probe hitting a dead database every second does not flood the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ConnectionEvent",
    "ConnectionReporter",
    "EventEmitter",
    "EventListener",
    "EventName",
    "logger",
]

logger = logging.getLogger("avian.db")

EventName = Literal["open", "connect", "reconnect", "error", "close"]

_LEVELS: dict[str, int] = {
    "open": logging.INFO,
    "connect": logging.DEBUG,  # one per pooled socket: too many for INFO
    "reconnect": logging.INFO,
    "error": logging.WARNING,
    "close": logging.INFO,
}


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """Something that happened to a named connection."""

    name: str
    """The connection's name (``"sql"``, ``"redis"``, ...)."""
    kind: str
    """``"redis"``, ``"mongo"`` or ``"sql"``."""
    event: EventName
    detail: str = ""
    """Where it happened (a redacted URL, a server address) or what happened."""
    error: BaseException | None = None
    """For ``error`` events: the exception the driver or the ping raised."""


EventListener = Callable[[ConnectionEvent], object]
"""A plain function called with each event; drivers call it from their own callbacks, so it
must be quick and must not await."""


class EventEmitter:
    """Logs events and hands them to the app's listeners."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def add(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: EventListener) -> None:
        self._listeners.remove(listener)

    def emit(self, event: ConnectionEvent) -> None:
        message = f"{event.kind} connection {event.name!r}: {event.event}"
        if event.detail:
            message += f" ({event.detail})"
        if event.error is not None:
            message += f": {type(event.error).__name__}: {event.error}"
        logger.log(_LEVELS[event.event], message)
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken listener must not break the driver calling us
                logger.exception("database event listener %r failed", listener)


class ConnectionReporter:
    """One connection's view of its events; remembers whether it is currently failing."""

    def __init__(self, emitter: EventEmitter, name: str, kind: str) -> None:
        self._emitter = emitter
        self.name = name
        self.kind = kind
        self.failing = False

    def _emit(self, event: EventName, detail: str = "", error: BaseException | None = None) -> None:
        self._emitter.emit(ConnectionEvent(self.name, self.kind, event, detail, error))

    def opened(self, detail: str = "") -> None:
        self._emit("open", detail)

    def closed(self, detail: str = "") -> None:
        self.failing = False
        self._emit("close", detail)

    def connected(self, detail: str = "") -> None:
        """The driver reached the server (a new socket, a successful ping)."""
        if self.failing:
            self.failing = False
            self._emit("reconnect", detail)
        else:
            self._emit("connect", detail)

    def recovered(self, detail: str = "") -> None:
        """A check succeeded: report ``reconnect`` only if the connection was failing."""
        if self.failing:
            self.failing = False
            self._emit("reconnect", detail)

    def failed(self, error: BaseException, detail: str = "") -> None:
        """The driver or a ping failed: reported once until the connection recovers."""
        if self.failing:
            logger.debug("%s connection %r still failing: %s", self.kind, self.name, error)
            return
        self.failing = True
        self._emit("error", detail, error)
