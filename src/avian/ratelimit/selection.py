"""Choosing a limiter's backend from its ``store=``/``redis=`` options and the app.

Without either option the app decides: Redis when it has a ``redis_url`` (one setting for
scale-out), memory otherwise.  Redis clients built here are shared by the limiters of one
app and closed when the app shuts down.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .backend import RateLimitBackend
from .memory import MemoryRateLimitBackend
from .options import RateLimitSettings

if TYPE_CHECKING:
    from ..app import App

__all__ = ["select_backend"]

_SHARED = "_rate_limit_redis_backends"


def select_backend(settings: RateLimitSettings, app: App | None) -> RateLimitBackend:
    """The backend for ``settings``; ``app`` is the app the limiter serves, when known."""
    store = settings.store
    redis = settings.redis
    if redis is not None:
        from .redis_backend import RedisRateLimitBackend

        if isinstance(redis, str):
            return _shared_redis(app, redis)
        return RedisRateLimitBackend(redis)
    if store is None:
        url = app.redis_url if app is not None else os.environ.get("AVIAN_REDIS_URL")
        store = "redis" if url else "memory"
    if store == "memory":
        return MemoryRateLimitBackend()
    if store == "redis":
        url = app.redis_url if app is not None else os.environ.get("AVIAN_REDIS_URL")
        return _shared_redis(app, url or None)
    if callable(getattr(store, "hit", None)) and callable(getattr(store, "reset", None)):
        backend: RateLimitBackend = store
        return backend
    from ..stores import MemoryStore, PrefixedStore

    inner, namespace = store, ""
    while isinstance(inner, PrefixedStore):  # look through prefixes to the real store
        namespace = inner.prefix + namespace
        inner = inner.store
    if isinstance(inner, MemoryStore):
        # Its counters could not be shared anyway: the memory backend does the same, faster.
        return MemoryRateLimitBackend()
    client = getattr(inner, "client", None)
    if client is not None and hasattr(client, "evalsha"):
        from .redis_backend import RedisRateLimitBackend

        return RedisRateLimitBackend(store=inner, prefix=namespace)
    from .store_backend import StoreRateLimitBackend

    return StoreRateLimitBackend(store)


def _shared_redis(app: App | None, url: str | None) -> RateLimitBackend:
    """One Redis backend (one connection pool) per app and URL, closed at app shutdown.

    ``url=None`` lets :func:`~avian.redis_connection.connect_redis` read ``REDIS_URL`` and
    friends from the environment.
    """
    from ..redis_connection import split_url_prefix
    from .redis_backend import RedisRateLimitBackend

    # ``redis://host/0?prefix=shop:`` namespaces every key, as for the Redis store.
    address, namespace = split_url_prefix(url) if url else (None, None)
    if app is None:
        return RedisRateLimitBackend(url=address, prefix=namespace or "")
    shared: dict[str | None, RedisRateLimitBackend] = app.__dict__.setdefault(_SHARED, {})
    backend = shared.get(url)
    if backend is None:
        backend = shared[url] = RedisRateLimitBackend(url=address, prefix=namespace or "")
        app._service_shutdown.append(backend.close)
    return backend
