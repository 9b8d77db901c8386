"""Errors of the database manager, and the one message for a missing driver."""

from __future__ import annotations

from ..errors import AvianError, ConfigurationError

__all__ = [
    "ConnectionFailedError",
    "ConnectionNotOpenError",
    "DatabaseError",
    "UnknownConnectionError",
    "missing_driver",
]


class DatabaseError(AvianError):
    """Base class of the database manager's runtime errors."""


class UnknownConnectionError(DatabaseError, LookupError):
    """No connection of that name was registered (``app.with_sql(name=...)``)."""


class ConnectionNotOpenError(DatabaseError):
    """The connection is registered but not open: the app has not started, or it was closed."""


class ConnectionFailedError(DatabaseError):
    """A required connection could not be opened at startup."""


def missing_driver(package: str, extra: str, purpose: str) -> ConfigurationError:
    """The error raised instead of installing a driver at run time (DB-05)."""
    return ConfigurationError(
        f"{purpose} needs the {package!r} package, which is not installed: "
        f"pip install 'avian[{extra}]'"
    )
