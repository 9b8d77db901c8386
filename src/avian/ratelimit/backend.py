"""The backend protocol: where a limiter keeps its counters and how it asks for a decision.

Built in: :class:`~avian.ratelimit.memory.MemoryRateLimitBackend` (one process),
:class:`~avian.ratelimit.redis_backend.RedisRateLimitBackend` (shared, atomic Lua scripts)
and :class:`~avian.ratelimit.store_backend.StoreRateLimitBackend` (any avian ``Store``).
A custom backend implements :class:`RateLimitBackend` and raises
:class:`RateLimitUnavailable` when its storage cannot be reached, so the limiter's
``fail_open`` policy decides instead of the request failing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..errors import AvianError
from .result import RateLimitResult
from .rule import Rule

__all__ = ["RateLimitBackend", "RateLimitUnavailable"]


class RateLimitUnavailable(AvianError):
    """The backend's storage could not be reached (Redis down, timeout...)."""


@runtime_checkable
class RateLimitBackend(Protocol):
    """Counts requests per key; each :meth:`hit` must be one atomic decision."""

    async def hit(self, key: str, rule: Rule) -> RateLimitResult:
        """Count one request for ``key`` under ``rule`` and say whether it is allowed."""
        ...

    async def reset(self, key: str) -> None:
        """Forget ``key``'s state: its next request starts with a full quota."""
        ...
