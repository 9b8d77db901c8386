"""Attaching a rate limiter: to a router (the app, a group) or to one handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from ..routing.router import route_middleware
from .limiter import RateLimiter
from .options import RateLimitOptions

if TYPE_CHECKING:
    from ..routing.router import Router

__all__ = ["attach_rate_limit", "rate_limit"]

F = TypeVar("F", bound=Callable[..., Any])


def attach_rate_limit(router: Router, **options: Unpack[RateLimitOptions]) -> RateLimiter:
    """Rate-limit every route below ``router`` (``app.rate_limit(...)``,
    ``group.rate_limit(...)``) and return the limiter.

    On the app, the limiter also covers unmatched requests (404s count) and becomes
    ``app.core.rate_limiter`` (``ctx.core.rate_limiter``) unless one is there already.
    """
    from ..app import App

    router._check_open()
    limiter = RateLimiter(**options)
    limiter.attach(router)
    router.use(limiter)
    if isinstance(router, App) and "rate_limiter" not in router.core:
        router.core.rate_limiter = limiter
    return limiter


class RateLimitDecorator:
    """``@rate_limit(...)``: attaches its :attr:`limiter` to the decorated handler."""

    __slots__ = ("limiter",)

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def __call__(self, handler: F) -> F:
        module = getattr(handler, "__module__", None) or ""
        qualname = getattr(handler, "__qualname__", None) or type(handler).__qualname__
        self.limiter.name_scope(f"{module}.{qualname}" if module else qualname)
        return route_middleware(self.limiter)(handler)


def rate_limit(**options: Unpack[RateLimitOptions]) -> RateLimitDecorator:
    """Rate-limit one route, written under the route decorator::

        @app.post("/login")
        @rate_limit(max_requests=5, window="1m")
        async def login(ctx: Context) -> dict[str, str]: ...

    It applies on top of app- and group-level limiters.  The limiter is
    ``rate_limit(...).limiter`` (keep the decorator in a variable to reach it).
    """
    return RateLimitDecorator(RateLimiter(**options))
