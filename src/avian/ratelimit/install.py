"""Attaching a rate limiter to a router (the app, a group) as middleware."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..routing.router import Router

__all__ = ["attach_rate_limit"]


def attach_rate_limit(router: Router, **options: Any) -> Any:
    raise NotImplementedError
