"""Database connections (Redis, MongoDB, SQL) opened with the app and closed with it.

Register with ``app.with_redis()``, ``app.with_mongo()`` or ``app.with_sql()``; use them as
``ctx.db.redis``, ``ctx.db.mongo``, ``ctx.db.sql`` (or ``ctx.db["name"]``).  See
``docs/database.md``.  Nothing here imports a driver until a connection is registered.
"""

from .dependencies import sql_session
from .errors import (
    ConnectionFailedError,
    ConnectionNotOpenError,
    DatabaseError,
    UnknownConnectionError,
)
from .events import ConnectionEvent
from .health import ConnectionHealth, HealthReport
from .manager import ActiveConnection, ConnectionState, DatabaseManager
from .migrations import Migrations

__all__ = [
    "ActiveConnection",
    "ConnectionEvent",
    "ConnectionFailedError",
    "ConnectionHealth",
    "ConnectionNotOpenError",
    "ConnectionState",
    "DatabaseError",
    "DatabaseManager",
    "HealthReport",
    "Migrations",
    "UnknownConnectionError",
    "sql_session",
]
