"""The in-memory store: per-process, LRU-bounded, with TTLs and a replaceable clock.

Values are serialised (msgpack) on the way in, like a network store would, so callers
never share mutable objects with the store and switching to Redis changes nothing.  The
clock is injectable so expiry can be tested without sleeping.

Every method finishes without awaiting, so each one is atomic on the event loop.
"""

from __future__ import annotations

import fnmatch
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import msgspec

from ..errors import ConfigurationError
from .base import check_default_ttl, check_ttl

__all__ = ["MemoryStore"]

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


class MemoryStore:
    """A :class:`~avian.stores.Store` in this process's memory.

    ``max_size`` bounds the number of keys (least recently used evicted first; reads
    count as use); ``default_ttl`` applies when ``set`` gets no TTL (``None``: keep until
    evicted or deleted); ``clock`` returns seconds (``time.monotonic`` by default).
    Expired keys are dropped when touched, listed, or evicted.
    """

    def __init__(
        self,
        *,
        max_size: int = 10_000,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
            raise ConfigurationError(f"MemoryStore max_size must be an int >= 1, got {max_size!r}")
        check_default_ttl(default_ttl, "MemoryStore")
        if not callable(clock):
            raise ConfigurationError("MemoryStore clock must be a callable returning seconds")
        self.max_size = max_size
        self.default_ttl = default_ttl
        self.clock = clock
        # key -> (msgpack bytes, expiry time on ``clock`` or None); oldest use first.
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()

    def _live(self, key: str) -> bytes | None:
        """The raw value of a live key (marking it recently used); drops it if expired."""
        item = self._data.get(key)
        if item is None:
            return None
        raw, expires = item
        if expires is not None and expires <= self.clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return raw

    def _purge_expired(self) -> None:
        now = self.clock()
        expired = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for k in expired:
            del self._data[k]

    async def get(self, key: str) -> Any | None:
        raw = self._live(key)
        return None if raw is None else _decode(raw)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if ttl is None:
            ttl = self.default_ttl
        else:
            check_ttl(ttl)
        raw = _encode(value)  # before touching the data: an unencodable value changes nothing
        if ttl is not None and ttl <= 0:
            self._data.pop(key, None)  # already expired
            return
        expires = None if ttl is None else self.clock() + ttl
        data = self._data
        data[key] = (raw, expires)
        data.move_to_end(key)
        while len(data) > self.max_size:
            data.popitem(last=False)

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        if ttl is None:
            raise ValueError("set_ex needs a ttl; use set() to store without expiry")
        await self.set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        item = self._data.pop(key, None)
        if item is None:
            return False
        expires = item[1]
        return expires is None or expires > self.clock()

    async def has(self, key: str) -> bool:
        return self._live(key) is not None

    async def clear(self) -> None:
        self._data.clear()

    async def keys(self, pattern: str = "*") -> list[str]:
        self._purge_expired()
        if pattern == "*":
            return list(self._data)
        return [k for k in self._data if fnmatch.fnmatchcase(k, pattern)]

    async def ready(self) -> bool:
        return True

    def __len__(self) -> int:
        """The number of live keys."""
        self._purge_expired()
        return len(self._data)

    def __repr__(self) -> str:
        return f"MemoryStore(keys={len(self._data)}, max_size={self.max_size})"
