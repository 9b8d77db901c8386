"""avian: a batteries-included async web framework (ASGI 3, Python 3.11+)."""

from . import errors
from .app import App
from .context import Context, State
from .errors import AvianError, BodyError, ConfigurationError, HTTPError
from .http.client_ip import ProxyConfig
from .http.cookies import RequestCookies, ResponseCookies
from .http.forms import FormData
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
from .http.uploads import UploadFile
from .routing.router import CallNext, Middleware, RouteInfo, Router, when
from .websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketError,
    WebSocketHandler,
    WebSocketState,
)

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
