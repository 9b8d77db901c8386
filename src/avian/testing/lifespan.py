"""Drive an app's ASGI lifespan protocol for the test clients."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import LifespanError

__all__ = ["Lifespan"]

Message = dict[str, Any]


class Lifespan:
    """Startup before the first request, shutdown at the end, on the loop that runs the app.

    An app that does not speak lifespan (it returns, or raises before it has read the
    ``lifespan.startup`` message) is tolerated, like uvicorn's ``--lifespan auto``.  An app
    that raises after reading it has a broken startup, and the error is raised.
    """

    def __init__(self, app: Callable[[Any, Any, Any], Awaitable[None]], state: dict[str, Any]):
        self._app = app
        self._state = state
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()  # None: app returned
        self._task: asyncio.Task[None] | None = None
        self._read_startup = False
        self._error: Exception | None = None
        self._running = False

    async def startup(self, timeout: float | None) -> None:
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self._state,
        }
        self._to_app.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        message = await self._next("startup", timeout)
        if message is None:
            if self._error is not None and self._read_startup:
                raise self._error
            return  # lifespan not supported
        if message["type"] == "lifespan.startup.complete":
            self._running = True
            return
        await self._stop(0)
        if message["type"] == "lifespan.startup.failed":
            raise LifespanError(f"lifespan startup failed: {message.get('message', '')}")
        raise RuntimeError(f"ASGI app sent {message['type']!r} during lifespan startup")

    async def shutdown(self, timeout: float | None) -> None:
        if not self._running:
            return
        self._running = False
        self._to_app.put_nowait({"type": "lifespan.shutdown"})
        try:
            message = await self._next("shutdown", timeout)
            if message is None:
                if self._error is not None:
                    raise self._error
            elif message["type"] == "lifespan.shutdown.failed":
                raise LifespanError(f"lifespan shutdown failed: {message.get('message', '')}")
            elif message["type"] != "lifespan.shutdown.complete":
                raise RuntimeError(f"ASGI app sent {message['type']!r} during lifespan shutdown")
        finally:
            await self._stop(timeout)

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._receive, self._send)
        except Exception as exc:
            self._error = exc
        finally:
            self._from_app.put_nowait(None)

    async def _receive(self) -> Message:
        message = await self._to_app.get()
        if message["type"] == "lifespan.startup":
            self._read_startup = True
        return message

    async def _send(self, message: Message) -> None:
        self._from_app.put_nowait(dict(message))

    async def _next(self, phase: str, timeout: float | None) -> Message | None:
        try:
            return await asyncio.wait_for(self._from_app.get(), timeout)
        except TimeoutError:
            await self._stop(0)
            raise LifespanError(
                f"the app did not finish lifespan {phase} within {timeout} s"
            ) from None

    async def _stop(self, grace: float | None) -> None:
        """Let the lifespan task end on its own for ``grace`` seconds, then cancel it."""
        task = self._task
        if task is None or task.done():
            return
        if grace is None or grace > 0:
            await asyncio.wait([task], timeout=grace)
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
