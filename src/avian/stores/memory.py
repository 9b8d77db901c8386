"""The in-memory store: per-process, LRU-bounded, with TTLs and a replaceable clock.

Values are serialised (msgpack) on the way in, like a network store would, so callers
never share mutable objects with the store and switching to Redis changes nothing.  The
clock is injectable so expiry can be tested without sleeping.
"""

from __future__ import annotations

import fnmatch
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec

from ..errors import ConfigurationError

__all__ = ["MemoryStore"]

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class MemoryStore:
    """A :class:`~avian.stores.Store` in this process's memory.

    ``max_size`` bounds the number of keys (least recently used evicted first);
    ``default_ttl`` applies when ``set`` gets no TTL (``None``: keep until evicted);
    ``clock`` returns seconds (``time.monotonic`` by default).
    """

    def __init__(
        self,
        *,
        max_size: int = 10_000,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_size < 1:
            raise ConfigurationError("MemoryStore max_size must be at least 1")
        if default_ttl is not None and default_ttl <= 0:
            raise ConfigurationError("MemoryStore default_ttl must be positive")
        self.max_size = max_size
        self.default_ttl = default_ttl
        self.clock = clock
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        raw, expires = item
        if expires is not None and expires <= self.clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return raw

    async def get(self, key: str) -> Any | None:
        raw = self._live(key)
        return None if raw is None else _decode(raw)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        ttl = self.default_ttl if ttl is None else ttl
        if ttl is not None and ttl <= 0:
            self._data.pop(key, None)  # already expired
            return
        expires = None if ttl is None else self.clock() + ttl
        self._data[key] = (_encode(value), expires)
        self._data.move_to_end(key)
        while len(self._data) > self.max_size:
            self._data.popitem(last=False)

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        await self.set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        return self._data.pop(key, None) is not None

    async def has(self, key: str) -> bool:
        return self._live(key) is not None

    async def clear(self) -> None:
        self._data.clear()

    async def keys(self, pattern: str = "*") -> list[str]:
        now = self.clock()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for k in expired:
            del self._data[k]
        return [k for k in self._data if fnmatch.fnmatchcase(k, pattern)]

    async def ready(self) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"MemoryStore(keys={len(self._data)}, max_size={self.max_size})"
