"""The options of a rate limiter, declared once and checked once, when it is created.

Every way to limit (``app.rate_limit(...)``, ``group.rate_limit(...)``, the ``@rate_limit``
decorator, ``RateLimiter(...)`` as middleware) takes these keyword arguments; a wrong value
raises :class:`~avian.errors.ConfigurationError` at registration, never at the first
request.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, TypedDict

from ..durations import DurationError, parse_duration
from ..errors import ConfigurationError
from .headers import HEADER_FORMATS, HeaderFormat
from .keys import KeyFunction, by_ip
from .result import RateLimitResult
from .rule import ALGORITHMS, Algorithm, Rule

if TYPE_CHECKING:
    from ..context import Context

__all__ = [
    "MAX_SLIDING_LOG_REQUESTS",
    "LimitFunction",
    "OnLimited",
    "RateLimitOptions",
    "RateLimitSettings",
    "SkipFunction",
    "settings_from",
]

LimitFunction = Callable[["Context", str], "int | Awaitable[int | None] | None"]
"""Tiered limits: ``limit(ctx, key)`` -> the quota for this key (``None``: unlimited)."""
SkipFunction = Callable[["Context"], "bool | Awaitable[bool]"]
OnLimited = Callable[["Context", RateLimitResult], Any]
"""``on_limited(ctx, result)``: return a response (or any handler return value) to answer a
refused request yourself, or ``None`` for the default 429."""

MAX_SLIDING_LOG_REQUESTS: Final = 10_000
"""The sliding log stores one timestamp per accepted request; larger quotas belong to the
sliding window, which stores two counters whatever the quota."""
MIN_WINDOW: Final = 0.001

STORE_NAMES: Final = ("memory", "redis")


class RateLimitOptions(TypedDict, total=False):
    """Keyword options of every rate-limiting entry point (defaults in brackets)."""

    max_requests: int
    """Requests allowed per window [60]."""
    limit: int | LimitFunction
    """An int (same as ``max_requests``) or ``limit(ctx, key)`` for tiered quotas."""
    window: str | float | timedelta
    """The window: seconds or ``"100ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"`` ["1m"]."""
    algorithm: Algorithm
    """``"sliding_window"`` (default), ``"sliding_log"``, ``"token_bucket"``,
    ``"fixed_window"``."""
    key: KeyFunction
    """Who a request counts against [:func:`~avian.ratelimit.keys.by_ip`]."""
    key_prefix: str
    """Before every storage key ["rl:"]."""
    name: str | None
    """Names this limiter's quota in storage keys and draft-8 headers."""
    store: Any
    """``"memory"``, ``"redis"``, a Store, or a RateLimitBackend [Redis when the app has a
    ``redis_url``, else memory]."""
    redis: Any
    """A ``redis.asyncio`` client or a Redis URL (implies the Redis backend)."""
    header_format: HeaderFormat | None
    """``"standard"``, ``"legacy"``, ``"both"``, ``"draft7"``, ``"draft8"`` or ``None``."""
    on_limited: OnLimited | None
    fail_open: bool
    """When storage is down: let requests through (True) or answer 503 (False) [True]."""
    skip: SkipFunction | None
    """``skip(ctx)`` -> True: this request is not counted."""
    refill_rate: float | None
    """Token bucket: tokens per second [max_requests / window]."""
    burst_size: int | None
    """Token bucket: capacity [max_requests]."""
    strict_window: bool | None
    """Fixed window: align windows to the clock [False: a window starts at a key's first
    request]."""


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """The validated options."""

    rule: Rule
    key: KeyFunction
    key_prefix: str
    name: str | None
    store: Any
    redis: Any
    header_format: HeaderFormat | None
    on_limited: OnLimited | None
    fail_open: bool
    skip: SkipFunction | None
    tiered: LimitFunction | None


def _fail(message: str) -> ConfigurationError:
    return ConfigurationError(f"rate_limit: {message}")


def _check_callable(name: str, value: Any) -> None:
    if value is not None and not callable(value):
        raise _fail(f"{name} must be a callable, got {value!r}")


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(f"{name} must be an int >= 1, got {value!r}")
    return value


def _check_store(store: Any) -> None:
    if store is None or store in STORE_NAMES:
        return
    if isinstance(store, str):
        raise _fail(f"store must be 'memory', 'redis', a Store or a backend, got {store!r}")
    is_backend = callable(getattr(store, "hit", None)) and callable(getattr(store, "reset", None))
    is_store = all(callable(getattr(store, m, None)) for m in ("get", "set", "delete"))
    if not (is_backend or is_store):
        raise _fail(
            f"store must be 'memory', 'redis', a Store (get/set/delete) or a rate-limit "
            f"backend (hit/reset), got {store!r}"
        )


def settings_from(options: dict[str, Any]) -> RateLimitSettings:
    """Validate ``options`` (a :class:`RateLimitOptions` dict) into settings."""
    unknown = options.keys() - RateLimitOptions.__annotations__.keys()
    if unknown:
        import difflib

        hints = []
        for name in sorted(unknown):
            close = difflib.get_close_matches(name, RateLimitOptions.__annotations__, 1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise _fail(f"unknown option(s) {', '.join(hints)}")

    algorithm = options.get("algorithm", "sliding_window")
    if isinstance(algorithm, str):
        algorithm = algorithm.replace("-", "_")  # te.js spells them 'sliding-window'
    if algorithm not in ALGORITHMS:
        raise _fail(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")

    try:
        window = parse_duration(options.get("window", "1m"))
    except DurationError as exc:
        raise _fail(f"window: {exc}") from None
    if window < MIN_WINDOW:
        raise _fail(f"window must be at least {MIN_WINDOW * 1000:g} ms, got {window!r} s")

    limit_option = options.get("limit")
    tiered: LimitFunction | None = None
    if "max_requests" in options and limit_option is not None and not callable(limit_option):
        raise _fail("give max_requests= or limit=, not both")
    if callable(limit_option):
        tiered = limit_option
        max_requests = _positive_int("max_requests", options.get("max_requests", 60))
    elif limit_option is not None:
        max_requests = _positive_int("limit", limit_option)
    else:
        max_requests = _positive_int("max_requests", options.get("max_requests", 60))

    refill_rate = options.get("refill_rate")
    burst_size = options.get("burst_size")
    strict_window = options.get("strict_window")
    if algorithm != "token_bucket":
        for name, value in (("refill_rate", refill_rate), ("burst_size", burst_size)):
            if value is not None:
                raise _fail(f"{name} applies to algorithm='token_bucket' only")
    if strict_window is not None and algorithm != "fixed_window":
        raise _fail("strict_window applies to algorithm='fixed_window' only")
    if strict_window is not None and not isinstance(strict_window, bool):
        raise _fail(f"strict_window must be True or False, got {strict_window!r}")
    if refill_rate is not None and (
        isinstance(refill_rate, bool)
        or not isinstance(refill_rate, int | float)
        or not math.isfinite(refill_rate)
        or refill_rate <= 0
    ):
        raise _fail(
            f"refill_rate must be a positive number of tokens per second, got {refill_rate!r}"
        )
    rate = None if refill_rate is None else float(refill_rate)
    quota = max_requests
    if burst_size is not None:
        # The bucket holds burst_size tokens; it still refills max_requests per window.
        quota = _positive_int("burst_size", burst_size)
        if rate is None:
            rate = max_requests / window
    if algorithm == "sliding_log" and quota > MAX_SLIDING_LOG_REQUESTS:
        raise _fail(
            f"the sliding log keeps one entry per request: max_requests must be at most "
            f"{MAX_SLIDING_LOG_REQUESTS} (use algorithm='sliding_window' for {quota})"
        )
    rule = Rule(algorithm, quota, window, rate=rate, strict=bool(strict_window))

    key = options.get("key", by_ip)
    if not callable(key):
        raise _fail(f"key must be a callable taking the context, got {key!r}")
    key_prefix = options.get("key_prefix", "rl:")
    if not isinstance(key_prefix, str):
        raise _fail(f"key_prefix must be a str, got {key_prefix!r}")
    policy_name = options.get("name")
    if policy_name is not None and (
        not isinstance(policy_name, str)
        or not policy_name
        or not policy_name.isascii()
        or not policy_name.isprintable()
        or len(policy_name) > 100
    ):
        raise _fail(f"name must be printable ASCII of 1 to 100 characters, got {policy_name!r}")

    store = options.get("store")
    redis = options.get("redis")
    _check_store(store)
    if redis is not None:
        if store not in (None, "redis"):
            raise _fail("give store= or redis=, not both")
        if not isinstance(redis, str) and not hasattr(redis, "evalsha"):
            raise _fail(f"redis must be a redis.asyncio client or a URL, got {redis!r}")

    header_format = options.get("header_format", "standard")
    if header_format is not None and header_format not in HEADER_FORMATS:
        raise _fail(
            f"header_format must be one of {', '.join(HEADER_FORMATS)} or None, "
            f"got {header_format!r}"
        )
    fail_open = options.get("fail_open", True)
    if not isinstance(fail_open, bool):
        raise _fail(f"fail_open must be True or False, got {fail_open!r}")
    on_limited = options.get("on_limited")
    skip = options.get("skip")
    _check_callable("on_limited", on_limited)
    _check_callable("skip", skip)

    return RateLimitSettings(
        rule=rule,
        key=key,
        key_prefix=key_prefix,
        name=policy_name,
        store=store,
        redis=redis,
        header_format=header_format,
        on_limited=on_limited,
        fail_open=fail_open,
        skip=skip,
        tiered=tiered,
    )
