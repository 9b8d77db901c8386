"""Websocket routes: compiling them and serving a handshake.

A websocket route runs the ``before`` hooks of every layer above it at the handshake (so a
group's authentication applies), then the handler.  A hook that ends the request, or an
error, refuses the handshake with an HTTP status when the server supports the denial
response extension, else with close code 1008.  Onion middleware, which works on HTTP
responses, does not run for websockets.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import errors
from .context import Context
from .errors import ConfigurationError, HTTPError
from .pipeline import finalize
from .routing.patterns import PathPattern
from .routing.router import Hook, Level, RouteDef
from .routing.table import RouteTable

if TYPE_CHECKING:
    from .app import App

__all__ = ["WS_OPTIONS", "WebSocketRoute", "compile_ws_route", "deny_websocket", "serve_websocket"]

Scope = dict[str, Any]

WS_OPTIONS = frozenset({"allowed_origins", "max_message_size", "backpressure_limit", "data"})
"""Per-route websocket options: ``app.ws(path, handler, max_message_size=...)``."""


class WebSocketRoute:
    """A compiled websocket route: pattern, handler endpoint, handshake hooks, options."""

    __slots__ = ("before", "definition", "endpoint", "options", "pattern")

    def __init__(
        self,
        definition: RouteDef,
        pattern: PathPattern,
        endpoint: Callable[[Any], Awaitable[None]],
        before: list[Hook],
        options: dict[str, Any],
    ) -> None:
        self.definition = definition
        self.pattern = pattern
        self.endpoint = endpoint
        self.before = before
        self.options = options


def compile_ws_route(
    app: App, pattern: PathPattern, definition: RouteDef, levels: list[Level]
) -> WebSocketRoute:
    """Validate the route's options against the app defaults and normalise the handler."""
    from .websockets import normalize_allowed_origins, normalize_ws_handler

    before = [hook for level in levels for hook in level.before]
    endpoint = normalize_ws_handler(definition.handler)
    options = dict(definition.options)
    unknown = set(options) - WS_OPTIONS
    if unknown:
        raise ConfigurationError(
            f"websocket route {pattern.path}: unknown option(s) {', '.join(sorted(unknown))}"
        )
    options["allowed_origins"] = normalize_allowed_origins(
        options.get("allowed_origins", app.ws_allowed_origins)
    )
    options.setdefault("max_message_size", app.ws_max_message_size)
    options.setdefault("backpressure_limit", app.ws_backpressure_limit)
    return WebSocketRoute(definition, pattern, endpoint, before, options)


async def deny_websocket(scope: Scope, send: Any, status: int) -> None:
    """Refuse a handshake: an HTTP response when the server supports it, else close."""
    if "websocket.http.response" in (scope.get("extensions") or {}):
        body = (errors.code_for_status(status) + "\n").encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": ""})


async def _handshake_hooks(app: App, ctx: Context, hooks: list[Hook]) -> int | None:
    """Run the before hooks; the status to refuse with, or ``None`` to go on."""
    try:
        for hook in hooks:
            result = hook(ctx)
            if inspect.isawaitable(result):
                result = await result
            if result is not None or ctx.dispatched:
                status = finalize(ctx, result, 403).status
                return status if status >= 400 else 403
    except HTTPError as exc:
        return exc.status
    except Exception as exc:
        await app.report_error(exc, ctx)
        return 500
    return None


async def serve_websocket(
    app: App,
    table: RouteTable[WebSocketRoute],
    target: str | list[str],
    scope: Scope,
    receive: Any,
    send: Any,
) -> bool:
    """Serve the handshake if a websocket route matches ``target``; False if none does."""
    from .websockets import WebSocket, run_websocket

    found = table.match(target) if isinstance(target, str) else table.match_segments(target)
    if found is None:
        return False
    entry, values = found
    route = entry.any
    assert route is not None
    params = entry.params_for(route, values) if values else {}
    if route.before:
        ctx = Context(app, scope, receive, send, None, params)
        refused = await _handshake_hooks(app, ctx, route.before)
        if refused is not None:
            await deny_websocket(scope, send, refused)
            return True
    options = route.options
    ws: WebSocket[Any] = WebSocket(
        scope,
        receive,
        send,
        params=params,
        app=app,
        max_message_size=options["max_message_size"],
        allowed_origins=options["allowed_origins"],
        backpressure_limit=options["backpressure_limit"],
        data_factory=options.get("data"),
    )

    async def report(exc: BaseException) -> None:
        await app.report_error(exc, None)

    await run_websocket(route.endpoint, ws, on_error=report)
    return True
