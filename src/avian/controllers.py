"""Class-based controllers: a class whose methods are routes under one path prefix.

A controller compiles to an ordinary :class:`~avian.routing.router.Router` when it is
included (``app.include(Users)`` or ``app.include(Users(repo))``): its class attributes
become the router's options (prefix, tags, dependencies, security, hooks, middleware) and
every method marked with :func:`get`, :func:`post`... becomes a route whose handler is the
bound method.  Nothing about controllers exists at request time, so hooks, middleware,
typed parameters and OpenAPI work exactly as for function handlers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from .errors import ConfigurationError
from .routing.router import Hook, Middleware, Router

__all__ = [
    "Controller",
    "after_request",
    "around_request",
    "before_request",
    "delete",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "websocket",
    "ws",
]

F = TypeVar("F", bound=Callable[..., Any])

ROUTES_ATTR = "__avian_controller_routes__"
"""Where the route decorators below record what they mark (a list: decorators stack)."""
HOOK_ATTR = "__avian_controller_hook__"
"""``"before"``, ``"after"`` or ``"around"`` on methods marked as controller-wide hooks."""


@dataclass(frozen=True)
class RouteMark:
    """One route a method serves, as written in its decorator."""

    path: str
    methods: tuple[str, ...] | None
    options: Mapping[str, Any] = field(default_factory=dict)
    websocket: bool = False


def _mark(
    path: str, methods: tuple[str, ...] | None, route_options: dict[str, Any], ws: bool = False
) -> Callable[[F], F]:
    if not isinstance(path, str):
        raise ConfigurationError(f"controller route path must be a string, got {path!r}")
    if "methods" in route_options:
        raise ConfigurationError("use route(path, methods=[...]) to choose methods")

    def decorate(fn: F) -> F:
        marks: list[RouteMark] = list(getattr(fn, ROUTES_ATTR, ()))
        marks.append(RouteMark(path, methods, dict(route_options), ws))
        setattr(fn, ROUTES_ATTR, marks)
        return fn

    return decorate


def route(path: str, *, methods: Sequence[str] | None = None, **options: Any) -> Callable[[F], F]:
    """Mark a controller method as a route for ``methods`` (every method when ``None``).

    ``options`` are the usual route options (``status``, ``name``, ``summary``, ``tags``,
    ``before``, ``after``, ``middleware``, ``limits``...), passed through unchanged.
    """
    method_tuple = None if methods is None else tuple(m.upper() for m in methods)
    return _mark(path, method_tuple, options)


def _method_decorator(method: str) -> Callable[..., Callable[[F], F]]:
    def decorator(path: str = "", **options: Any) -> Callable[[F], F]:
        return _mark(path, (method,), options)

    decorator.__name__ = method.lower()
    decorator.__qualname__ = method.lower()
    decorator.__doc__ = (
        f"Mark a controller method as a {method} route (path relative to the class)."
    )
    return decorator


get = _method_decorator("GET")
post = _method_decorator("POST")
put = _method_decorator("PUT")
patch = _method_decorator("PATCH")
delete = _method_decorator("DELETE")
head = _method_decorator("HEAD")
options = _method_decorator("OPTIONS")


def websocket(path: str = "", **ws_options: Any) -> Callable[[F], F]:
    """Mark a controller method as a websocket route (``async def chat(self, ws)``)."""
    return _mark(path, None, ws_options, ws=True)


ws = websocket


def _hook_marker(kind: str, doc: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        setattr(fn, HOOK_ATTR, kind)
        return fn

    decorate.__name__ = f"{kind}_request"
    decorate.__qualname__ = decorate.__name__
    decorate.__doc__ = doc
    return decorate


before_request = _hook_marker(
    "before", "Mark a method ``(self, ctx)`` as a before hook for every route of the controller."
)
after_request = _hook_marker(
    "after", "Mark a method ``(self, ctx)`` as an after hook for every route of the controller."
)
around_request = _hook_marker(
    "around",
    "Mark a method ``(self, ctx, call_next)`` as middleware for every route of the controller.",
)


_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def default_name(cls: type) -> str:
    """``UsersController`` -> ``"users"``, ``BookReviews`` -> ``"book_reviews"``."""
    base = cls.__name__
    if base.endswith("Controller") and base != "Controller":
        base = base[: -len("Controller")]
    return _WORD_BOUNDARY.sub("_", base).lower()


class _RouterFactory:
    """``Users.__avian_router__()`` (a class: one instance is created) and
    ``Users(repo).__avian_router__()`` (that instance) both build the router."""

    def __get__(self, instance: Controller | None, owner: type[Controller]) -> Callable[[], Router]:
        if instance is None:
            return lambda: owner._instantiate().as_router()
        return instance.as_router


class Controller:
    """Base class for class-based controllers.

    Class attributes (all optional) configure the router the controller becomes:

    - ``path``: the path prefix of every route (``"/users"``);
    - ``name``: the prefix of route names (default: the class name, snake-cased, without a
      ``Controller`` suffix), routes are named ``"<name>.<method name>"`` unless a route
      sets ``name=``;
    - ``tags``, ``dependencies``, ``security``, ``include_in_schema``: as for ``Router``;
    - ``before``, ``after``, ``middleware``: hooks and middleware (plain functions) shared
      by every route; methods marked :func:`before_request`, :func:`after_request` or
      :func:`around_request` are added after them.

    Subclasses inherit routes; redefining a method without a route decorator removes its
    route.
    """

    path: ClassVar[str] = ""
    name: ClassVar[str | None] = None
    tags: ClassVar[Sequence[str]] = ()
    dependencies: ClassVar[Sequence[Any]] = ()
    security: ClassVar[Sequence[Mapping[str, Sequence[str]]] | None] = None
    include_in_schema: ClassVar[bool] = True
    before: ClassVar[Sequence[Hook]] = ()
    after: ClassVar[Sequence[Hook]] = ()
    middleware: ClassVar[Sequence[Middleware]] = ()

    __avian_router__: ClassVar[_RouterFactory] = _RouterFactory()

    @classmethod
    def _instantiate(cls) -> Controller:
        try:
            inspect.signature(cls).bind()
        except TypeError:
            raise ConfigurationError(
                f"controller {cls.__name__} takes constructor arguments: include an "
                f"instance instead, e.g. app.include({cls.__name__}(...))"
            ) from None
        return cls()

    @classmethod
    def controller_name(cls) -> str:
        """The prefix of this controller's route names."""
        return cls.name if cls.name is not None else default_name(cls)

    @classmethod
    def _member_names(cls) -> list[str]:
        """Attribute names in definition order, base classes first, each once."""
        seen: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            if klass is object:
                continue
            for attr in vars(klass):
                seen.setdefault(attr, None)
        return list(seen)

    def as_router(self) -> Router:
        """Build the router for this instance (called by ``include``)."""
        cls = type(self)
        hooks: dict[str, list[Any]] = {"before": [], "after": [], "around": []}
        marked: list[tuple[str, list[RouteMark]]] = []
        for attr in cls._member_names():
            raw = inspect.getattr_static(cls, attr)
            value = getattr(cls, attr, None)
            if isinstance(raw, staticmethod | classmethod):
                raw = raw.__func__
            kind = getattr(raw, HOOK_ATTR, None) or getattr(value, HOOK_ATTR, None)
            if isinstance(kind, str) and kind in hooks:
                hooks[kind].append(getattr(self, attr))
            marks = getattr(value, ROUTES_ATTR, None)
            if marks:
                marked.append((attr, list(marks)))
        router = Router(
            cls.path,
            name=cls.controller_name(),
            before=[*cls.before, *hooks["before"]],
            after=[*cls.after, *hooks["after"]],
            middleware=[*cls.middleware, *hooks["around"]],
            tags=cls.tags,
            dependencies=cls.dependencies,
            security=cls.security,
            include_in_schema=cls.include_in_schema,
        )
        prefix = cls.controller_name()
        paths_by_name: dict[str, str] = {}
        for attr, marks in marked:
            handler = getattr(self, attr)
            for mark in marks:
                opts = dict(mark.options)
                name = opts.pop("name", None) or f"{prefix}.{attr}"
                if mark.websocket:
                    router.ws(mark.path, handler, name=name, **opts)
                    continue
                seen = paths_by_name.setdefault(name, mark.path)
                if seen != mark.path:
                    raise ConfigurationError(
                        f"controller {cls.__name__}: route name {name!r} is used for both "
                        f"{seen!r} and {mark.path!r}; give one of them name=..."
                    )
                router.add_route(mark.path, handler, methods=mark.methods, name=name, **opts)
        return router
