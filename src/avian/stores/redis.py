"""The Redis store: the same contract as the memory store, shared by every worker and machine.

Values are msgpack-encoded exactly like :class:`~avian.stores.MemoryStore` does, so a
feature behaves the same in both; TTLs are set in milliseconds (``PX``) so float TTLs keep
their precision; ``keys()`` and ``clear()`` walk the store's namespace with ``SCAN``, which
never blocks the server the way ``KEYS`` does.

This module imports ``redis``; it is loaded only when a Redis store is created.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..errors import ConfigurationError
from ..redis_connection import connect_redis, split_url_prefix
from .base import check_default_ttl, check_ttl, escape_glob
from .unavailable import DEFAULT_RETRY_AFTER, StoreUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

__all__ = ["DEFAULT_PREFIX", "RedisStore"]

logger = logging.getLogger("avian.stores")

DEFAULT_PREFIX = "avian:"
"""The namespace a Redis store uses unless told otherwise."""

Serializer = Literal["msgpack", "json"]

_CODECS: dict[str, tuple[Any, Any]] = {
    "msgpack": (msgspec.msgpack.Encoder().encode, msgspec.msgpack.Decoder().decode),
    "json": (msgspec.json.Encoder().encode, msgspec.json.Decoder().decode),
}


class RedisStore:
    """A :class:`~avian.stores.Store` in Redis, namespaced by ``prefix``.

    ``url`` or the :func:`~avian.redis_connection.connect_redis` options (``host``,
    ``port``, ``username``, ``password``, ``db``, ``tls``, ``cluster``, ``max_retries``,
    client options) say where Redis is; ``client=`` reuses an existing ``redis.asyncio``
    client instead.  ``prefix`` (the namespace; else the URL's ``?prefix=``, else
    ``"avian:"``) is put before every key, and ``keys()``/``clear()`` only see keys under it.  ``default_ttl`` applies when ``set``
    gets no TTL.  ``serializer`` is ``"msgpack"`` (default, like the memory store) or
    ``"json"`` (readable with other tools; ``bytes`` then come back as base64 text).
    ``scan_count`` is the ``COUNT`` hint per ``SCAN`` step; ``ready_timeout`` bounds the
    readiness ping in seconds.

    When Redis cannot be reached (connection refused or lost, timeouts, a cluster or replica
    that is down) after the client's ``max_retries``, a command raises
    :class:`~avian.stores.StoreUnavailable` (a 503 with ``Retry-After: retry_after``) and
    logs one warning, at most one per ``warning_interval`` seconds (the rest at debug
    level), so an outage neither answers 500 nor floods the log.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        prefix: str | None = None,
        default_ttl: float | None = None,
        serializer: Serializer = "msgpack",
        scan_count: int = 500,
        ready_timeout: float = 2.0,
        retry_after: int = DEFAULT_RETRY_AFTER,
        warning_interval: float = 10.0,
        **connect_options: Any,
    ) -> None:
        if isinstance(url, str):
            url, url_prefix = split_url_prefix(url)
            if prefix is None:
                prefix = url_prefix
        if prefix is None:
            prefix = DEFAULT_PREFIX
        if not isinstance(prefix, str) or not prefix:
            raise ConfigurationError(
                "RedisStore prefix must be a non-empty string (clear() deletes every key under it)"
            )
        check_default_ttl(default_ttl, "RedisStore")
        if serializer not in _CODECS:
            raise ConfigurationError(
                f"RedisStore serializer must be 'msgpack' or 'json', got {serializer!r}"
            )
        if isinstance(scan_count, bool) or not isinstance(scan_count, int) or scan_count < 1:
            raise ConfigurationError(
                f"RedisStore scan_count must be an int >= 1, got {scan_count!r}"
            )
        if (
            isinstance(ready_timeout, bool)
            or not isinstance(ready_timeout, int | float)
            or not math.isfinite(ready_timeout)
            or ready_timeout <= 0
        ):
            raise ConfigurationError(
                f"RedisStore ready_timeout must be a positive number of seconds, got {ready_timeout!r}"
            )
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 1:
            raise ConfigurationError(
                f"RedisStore retry_after must be an int >= 1 (seconds), got {retry_after!r}"
            )
        if (
            isinstance(warning_interval, bool)
            or not isinstance(warning_interval, int | float)
            or not math.isfinite(warning_interval)
            or warning_interval < 0
        ):
            raise ConfigurationError(
                "RedisStore warning_interval must be a number of seconds >= 0, "
                f"got {warning_interval!r}"
            )
        if client is not None and (url is not None or connect_options):
            raise ConfigurationError(
                "give RedisStore either client= or connection options, not both"
            )
        if connect_options.get("decode_responses"):
            raise ConfigurationError("RedisStore stores bytes: decode_responses must stay False")
        self.prefix = prefix
        self.default_ttl = default_ttl
        self.serializer: Serializer = serializer
        self.scan_count = scan_count
        self.ready_timeout = float(ready_timeout)
        self.retry_after = retry_after
        self.warning_interval = float(warning_interval)
        self._encode, self._decode = _CODECS[serializer]
        self._glob = escape_glob(prefix)
        self._owns_client = client is None
        self._url = url
        self._connect_options = connect_options
        if client is None:
            client = connect_redis(url, **connect_options)
        elif _decodes_responses(client):
            raise ConfigurationError(
                "RedisStore stores bytes: its client needs decode_responses=False"
            )
        self.client: Redis | RedisCluster = client
        """The ``redis.asyncio`` client (use it for commands the Store protocol lacks)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._outage_errors = _outage_errors()
        self._next_warning = -math.inf  # time.monotonic() before which failures log at debug
        self._unlogged = 0  # failures logged at debug since the last warning

    def _redis(self) -> Redis | RedisCluster:
        """The client, rebuilt if this store made it and the event loop has changed.

        redis-py connections belong to the loop that opened them; a store created at import
        time may serve several loops in turn (one per test client), each after the app's
        shutdown closed the previous connections.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None and self._owns_client:
                self.client = connect_redis(self._url, **self._connect_options)
            self._loop = loop
        return self.client

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _unavailable(self, operation: str, exc: BaseException) -> StoreUnavailable:
        """The 503 for a command that failed for good, after logging why (throttled)."""
        now = time.monotonic()
        if now >= self._next_warning:
            unlogged, self._unlogged = self._unlogged, 0
            self._next_warning = now + self.warning_interval
            logger.warning(
                "Redis store %r unavailable: %s failed after its retries (%s: %s); "
                "raising StoreUnavailable (503 STORE_UNAVAILABLE)%s",
                self.prefix,
                operation,
                type(exc).__name__,
                exc,
                f" ({unlogged} more failures since the last warning)" if unlogged else "",
            )
        else:
            self._unlogged += 1
            logger.debug("Redis store %r: %s failed (%s)", self.prefix, operation, exc)
        return StoreUnavailable(self.retry_after)

    async def get(self, key: str) -> Any | None:
        try:
            raw = await self._redis().get(self._key(key))
        except self._outage_errors as exc:
            raise self._unavailable("GET", exc) from exc
        return None if raw is None else self._decode(raw)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if ttl is None:
            ttl = self.default_ttl
        else:
            check_ttl(ttl)
        raw = self._encode(value)  # before touching Redis: an unencodable value changes nothing
        client = self._redis()
        try:
            if ttl is None:
                await client.set(self._key(key), raw)
            elif ttl <= 0:
                await client.delete(self._key(key))  # already expired
            else:
                # Whole milliseconds, rounded up so a key never expires before its TTL.
                await client.set(self._key(key), raw, px=max(1, math.ceil(ttl * 1000)))
        except self._outage_errors as exc:
            raise self._unavailable("SET", exc) from exc

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        if ttl is None:
            raise ValueError("set_ex needs a ttl; use set() to store without expiry")
        await self.set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        try:
            return bool(await self._redis().delete(self._key(key)))
        except self._outage_errors as exc:
            raise self._unavailable("DEL", exc) from exc

    async def has(self, key: str) -> bool:
        try:
            return bool(await self._redis().exists(self._key(key)))
        except self._outage_errors as exc:
            raise self._unavailable("EXISTS", exc) from exc

    async def clear(self) -> None:
        client = self._redis()
        batch: list[bytes | str] = []
        try:
            async for full_key in client.scan_iter(match=self._glob + "*", count=self.scan_count):
                batch.append(full_key)
                if len(batch) >= self.scan_count:
                    await client.delete(*batch)
                    batch = []
            if batch:
                await client.delete(*batch)
        except self._outage_errors as exc:
            raise self._unavailable("clear (SCAN/DEL)", exc) from exc

    async def keys(self, pattern: str = "*") -> list[str]:
        cut = len(self.prefix)
        found: dict[str, None] = {}  # SCAN may return a key twice; keep the first order
        client = self._redis()
        try:
            async for full_key in client.scan_iter(
                match=self._glob + pattern, count=self.scan_count
            ):
                text = full_key.decode() if isinstance(full_key, bytes) else full_key
                found[text[cut:]] = None
        except self._outage_errors as exc:
            raise self._unavailable("keys (SCAN)", exc) from exc
        return list(found)

    async def ready(self) -> bool:
        """True when Redis answers a PING within ``ready_timeout``; never raises."""
        try:
            async with asyncio.timeout(self.ready_timeout):
                return bool(await self._redis().ping())
        except Exception:
            return False

    async def close(self) -> None:
        """Close the connections if this store created its client (a given one is the caller's).

        The store stays usable: the next command opens a new connection.
        """
        if self._owns_client and self._loop is asyncio.get_running_loop():
            await self.client.aclose()

    def __repr__(self) -> str:
        return f"RedisStore(prefix={self.prefix!r}, serializer={self.serializer!r})"


def _outage_errors() -> tuple[type[BaseException], ...]:
    """The redis-py errors that mean "Redis cannot serve right now", not "bad command".

    Connection and timeout errors (a loading or restarting server, refused credentials
    included), a cluster that is down or a replica cut off from its primary
    (``ClusterDownError`` covers ``MasterDownError``), and a primary demoted to read-only
    during a failover.
    """
    from redis import exceptions

    return (
        exceptions.ConnectionError,
        exceptions.TimeoutError,
        exceptions.ClusterDownError,
        exceptions.ReadOnlyError,
    )


def _decodes_responses(client: Any) -> bool:
    """True when a redis-py client turns replies into ``str`` (msgpack needs bytes)."""
    try:
        options = client.get_connection_kwargs()
    except Exception:  # an unusual client object: let the first command tell
        return False
    return bool(options.get("decode_responses"))
