"""The ``Cache`` service: a namespaced, TTL-by-default view of a store, with ``get_or_set``.

Harpia's ``new Cache(store?)`` and DonkeyLabs' ``ctx.core.cache`` in one class.  The cache
keeps its keys under a prefix of the store it is given, so one store (memory now, Redis
later) can hold the cache next to sessions or rate limits without them seeing each other.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..errors import ConfigurationError
from ..stores import PrefixedStore, Store
from ..stores.base import check_default_ttl
from ..stores.selection import FeatureStore, UsesFeatureStore

__all__ = ["Cache"]

T = TypeVar("T")


class _KeyLock:
    """A lock for one key, shared by the ``get_or_set`` calls waiting on it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class Cache(UsesFeatureStore):
    """Cached values with a default TTL, in any :class:`~avian.stores.Store`.

    ``store`` defaults to a private :class:`~avian.stores.MemoryStore`, or to the app's
    shared store (``app.store``) once :meth:`bind_app` has run (the response cache does it
    on its first request) if the app runs with ``App(redis_url=...)`` or has ``app.store``
    assigned.  ``default_ttl`` (seconds, ``None`` for no expiry) applies when ``set`` gets
    no TTL; ``prefix`` namespaces the cache's keys inside the store (``""`` lets the cache
    own the whole store, so ``clear()`` empties it).  Values are copies: anything msgspec
    can encode.  While a network store is down, methods raise
    :class:`~avian.stores.StoreUnavailable` (a 503 unless caught).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        default_ttl: float | None = 300.0,
        prefix: str = "cache:",
    ) -> None:
        self._store = FeatureStore(store, "Cache")
        check_default_ttl(default_ttl, "Cache")
        if not isinstance(prefix, str):
            raise ConfigurationError(f"Cache prefix must be a string, got {prefix!r}")
        self.default_ttl = default_ttl
        self.prefix = prefix
        self._view: tuple[Store, Store] | None = None  # (backend, its prefixed view)
        self._locks: dict[str, _KeyLock] = {}

    @property
    def _data(self) -> Store:
        """The backend seen through the cache's prefix."""
        store = self._store.get()
        view = self._view
        if view is None or view[0] is not store:
            prefixed = PrefixedStore(store, self.prefix) if self.prefix else store
            view = self._view = (store, prefixed)
        return view[1]

    def _ttl(self, ttl: float | None) -> float | None:
        return self.default_ttl if ttl is None else ttl

    async def get(self, key: str, default: Any = None) -> Any:
        """The cached value, or ``default`` when missing or expired."""
        value = await self._data.get(key)
        return default if value is None else value

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Cache ``value`` for ``ttl`` seconds (the default TTL when omitted; ``<= 0``
        removes the key)."""
        await self._data.set(key, value, self._ttl(ttl))

    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was cached."""
        return await self._data.delete(key)

    async def has(self, key: str) -> bool:
        return await self._data.has(key)

    async def clear(self) -> None:
        """Remove every key of this cache (and nothing else in a shared store)."""
        await self._data.clear()

    async def keys(self, pattern: str = "*") -> list[str]:
        """This cache's live keys matching a glob pattern, without the prefix."""
        return await self._data.keys(pattern)

    async def ready(self) -> bool:
        """True when the store answers (for health checks)."""
        return await self._data.ready()

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], T | Awaitable[T]],
        ttl: float | None = None,
    ) -> T:
        """The cached value of ``key``; when missing, ``factory()`` (sync or async) computes
        it, and it is cached for ``ttl`` seconds.

        Concurrent calls in this process for the same missing key wait for one factory
        call instead of each running it.  A factory that returns ``None`` caches nothing
        (``None`` reads as missing); one that raises caches nothing and the error reaches
        the caller.
        """
        value = await self._data.get(key)
        if value is not None:
            return value  # type: ignore[no-any-return]
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _KeyLock()
        entry.users += 1
        try:
            async with entry.lock:
                value = await self._data.get(key)  # a caller ahead of us may have filled it
                if value is not None:
                    return value  # type: ignore[no-any-return]
                result = factory()
                if inspect.isawaitable(result):
                    result = await result
                if result is not None:
                    await self._data.set(key, result, self._ttl(ttl))
                return result
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]  # no lock outlives its callers: memory stays bounded

    def __repr__(self) -> str:
        return f"Cache({self.store!r}, prefix={self.prefix!r}, default_ttl={self.default_ttl})"
