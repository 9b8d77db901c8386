"""Health checks of the app's connections and the readiness endpoint built on them.

Each open connection is pinged (Redis ``PING``, MongoDB ``ping``, SQL ``SELECT 1``) with a
timeout, all at once, so one dead server costs one timeout, not one per connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ..context import Context
from ..errors import ConfigurationError, HTTPError
from ..http.response import JSONResponse, Response
from .connection import positive_seconds

if TYPE_CHECKING:
    from ..app import App
    from .manager import DatabaseManager

__all__ = [
    "DEFAULT_HEALTH_TIMEOUT",
    "ConnectionHealth",
    "HealthReport",
    "check_health",
    "install_readiness",
]

DEFAULT_HEALTH_TIMEOUT = 2.0
"""Seconds one ping may take before its connection counts as down."""

Status = Literal["up", "down"]
UP: Status = "up"
DOWN: Status = "down"


class ConnectionHealth(TypedDict):
    """One connection's result."""

    kind: str
    status: Status
    latency_ms: float | None
    """Round-trip time of the ping; ``None`` when it failed."""
    error: str | None
    """``"TimeoutError: ..."``; ``None`` when up."""


class HealthReport(TypedDict):
    """``status`` is ``"up"`` only when every checked connection is up."""

    status: Status
    connections: dict[str, ConnectionHealth]


async def _check_one(manager: DatabaseManager, name: str, timeout: float) -> ConnectionHealth:
    spec = manager.spec(name)
    slot_client = manager._client(name)
    if slot_client is None:
        state = "opening" if manager.has_connection(name)["initializing"] else "not open"
        return {"kind": spec.kind, "status": DOWN, "latency_ms": None, "error": state}
    reporter = manager._reporter(name)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await spec.ping(slot_client)
    except Exception as exc:
        if isinstance(exc, TimeoutError):
            exc = TimeoutError(f"no answer within {timeout:g}s")
        reporter.failed(exc, spec.target)
        return {
            "kind": spec.kind,
            "status": DOWN,
            "latency_ms": None,
            "error": f"{type(exc).__name__}: {exc}",
        }
    latency = round((time.perf_counter() - started) * 1000, 3)
    reporter.recovered(spec.target)
    return {"kind": spec.kind, "status": UP, "latency_ms": latency, "error": None}


async def check_health(
    manager: DatabaseManager,
    *,
    timeout: float = DEFAULT_HEALTH_TIMEOUT,
    names: Iterable[str] | None = None,
) -> HealthReport:
    """Ping the named connections (all registered ones by default) concurrently."""
    timeout = positive_seconds("timeout", timeout)
    chosen = list(manager.names if names is None else names)
    for name in chosen:
        manager.spec(name)  # unknown names fail loudly, not as "down"
    results = await asyncio.gather(*(_check_one(manager, n, timeout) for n in chosen))
    connections = dict(zip(chosen, results, strict=True))
    healthy = all(result["status"] == UP for result in results)
    return {"status": UP if healthy else DOWN, "connections": connections}


def install_readiness(
    app: App,
    manager: DatabaseManager,
    path: str,
    *,
    timeout: float,
    names: Iterable[str] | None,
    show_errors: bool,
    route_options: dict[str, Any],
) -> None:
    """Register ``GET path``: 200 with the report when every connection is up, else a 503
    problem+json whose ``details`` is the report (errors only with ``show_errors``)."""
    timeout = positive_seconds("timeout", timeout)
    chosen = None if names is None else tuple(names)
    if chosen is not None:
        for name in chosen:
            if name not in manager:
                raise ConfigurationError(
                    f"readiness check names {name!r}, which is not a registered connection"
                )

    async def readiness(ctx: Context) -> Response:
        report = await check_health(manager, timeout=timeout, names=chosen)
        if not show_errors:
            for result in report["connections"].values():
                if result["error"] is not None:
                    result["error"] = result["error"].split(":", 1)[0]
        if report["status"] != UP:
            raise HTTPError(
                503,
                "A database connection is down.",
                code="NOT_READY",
                details=report,
                headers={"Cache-Control": "no-store", "Retry-After": "5"},
            )
        return JSONResponse(report, headers={"Cache-Control": "no-store"})

    route_options.setdefault("summary", "Readiness: are the database connections up?")
    app.get(path, **route_options)(readiness)
