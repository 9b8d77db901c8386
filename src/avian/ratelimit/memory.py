"""The in-memory backend: per process, bounded, with a replaceable clock.

Every decision runs without awaiting between reading and writing a key's state, so it is
atomic on the event loop with no lock.  Memory stays bounded: state that has expired is
swept out (at most once per ``purge_interval`` seconds, when new keys arrive), and when
``max_keys`` keys are live the oldest key is dropped to make room.  Each worker process
has its own counters; use Redis to share them (see :mod:`avian.ratelimit.redis_backend`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..errors import ConfigurationError
from .algorithms import State, fresh_state
from .result import RateLimitResult
from .rule import Rule

__all__ = ["DEFAULT_MAX_KEYS", "MemoryRateLimitBackend"]

DEFAULT_MAX_KEYS = 100_000
"""Keys (clients) tracked at once per backend: a few tens of MB at most."""

_PURGE_INTERVAL = 10.0


class MemoryRateLimitBackend:
    """Rate-limit state in this process's memory.

    ``clock`` returns Unix seconds (``time.time`` by default; pass a fake one in tests to
    move time by hand).  ``max_keys`` bounds how many keys are kept: beyond it the oldest
    key is forgotten (its client starts afresh), so a flood of new addresses cannot
    exhaust memory.  ``purge_interval`` is how often (in clock seconds) expired state is
    swept out.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        max_keys: int = DEFAULT_MAX_KEYS,
        purge_interval: float = _PURGE_INTERVAL,
    ) -> None:
        if not callable(clock):
            raise ConfigurationError("MemoryRateLimitBackend clock must return seconds")
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ConfigurationError(
                f"MemoryRateLimitBackend max_keys must be an int >= 1, got {max_keys!r}"
            )
        if (
            isinstance(purge_interval, bool)
            or not isinstance(purge_interval, int | float)
            or not math.isfinite(purge_interval)
            or purge_interval <= 0
        ):
            raise ConfigurationError(
                "MemoryRateLimitBackend purge_interval must be a positive number of seconds"
            )
        self.clock = clock
        self.max_keys = max_keys
        self.purge_interval = float(purge_interval)
        self._states: dict[str, State] = {}
        self._next_purge = 0.0

    def decide(self, key: str, rule: Rule) -> RateLimitResult:
        """Count one request for ``key`` under ``rule`` (synchronous and atomic)."""
        now = self.clock()
        state = self._states.get(key)
        if state is None or state[0] is not rule.algorithm:
            state = self._new_state(key, rule, now)
        return rule.decide(state, now, rule)

    async def hit(self, key: str, rule: Rule) -> RateLimitResult:
        """:meth:`decide`, for callers of the :class:`RateLimitBackend` protocol."""
        return self.decide(key, rule)

    async def reset(self, key: str) -> None:
        """Forget ``key``: its next request starts with a full quota."""
        self._states.pop(key, None)

    def _new_state(self, key: str, rule: Rule, now: float) -> State:
        states = self._states
        if now >= self._next_purge or len(states) >= self.max_keys:
            self._make_room(now)
        state = states[key] = fresh_state(rule.algorithm)
        return state

    def _make_room(self, now: float) -> None:
        states = self._states
        expired = [key for key, state in states.items() if state[1] <= now]
        for key in expired:
            del states[key]
        while len(states) >= self.max_keys:
            del states[next(iter(states))]  # the oldest key (dicts keep insertion order)
        self._next_purge = now + self.purge_interval

    def __len__(self) -> int:
        """Keys currently held (expired ones included until the next sweep)."""
        return len(self._states)

    def __repr__(self) -> str:
        return f"<MemoryRateLimitBackend keys={len(self._states)} max_keys={self.max_keys}>"
