"""The Redis backend: counters shared by every worker and machine, one atomic script per
decision.

Each decision is a single ``EVALSHA`` of the algorithm's Lua script (falling back to
``EVAL`` when Redis does not know the script yet, e.g. after a restart), which reads the
key, decides and writes in one step with Redis's own clock.  When Redis cannot be reached
the backend raises :class:`~avian.ratelimit.backend.RateLimitUnavailable` and the limiter's
``fail_open`` policy decides.  ``redis`` is imported only when this backend is built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .backend import RateLimitUnavailable
from .lua import SCRIPTS
from .result import RateLimitResult
from .rule import Rule

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

__all__ = ["DEFAULT_CONNECT_OPTIONS", "DEFAULT_MAX_IN_FLIGHT", "RedisRateLimitBackend"]

DEFAULT_MAX_IN_FLIGHT = 50
"""Decisions sent to Redis at once by one backend; more wait their turn.  redis-py's pool
refuses a command beyond its connection limit (100 by default) instead of waiting, which
under a burst would look like Redis being down."""

DEFAULT_CONNECT_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 1.0,
    "socket_timeout": 1.0,
    "max_retries": 1,
}
"""For clients this backend creates: a request must not hang on an unreachable Redis; the
``fail_open`` policy answers within about two seconds instead."""


class RedisRateLimitBackend:
    """Rate-limit state in Redis under ``prefix``.

    Give one of: ``client`` (a ``redis.asyncio`` client, used as is), ``store`` (a
    :class:`~avian.stores.redis.RedisStore`: its client, and its prefix before ours), or
    ``url`` / connection options for :func:`~avian.redis_connection.connect_redis` (with
    short timeouts by default, see :data:`DEFAULT_CONNECT_OPTIONS`).  A client built here
    is rebuilt when the event loop changes and closed by :meth:`close`.  At most
    ``max_in_flight`` decisions are sent at once; the others wait for a free slot.
    """

    def __init__(
        self,
        client: Redis | RedisCluster | None = None,
        *,
        url: str | None = None,
        store: Any = None,
        prefix: str = "",
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        **connect_options: Any,
    ) -> None:
        given = sum(x is not None for x in (client, store)) + bool(url or connect_options)
        if given > 1:
            raise ConfigurationError(
                "RedisRateLimitBackend takes one of client=, store= or url=/connection options"
            )
        if (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 1
        ):
            raise ConfigurationError(
                f"RedisRateLimitBackend max_in_flight must be an int >= 1, got {max_in_flight!r}"
            )
        if not isinstance(prefix, str):
            raise ConfigurationError(f"RedisRateLimitBackend prefix must be a str: {prefix!r}")
        from ..redis_connection import import_redis

        import_redis()  # a ConfigurationError naming the extra when redis is missing
        from redis.exceptions import NoScriptError, RedisError

        self._no_script = NoScriptError
        self._failures: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        self._owned = False
        self._url = url
        self._connect_options = {**DEFAULT_CONNECT_OPTIONS, **connect_options}
        self.max_in_flight = max_in_flight
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gate_loop: asyncio.AbstractEventLoop | None = None
        self._gate = asyncio.Semaphore(max_in_flight)
        self._client: Any = None
        self._get_client: Callable[[], Any]
        if store is not None:
            store_client = getattr(store, "client", None)
            if store_client is None or not hasattr(store_client, "evalsha"):
                raise ConfigurationError(f"{store!r} has no Redis client to rate-limit with")
            prefix = str(getattr(store, "prefix", "") or "") + prefix
            # RedisStore rebuilds its own client when the event loop changes.
            refresh = getattr(store, "_redis", None)
            self._get_client = refresh if callable(refresh) else (lambda: store.client)
        elif client is not None:
            if not hasattr(client, "evalsha"):
                raise ConfigurationError(f"{client!r} is not a redis.asyncio client")
            self._client = client
            self._get_client = lambda: client
        else:
            self._owned = True
            self._get_client = self._own_client
        self.prefix = prefix

    def _own_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            from ..redis_connection import connect_redis

            # redis-py connections belong to the loop that opened them.
            self._client = connect_redis(self._url, **self._connect_options)
            self._loop = loop
        return self._client

    async def hit(self, key: str, rule: Rule) -> RateLimitResult:
        script = SCRIPTS[rule.algorithm]
        # ARGV[3]: the refill rate for the token bucket, the strict flag otherwise.
        extra: float | str = "1" if rule.strict else "0"
        if rule.algorithm == "token_bucket":
            extra = rule.rate
        full_key = self.prefix + key
        try:
            client = self._get_client()
            async with self._gate_for_loop():
                try:
                    reply = await client.evalsha(
                        script.sha, 1, full_key, rule.limit, rule.window, extra
                    )
                except self._no_script:
                    # Unknown to this server (first use, restart, failover): EVAL caches it.
                    reply = await client.eval(
                        script.source, 1, full_key, rule.limit, rule.window, extra
                    )
        except self._failures as exc:
            raise RateLimitUnavailable(f"Redis rate limit storage failed: {exc!r}") from exc
        allowed, remaining, reset_after, retry_after, now = reply
        reset = float(reset_after)
        return RateLimitResult(
            bool(int(allowed)),
            int(remaining),
            rule.limit,
            float(now) + reset,
            reset,
            float(retry_after),
        )

    def _gate_for_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate_loop is not loop:
            self._gate = asyncio.Semaphore(self.max_in_flight)  # a semaphore serves one loop
            self._gate_loop = loop
        return self._gate

    async def reset(self, key: str) -> None:
        try:
            await self._get_client().delete(self.prefix + key)
        except self._failures as exc:
            raise RateLimitUnavailable(f"Redis rate limit storage failed: {exc!r}") from exc

    async def close(self) -> None:
        """Close the connections of a client this backend created (others are the caller's)."""
        client = self._client
        if self._owned and client is not None and self._loop is asyncio.get_running_loop():
            self._client = None
            self._loop = None
            await client.aclose()

    def __repr__(self) -> str:
        return f"<RedisRateLimitBackend prefix={self.prefix!r}>"
