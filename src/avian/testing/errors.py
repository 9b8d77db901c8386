"""Exceptions raised by the test clients."""

from __future__ import annotations

import httpx

from avian.errors import AvianError

__all__ = ["LifespanError", "WebSocketDenied", "WebSocketDisconnected"]


class LifespanError(AvianError, RuntimeError):
    """The app reported ``lifespan.startup.failed`` / ``lifespan.shutdown.failed``, or hung."""


class WebSocketDenied(AvianError):
    """The app refused the WebSocket handshake.

    Either it sent ``websocket.close`` before accepting (``status_code`` 403, the close
    ``code`` and ``reason`` set) or it sent a denial response through the
    ``websocket.http.response`` extension (``status_code``, ``headers`` and ``body`` set).
    """

    def __init__(
        self,
        status_code: int,
        *,
        code: int | None = None,
        reason: str = "",
        headers: httpx.Headers | None = None,
        body: bytes = b"",
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.reason = reason
        self.headers = headers if headers is not None else httpx.Headers()
        self.body = body
        detail = f"WebSocket handshake denied with HTTP {status_code}"
        if code is not None:
            detail += f" (close code {code}{': ' + reason if reason else ''})"
        super().__init__(detail)


class WebSocketDisconnected(AvianError):
    """The WebSocket is closed: the app sent ``websocket.close`` or finished."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"WebSocket closed with code {code}{': ' + reason if reason else ''}")
