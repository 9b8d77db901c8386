"""Rate limits over any avian :class:`~avian.stores.Store` (a custom storage, te.js's
``RateLimitStorage``): the state is read with ``get`` and written back with ``set`` and a
TTL.

Decisions are serialised per key inside this process, so they are exact for one worker.
A store cannot run read-decide-write as one step, so several processes sharing it may
both take the last slot under contention: for shared limits use Redis, whose backend is
atomic (passing a ``RedisStore`` as ``store=`` picks it automatically).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError
from .algorithms import State, fresh_state
from .backend import RateLimitUnavailable
from .result import RateLimitResult
from .rule import Rule

__all__ = ["StoreRateLimitBackend"]

_MIN_TTL = 0.001


class StoreRateLimitBackend:
    """Rate-limit state kept in ``store`` under ``prefix``; ``clock`` returns Unix seconds.

    A store error (its backend unreachable) becomes
    :class:`~avian.ratelimit.backend.RateLimitUnavailable`, so the limiter's ``fail_open``
    policy decides.
    """

    def __init__(
        self, store: Any, *, prefix: str = "", clock: Callable[[], float] = time.time
    ) -> None:
        for method in ("get", "set", "delete"):
            if not callable(getattr(store, method, None)):
                raise ConfigurationError(f"{store!r} is not a Store: it has no {method}()")
        if not callable(clock):
            raise ConfigurationError("StoreRateLimitBackend clock must return seconds")
        self.store = store
        self.prefix = prefix
        self.clock = clock
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def hit(self, key: str, rule: Rule) -> RateLimitResult:
        full_key = self.prefix + key
        lock = self._acquire(full_key)
        try:
            async with lock:
                state = self._load(await self._call(self.store.get(full_key)), rule)
                now = self.clock()
                result = rule.decide(state, now, rule)
                await self._call(
                    self.store.set(full_key, _storable(state), max(state[1] - now, _MIN_TTL))
                )
                return result
        finally:
            self._release(full_key)

    async def reset(self, key: str) -> None:
        await self._call(self.store.delete(self.prefix + key))

    @staticmethod
    async def _call(operation: Any) -> Any:
        try:
            return await operation
        except Exception as exc:
            # Stores wrap different client libraries whose errors share no base class;
            # whatever failed, the limiter's fail_open policy decides (and logs it).
            raise RateLimitUnavailable(f"rate limit store failed: {exc!r}") from exc

    @staticmethod
    def _load(raw: Any, rule: Rule) -> State:
        if not isinstance(raw, list) or not raw or raw[0] != rule.algorithm:
            return fresh_state(rule.algorithm)
        if rule.algorithm == "sliding_log":
            raw[2] = deque(raw[2])
        return raw

    def _acquire(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        return lock

    def _release(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]  # no one else waits: keep the lock table small
        else:
            self._locks[key] = (lock, users - 1)

    def __repr__(self) -> str:
        return f"<StoreRateLimitBackend store={self.store!r} prefix={self.prefix!r}>"


def _storable(state: State) -> list[Any]:
    if state[0] == "sliding_log":
        return [state[0], state[1], list(state[2])]
    return state
