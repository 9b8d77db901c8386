"""The Store protocol: the async key-value interface every stateful feature uses.

Sessions, CSRF tokens, the cache, rate limits (and later telemetry) take a ``store=``; the
memory store is the embedded default and a Redis store plugs in with no change to them.
Values are anything msgspec can encode (dicts, lists, strings, numbers, Structs...); every
store round-trips them through serialisation, so a value read back is always a fresh copy
and memory and Redis behave alike.  TTLs are in seconds.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """Async key-value storage with optional per-key expiry."""

    async def get(self, key: str) -> Any | None:
        """The value, or ``None`` when missing or expired."""
        ...

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value``; with ``ttl`` it expires after that many seconds."""
        ...

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        """Harpia's ``setEx``: ``set`` with a mandatory TTL."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove a key; True if it existed."""
        ...

    async def has(self, key: str) -> bool:
        """True when the key exists and has not expired."""
        ...

    async def clear(self) -> None:
        """Remove every key of this store (its namespace only, for shared backends)."""
        ...

    async def keys(self, pattern: str = "*") -> list[str]:
        """Keys matching a glob pattern (``*``, ``?``, ``[abc]``)."""
        ...

    async def ready(self) -> bool:
        """Readiness check: True when the backend answers (for health endpoints)."""
        ...
