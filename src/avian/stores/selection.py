"""Choosing the default store: memory on one machine, Redis when a URL is configured."""

from __future__ import annotations

from .base import Store
from .memory import MemoryStore

__all__ = ["default_store"]


def default_store(redis_url: str | None) -> Store:
    """The store stateful features share when none is given explicitly."""
    if redis_url:
        from .redis import RedisStore

        return RedisStore(url=redis_url)
    return MemoryStore()
