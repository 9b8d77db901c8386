"""The Store protocol: the async key-value interface every stateful feature uses.

Sessions, CSRF tokens, the cache, rate limits (and later telemetry) take a ``store=``; the
memory store is the embedded default and a Redis store plugs in with no change to them, so
consumers must use only the methods below and assume nothing about where data lives.

The contract every implementation keeps:

- Values are anything msgspec can encode as msgpack (``None``, bools, numbers, ``str``,
  ``bytes``, lists, dicts, Structs, dataclasses...).  Every store round-trips them through
  serialisation, so a value read back is always a fresh copy (tuples come back as lists,
  Structs and dataclasses as dicts), and memory and Redis behave alike.
- ``get`` cannot tell a stored ``None`` from a missing key; store something else when
  "known to be empty" matters.
- TTLs are in seconds (floats allowed).  A key set with ``ttl`` is gone once that many
  seconds have passed (at exactly ``ttl`` it has expired).  ``ttl <= 0`` means "already
  expired": the key is removed.  A TTL that is not a finite number raises ``ValueError``.
- ``keys``/``clear`` patterns are globs: ``*`` any run, ``?`` one character, ``[abc]`` one
  of a set.  Use :func:`escape_glob` to match text literally.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigurationError

__all__ = ["Store", "check_default_ttl", "check_ttl", "escape_glob"]


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
        """Remove a key; True if it existed (and had not expired)."""
        ...

    async def has(self, key: str) -> bool:
        """True when the key exists and has not expired."""
        ...

    async def clear(self) -> None:
        """Remove every key of this store (its namespace only, for shared backends)."""
        ...

    async def keys(self, pattern: str = "*") -> list[str]:
        """Live keys matching a glob pattern (``*``, ``?``, ``[abc]``)."""
        ...

    async def ready(self) -> bool:
        """Readiness check: True when the backend answers (for health endpoints)."""
        ...


_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]", "\\": "[\\]"}


def escape_glob(text: str) -> str:
    """``text`` as a glob pattern that matches only itself.

    Special characters go inside brackets, which both :mod:`fnmatch` and Redis understand.
    """
    if not any(c in _GLOB_SPECIAL for c in text):
        return text
    return "".join(_GLOB_SPECIAL.get(c, c) for c in text)


def check_ttl(ttl: float) -> float:
    """Validate a per-call TTL: a finite number of seconds (``bool`` is refused)."""
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise ValueError(f"ttl must be a finite number of seconds, got {ttl!r}")
    return ttl


def check_default_ttl(default_ttl: float | None, owner: str) -> float | None:
    """Validate a configured default TTL: ``None`` or a positive finite number of seconds."""
    if default_ttl is not None and (
        isinstance(default_ttl, bool)
        or not isinstance(default_ttl, int | float)
        or not math.isfinite(default_ttl)
        or default_ttl <= 0
    ):
        raise ConfigurationError(
            f"{owner} default_ttl must be a positive number of seconds or None, got {default_ttl!r}"
        )
    return default_ttl
