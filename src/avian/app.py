"""The application: an ASGI 3 callable that owns the route tree, lifecycle and error handling.

Routes, hooks and middleware are registered first; on the first lifespan startup (or the
first request, if the server skips lifespan) the app *freezes*: every route's pipeline is
compiled and the route tables are built, and further registration raises.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

from . import errors
from .context import Context, State
from .error_handling import ErrorHandling, ErrorHook, ExceptionHandler, pending_status
from .errors import ClientDisconnect, ConfigurationError, HTTPError
from .http.client_ip import ProxyConfig
from .http.limits import BodyLimits, HeaderLimits
from .http.method_override import may_override, requested_method
from .http.request import Request
from .http.response import HTMLResponse, RedirectResponse, Response
from .lifecycle import LifecycleHook, run_hooks, serve_lifespan
from .params import analyse_handler, path_converter_hint
from .pipeline import Runner, compile_pipeline, finalize, make_core
from .routing.patterns import CONVERTERS, PathPattern, Segment, join_paths, parse_pattern
from .routing.router import (
    ROUTE_DOC_OPTIONS,
    ASGIApp,
    Hook,
    Level,
    Middleware,
    Route,
    RouteDef,
    RouteInfo,
    Router,
    matches_filter,
)
from .routing.table import MethodMap, RouteTable, method_order
from .routing.target import decode_segments, raw_route, routing_path
from .websocket_routes import WebSocketRoute, compile_ws_route, deny_websocket, serve_websocket

if TYPE_CHECKING:
    from .db.manager import DatabaseManager
    from .server import ServeOptions
    from .static import StaticFiles
    from .stores import Store

__all__ = ["App"]


F = TypeVar("F", bound=Callable[..., Any])
Scope = dict[str, Any]

_DEFAULT_ENTRY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>avian</title></head>
<body style="font-family:system-ui,sans-serif;margin:4rem auto;max-width:36rem">
<h1>avian is running</h1><p>No route is registered for <code>/</code> yet.</p></body></html>
"""


_OVERRIDE_TARGETS = ("POST", "PUT", "PATCH", "DELETE")
"""Routes an urlencoded POST may reach with ``_method``: the form is read under the
widest of their limits."""


class App(Router):
    """An avian application.

    Options (all keyword-only):

    ``debug``: tracebacks in 500 responses.  ``limits``: :class:`BodyLimits` for every route
    (routes may override).  ``header_limits``: :class:`HeaderLimits` (431 beyond).
    ``trust_proxy``: ``False`` (default), ``True`` (trust loopback proxies) or a
    :class:`ProxyConfig`.  ``redirect_slashes``: redirect ``/x/`` <-> ``/x`` (308) when only
    the other exists.  ``method_override``: honour ``_method`` in urlencoded POST forms.
    ``method_override_header``: also honour ``X-HTTP-Method-Override`` (off by default).
    ``allowed_methods``: a global method filter (405 for others).  ``request_id_header``:
    incoming header trusted as the request id.  ``log_exceptions``: log unhandled errors.
    ``default_entry``: serve a built-in page at ``/`` when nothing else does.
    ``ws_allowed_origins``: extra origins allowed to open websockets (same-origin always is).
    ``ws_max_message_size`` / ``ws_backpressure_limit``: websocket defaults (bytes).
    """

    def __init__(
        self,
        *,
        debug: bool = False,
        limits: BodyLimits | None = None,
        header_limits: HeaderLimits | None = None,
        trust_proxy: bool | ProxyConfig = False,
        redirect_slashes: bool = True,
        method_override: bool = True,
        method_override_header: bool = False,
        allowed_methods: Iterable[str] | None = None,
        request_id_header: str | None = "x-request-id",
        log_exceptions: bool = True,
        default_entry: bool = False,
        ws_allowed_origins: Sequence[str] = (),
        ws_max_message_size: int = 1024 * 1024,
        ws_backpressure_limit: int = 1024 * 1024,
        middleware: Sequence[Middleware] = (),
        routers: Sequence[Router] = (),
        on_ready: Sequence[LifecycleHook] = (),
        on_shutdown: Sequence[LifecycleHook] = (),
        on_error: Sequence[ErrorHook] = (),
        redis_url: str | None = None,
        title: str = "avian app",
        version: str = "0.1.0",
        description: str | None = None,
        openapi: Any = True,
        dependencies: Sequence[Any] = (),
        tags: Sequence[str] = (),
        security: Sequence[Mapping[str, Sequence[str]]] | None = None,
    ) -> None:
        super().__init__(
            middleware=middleware, dependencies=dependencies, tags=tags, security=security
        )
        self.debug = debug
        self.limits = limits or BodyLimits()
        self.header_limits = header_limits or HeaderLimits()
        if trust_proxy is True:
            self.proxy: ProxyConfig | None = ProxyConfig()
        elif trust_proxy is False:
            self.proxy = None
        elif isinstance(trust_proxy, ProxyConfig):
            self.proxy = trust_proxy
        else:
            raise ConfigurationError("trust_proxy must be a bool or a ProxyConfig")
        self.redirect_slashes = redirect_slashes
        self.method_override = method_override
        self.method_override_header = method_override_header
        self.allowed_methods: frozenset[str] | None = None
        if allowed_methods is not None:
            methods = {m.upper() for m in allowed_methods}
            if "GET" in methods:
                methods.add("HEAD")  # GET routes answer HEAD everywhere else too
            self.allowed_methods = frozenset(methods)
        self.request_id_header = request_id_header.lower() if request_id_header else None
        self.log_exceptions = log_exceptions
        self.default_entry = default_entry
        self.ws_allowed_origins = tuple(ws_allowed_origins)
        self.ws_max_message_size = ws_max_message_size
        self.ws_backpressure_limit = ws_backpressure_limit
        self.state = State()
        """App-scoped values (``app.state.db = ...``), shared by every request."""
        self.core = State()
        """Framework services shared by every request (``core.rate_limiter``, ``core.cache``,
        ``core.db``...), reachable as ``ctx.core``."""
        self.redis_url: str | None = redis_url or os.environ.get("AVIAN_REDIS_URL") or None
        """One setting for scale-out: when set, Redis is the default store of every stateful
        feature (sessions, CSRF, cache, rate limits)."""
        self._store: Store | None = None
        self._db: DatabaseManager | None = None
        self.title = title
        self.version = version
        self.description = description
        self.openapi_options: Any = openapi
        """``True`` (docs at the default paths), ``False`` (no docs) or an
        :class:`~avian.openapi.OpenAPIConfig`."""
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        """Replace a dependency provider (tests): ``app.dependency_overrides[get_db] = fake``."""
        self._service_startup: list[Callable[[], Awaitable[None]]] = []
        """Opened before ``on_ready`` hooks run (database connections...)."""
        self._service_shutdown: list[Callable[[], Awaitable[None]]] = []
        """Closed after ``on_shutdown`` hooks ran, last opened first."""
        self.templates: Any = None
        """The template engine ``ctx.render()`` uses (``TemplateEngine``, ``Jinja2Engine`` or
        any object with ``render(view, data, *, ctx=None, module=None)``)."""
        self._static_roots: list[StaticFiles] = []
        self.server_address: Any = None
        self._shutdown_callback: Callable[[], None] | None = None

        self._before_all: list[tuple[Hook, tuple[str, ...], tuple[str, ...]]] = []
        self._after_all: list[tuple[Hook, tuple[str, ...], tuple[str, ...]]] = []
        self._not_found_handler: tuple[Callable[..., Any], frozenset[str] | None] | None = None
        self._on_ready: list[LifecycleHook] = list(on_ready)
        self._on_shutdown: list[LifecycleHook] = list(on_shutdown)
        self._errors = ErrorHandling(self, list(on_error))
        self._handle_exception = self._errors.handle
        self._app_asgi_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self._front_middleware: list[Middleware] = []
        """Built-in middleware that must run before the user's (security headers)."""
        self._front: list[Middleware] = []
        for router in routers:
            self.include(router)

        # Built by _freeze():
        self._table: RouteTable[Route] = RouteTable()
        self._ws_table: RouteTable[WebSocketRoute] = RouteTable()
        self._routes_by_name: dict[str, list[Route]] = {}
        self._mount_list: list[tuple[str, list[str], ASGIApp]] = []
        self._fallback: Runner | None = None
        self._entry: ASGIApp = self._dispatch
        self._direct = False

    # --- registration specific to the app -----------------------------------------------------

    def before_all(
        self,
        *hooks: Hook,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> Any:
        """Hooks run before every route (YinzerFlow ``beforeAll``), optionally only for routes
        matching ``include`` or not matching ``exclude`` (names, paths or globs)."""
        self._check_open()
        for hook in hooks:
            self._before_all.append((hook, tuple(include), tuple(exclude)))
        return hooks[0] if len(hooks) == 1 else self

    def after_all(
        self,
        *hooks: Hook,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> Any:
        """Hooks run after every route, outermost; they see and may change ``ctx.response``."""
        self._check_open()
        for hook in hooks:
            self._after_all.append((hook, tuple(include), tuple(exclude)))
        return hooks[0] if len(hooks) == 1 else self

    def exception_handler(self, key: int | type[BaseException]) -> Callable[[F], F]:
        """Register ``async def handler(ctx, exc)`` for a status code or exception class.

        Lookup order: the status of an :class:`HTTPError`, then the exception's classes from
        most to least specific, then (for non-HTTP errors) a handler for 500.  The handler's
        return value becomes the response.
        """
        ErrorHandling.check_key(key)

        def decorator(handler: F) -> F:
            self._check_open()
            self._errors.add(key, handler)
            return handler

        return decorator

    def add_exception_handler(
        self, key: int | type[BaseException], handler: ExceptionHandler
    ) -> None:
        self.exception_handler(key)(handler)

    def not_found(
        self, handler: Callable[..., Any], methods: Iterable[str] | None = None
    ) -> Callable[..., Any]:
        """Serve unmatched requests with ``handler(ctx)`` (Harpia ``setNotFound``): one handler,
        optionally only for some methods (others get the default 404)."""
        self._check_open()
        if self._not_found_handler is not None:
            raise ConfigurationError("a not-found handler is already set")
        allowed = None
        if methods is not None:
            allowed = frozenset(m.upper() for m in methods)
            if "GET" in allowed:
                allowed |= {"HEAD"}
        self._not_found_handler = (handler, allowed)
        return handler

    set_not_found = not_found

    def with_llm_errors(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        message_type: str = "end_user",
        timeout: float = 10.0,
        production: bool | None = None,
    ) -> App:
        """Let an OpenAI-compatible LLM word the errors that carry no message of their own
        (see :mod:`avian.llm.errors`); env fallbacks ``LLM_BASE_URL``/``LLM_API_KEY``/
        ``LLM_MODEL``.  Without an endpoint configured this does nothing."""
        from .llm.config import LLMConfig
        from .llm.errors import LLMErrorMessages

        self._check_open()
        config = LLMConfig.resolve(base_url=base_url, api_key=api_key, model=model, timeout=timeout)
        self._errors.llm = LLMErrorMessages(
            config,
            message_type=message_type,  # type: ignore[arg-type]  # checked by the class
            production=production,
        )
        return self

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> App:
        """An app built from typed settings (:func:`avian.config.load_settings`); the
        settings stay reachable as ``app.core.settings`` and ``ctx.config``."""
        from .config import build_app

        return build_app(settings, **overrides)

    # --- data and services --------------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The app's store: Redis with ``redis_url``, else memory.

        Sessions, CSRF and the cache share it (each under its own key prefix) in Redis mode
        or once you assign it (``app.store = ...``); in plain memory mode each of them
        keeps a private memory store, so none can evict another's keys.
        """
        store = self._store
        if store is None:
            from .stores import default_store

            store = self._store = default_store(self.redis_url)
            close = getattr(store, "close", None)
            if close is not None:  # a network store: release its connections at shutdown
                self._service_shutdown.append(close)
        return store

    @store.setter
    def store(self, value: Store) -> None:
        self._store = value
        self._store_assigned = True  # features now share it (stores.selection.shares_app_store)

    @property
    def db(self) -> DatabaseManager:
        """Named database connections (``app.with_sql(...)``), also ``ctx.db``."""
        db = self._db
        if db is None:
            from .db.manager import DatabaseManager

            db = self._db = DatabaseManager(self)
        return db

    def with_redis(self, name: str = "redis", **options: Any) -> App:
        """Open a Redis client at startup (``ctx.db.redis``); see :mod:`avian.db`."""
        self.db.add_redis(name, **options)
        return self

    def with_mongo(self, name: str = "mongo", **options: Any) -> App:
        """Open a MongoDB client at startup (``ctx.db.mongo``); see :mod:`avian.db`."""
        self.db.add_mongo(name, **options)
        return self

    def with_sql(self, name: str = "sql", **options: Any) -> App:
        """Open a SQLAlchemy async engine at startup (``ctx.db.sql``); see :mod:`avian.db`."""
        self.db.add_sql(name, **options)
        return self

    def on_ready(self, fn: F) -> F:
        """Run ``fn(app)`` (or ``fn()``) at startup, after routes are compiled; in order."""
        self._check_open()
        self._on_ready.append(fn)
        return fn

    on_startup = on_ready

    def on_shutdown(self, fn: F) -> F:
        """Run ``fn(app)`` (or ``fn()``) at shutdown, after in-flight requests finished."""
        self._on_shutdown.append(fn)
        return fn

    def on_error(self, fn: F) -> F:
        """Report unhandled errors: ``fn(error, ctx)``; ``ctx`` is ``None`` outside requests."""
        self._errors.on_error.append(fn)
        return fn

    def add_asgi_middleware(self, cls: Callable[..., ASGIApp], **options: Any) -> App:
        """Wrap the whole app in a pure ASGI middleware: ``cls(app, **options)``.
        The first added is the outermost.  (On a group it wraps only that group's routes.)"""
        self._check_open()
        self._app_asgi_middleware.append((cls, options))
        return self

    def static(self, prefix_or_directory: str, directory: str | None = None, **options: Any) -> App:
        """Serve files: ``app.static("/assets", "public")`` under a prefix, or Harpia's
        ``app.static("public")`` at the root (for paths no route serves).  Options are
        :class:`~avian.static.StaticFiles`'s.  Static responses pass through middleware
        and hooks like any other (security headers, compression, CORS)."""
        from .static import StaticFiles

        self._check_open()
        if directory is None or prefix_or_directory.strip("/") == "":
            # Harpia's app.static("public"), or app.static("/", "public"): the root.
            root = prefix_or_directory if directory is None else directory
            self._static_roots.append(StaticFiles(root, **options))
            return self
        files = StaticFiles(directory, **options)
        prefix = prefix_or_directory.rstrip("/")
        if not prefix.startswith("/"):
            prefix = "/" + prefix

        async def serve_static(ctx: Context, path: str) -> Response:
            response = await files.response_for(path, ctx.scope)
            if response is None:
                raise errors.not_found(f"no file for {ctx.request.path}")
            return response

        serve_static.__name__ = f"static:{prefix}"
        self.get(prefix + "/{path:path}", name=f"static:{prefix}")(serve_static)
        return self

    def autodiscover(self, package: str, *, suffix: str = "") -> list[Router]:
        """Import every module of ``package`` (recursively) and include each module-level
        :class:`Router` not included yet (te.js target auto-registration).  With ``suffix``
        (e.g. ``"_routes"``), only modules whose name ends with it are imported."""
        self._check_open()
        root = importlib.import_module(package)
        modules = [root]
        for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=package + "."):
            if suffix and not info.name.rsplit(".", 1)[-1].endswith(suffix):
                continue
            modules.append(importlib.import_module(info.name))
        found: list[Router] = []
        for module in modules:
            for value in vars(module).values():
                if (
                    isinstance(value, Router)
                    and not isinstance(value, App)
                    and value._parent is None
                ):
                    self.include(value)
                    found.append(value)
        return found

    # --- introspection ------------------------------------------------------------------------

    def describe_routes(self) -> list[RouteInfo]:
        """Every route, websocket route and mount, in registration order."""
        infos: list[RouteInfo] = []
        for full, definition, _ in self.walk():
            handler = definition.handler
            qualname = getattr(handler, "__qualname__", None) or type(handler).__qualname__
            module = getattr(handler, "__module__", None)
            infos.append(
                RouteInfo(
                    methods=definition.methods or (),
                    path=parse_pattern(full).path,
                    name=definition.name,
                    handler=f"{module}.{qualname}" if module else qualname,
                    kind=definition.kind,
                )
            )
        for path, app in self.walk_mounts():
            qualname = getattr(app, "__qualname__", None) or type(app).__qualname__
            module = getattr(app, "__module__", None) or type(app).__module__
            infos.append(RouteInfo((), path, None, f"{module}.{qualname}", "mount"))
        return infos

    def list_endpoints(self, grouped: bool = False) -> list[str] | dict[str, list[str]]:
        """te.js ``listAllEndpoints``: paths, or paths grouped by their first segment."""
        paths = list(dict.fromkeys(info.path for info in self.describe_routes()))
        if not grouped:
            return paths
        groups: dict[str, list[str]] = {}
        for path in paths:
            first = path.strip("/").split("/", 1)[0]
            groups.setdefault(first or "/", []).append(path)
        return groups

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in."""
        self._freeze()
        routes = self._routes_by_name.get(name)
        if not routes:
            raise ConfigurationError(f"no route named {name!r}")
        patterns = {r.pattern.path for r in routes}
        if len(patterns) > 1:
            raise ConfigurationError(
                f"route name {name!r} is ambiguous ({', '.join(sorted(patterns))}); give routes distinct names"
            )
        return routes[0].pattern.build(params)

    def shield(self, options: Any = None, **kwargs: Any) -> App:
        """Security headers on every response (Harpia ``app.shield``); see
        :class:`~avian.middleware.shield.ShieldOptions`."""
        from .middleware.shield import ShieldMiddleware

        self._check_open()
        self._front_middleware.append(ShieldMiddleware(options, **kwargs))
        return self

    def request_ip(self, source: Context | Request) -> str | None:
        """The client address of a request (Harpia ``app.requestIP``), proxy rules applied."""
        return source.ip

    # --- running ------------------------------------------------------------------------------

    def listen(self, **options: Unpack[ServeOptions]) -> None:
        """Serve with uvicorn (see :func:`avian.server.serve` for every option)."""
        from .server import serve

        serve(self, **options)

    def request_shutdown(self) -> None:
        """Ask the running server to shut down gracefully (like SIGTERM)."""
        if self._shutdown_callback is None:
            raise RuntimeError("the app is not being served by avian's server")
        self._shutdown_callback()

    close = request_shutdown

    # --- compilation --------------------------------------------------------------------------

    def _freeze(self) -> None:
        if self._frozen:
            return
        if self.openapi_options:
            from .openapi.install import install_openapi

            install_openapi(self)
        self._freeze_tree()
        try:
            self._compile()
        except BaseException:
            # Leave the app as it was, so the error is met again (not an empty table).
            self._unfreeze_tree()
            self._table = RouteTable()
            self._ws_table = RouteTable()
            self._routes_by_name = {}
            raise

    def _build_front_middleware(self) -> list[Middleware]:
        """Security headers first (so even preflight answers carry them), then CORS (the
        rules of the app and its groups as one middleware), then the user's middleware."""
        front: list[Middleware] = list(self._front_middleware)
        rules = self._collect_cors()
        if rules:
            from .middleware.cors import CORSMiddleware

            front.append(CORSMiddleware.from_rules(rules))
        return front

    def _collect_cors(self) -> list[tuple[str, Any, dict[str, Any]]]:
        rules: list[tuple[str, Any, dict[str, Any]]] = []
        for router in self.iter_routers():
            base = router.full_prefix
            for path, options, kwargs in router._cors_rules:
                rules.append((join_paths(base, path) if path else base, options, kwargs))
        return rules

    def _compile(self) -> None:
        self._front = self._build_front_middleware()
        for full, definition, levels in self.walk():
            if definition.kind == "websocket":
                self._compile_ws(full, definition, levels)
            else:
                self._compile_http(full, definition, levels)
        mounts = [(prefix, prefix[1:].split("/"), app) for prefix, app in self.walk_mounts()]
        mounts.sort(key=lambda m: len(m[1]), reverse=True)
        self._mount_list = mounts
        self._fallback = self._compile_fallback()
        self._entry = self._wrapped_entry()
        self._direct = not self._app_asgi_middleware

    def _app_level(self, route_path: str, name: str | None) -> Level:
        level = self._level("", route_path)
        level.middleware[:0] = self._front
        level.before = [
            hook
            for hook, inc, exc in self._before_all
            if (not inc or matches_filter(inc, route_path, name))
            and not matches_filter(exc, route_path, name)
        ] + level.before
        level.after = level.after + [
            hook
            for hook, inc, exc in self._after_all
            if (not inc or matches_filter(inc, route_path, name))
            and not matches_filter(exc, route_path, name)
        ]
        return level

    def _pattern_for(self, full: str, definition: RouteDef) -> PathPattern:
        """Parse the path; a plain ``{id}`` takes the handler's annotation (``id: int``)."""
        pattern = parse_pattern(full)
        if definition.kind != "http" or not callable(definition.handler):
            return pattern
        segments = list(pattern.segments)
        changed = False
        for i, seg in enumerate(segments):
            if seg.converter is not None and seg.converter.name == "str" and seg.param is not None:
                hint = path_converter_hint(definition.handler, seg.param)
                if hint and hint != "str":
                    segments[i] = Segment(
                        "{" + f"{seg.param}:{hint}" + "}", seg.param, CONVERTERS[hint]
                    )
                    changed = True
        if not changed:
            return pattern
        return parse_pattern("/" + "/".join(s.text for s in segments))

    def _compile_http(self, full: str, definition: RouteDef, levels: list[Level]) -> None:
        pattern = self._pattern_for(full, definition)
        unknown = definition.options.keys() - ROUTE_DOC_OPTIONS
        if unknown:
            raise ConfigurationError(
                f"route {pattern.path}: unknown option(s) {', '.join(sorted(unknown))}"
            )
        levels[0] = self._app_level(pattern.path, definition.name)
        where = f"route {','.join(definition.methods or ('*',))} {pattern.path}"
        dependencies: list[Any] = []
        node = definition.router
        while node is not None:  # the app first, then each group down to the route's own
            dependencies[:0] = node.dependencies
            node = node._parent
        plan = analyse_handler(
            definition.handler,
            pattern.param_names,
            where,
            dependencies=dependencies,
            overrides=self.dependency_overrides,
            status=definition.status,
            path_converters={
                seg.param: seg.converter.name
                for seg in pattern.segments
                if seg.param is not None and seg.converter is not None
            },
            route_options=definition.options,
        )
        core = make_core(plan, definition.status)
        run = compile_pipeline(levels, core, definition.status, self._handle_exception)
        limits = self.limits.with_overrides(definition.limits)
        route = Route(definition, pattern, limits, run)
        route.plan = plan
        wrappers = [m for level in levels for m in level.asgi]
        if wrappers:
            route.asgi = self._route_endpoint(route, wrappers)
        self._table.add(pattern, definition.methods, route)
        if definition.name:
            self._routes_by_name.setdefault(definition.name, []).append(route)

    def _compile_ws(self, full: str, definition: RouteDef, levels: list[Level]) -> None:
        pattern = parse_pattern(full)
        levels[0] = self._app_level(pattern.path, definition.name)
        self._ws_table.add(pattern, None, compile_ws_route(self, pattern, definition, levels))

    def _compile_fallback(self) -> Runner:
        """The pipeline for requests no route serves: 404, 405, automatic OPTIONS.
        It runs the app's unscoped middleware and unfiltered before_all/after_all hooks."""
        level = Level(
            [*self._front, *(mw for scope, mw in self._middleware if scope is None)],
            [h for h, inc, _ in self._before_all if not inc],
            [h for h, inc, _ in self._after_all if not inc],
        )
        not_found = self._not_found_handler
        not_found_plan = (
            analyse_handler(
                not_found[0], (), "not-found handler", overrides=self.dependency_overrides
            )
            if not_found
            else None
        )

        async def fallback_core(ctx: Context) -> Response:
            body_error: HTTPError | None = ctx.__dict__.get("_body_error")
            if body_error is not None:
                raise body_error
            allow: list[str] | None = ctx.__dict__.get("_allow")
            if allow is not None:
                if ctx.scope["method"] == "OPTIONS":
                    response = Response.make(b"", 204, None)
                    response.headers.set("allow", ", ".join(allow))
                    return response
                raise errors.method_not_allowed(
                    f"{ctx.scope['method']} is not allowed here", allow=allow
                )
            redirect = self._slash_redirect(ctx.scope)
            if redirect is not None:
                return redirect
            if self._static_roots and ctx.scope["method"] in ("GET", "HEAD"):
                target = routing_path(ctx.scope)
                file_path: str | None = None
                if isinstance(target, str):
                    file_path = target
                elif isinstance(target, list) and not any("/" in seg for seg in target):
                    file_path = "/" + "/".join(target)  # escapes, each segment decoded
                if file_path is not None:
                    for files in self._static_roots:
                        found: Response | None = await files.response_for(file_path, ctx.scope)
                        if found is not None:
                            return ctx.dispatch(found)
            if not_found is not None and not_found_plan is not None:
                methods = not_found[1]
                if methods is None or ctx.scope["method"] in methods:
                    pending_status(ctx, 404)
                    return finalize(ctx, await not_found_plan.call(ctx), 404)
            if (
                self.default_entry
                and ctx.scope["path"] == "/"
                and ctx.scope["method"] in ("GET", "HEAD")
            ):
                return HTMLResponse(_DEFAULT_ENTRY)
            raise errors.not_found(f"no route for {ctx.scope['method']} {ctx.scope['path']}")

        return compile_pipeline([level], fallback_core, 404, self._handle_exception)

    def _slash_redirect(self, scope: Scope) -> Response | None:
        """308 to the same path with/without a trailing slash, if only that one is routed.
        Works on the raw path, so escapes (``%3F``) survive into ``Location``."""
        if not self.redirect_slashes or scope["method"] not in ("GET", "HEAD"):
            return None
        root, raw = raw_route(scope)
        if raw == b"/" or raw.startswith(b"//"):
            return None  # "//evil.example" would be an open redirect
        other = raw[:-1] if raw.endswith(b"/") else raw + b"/"
        segments = decode_segments(other)
        if isinstance(segments, HTTPError):
            return None
        found = self._table.match_segments(segments, scope["method"])
        if found is None or found[0].lookup(scope["method"]) is None:
            return None
        target = (root + other).decode("latin-1")
        qs = scope.get("query_string", b"")
        if qs:
            target += "?" + qs.decode("latin-1")
        return RedirectResponse(target, 308)

    async def report_error(self, error: BaseException, ctx: Context | None = None) -> None:
        """Log an unhandled error and pass it to every ``on_error`` hook; for background
        work (``ctx`` is ``None`` there).  Errors inside the hooks are logged, not raised."""
        await self._errors.report(error, ctx)

    # --- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        # PERF: no ASGI middleware -> straight to the HTTP path, two frames less.
        if self._direct and scope["type"] == "http":
            await self._http(scope, receive, send)
            return
        if not self._frozen:
            if scope["type"] == "lifespan":
                # Startup compiles the routes inside its own error reporting.
                await self._wrapped_entry()(scope, receive, send)
                return
            self._freeze()
        await self._entry(scope, receive, send)

    def _wrapped_entry(self) -> ASGIApp:
        entry: ASGIApp = self._dispatch
        for cls, options in reversed(self._app_asgi_middleware):
            entry = cls(entry, **options)
        return entry

    async def _dispatch(self, scope: Scope, receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await serve_lifespan(self, scope, receive, send)

    async def _reject(self, scope: Scope, send: Any, error: HTTPError) -> None:
        """Answer before routing (bad headers, bad path): no pipeline runs."""
        ctx = Context(self, scope, None, send)
        await self._errors.problem(ctx, error, None)(scope, None, send)

    async def _http(self, scope: Scope, receive: Any, send: Any) -> None:
        problem = self.header_limits.check(scope["headers"])
        if problem is not None:
            await self._reject(scope, send, problem)
            return
        method: str = scope["method"]
        allowed = self.allowed_methods
        if allowed is not None and method not in allowed:
            error = errors.method_not_allowed(
                f"{method} is not allowed", allow=method_order(allowed)
            )
            await self._reject(scope, send, error)
            return
        target = routing_path(scope)
        if isinstance(target, str):
            found = self._table.match(target, method)
        elif isinstance(target, list):
            found = self._table.match_segments(target, method)
        else:
            await self._reject(scope, send, target)
            return

        ctx: Context
        if found is None:
            mounted = self._find_mount(scope, target)
            if mounted is not None:
                await mounted[1](mounted[0], receive, send)
                return
            ctx = Context(self, scope, receive, send)
            run = self._fallback
            assert run is not None
        else:
            entry, values = found
            route = entry.lookup(method)
            if method == "POST" and may_override(
                scope["headers"], self.method_override, self.method_override_header
            ):
                route, ctx = await self._override(scope, receive, send, entry, route, values)
            else:
                ctx = Context(
                    self,
                    scope,
                    receive,
                    send,
                    route,
                    entry.params_for(route, values) if values and route else None,
                )
            if route is None:
                ctx.__dict__["_allow"] = entry.allowed()
                run = self._fallback
            elif route.asgi is not None:
                scope["avian.context"] = ctx
                await route.asgi(scope, receive, send)
                return
            else:
                run = route.run
        assert run is not None
        await self._serve(ctx, run)

    async def _serve(self, ctx: Context, run: Runner) -> None:
        """Run a pipeline, turn errors into responses, send, and release the request."""
        try:
            try:
                response = await run(ctx)
            except ClientDisconnect:
                return
            except Exception as exc:
                response = await self._handle_exception(ctx, exc)
            try:
                await response(ctx.scope, ctx.receive, ctx.send)
            except ClientDisconnect:
                return
            except Exception as exc:
                await self._errors.report(exc, ctx)
        finally:
            req = ctx._request
            if req is not None and req._form is not None:
                await req.close()

    def _route_endpoint(
        self, route: Route, wrappers: list[tuple[Callable[..., ASGIApp], dict[str, Any]]]
    ) -> ASGIApp:
        """A route served through group-level ASGI middleware: the middleware sees (and may
        change) the scope, receive and send; the context is rebuilt from what it passes on."""

        async def endpoint(scope: Scope, receive: Any, send: Any) -> None:
            outer: Context = scope["avian.context"]
            ctx = Context(self, scope, receive, send, route, outer.params)
            ctx._request = (
                outer._request if outer.scope is scope and outer.receive is receive else None
            )
            await self._serve(ctx, route.run)

        app: ASGIApp = endpoint
        for cls, options in reversed(wrappers):
            app = cls(app, **options)
        return app

    async def _override(
        self,
        scope: Scope,
        receive: Any,
        send: Any,
        entry: MethodMap[Route],
        route: Route | None,
        values: list[Any],
    ) -> tuple[Route | None, Context]:
        ctx = Context(self, scope, receive, send, route)
        request = ctx.request
        # The form is read before the target route is known: read it under the widest
        # limits of the routes it could reach, then apply the chosen route's own limits.
        candidates = [r for m in _OVERRIDE_TARGETS if (r := entry.by_method.get(m)) is not None]
        if candidates:
            request.limits = max((r.limits for r in candidates), key=lambda lim: lim.max_body_size)
        try:
            wanted = await requested_method(
                request, self.method_override, self.method_override_header
            )
        except HTTPError as exc:
            # A POST handler meets the same error when it reads the form; without one, the
            # error (413, 408, 400...) answers instead of a misleading 405.
            wanted = None
            ctx.__dict__["_body_error"] = exc
        if wanted is not None:
            route = entry.lookup(wanted)
            scope["avian.original_method"] = scope["method"]
            scope["method"] = wanted
            ctx.route = route
            request._form = None  # parsed again, under the target route's limits
        request.limits = route.limits if route is not None else self.limits
        if route is not None and values:
            ctx.params = request.params = entry.params_for(route, values)
        return route, ctx

    def _find_mount(self, scope: Scope, target: str | list[str]) -> tuple[Scope, ASGIApp] | None:
        """The mounted app for a routing path, with the scope it gets: the same ``path`` and
        ``raw_path`` (ASGI: full paths) and ``root_path`` extended by the mount prefix."""
        if not self._mount_list:
            return None
        segments = target[1:].split("/") if isinstance(target, str) else target
        for prefix, prefix_segments, app in self._mount_list:
            if segments[: len(prefix_segments)] == prefix_segments:
                child = dict(scope)
                child["root_path"] = scope.get("root_path", "") + prefix
                return child, app
        return None

    async def _websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        target = routing_path(scope)
        if isinstance(target, HTTPError):
            await deny_websocket(scope, send, target.status)
            return
        if await serve_websocket(self, self._ws_table, target, scope, receive, send):
            return
        mounted = self._find_mount(scope, target)
        if mounted is not None:
            await mounted[1](mounted[0], receive, send)
            return
        await deny_websocket(scope, send, 404)

    async def startup(self) -> None:
        """Compile routes and run ``on_ready`` hooks (the lifespan startup does this)."""
        self._freeze()
        for open_service in self._service_startup:
            await open_service()
        await run_hooks(self, self._on_ready)

    async def shutdown(self) -> None:
        """Run ``on_shutdown`` hooks; every hook runs even if an earlier one fails."""
        failures: list[BaseException] = []
        for hook in self._on_shutdown:
            try:
                await run_hooks(self, [hook])
            except Exception as exc:
                failures.append(exc)
                await self._errors.report(exc, None)
        for close_service in reversed(self._service_shutdown):
            try:
                await close_service()
            except Exception as exc:
                failures.append(exc)
                await self._errors.report(exc, None)
        if failures:
            raise failures[0]
