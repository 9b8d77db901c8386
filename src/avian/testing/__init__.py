"""Test clients for avian (and any ASGI 3) apps: in-process, no sockets, built on httpx.

Usage::

    from avian.testing import TestClient

    with TestClient(app) as client:
        assert client.get("/hello").json() == {"hello": "world"}
        client.post("/users").json({"name": "Ada"}).execute()

Needs the ``testing`` extra: ``pip install 'avian[testing]'``.
"""

try:
    import httpx as _httpx  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "avian.testing needs httpx, which is not installed: pip install 'avian[testing]'"
    ) from exc

from .builder import AsyncTestRequest, TestRequest
from .client import DEFAULT_TIMEOUT, AsyncTestClient, TestClient
from .errors import LifespanError, WebSocketDenied, WebSocketDisconnected
from .response import TestResponse
from .websocket import AsyncWebSocketSession, WebSocketSession

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncTestClient",
    "AsyncTestRequest",
    "AsyncWebSocketSession",
    "LifespanError",
    "TestClient",
    "TestRequest",
    "TestResponse",
    "WebSocketDenied",
    "WebSocketDisconnected",
    "WebSocketSession",
]
