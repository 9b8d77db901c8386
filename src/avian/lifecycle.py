"""Startup and shutdown: ``on_ready`` / ``on_shutdown`` hooks and the ASGI lifespan protocol.

Startup compiles the routes, then runs ``on_ready`` hooks in registration order; shutdown
runs every ``on_shutdown`` hook even when one fails.  Any ASGI server that speaks lifespan
(uvicorn, granian, hypercorn, the test client) drives this, so hooks run without
``app.listen()`` too.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .error_handling import avian_logger

if TYPE_CHECKING:
    from .app import App

__all__ = ["LifecycleHook", "run_hooks", "serve_lifespan"]


LifecycleHook = Callable[..., Any]
"""``async def hook(app)`` or ``async def hook()``; sync functions work too."""

_POSITIONAL = (
    inspect.Parameter.POSITIONAL_ONLY,
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    inspect.Parameter.VAR_POSITIONAL,
)


def _takes_app(hook: LifecycleHook) -> bool:
    try:
        return any(p.kind in _POSITIONAL for p in inspect.signature(hook).parameters.values())
    except (TypeError, ValueError):
        return True


async def run_hooks(app: App, hooks: list[LifecycleHook]) -> None:
    """Call each hook with the app (when it takes a positional argument), in order."""
    for hook in hooks:
        result = hook(app) if _takes_app(hook) else hook()
        if inspect.isawaitable(result):
            await result


async def serve_lifespan(app: App, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer the ASGI lifespan messages with the app's startup and shutdown."""
    message = await receive()
    if message["type"] != "lifespan.startup":
        return
    try:
        await app.startup()
    except BaseException as exc:
        avian_logger().error("startup failed", exc_info=exc)
        await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
        if not isinstance(exc, Exception):
            raise
        return
    if isinstance(scope.get("state"), dict):
        scope["state"]["app"] = app
    await send({"type": "lifespan.startup.complete"})
    message = await receive()
    if message["type"] != "lifespan.shutdown":
        return
    try:
        await app.shutdown()
    except Exception as exc:
        await send({"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"})
        return
    await send({"type": "lifespan.shutdown.complete"})
