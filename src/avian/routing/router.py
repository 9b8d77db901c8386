"""Routers and groups: where routes, hooks and middleware are registered.

A :class:`Router` is a node in a tree: it has a prefix, its own middleware and before/after
hooks, routes, and child routers (``group()`` creates one, ``include()`` attaches one).  The
:class:`~avian.app.App` is the root.  Nothing here runs per request: at startup the app walks
the tree and compiles every route's pipeline (see :mod:`avian.pipeline`).
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, overload

from ..errors import ConfigurationError
from ..http.limits import BodyLimits
from .patterns import join_paths, normalize_prefix, parse_pattern

if TYPE_CHECKING:
    from ..context import Context
    from ..http.response import Response
    from ..params import HandlerPlan
    from .patterns import PathPattern

__all__ = [
    "CallNext",
    "Hook",
    "Level",
    "Middleware",
    "Route",
    "RouteDef",
    "RouteInfo",
    "Router",
    "RouterSource",
    "route_middleware",
    "when",
]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R", bound="Router")

Hook = Callable[["Context"], Any]
"""``async def hook(ctx)``; a before hook ends the request by returning a value."""
CallNext = Callable[[], Awaitable["Response"]]
Middleware = Callable[["Context", CallNext], Awaitable["Response"]]
"""``async def mw(ctx, call_next) -> Response``: onion middleware."""
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

ROUTE_DOC_OPTIONS = frozenset(
    {
        "summary",
        "description",
        "tags",
        "responses",
        "deprecated",
        "operation_id",
        "include_in_schema",
        "security",
        "response_model",
        "response_description",
        "dependencies",
        "openapi_extra",
    }
)
"""Route options that describe the route (OpenAPI, response model, dependencies) rather
than change how the router matches it; every other unknown option is refused at startup."""

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


class RouteInfo(NamedTuple):
    """One line of the route table (``avian routes``, ``app.describe_routes()``)."""

    methods: tuple[str, ...]
    """Empty for a method-agnostic route."""
    path: str
    name: str | None
    handler: str
    kind: str
    """``"http"``, ``"websocket"`` or ``"mount"``."""


@dataclass(eq=False)
class RouteDef:
    """A route as registered, before compilation."""

    path: str
    methods: tuple[str, ...] | None
    handler: Callable[..., Any]
    name: str | None = None
    status: int = 200
    before: tuple[Hook, ...] = ()
    after: tuple[Hook, ...] = ()
    middleware: tuple[Middleware, ...] = ()
    limits: BodyLimits | Mapping[str, Any] | None = None
    kind: str = "http"
    options: dict[str, Any] = field(default_factory=dict)
    """Extra per-route options kept for features that read them (websocket settings...)."""
    router: Router | None = None
    """The router the route was registered on (features climb ``_parent`` from it to
    collect group-level tags, dependencies and security)."""


@dataclass(eq=False)
class Level:
    """What one layer (app, group, route) adds around the handler."""

    middleware: list[Middleware] = field(default_factory=list)
    before: list[Hook] = field(default_factory=list)
    after: list[Hook] = field(default_factory=list)
    asgi: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = field(default_factory=list)
    """Pure ASGI middleware wrapping the routes of a group (outermost first)."""

    def __bool__(self) -> bool:
        return bool(self.middleware or self.before or self.after)


class Route:
    """A compiled route: its pattern, limits, and the pipeline that serves it."""

    __slots__ = ("asgi", "definition", "limits", "name", "pattern", "plan", "run", "status")

    def __init__(
        self,
        definition: RouteDef,
        pattern: PathPattern,
        limits: BodyLimits,
        run: Callable[[Context], Awaitable[Response]],
    ) -> None:
        self.definition = definition
        self.pattern = pattern
        self.limits = limits
        self.status = definition.status
        self.name = definition.name
        self.run = run
        self.asgi: ASGIApp | None = None
        """Set when group-level ASGI middleware wraps this route."""
        self.plan: HandlerPlan | None = None
        """How the handler is called (its typed parameters, body and response model)."""

    @property
    def path(self) -> str:
        return self.pattern.path

    @property
    def methods(self) -> tuple[str, ...] | None:
        return self.definition.methods

    @property
    def handler(self) -> Callable[..., Any]:
        return self.definition.handler

    def __repr__(self) -> str:
        methods = ",".join(self.methods) if self.methods else "*"
        return f"<Route {methods} {self.path} name={self.name!r}>"


HANDLER_MIDDLEWARE = "__avian_middleware__"


def route_middleware(*middleware: Middleware) -> Callable[[F], F]:
    """A decorator attaching route middleware to the handler itself, for decorators such as
    ``@cache(ttl=60)`` written under the route decorator.  They run innermost, after the
    route's ``middleware=[...]``; stacked decorators nest outermost-first, as they read."""
    for mw in middleware:
        if not callable(mw):
            raise ConfigurationError(f"middleware {mw!r} is not callable")

    def attach(handler: F) -> F:
        existing: tuple[Middleware, ...] = getattr(handler, HANDLER_MIDDLEWARE, ())
        setattr(handler, HANDLER_MIDDLEWARE, (*middleware, *existing))
        return handler

    return attach


def when(
    predicate: Callable[[Context], bool | Awaitable[bool]], middleware: Middleware
) -> Middleware:
    """Run ``middleware`` only for requests where ``predicate(ctx)`` is true (the predicate
    may be ``async``)."""

    async def conditional(ctx: Context, call_next: CallNext) -> Response:
        wanted = predicate(ctx)
        if inspect.isawaitable(wanted):
            # A coroutine object is always truthy: it must be awaited, not tested.
            wanted = await wanted
        if wanted:
            return await middleware(ctx, call_next)
        return await call_next()

    conditional.__name__ = f"when({getattr(middleware, '__name__', 'middleware')})"
    return conditional


def _handler_name(handler: Callable[..., Any]) -> str | None:
    return getattr(handler, "__name__", None) or type(handler).__name__


class BoundRouteMethod:
    """``router.get`` (and the other methods) bound to a router: a decorator factory, or a
    direct registration when the handler (after any route middleware) is passed."""

    __slots__ = ("methods", "router")

    def __init__(self, router: Router, methods: tuple[str, ...] | None) -> None:
        self.router = router
        self.methods = methods

    @overload
    def __call__(self, path: str, /, **options: Any) -> Callable[[F], F]: ...
    @overload
    def __call__(
        self, path: str, fn: Callable[..., Any], /, *fns: Callable[..., Any], **options: Any
    ) -> Any: ...
    def __call__(self, path: str, /, *fns: Callable[..., Any], **options: Any) -> Any:
        return self.router._register(self.methods, path, fns, options)


class _RouteMethod:
    """Declares ``Router.get`` and friends once, typed for both calling forms."""

    def __init__(self, methods: tuple[str, ...] | None, doc: str) -> None:
        self.methods = methods
        self.__doc__ = doc

    @overload
    def __get__(self, router: None, owner: type) -> _RouteMethod: ...
    @overload
    def __get__(self, router: Router, owner: type) -> BoundRouteMethod: ...
    def __get__(self, router: Router | None, owner: type) -> _RouteMethod | BoundRouteMethod:
        if router is None:
            return self
        return BoundRouteMethod(router, self.methods)


class RouterSource(Protocol):
    """Something ``include()`` accepts besides a router: it builds the router to attach."""

    def __avian_router__(self) -> Router: ...


def _router_of(source: object) -> Router:
    build = getattr(source, "__avian_router__", None)
    router = build() if callable(build) else None
    if not isinstance(router, Router):
        raise ConfigurationError(f"cannot include {source!r}: not a Router or a controller")
    return router


class Router:
    """Registers routes under a prefix, with hooks and middleware shared by all of them.

    ``Router("books")`` serves its routes under ``/books`` once included into the app
    (``app.include(router)``); ``router.group("/admin", before=[...])`` nests a child.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        name: str | None = None,
        before: Sequence[Hook] = (),
        after: Sequence[Hook] = (),
        middleware: Sequence[Middleware] = (),
        tags: Sequence[str] = (),
        dependencies: Sequence[Any] = (),
        security: Sequence[Mapping[str, Sequence[str]]] | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.prefix = normalize_prefix(prefix)
        self.name = name
        self.tags: list[str] = list(tags)
        """OpenAPI tags for every route below (a named group defaults to its name)."""
        self.dependencies: list[Any] = list(dependencies)
        """Dependencies (``Depends(...)``) run for every route below."""
        self.security: list[Mapping[str, Sequence[str]]] | None = (
            None if security is None else list(security)
        )
        """OpenAPI security requirements for routes below (``None``: inherit)."""
        self.include_in_schema = include_in_schema
        self._before: list[Hook] = list(before)
        self._after: list[Hook] = list(after)
        self._middleware: list[tuple[str | None, Middleware]] = [(None, m) for m in middleware]
        self._routes: list[RouteDef] = []
        self._children: list[tuple[str, Router]] = []
        self._mounts: list[tuple[str, ASGIApp]] = []
        self._asgi_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self._cors_rules: list[tuple[str, Any, dict[str, Any]]] = []
        self._parent: Router | None = None
        self._frozen = False

    @property
    def full_prefix(self) -> str:
        """This router's path prefix as seen from the root (``""`` for the root itself).

        It is only final once the router is attached (``include``/``group``) all the way up.
        """
        parts: list[str] = []
        node: Router | None = self
        while node is not None:
            parts.append(node.prefix)
            parent = node._parent
            if parent is not None:
                parts.extend(extra for extra, child in parent._children if child is node and extra)
            node = parent
        path = ""
        for part in reversed(parts):
            if part:
                path = join_paths(path, part)
        return path

    # --- registration guards ------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._frozen:
            raise ConfigurationError(
                "the app has started: routes, hooks and middleware must be registered before"
            )

    def _freeze_tree(self) -> None:
        self._frozen = True
        for _, child in self._children:
            child._freeze_tree()

    def _unfreeze_tree(self) -> None:
        self._frozen = False
        for _, child in self._children:
            child._unfreeze_tree()

    # --- routes -------------------------------------------------------------------------------

    def add_route(
        self,
        path: str,
        handler: Callable[..., Any],
        *,
        methods: Iterable[str] | None,
        name: str | None = None,
        status: int = 200,
        before: Sequence[Hook] = (),
        after: Sequence[Hook] = (),
        middleware: Sequence[Middleware] = (),
        limits: BodyLimits | Mapping[str, Any] | None = None,
        kind: str = "http",
        **options: Any,
    ) -> RouteDef:
        """Register a route (the decorators below all end here)."""
        self._check_open()
        if not callable(handler) and kind == "http":
            raise ConfigurationError(f"handler for {path!r} is not callable: {handler!r}")
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
            raise ConfigurationError(f"route {path!r}: invalid status {status!r}")
        method_tuple: tuple[str, ...] | None = None
        if methods is not None:
            if isinstance(methods, str):
                methods = [methods]
            method_tuple = tuple(dict.fromkeys(m.upper() for m in methods))
            if not method_tuple:
                raise ConfigurationError(f"route {path!r}: empty method list")
            for m in method_tuple:
                if not m.isalpha() or not m.isupper():
                    raise ConfigurationError(f"route {path!r}: invalid method {m!r}")
        if not isinstance(path, str) or (path and not path.startswith("/")):
            raise ConfigurationError(f"route path must start with '/': {path!r}")
        # Fail here, where the traceback points at the route, not later at startup.
        parse_pattern(path or "/")
        definition = RouteDef(
            path=path or "/",
            methods=method_tuple,
            handler=handler,
            name=name if name is not None else _handler_name(handler),
            status=status,
            before=tuple(before),
            after=tuple(after),
            middleware=tuple(middleware),
            limits=limits,
            kind=kind,
            options=options,
            router=self,
        )
        self._routes.append(definition)
        return definition

    def _register(
        self,
        methods: Iterable[str] | None,
        path: str,
        fns: tuple[Callable[..., Any], ...],
        options: dict[str, Any],
    ) -> Any:
        if fns:
            *route_mws, handler = fns
            mws = (*route_mws, *options.pop("middleware", ()))
            self.add_route(path, handler, methods=methods, middleware=mws, **options)
            return handler

        def decorator(handler: F) -> F:
            self.add_route(path, handler, methods=methods, **options)
            return handler

        return decorator

    @overload
    def route(
        self, path: str, *, methods: Iterable[str] | None = None, **options: Any
    ) -> Callable[[F], F]: ...
    @overload
    def route(
        self,
        path: str,
        *fns: Callable[..., Any],
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> Any: ...
    def route(
        self,
        path: str,
        *fns: Callable[..., Any],
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> Any:
        """Register for ``methods`` (all methods when ``None``).

        As a decorator: ``@router.route("/x", methods=["GET", "POST"])``.  Directly:
        ``router.route("/x", mw1, mw2, handler, methods=[...])``: callables before the
        handler are route middleware (Harpia's ``books.get(path, mw, handler)``).
        """
        return self._register(methods, path, fns, options)

    get = _RouteMethod(("GET",), "Register a GET route (HEAD is answered by it too).")
    post = _RouteMethod(("POST",), "Register a POST route.")
    put = _RouteMethod(("PUT",), "Register a PUT route.")
    patch = _RouteMethod(("PATCH",), "Register a PATCH route.")
    delete = _RouteMethod(("DELETE",), "Register a DELETE route.")
    head = _RouteMethod(("HEAD",), "Register a HEAD route (GET routes answer HEAD already).")
    options = _RouteMethod(("OPTIONS",), "Register an OPTIONS route (else OPTIONS is automatic).")
    all = _RouteMethod(
        None,
        "A method-agnostic route (te.js style): check ``ctx.request.method`` or call "
        "``ctx.only('GET', 'POST')`` inside; without checks it answers every method.",
    )

    @overload
    def ws(self, path: str, handler: None = None, **options: Any) -> Callable[[F], F]: ...
    @overload
    def ws(self, path: str, handler: Any, **options: Any) -> Any: ...
    def ws(self, path: str, handler: Any = None, **options: Any) -> Any:
        """Register a websocket route: a function ``async def f(ws)``, a handler class or
        instance with ``on_open/on_message/on_close/on_drain/on_error``, or a dict of them."""
        if handler is not None:
            self.add_route(path, handler, methods=None, kind="websocket", **options)
            return handler

        def decorator(fn: F) -> F:
            self.add_route(path, fn, methods=None, kind="websocket", **options)
            return fn

        return decorator

    websocket = ws

    # --- structure ----------------------------------------------------------------------------

    def group(
        self,
        prefix: str,
        *,
        before: Sequence[Hook] = (),
        after: Sequence[Hook] = (),
        middleware: Sequence[Middleware] = (),
        name: str | None = None,
        tags: Sequence[str] = (),
        dependencies: Sequence[Any] = (),
        security: Sequence[Mapping[str, Sequence[str]]] | None = None,
        include_in_schema: bool = True,
    ) -> Router:
        """A nested router under ``prefix`` whose hooks and middleware wrap its routes,
        inside this router's own (YinzerFlow groups)."""
        self._check_open()
        child = Router(
            prefix,
            name=name,
            before=before,
            after=after,
            middleware=middleware,
            tags=tags,
            dependencies=dependencies,
            security=security,
            include_in_schema=include_in_schema,
        )
        return self._attach(child)

    def using(self, *middleware: Middleware) -> Router:
        """A prefix-less child whose routes get extra middleware (a reusable chain)."""
        return self.group("", middleware=middleware)

    def include(
        self, router: Router | RouterSource | type[RouterSource], *, prefix: str = ""
    ) -> Router:
        """Attach another router (with its own prefix) under this one; returns ``self``.

        A controller class or instance (anything with ``__avian_router__()``) is turned
        into its router first (see :mod:`avian.controllers`).
        """
        self._check_open()
        if not isinstance(router, Router):
            router = _router_of(router)
        if router is self:
            raise ConfigurationError("a router cannot include itself")
        if router._parent is not None:
            raise ConfigurationError("this router is already included elsewhere")
        node: Router | None = self
        while node is not None:
            if node is router:
                raise ConfigurationError("including this router would create a cycle")
            node = node._parent
        self._attach(router, normalize_prefix(prefix))
        return self

    def _attach(self, child: R, prefix: str = "") -> R:
        """Make ``child`` a child of this router, under ``prefix`` (normalised)."""
        child._parent = self
        self._children.append((prefix, child))
        return child

    routes_from = include

    def mount(self, path: str, app: ASGIApp) -> Router:
        """Serve any ASGI app under ``path``: it gets the same ``path`` and a ``root_path``
        extended by the prefix (the ASGI convention)."""
        self._check_open()
        if not callable(app):
            raise ConfigurationError(f"mount({path!r}): {app!r} is not an ASGI app")
        prefix = normalize_prefix(path)
        if not prefix:
            raise ConfigurationError("mount path must not be '/' (use the app itself)")
        self._mounts.append((prefix, app))
        return self

    # --- hooks and middleware -----------------------------------------------------------------

    def rate_limit(self, **options: Any) -> Any:
        """Rate-limit every route below this router (see :mod:`avian.ratelimit`); returns the
        limiter, whose ``check(key)``/``reset(key)`` are also usable directly."""
        from ..ratelimit.install import attach_rate_limit

        return attach_rate_limit(self, **options)

    def cors(self, options: Any = None, path: str | None = None, **kwargs: Any) -> Router:
        """CORS for this router's routes (or those under ``path`` below it); see
        :class:`~avian.middleware.cors.CORSOptions`."""
        self._check_open()
        self._cors_rules.append((path or "", options, kwargs))
        return self

    def iter_routers(self) -> Iterator[Router]:
        """This router and every router below it."""
        yield self
        for _, child in self._children:
            yield from child.iter_routers()

    def add_asgi_middleware(self, cls: Callable[..., ASGIApp], **options: Any) -> Router:
        """Serve this router's routes through a pure ASGI middleware, ``cls(app, **options)``
        (any Starlette-style middleware works).  The first added is the outermost."""
        self._check_open()
        if not callable(cls):
            raise ConfigurationError(f"ASGI middleware {cls!r} is not callable")
        self._asgi_middleware.append((cls, options))
        return self

    def use(self, *args: Any) -> Any:
        """Add onion middleware: ``@router.use``, ``router.use(mw1, mw2)`` or
        ``router.use("/panel", mw)`` (only for routes under that path)."""
        self._check_open()
        scope: str | None = None
        if args and isinstance(args[0], str):
            scope = normalize_prefix(args[0])
            args = args[1:]
        if not args:
            raise ConfigurationError("use() needs at least one middleware")
        for mw in args:
            if not callable(mw):
                raise ConfigurationError(f"middleware {mw!r} is not callable")
            self._middleware.append((scope, mw))
        return args[0] if len(args) == 1 and scope is None else self

    def before(self, *hooks: Hook) -> Any:
        """Add before hooks to every route of this router (usable as a decorator)."""
        self._check_open()
        self._before.extend(hooks)
        return hooks[0] if len(hooks) == 1 else self

    def after(self, *hooks: Hook) -> Any:
        """Add after hooks to every route of this router (usable as a decorator)."""
        self._check_open()
        self._after.extend(hooks)
        return hooks[0] if len(hooks) == 1 else self

    before_all = before
    after_all = after

    # --- walking (used by the app at startup) -------------------------------------------------

    def _level(self, full_prefix: str, route_path: str) -> Level:
        mws = [
            mw
            for scope, mw in self._middleware
            if scope is None or _under(route_path, join_paths(full_prefix, scope))
        ]
        return Level(mws, list(self._before), list(self._after), list(self._asgi_middleware))

    def walk(
        self, parent_prefix: str = "", parents: tuple[tuple[Router, str], ...] = ()
    ) -> Iterator[tuple[str, RouteDef, list[Level]]]:
        """Yield ``(full path, definition, levels outer->inner)`` for every route below."""
        prefix = (
            join_paths(parent_prefix, self.prefix)
            if self.prefix
            else normalize_prefix(parent_prefix)
        )
        chain = (*parents, (self, prefix))
        for definition in self._routes:
            full = join_paths(prefix, definition.path)
            levels = [router._level(router_prefix, full) for router, router_prefix in chain]
            attached = getattr(definition.handler, HANDLER_MIDDLEWARE, ())
            levels.append(
                Level(
                    [*definition.middleware, *attached],
                    list(definition.before),
                    list(definition.after),
                )
            )
            yield full, definition, levels
        for extra, child in self._children:
            yield from child.walk(join_paths(prefix, extra) if extra else prefix, chain)

    def walk_mounts(self, parent_prefix: str = "") -> Iterator[tuple[str, ASGIApp]]:
        prefix = (
            join_paths(parent_prefix, self.prefix)
            if self.prefix
            else normalize_prefix(parent_prefix)
        )
        for path, app in self._mounts:
            yield join_paths(prefix, path), app
        for extra, child in self._children:
            yield from child.walk_mounts(join_paths(prefix, extra) if extra else prefix)


def _under(path: str, scope: str) -> bool:
    return not scope or path == scope or path.startswith(scope + "/")


_TYPED_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*):[A-Za-z_]+\}")
_COLON_PARAM = re.compile(r"(?<=/):([A-Za-z_][A-Za-z0-9_]*)(?=/|$)")


def _untyped(path: str) -> str:
    """``/users/{id:int}`` and ``/users/:id`` -> ``/users/{id}``: a filter names a route by
    its path as written, whatever converter the route ends up with (``id: int`` turns
    ``{id}`` into ``{id:int}`` at startup)."""
    return _COLON_PARAM.sub(r"{\1}", _TYPED_PARAM.sub(r"{\1}", path))


def matches_filter(patterns: Sequence[str], path: str, name: str | None) -> bool:
    """Route filters for ``before_all``/``after_all``: a route name, an exact path pattern,
    or a glob over the path pattern (``"/admin/*"``)."""
    for pattern in patterns:
        if pattern in (name, path) or fnmatch.fnmatchcase(path, pattern):
            return True
        if pattern.startswith("/") and _untyped(pattern) == _untyped(path):
            return True
    return False
