"""A minimal raw ASGI app: websocket routes by path pattern, each run with ``run_websocket``.

It stands in for avian's router until ``App`` exists: it normalizes each handler once, builds a
``WebSocket`` per connection with the route's options and passes the app's error reporter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from avian.websockets import WebSocket, normalize_ws_handler, run_websocket


@dataclass
class Route:
    """A handler in any form, plus keyword arguments for ``WebSocket(...)``."""

    handler: object
    options: dict[str, Any] = field(default_factory=dict)


def _match(pattern: str, path: str) -> dict[str, Any] | None:
    want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(want) != len(got):
        return None
    params: dict[str, Any] = {}
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            name, _, kind = w[1:-1].partition(":")
            if kind == "int":
                if not g.isdigit():
                    return None
                params[name] = int(g)
            else:
                params[name] = g
        elif w != g:
            return None
    return params


class WsApp:
    """Route websocket connections; every unhandled handler error lands in ``errors``."""

    def __init__(self, routes: Mapping[str, Route | object]) -> None:
        self.routes = []
        for pattern, route in routes.items():
            if not isinstance(route, Route):
                route = Route(route)
            self.routes.append((pattern, normalize_ws_handler(route.handler), route.options))
        self.errors: list[BaseException] = []

    async def report(self, error: BaseException) -> None:
        self.errors.append(error)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            for pattern, endpoint, options in self.routes:
                params = _match(pattern, scope["path"])
                if params is not None:
                    ws = WebSocket(scope, receive, send, params=params, **options)
                    await run_websocket(endpoint, ws, on_error=self.report)
                    return
            await send({"type": "websocket.close", "code": 1000})
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"not found"})
