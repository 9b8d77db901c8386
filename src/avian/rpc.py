"""RPC-style routers (DonkeyLabs' ``createRouter("users").route("get").typed(...)``).

A procedure named ``get`` on ``RPCRouter("users")`` is served at ``POST /users.get`` and
named ``users.get``.  Its input is the JSON body, decoded into the handler's one model
parameter (msgspec ``Struct``, dataclass, ``TypedDict`` or pydantic model) by the
typed-handler machinery; its output is the return value, shaped by the return annotation.
Other HTTP methods get 405.  The router is an ordinary :class:`~avian.routing.router.Router`
with an empty path prefix, so hooks, middleware, dependencies, tags, rate limits and
``app.include(users, prefix="/api")`` all work as usual.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, overload

import msgspec

from .context import Context
from .errors import ConfigurationError, HTTPError
from .handler_kinds import HandlerKind, Layout, encode_chunk, get_kind, html, stream
from .routing.router import CallNext, Hook, Middleware, RouteDef, Router

if typing.TYPE_CHECKING:
    from .http.response import Response

__all__ = ["RPCRouter"]

F = TypeVar("F", bound=Callable[..., Any])

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$")
_ANALYSED_KINDS = frozenset({"typed", "stream", "html"})
"""Kinds whose handler keeps its signature (the typed machinery reads it)."""


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(
            f"invalid {what} {name!r}: use letters, digits, '_' or '-', "
            "in parts separated by dots (e.g. 'files.download')"
        )
    return name


def _is_input_model(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation):
        return True
    if typing.is_typeddict(annotation):
        return True
    return hasattr(annotation, "model_validate") and hasattr(annotation, "model_fields")


def _check_signature(fn: Callable[..., Any], where: str) -> None:
    """Refuse parameters an RPC call cannot fill: its input is the JSON body only."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # the analyser reports it at startup
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:
        return  # forward references resolvable only later: checked at startup
    inputs: list[str] = []
    for param in signature.parameters.values():
        annotation = hints.get(param.name, param.annotation)
        if param.name == "ctx" or (
            isinstance(annotation, type) and issubclass(annotation, Context)
        ):
            continue
        if param.name == "body" or _is_input_model(annotation):
            inputs.append(param.name)
            continue
        if param.default is not inspect.Parameter.empty:
            continue  # has a default, or is a dependency (Depends(...))
        if typing.get_origin(annotation) is typing.Annotated:
            continue  # an explicit marker (Header(), Cookie()...) says where it comes from
        raise ConfigurationError(
            f"{where}: parameter {param.name!r} has no source: a procedure's input is its "
            "JSON body, so declare one model parameter (Struct, dataclass, TypedDict, "
            "pydantic) or a parameter named 'body'"
        )
    if len(inputs) > 1:
        raise ConfigurationError(f"{where}: only one input parameter is allowed ({inputs})")


async def _validation_as_bad_request(ctx: Context, call_next: CallNext) -> Response:
    """``invalid_input_status=400``: DonkeyLabs answers invalid input with 400, not 422."""
    response = await call_next()
    error = ctx.error
    if response.status == 422 and isinstance(error, HTTPError) and error.code == "VALIDATION_ERROR":
        raise HTTPError(
            400, error.detail, code=error.code, details=error.details, headers=error.headers
        )
    return response


class RPCRouter(Router):
    """Procedures served at ``POST /<namespace>.<name>`` (DonkeyLabs' RPC router).

    ``RPCRouter("users")`` names its procedures ``users.<name>``; ``RPCRouter()`` leaves
    them unprefixed.  ``prefix`` is an ordinary path prefix in front of that
    (``RPCRouter("users", prefix="/rpc")`` -> ``POST /rpc/users.get``).  Hooks, middleware,
    ``tags`` (default: the namespace), ``dependencies`` and ``security`` apply to every
    procedure, as on any router.  ``invalid_input_status`` is the status for input that
    fails validation: 422 like every avian typed handler, or 400 as DonkeyLabs answers.
    """

    def __init__(
        self,
        namespace: str = "",
        *,
        prefix: str = "",
        name: str | None = None,
        before: Sequence[Hook] = (),
        after: Sequence[Hook] = (),
        middleware: Sequence[Middleware] = (),
        tags: Sequence[str] = (),
        dependencies: Sequence[Any] = (),
        security: Sequence[Mapping[str, Sequence[str]]] | None = None,
        include_in_schema: bool = True,
        invalid_input_status: int = 422,
    ) -> None:
        if namespace:
            _check_name(namespace, "RPC namespace")
        if invalid_input_status not in (400, 422):
            raise ConfigurationError(
                f"invalid_input_status must be 400 or 422, got {invalid_input_status!r}"
            )
        super().__init__(
            prefix,
            name=name if name is not None else (namespace or None),
            before=before,
            after=after,
            middleware=middleware,
            tags=tags,
            dependencies=dependencies,
            security=security,
            include_in_schema=include_in_schema,
        )
        self.namespace = namespace
        self.invalid_input_status = invalid_input_status
        self._procedures: dict[str, RouteDef] = {}
        """Shared with the routers made by :meth:`using` (one namespace, one name table)."""

    @property
    def procedures(self) -> Mapping[str, RouteDef]:
        """Every procedure of the namespace by full name (``"users.get"``)."""
        return dict(self._procedures)

    def full_name(self, name: str) -> str:
        """``"get"`` -> ``"users.get"``."""
        return f"{self.namespace}.{name}" if self.namespace else name

    # --- registration ---------------------------------------------------------------------

    def _add_procedure(
        self, name: str, fn: Callable[..., Any], kind: HandlerKind, options: dict[str, Any]
    ) -> RouteDef:
        self._check_open()
        _check_name(name, "procedure name")
        full = self.full_name(name)
        if "name" in options:
            raise ConfigurationError(f"procedure {full}: its route name is {full!r} already")
        if full in self._procedures:
            raise ConfigurationError(f"procedure {full!r} is already registered")
        if not callable(fn):
            raise ConfigurationError(f"procedure {full}: {fn!r} is not callable")
        if kind.name in _ANALYSED_KINDS:
            _check_signature(fn, f"procedure {full}")
        methods = options.pop("methods", kind.methods)
        handler = kind.apply(fn)
        mws = list(options.pop("middleware", ()))
        if self.invalid_input_status == 400:
            mws.append(_validation_as_bad_request)
        definition = self.add_route(
            "/" + full, handler, methods=methods, name=full, middleware=mws, **options
        )
        self._procedures[full] = definition
        return definition

    @overload
    def procedure(
        self, name: str, /, *, kind: str | HandlerKind = ..., **options: Any
    ) -> Callable[[F], F]: ...
    @overload
    def procedure(
        self, name: str, fn: F, /, *, kind: str | HandlerKind = ..., **options: Any
    ) -> F: ...
    def procedure(
        self,
        name: str,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        kind: str | HandlerKind = "typed",
        **options: Any,
    ) -> Any:
        """Register a procedure: ``@users.procedure("get")`` or
        ``users.procedure("get", handler)``.

        ``kind`` is ``"typed"`` (default: JSON in and out), ``"raw"``, ``"stream"``,
        ``"html"``, a registered custom kind's name, or a :class:`HandlerKind` (such as
        ``stream(media_type="text/csv")``).  ``methods`` overrides the kind's methods
        (``["GET", "POST"]``); other options are the usual route options (``summary``,
        ``status``, ``before``, ``middleware``, ``deprecated``...).  Returns the handler
        unchanged.
        """
        chosen = get_kind(kind)
        if fn is not None:
            self._add_procedure(name, fn, chosen, options)
            return fn

        def decorator(handler: F) -> F:
            self._add_procedure(name, handler, chosen, dict(options))
            return handler

        return decorator

    def raw(self, name: str, /, **options: Any) -> Callable[[F], F]:
        """A raw procedure (``.raw()``): the handler gets ``request``/``ctx`` and returns a
        :class:`~avian.http.response.Response` or an ASGI app; every method reaches it."""
        return self.procedure(name, kind="raw", **options)

    def stream(
        self,
        name: str,
        /,
        *,
        media_type: str = "text/plain",
        headers: Mapping[str, str] | None = None,
        filename: str | None = None,
        encode: Callable[[Any], bytes | str] = encode_chunk,
        **options: Any,
    ) -> Callable[[F], F]:
        """A streaming procedure (``.stream()``): typed input, the handler yields chunks."""
        kind = stream(media_type=media_type, headers=headers, filename=filename, encode=encode)
        return self.procedure(name, kind=kind, **options)

    def html(
        self, name: str, /, *, layout: Layout | None = None, **options: Any
    ) -> Callable[[F], F]:
        """An HTML procedure (``.html()``, htmx partials): answers GET and POST by default."""
        return self.procedure(name, kind=html(layout=layout), **options)

    # --- structure ------------------------------------------------------------------------

    def using(
        self,
        *middleware: Middleware,
        before: Sequence[Hook] = (),
        after: Sequence[Hook] = (),
        dependencies: Sequence[Any] = (),
    ) -> RPCRouter:
        """Procedures in the same namespace with extra middleware, hooks or dependencies
        (DonkeyLabs' ``router.middleware.auth().route(...)``)."""
        self._check_open()
        child = RPCRouter(
            self.namespace,
            name=self.name,
            before=before,
            after=after,
            middleware=middleware,
            dependencies=dependencies,
            invalid_input_status=self.invalid_input_status,
        )
        child._procedures = self._procedures
        return self._attach(child)
