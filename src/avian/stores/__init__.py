"""Stores: the async key-value protocol shared by stateful features, and its backends.

``RedisStore`` is loaded on first access, so importing this package never imports redis.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import Store, escape_glob
from .memory import MemoryStore
from .prefixed import PrefixedStore
from .selection import default_store
from .unavailable import StoreUnavailable

if TYPE_CHECKING:
    from .redis import RedisStore

__all__ = [
    "MemoryStore",
    "PrefixedStore",
    "RedisStore",
    "Store",
    "StoreUnavailable",
    "default_store",
    "escape_glob",
]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
