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
    from .config import Secret, Settings, SettingsBlock, SettingsError, build_app, load_settings
    from .controllers import Controller
    from .csrf import CSRF, CSRFError, CSRFMiddleware, csrf_exempt, csrf_field, csrf_token
    from .db import sql_session
    from .durations import parse_duration
    from .flash import get_flashed_messages
    from .handler_kinds import HandlerKind, handler_kind, raw, register_kind, stream
    from .http.forms import FormData
    from .http.uploads import UploadFile
    from .llm import LLMConfig
    from .middleware.compression import CompressionMiddleware
    from .middleware.cors import CORSMiddleware, CORSOptions
    from .middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware
    from .middleware.shield import ShieldMiddleware, ShieldOptions, shield_override
    from .openapi import (
        APIKey,
        HTTPBasic,
        HTTPBearer,
        OAuth2,
        OAuthFlow,
        OpenAPIConfig,
        OpenIdConnect,
        build_openapi,
    )
    from .pagination import (
        CursorPage,
        CursorPagination,
        OffsetPage,
        OffsetPagination,
        Page,
        PageParams,
        Pagination,
    )
    from .params import (
        Body,
        Cookie,
        Depends,
        File,
        Form,
        Header,
        Path,
        Query,
        RequestValidationError,
        ResponseValidationError,
    )
    from .ratelimit import RateLimiter, RateLimitResult, rate_limit
    from .rpc import RPCRouter
    from .sessions import (
        CookieSession,
        Session,
        SessionData,
        SessionMiddleware,
        session_of,
    )
    from .static import StaticFiles
    from .stores import MemoryStore, PrefixedStore, RedisStore, Store, StoreUnavailable
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
    "Depends": ".params",
    "Query": ".params",
    "Header": ".params",
    "Cookie": ".params",
    "Body": ".params",
    "Path": ".params",
    "Form": ".params",
    "File": ".params",
    "RequestValidationError": ".params",
    "ResponseValidationError": ".params",
    "RedisStore": ".stores",
    "StoreUnavailable": ".stores",
    "Controller": ".controllers",
    "RPCRouter": ".rpc",
    "HandlerKind": ".handler_kinds",
    "handler_kind": ".handler_kinds",
    "register_kind": ".handler_kinds",
    "raw": ".handler_kinds",
    "stream": ".handler_kinds",
    "Page": ".pagination",
    "OffsetPage": ".pagination",
    "CursorPage": ".pagination",
    "PageParams": ".pagination",
    "Pagination": ".pagination",
    "OffsetPagination": ".pagination",
    "CursorPagination": ".pagination",
    "Settings": ".config",
    "load_settings": ".config",
    "build_app": ".config",
    "SettingsError": ".config",
    "SettingsBlock": ".config",
    "Secret": ".config",
    "OpenAPIConfig": ".openapi",
    "build_openapi": ".openapi",
    "HTTPBearer": ".openapi",
    "HTTPBasic": ".openapi",
    "APIKey": ".openapi",
    "OAuth2": ".openapi",
    "OAuthFlow": ".openapi",
    "OpenIdConnect": ".openapi",
    "parse_duration": ".durations",
    "LLMConfig": ".llm",
    "sql_session": ".db",
    "RateLimiter": ".ratelimit",
    "RateLimitResult": ".ratelimit",
    "rate_limit": ".ratelimit",
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
    "APIKey",
    "AllowedHostsMiddleware",
    "App",
    "AvianError",
    "Body",
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
    "Controller",
    "Cookie",
    "CookieSession",
    "CursorPage",
    "CursorPagination",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "HTMLResponse",
    "HTTPBasic",
    "HTTPBearer",
    "HTTPError",
    "HTTPSRedirectMiddleware",
    "HandlerKind",
    "Header",
    "HeaderLimits",
    "HeaderValueError",
    "Headers",
    "JSONResponse",
    "Jinja2Engine",
    "KiB",
    "LLMConfig",
    "MemoryStore",
    "MiB",
    "Middleware",
    "MutableHeaders",
    "OAuth2",
    "OAuthFlow",
    "OffsetPage",
    "OffsetPagination",
    "OpenAPIConfig",
    "OpenIdConnect",
    "Page",
    "PageParams",
    "Pagination",
    "Path",
    "PlainTextResponse",
    "PrefixedStore",
    "ProxyConfig",
    "Query",
    "QueryParams",
    "RPCRouter",
    "RateLimitResult",
    "RateLimiter",
    "RedirectResponse",
    "RedisStore",
    "Request",
    "RequestCookies",
    "RequestValidationError",
    "Response",
    "ResponseCache",
    "ResponseCookies",
    "ResponseValidationError",
    "RouteInfo",
    "Router",
    "Secret",
    "Session",
    "SessionData",
    "SessionMiddleware",
    "Settings",
    "SettingsBlock",
    "SettingsError",
    "ShieldMiddleware",
    "ShieldOptions",
    "State",
    "StaticFiles",
    "Store",
    "StoreUnavailable",
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
    "build_app",
    "build_openapi",
    "cache_response",
    "csrf_exempt",
    "csrf_field",
    "csrf_token",
    "errors",
    "get_flashed_messages",
    "handler_kind",
    "load_settings",
    "parse_duration",
    "rate_limit",
    "raw",
    "register_kind",
    "route_middleware",
    "session_of",
    "shield_override",
    "sql_session",
    "stream",
    "when",
]
__version__ = "0.1.0"
