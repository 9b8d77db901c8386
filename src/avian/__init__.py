"""avian: a batteries-included async web framework (ASGI 3, Python 3.11+)."""

from typing import TYPE_CHECKING, Any

from . import errors
from .app import App
from .context import Context, State
from .errors import AvianError, BodyError, ConfigurationError, HTTPError
from .http.client_ip import ProxyConfig
from .http.cookies import RequestCookies, ResponseCookies
from .http.headers import Headers, HeaderValueError, MutableHeaders
from .http.limits import BodyLimits, HeaderLimits, KiB, MiB
from .http.query import QueryParams
from .http.request import Request
from .http.response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from .routing.router import CallNext, Middleware, RouteInfo, Router, when

if TYPE_CHECKING:
    from .http.forms import FormData
    from .http.uploads import UploadFile
    from .websockets import (
        WebSocket,
        WebSocketDisconnect,
        WebSocketError,
        WebSocketHandler,
        WebSocketState,
    )

# PERF: these load on first use (PEP 562), so `import avian` stays light.
_LAZY = {
    "FormData": ".http.forms",
    "UploadFile": ".http.uploads",
    "WebSocket": ".websockets",
    "WebSocketDisconnect": ".websockets",
    "WebSocketError": ".websockets",
    "WebSocketHandler": ".websockets",
    "WebSocketState": ".websockets",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'avian' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "App",
    "AvianError",
    "BodyError",
    "BodyLimits",
    "CallNext",
    "ConfigurationError",
    "Context",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPError",
    "HeaderLimits",
    "HeaderValueError",
    "Headers",
    "JSONResponse",
    "KiB",
    "MiB",
    "Middleware",
    "MutableHeaders",
    "PlainTextResponse",
    "ProxyConfig",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestCookies",
    "Response",
    "ResponseCookies",
    "RouteInfo",
    "Router",
    "State",
    "StreamingResponse",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketState",
    "errors",
    "when",
]
__version__ = "0.1.0"
