"""What every kind of connection (Redis, MongoDB, SQL) tells the manager.

A :class:`ConnectionSpec` holds a connection's validated options.  It is built when the app
registers the connection (so bad options fail there, not at the first request) and builds a
fresh client at each startup, inside the event loop that will use it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..errors import ConfigurationError
from .events import ConnectionReporter

__all__ = ["DEFAULT_STARTUP_TIMEOUT", "ConnectionSpec", "positive_seconds"]

DEFAULT_STARTUP_TIMEOUT = 10.0
"""Seconds the startup ping of a connection may take before startup gives up on it."""


def positive_seconds(name: str, value: object) -> float:
    """``value`` as a finite number of seconds > 0, or a :class:`ConfigurationError`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


class ConnectionSpec(ABC):
    """A registered connection: its options, and how to build, ping and close its client."""

    kind: ClassVar[str]
    """``"redis"``, ``"mongo"`` or ``"sql"``."""

    def __init__(self, name: str, *, required: bool, startup_timeout: float) -> None:
        if not isinstance(required, bool):
            raise ConfigurationError(f"required must be True or False, got {required!r}")
        self.name = name
        self.required = required
        """Startup fails when the connection cannot be reached (else it is logged and the
        readiness check reports it down until it recovers)."""
        self.startup_timeout = positive_seconds("startup_timeout", startup_timeout)

    @property
    @abstractmethod
    def target(self) -> str:
        """Where it connects, password hidden (for logs and errors)."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The options as given, secrets hidden (``app.db.active_connections()``)."""

    @abstractmethod
    def build(self, reporter: ConnectionReporter) -> Any:
        """A new client; no I/O yet (drivers connect on first use)."""

    @abstractmethod
    async def ping(self, client: Any) -> None:
        """One round trip to the server; raises when it is unreachable."""

    @abstractmethod
    async def close(self, client: Any) -> None:
        """Release the client's sockets and background tasks."""

    def session_factory(self, client: Any) -> Any:
        """For SQL, the ``async_sessionmaker`` bound to ``client``; ``None`` for other kinds."""
        return None
