"""Response caching: ``cache_response(ttl=...)`` middleware for routes, groups or the app.

A hit answers from the cache without running what the middleware wraps (the handler and
any hooks or middleware inside it); everything outside it still runs, so outer middleware
and after hooks see a cache hit like any other response.  Only complete in-memory
responses are stored, never streams, files, cookies or private responses.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import msgspec

from ..errors import ConfigurationError
from ..http.response import Response
from ..routing.router import route_middleware
from ..stores import StoreUnavailable, escape_glob
from .service import Cache

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from ..context import Context
    from ..routing.router import CallNext

__all__ = ["ResponseCache", "cache_response"]

logger = logging.getLogger("avian.cache")

KeyFunction = Callable[["Context"], "str | Awaitable[str | None] | None"]

_ENTRY_PREFIX = "response:"
_LONG_PATH = 256
"""Paths longer than this are hashed in the key (keeps keys short whatever clients send)."""

_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Recomputed or specific to one response, so never replayed from the cache.
_NOT_STORED = _HOP_BY_HOP | {b"set-cookie", b"x-cache", b"content-length", b"date", b"age"}
_UNCACHEABLE_RESPONSE = frozenset({"no-store", "private", "no-cache"})
_BYPASS_REQUEST = frozenset({"no-store", "no-cache"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_encode = msgspec.msgpack.Encoder().encode


class _Entry(msgspec.Struct):
    """What is stored for one response (version 1)."""

    v: int
    status: Annotated[int, msgspec.Meta(ge=200, le=599)]
    media_type: str | None
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _directives(values: Iterable[str]) -> set[str]:
    """Directive names of ``Cache-Control``-style header values, lower-cased."""
    names: set[str] = set()
    for value in values:
        for part in value.split(","):
            name = part.split("=", 1)[0].strip().lower()
            if name:
                names.add(name)
    return names


def _path_key(raw_path: str) -> str:
    if len(raw_path) > _LONG_PATH:
        return "#" + hashlib.sha256(raw_path.encode("latin-1")).hexdigest()
    return raw_path


class ResponseCache:
    """Middleware that answers repeated requests from a :class:`~avian.cache.Cache`.

    Build it with :func:`cache_response`.  ``cache`` is where entries live (under keys
    starting ``response:``); :meth:`invalidate` and :meth:`clear` remove them.
    """

    __slots__ = ("_bound", "_vary_set", "cache", "key", "methods", "statuses", "ttl", "vary")

    def __init__(
        self,
        ttl: float = 60,
        *,
        key: KeyFunction | None = None,
        vary: Iterable[str] = ("accept",),
        cache: Cache | None = None,
        methods: Iterable[str] = ("GET", "HEAD"),
        statuses: Iterable[int] = (200,),
    ) -> None:
        if (
            isinstance(ttl, bool)
            or not isinstance(ttl, int | float)
            or not math.isfinite(ttl)
            or ttl <= 0
        ):
            raise ConfigurationError(
                f"cache_response ttl must be a positive number of seconds, got {ttl!r}"
            )
        if key is not None and not callable(key):
            raise ConfigurationError(f"cache_response key must be a callable, got {key!r}")
        if cache is None:
            cache = Cache()
        elif not isinstance(cache, Cache):
            raise ConfigurationError(f"cache_response cache must be a Cache, got {cache!r}")
        if isinstance(vary, str):
            vary = (vary,)
        names: list[str] = []
        for name in vary:
            if not isinstance(name, str) or not _TOKEN.fullmatch(name.lower()):
                raise ConfigurationError(f"cache_response vary: invalid header name {name!r}")
            if name.lower() not in names:
                names.append(name.lower())
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        method_set = frozenset(m.upper() for m in methods if isinstance(m, str))
        if not method_set or any(
            not isinstance(m, str) or not m.isascii() or not m.isalpha() for m in methods
        ):
            raise ConfigurationError(f"cache_response methods: invalid list {methods!r}")
        statuses = (statuses,) if isinstance(statuses, int) else tuple(statuses)
        status_set = frozenset(statuses)
        if not status_set or any(
            isinstance(s, bool) or not isinstance(s, int) or not 200 <= s <= 599 for s in status_set
        ):
            raise ConfigurationError(f"cache_response statuses: invalid list {statuses!r}")
        self.ttl = ttl
        self.key = key
        self.vary = tuple(names)
        self._vary_set = frozenset(names)
        self.cache = cache
        self.methods = method_set
        self.statuses = status_set
        self._bound = False

    # --- keys -----------------------------------------------------------------------------

    async def _key(self, ctx: Context, method: str) -> str | None:
        if self.key is not None:
            custom = self.key(ctx)
            if inspect.isawaitable(custom):
                custom = await custom
            if custom is None:
                return None
            if not isinstance(custom, str):
                raise TypeError(f"cache_response key function must return str or None: {custom!r}")
            return f"{_ENTRY_PREFIX}{method} {custom}"
        request = ctx.request
        # Raw pairs, sorted by name only: a stable sort keeps the order of repeated names
        # (?a=2&a=1 is not ?a=1&a=2 to the handler), and no decoding means no two different
        # query strings can collide.
        pairs = [p for p in request.query_string.split("&") if p]
        pairs.sort(key=lambda p: p.partition("=")[0])
        headers = request.headers
        varied = [headers.get_all(name) for name in self.vary]
        digest = hashlib.sha256(
            _encode([request.scheme, headers.get("host"), pairs, varied])
        ).hexdigest()[:32]
        return f"{_ENTRY_PREFIX}{method} {_path_key(request.raw_path.decode('latin-1'))} {digest}"

    # --- storing --------------------------------------------------------------------------

    def _entry(self, response: Response, before: list[tuple[bytes, bytes]]) -> _Entry | None:
        """What to store for ``response``, or None when it must not be cached.

        ``before`` are headers outer layers had set on ``ctx.response`` before the request
        reached us: they are theirs to set again on every request, not part of the entry.
        """
        if response.status not in self.statuses:
            return None
        # Only responses that send their in-memory body (not streams, files, or any
        # subclass that sends something else).
        if type(response).__call__ is not Response.__call__:
            return None
        headers = response.headers
        if _directives(headers.get_all("cache-control")) & _UNCACHEABLE_RESPONSE:
            return None
        outer = Counter(before)
        own: list[tuple[bytes, bytes]] = []
        for item in response.raw_headers:
            if outer[item] > 0:
                outer[item] -= 1
            else:
                own.append(item)
        for name, value in own:
            if name == b"set-cookie":
                return None
            if name == b"vary":
                varies = _directives([value.decode("latin-1")])
                if "*" in varies or not varies <= self._vary_set:
                    return None  # the response depends on headers the key ignores
        return _Entry(
            v=1,
            status=response.status,
            media_type=response.media_type,
            headers=[(k, v) for k, v in own if k not in _NOT_STORED],
            body=response.body,
        )

    async def _load(self, key: str) -> Response | None:
        try:
            stored = await self.cache.get(key)
        except StoreUnavailable:
            return None  # an outage the store has logged: serve uncached, no second warning
        except Exception:
            logger.warning(
                "response cache: reading %r failed; serving uncached", key, exc_info=True
            )
            return None
        if stored is None:
            return None
        try:
            entry = msgspec.convert(stored, _Entry)
        except msgspec.ValidationError:
            return None  # not ours, or an older format: treat as a miss
        if entry.v != 1:
            return None
        response = Response.make(entry.body, entry.status, entry.media_type)
        response.raw_headers.extend(entry.headers)
        return response

    async def _save(self, key: str, entry: _Entry) -> None:
        try:
            await self.cache.set(key, entry, self.ttl)
        except StoreUnavailable:
            pass  # the store has logged the outage; the response goes out uncached
        except Exception:
            logger.warning("response cache: storing %r failed", key, exc_info=True)

    # --- the middleware -------------------------------------------------------------------

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        if not self._bound:  # entries follow the app's store (App(redis_url=...))
            self.cache.bind_app(ctx.app)
            self._bound = True
        request = ctx.request
        method = request.method
        if method not in self.methods:
            return await call_next()
        headers = request.headers
        cache_control = _directives(headers.get_all("cache-control"))
        bypass = bool(cache_control & _BYPASS_REQUEST) or (
            not cache_control and "no-cache" in _directives(headers.get_all("pragma"))
        )
        # Credentials make a response personal: never share it unless the key varies on them.
        if not bypass and "authorization" in headers and "authorization" not in self._vary_set:
            bypass = True
        key = None if bypass else await self._key(ctx, "GET" if method == "HEAD" else method)
        if key is None:
            response = await call_next()
            response.headers.set("x-cache", "BYPASS")
            return response

        cached = await self._load(key)
        if cached is not None:
            response = ctx.dispatch(cached)  # keeps headers outer layers set beforehand
            response.headers.set("x-cache", "HIT")
            return response

        # ctx._response holds headers outer layers set before calling us (without creating a
        # blank response when there are none).
        pending = ctx._response
        before = list(pending.raw_headers) if pending is not None else []
        response = await call_next()
        if method != "HEAD":  # a HEAD answer has no trustworthy body to store for GET
            entry = self._entry(response, before)
            if entry is not None:
                await self._save(key, entry)
        response.headers.set("x-cache", "MISS")
        return response

    # --- invalidation ---------------------------------------------------------------------

    async def invalidate(self, path: str) -> int:
        """Remove the cached responses for ``path`` (as sent: percent-encoded, no query),
        every variant and method; returns how many were removed.  Entries stored under a
        custom ``key=`` are not found by path: use :meth:`clear` or ``cache.delete``."""
        pattern = f" {escape_glob(_path_key(path))} *"
        removed = 0
        for method in sorted(self.methods - {"HEAD"}):
            for key in await self.cache.keys(f"{_ENTRY_PREFIX}{method}{pattern}"):
                removed += await self.cache.delete(key)
        return removed

    async def clear(self) -> int:
        """Remove every cached response in this cache; returns how many."""
        removed = 0
        for key in await self.cache.keys(_ENTRY_PREFIX + "*"):
            removed += await self.cache.delete(key)
        return removed

    def __repr__(self) -> str:
        return f"<ResponseCache ttl={self.ttl} vary={self.vary} methods={sorted(self.methods)}>"


def cache_response(
    ttl: float = 60,
    *,
    key: KeyFunction | None = None,
    vary: Iterable[str] = ("accept",),
    cache: Cache | None = None,
    methods: Iterable[str] = ("GET", "HEAD"),
    statuses: Iterable[int] = (200,),
) -> ResponseCache:
    """Middleware caching responses for ``ttl`` seconds.

    Use it on a route (``@app.get("/x", middleware=[cache_response(60)])``), a group
    (``app.group("/api", middleware=[...])``) or the whole app (``app.use(...)``).
    ``key(ctx)`` replaces the default key (path, sorted query, host and the ``vary``
    request headers) and may return ``None`` to skip the cache for a request; ``cache`` is
    where entries live (by default a :class:`Cache` of its own, in the app's store, shared
    by every worker, when the app runs with ``redis_url``); ``methods`` and
    ``statuses`` choose what is cached.
    """
    return ResponseCache(ttl, key=key, vary=vary, cache=cache, methods=methods, statuses=statuses)


def cache(
    ttl: float = 60,
    *,
    key: KeyFunction | None = None,
    vary: Iterable[str] = ("accept",),
    cache: Cache | None = None,
    methods: Iterable[str] = ("GET", "HEAD"),
    statuses: Iterable[int] = (200,),
) -> Callable[[F], F]:
    """``@cache(ttl=60)`` under a route decorator: :func:`cache_response` attached to the
    handler (same options), for when a decorator reads better than ``middleware=[...]``.

    ::

        @app.get("/report")
        @cache(ttl=60)
        async def report() -> dict[str, int]: ...
    """
    middleware = cache_response(
        ttl, key=key, vary=vary, cache=cache, methods=methods, statuses=statuses
    )
    return route_middleware(middleware)
