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
from .routing.router import CallNext, Middleware, RouteInfo, Router, route_middleware, when

if TYPE_CHECKING:
    from .cache import Cache, ResponseCache, cache_response
    from .csrf import CSRF, CSRFError, CSRFMiddleware, csrf_exempt, csrf_field, csrf_token
    from .flash import get_flashed_messages
    from .http.forms import FormData
    from .http.uploads import UploadFile
    from .middleware.compression import CompressionMiddleware
    from .middleware.cors import CORSMiddleware, CORSOptions
    from .middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware
    from .middleware.shield import ShieldMiddleware, ShieldOptions, shield_override
    from .sessions import (
        CookieSession,
        Session,
        SessionData,
        SessionMiddleware,
        session_of,
    )
    from .static import StaticFiles
    from .stores import MemoryStore, PrefixedStore, Store
    from .templates import Jinja2Engine, TemplateEngine
    from .uploads import StoredFile, Upload, UploadError
    from .websockets import (
        WebSocket,
        WebSocketDisconnect,
        WebSocketError,
        WebSocketHandler,
        WebSocketState,
    )

# PERF: these load on first use (PEP 562), so `import avian` stays light.  Names that are
# also submodules (``avian.flash``, ``avian.sessions``) are not re-exported: once the
# submodule is imported, the attribute would be the module, not the function.
_LAZY = {
    "FormData": ".http.forms",
    "UploadFile": ".http.uploads",
    "WebSocket": ".websockets",
    "WebSocketDisconnect": ".websockets",
    "WebSocketError": ".websockets",
    "WebSocketHandler": ".websockets",
    "WebSocketState": ".websockets",
    "StoredFile": ".uploads",
    "Upload": ".uploads",
    "UploadError": ".uploads",
    "Cache": ".cache",
    "ResponseCache": ".cache",
    "cache_response": ".cache",
    "MemoryStore": ".stores",
    "PrefixedStore": ".stores",
    "Store": ".stores",
    "CSRF": ".csrf",
    "CSRFError": ".csrf",
    "CSRFMiddleware": ".csrf",
    "csrf_exempt": ".csrf",
    "csrf_field": ".csrf",
    "csrf_token": ".csrf",
    "CookieSession": ".sessions",
    "Session": ".sessions",
    "SessionData": ".sessions",
    "SessionMiddleware": ".sessions",
    "session_of": ".sessions",
    "get_flashed_messages": ".flash",
    "StaticFiles": ".static",
    "Jinja2Engine": ".templates",
    "TemplateEngine": ".templates",
    "CompressionMiddleware": ".middleware.compression",
    "CORSMiddleware": ".middleware.cors",
    "CORSOptions": ".middleware.cors",
    "ShieldMiddleware": ".middleware.shield",
    "ShieldOptions": ".middleware.shield",
    "shield_override": ".middleware.shield",
    "AllowedHostsMiddleware": ".middleware.hosts",
    "HTTPSRedirectMiddleware": ".middleware.hosts",
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
    "CSRF",
    "AllowedHostsMiddleware",
    "App",
    "AvianError",
    "BodyError",
    "BodyLimits",
    "CORSMiddleware",
    "CORSOptions",
    "CSRFError",
    "CSRFMiddleware",
    "Cache",
    "CallNext",
    "CompressionMiddleware",
    "ConfigurationError",
    "Context",
    "CookieSession",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPError",
    "HTTPSRedirectMiddleware",
    "HeaderLimits",
    "HeaderValueError",
    "Headers",
    "JSONResponse",
    "Jinja2Engine",
    "KiB",
    "MemoryStore",
    "MiB",
    "Middleware",
    "MutableHeaders",
    "PlainTextResponse",
    "PrefixedStore",
    "ProxyConfig",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestCookies",
    "Response",
    "ResponseCache",
    "ResponseCookies",
    "RouteInfo",
    "Router",
    "Session",
    "SessionData",
    "SessionMiddleware",
    "ShieldMiddleware",
    "ShieldOptions",
    "State",
    "StaticFiles",
    "Store",
    "StoredFile",
    "StreamingResponse",
    "TemplateEngine",
    "Upload",
    "UploadError",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketState",
    "cache_response",
    "csrf_exempt",
    "csrf_field",
    "csrf_token",
    "errors",
    "get_flashed_messages",
    "route_middleware",
    "session_of",
    "shield_override",
    "when",
]
__version__ = "0.1.0"
