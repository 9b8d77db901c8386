"""One way to build a Redis client, shared by the Redis store, the database manager and
rate limiting, so every feature reads the same options and environment variables.

The client connects lazily (on its first command) and retries a lost connection a
bounded number of times with exponential backoff, so a Redis restart costs a few slow
commands instead of a crashed worker.  ``redis`` is imported only when this is called.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

__all__ = ["DEFAULT_HEALTH_CHECK_INTERVAL", "connect_redis", "import_redis", "split_url_prefix"]

DEFAULT_HEALTH_CHECK_INTERVAL = 30.0
"""Seconds a pooled connection may sit idle before it is pinged on reuse."""

_BACKOFF_BASE = 0.05
_BACKOFF_CAP = 2.0
_INSTALL_HINT = "Redis support needs the redis package: pip install 'avian[redis]'"


def import_redis() -> Any:
    """``redis.asyncio``, or a :class:`ConfigurationError` telling how to install it."""
    try:
        import redis.asyncio
    except ImportError as exc:
        raise ConfigurationError(_INSTALL_HINT) from exc
    return redis.asyncio


def connect_redis(
    url: str | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    username: str | None = None,
    password: str | None = None,
    db: int | None = None,
    tls: bool = False,
    cluster: bool = False,
    max_retries: int = 3,
    **client_options: Any,
) -> Redis | RedisCluster:
    """Build a ``redis.asyncio`` client (no I/O happens until its first command).

    ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``; an avian ``?prefix=`` in it
    is ignored here, see :func:`split_url_prefix`) or ``host``/``port`` say where the
    server is; ``username``/``password``/``db`` override what the URL says.
    With neither ``url`` nor ``host``, ``REDIS_URL`` is used, then ``REDIS_HOST``,
    ``REDIS_PORT``, ``REDIS_USER`` and ``REDIS_PASS``, then ``localhost:6379``.
    ``tls=True`` encrypts a plain ``redis://`` or host/port connection.  ``cluster=True``
    returns a ``RedisCluster``.  Connection errors and timeouts are retried
    ``max_retries`` times with exponential backoff.  Other keyword arguments go to the
    redis-py client unchanged (``socket_timeout``, ``max_connections``, ``ssl_ca_certs``...).
    """
    redis_asyncio = import_redis()
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"Redis max_retries must be an int >= 0, got {max_retries!r}")
    if url is not None and (host is not None or port is not None):
        raise ConfigurationError("give Redis either url= or host=/port=, not both")
    if url is None and host is None:
        url = os.environ.get("REDIS_URL") or None
        if url is None:
            host = os.environ.get("REDIS_HOST") or None
            port = port if port is not None else _env_port()
            username = username if username is not None else os.environ.get("REDIS_USER")
            password = password if password is not None else os.environ.get("REDIS_PASS")

    options = _url_options(url) if url is not None else {}
    if url is None:
        options["host"] = host or "localhost"
        options["port"] = 6379 if port is None else port
    for name, value in (("username", username), ("password", password), ("db", db)):
        if value is not None:
            options[name] = value
    if tls:
        options["ssl"] = True
    options.setdefault("health_check_interval", DEFAULT_HEALTH_CHECK_INTERVAL)
    options.update(client_options)
    if "retry" not in client_options:
        options["retry"] = _bounded_retry(max_retries)

    if cluster:
        if "unix_socket_path" in options:
            raise ConfigurationError("a Redis cluster cannot be reached through a unix socket")
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster(**options)
    client: Redis = redis_asyncio.Redis(**options)
    return client


def _env_port() -> int | None:
    raw = os.environ.get("REDIS_PORT")
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"REDIS_PORT must be a port number, got {raw!r}") from None


def split_url_prefix(url: str) -> tuple[str, str | None]:
    """``url`` without its ``prefix=`` query parameter, and that parameter's value.

    The parameter is avian's, not redis-py's: it lets the one setting (``AVIAN_REDIS_URL``)
    also choose the key namespace, so several apps can share a Redis
    (``redis://host:6379/0?prefix=shop:``).
    """
    parts = urlsplit(url)
    if not parts.query:
        return url, None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in pairs if name == "prefix"]
    if not prefixes:
        return url, None
    rest = urlencode([(name, value) for name, value in pairs if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[-1]


def _url_options(url: str) -> dict[str, Any]:
    """The client options a Redis URL stands for (host, port, db, credentials, TLS...)."""
    from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

    if not isinstance(url, str) or not url:
        raise ConfigurationError(f"Redis url must be a non-empty string, got {url!r}")
    url = split_url_prefix(url)[0]  # a key namespace, not a connection option
    try:
        options: dict[str, Any] = dict(parse_url(url))
    except ValueError as exc:
        raise ConfigurationError(f"invalid Redis url: {exc}") from None
    connection_class = options.pop("connection_class", None)
    if connection_class is SSLConnection:
        options["ssl"] = True
    elif connection_class is UnixDomainSocketConnection:
        options["unix_socket_path"] = options.pop("path")
    return options


def _bounded_retry(max_retries: int) -> Any:
    """Retry connection errors and timeouts ``max_retries`` times, backing off exponentially."""
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    return Retry(
        ExponentialBackoff(cap=_BACKOFF_CAP, base=_BACKOFF_BASE),
        max_retries,
        supported_errors=(ConnectionError, TimeoutError),
    )
