"""``PrefixedStore``: one namespace of a shared store.

Several features can share one backend (one Redis, one memory store) safely: each wraps it
with its own prefix, and its ``keys()`` and ``clear()`` only ever see and touch its own keys.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigurationError
from .base import Store, escape_glob

__all__ = ["PrefixedStore"]


class PrefixedStore:
    """A :class:`~avian.stores.Store` that stores every key as ``prefix + key`` in ``store``.

    ``keys()`` returns keys without the prefix; ``clear()`` deletes only prefixed keys.
    Wrappers nest: ``PrefixedStore(PrefixedStore(store, "app:"), "cache:")``.
    """

    __slots__ = ("_glob", "prefix", "store")

    def __init__(self, store: Store, prefix: str) -> None:
        if not isinstance(store, Store):
            raise ConfigurationError(f"PrefixedStore needs a Store, got {store!r}")
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError("PrefixedStore prefix must be a non-empty string")
        self.store = store
        self.prefix = prefix
        self._glob = escape_glob(prefix)

    async def get(self, key: str) -> Any | None:
        return await self.store.get(self.prefix + key)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.store.set(self.prefix + key, value, ttl)

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        await self.store.set_ex(self.prefix + key, value, ttl)

    async def delete(self, key: str) -> bool:
        return await self.store.delete(self.prefix + key)

    async def has(self, key: str) -> bool:
        return await self.store.has(self.prefix + key)

    async def clear(self) -> None:
        for full_key in await self.store.keys(self._glob + "*"):
            await self.store.delete(full_key)

    async def keys(self, pattern: str = "*") -> list[str]:
        cut = len(self.prefix)
        return [k[cut:] for k in await self.store.keys(self._glob + pattern)]

    async def ready(self) -> bool:
        return await self.store.ready()

    def __repr__(self) -> str:
        return f"PrefixedStore({self.store!r}, {self.prefix!r})"
