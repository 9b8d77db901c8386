"""Who a request counts against: key functions for ``rate_limit(key=...)``.

A key function takes the context and returns a string (or ``None`` to leave the request
unlimited); it may be ``async``.  The default, :func:`by_ip`, uses the client address as
resolved by the app's trusted-proxy rules (``App(trust_proxy=...)``), never a raw
``X-Forwarded-For`` a client could forge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["KeyFunction", "by_header", "by_ip", "client_ip", "rate_limit_key"]

KeyFunction = Callable[["Context"], "str | Awaitable[str | None] | None"]

UNKNOWN_CLIENT = "unknown"
"""The key of requests without a client address (they share one quota, never none)."""

_MAX_KEY_LENGTH = 200


def client_ip(ctx: Context) -> str | None:
    """The client's address, with the app's proxy rules applied (DonkeyLabs'
    ``extractClientIP``; the same as ``ctx.ip``)."""
    # PERF: without trusted proxies the address is the socket peer; reading it from the
    # scope avoids building the Request object for requests that never need it.
    if ctx.app.proxy is None and ctx._request is None:
        client = ctx.scope.get("client")
        return client[0] if client else None
    return ctx.ip


def by_ip(ctx: Context) -> str:
    """The default key: one quota per client address."""
    return client_ip(ctx) or UNKNOWN_CLIENT


def by_header(name: str, *, fallback_to_ip: bool = True) -> Callable[[Context], str | None]:
    """One quota per value of a request header (an API key, a tenant id).

    Long values are hashed so keys stay short.  Requests without the header count
    against their address (``fallback_to_ip=True``) or are not limited (``False``).
    """
    header = name.lower()

    def key(ctx: Context) -> str | None:
        value = ctx.request.headers.get(header)
        if value:
            return "h:" + shorten(value)
        return "ip:" + by_ip(ctx) if fallback_to_ip else None

    key.__name__ = f"by_header({name!r})"
    return key


def rate_limit_key(*parts: object) -> str:
    """Join parts into one key (DonkeyLabs' ``createRateLimitKey``): ``rate_limit_key("login",
    ip)`` -> ``"login:203.0.113.9"``.  Colons inside parts are escaped so distinct parts
    never collide."""
    return ":".join(str(part).replace("%", "%25").replace(":", "%3A") for part in parts)


def shorten(key: str) -> str:
    """``key``, or its SHA-256 when longer than 200 characters (keeps storage keys small
    whatever clients send)."""
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    return "#" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
