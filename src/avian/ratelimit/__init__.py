"""Rate limiting: sliding window, sliding log, token bucket and fixed window, in memory or
Redis.

``app.rate_limit(max_requests=100, window="1m")`` limits every route; ``group.rate_limit``
a group; ``@rate_limit(...)`` one handler; :class:`RateLimiter` is the middleware itself
with ``check(key)``/``reset(key)`` for code.  See ``docs/rate-limiting.md``.
"""

from .backend import RateLimitBackend, RateLimitUnavailable
from .headers import HEADER_FORMATS, HeaderFormat
from .install import RateLimitDecorator, attach_rate_limit, rate_limit
from .keys import by_header, by_ip, client_ip, rate_limit_key
from .limiter import RateLimiter
from .memory import MemoryRateLimitBackend
from .options import RateLimitOptions
from .result import RateLimitResult
from .rule import ALGORITHMS, Algorithm, Rule

__all__ = [
    "ALGORITHMS",
    "HEADER_FORMATS",
    "Algorithm",
    "HeaderFormat",
    "MemoryRateLimitBackend",
    "RateLimitBackend",
    "RateLimitDecorator",
    "RateLimitOptions",
    "RateLimitResult",
    "RateLimitUnavailable",
    "RateLimiter",
    "Rule",
    "attach_rate_limit",
    "by_header",
    "by_ip",
    "client_ip",
    "rate_limit",
    "rate_limit_key",
]


def __getattr__(name: str) -> object:
    # The Redis and Store backends load on first use (the Redis one imports redis).
    if name == "RedisRateLimitBackend":
        from .redis_backend import RedisRateLimitBackend

        return RedisRateLimitBackend
    if name == "StoreRateLimitBackend":
        from .store_backend import StoreRateLimitBackend

        return StoreRateLimitBackend
    raise AttributeError(f"module 'avian.ratelimit' has no attribute {name!r}")
