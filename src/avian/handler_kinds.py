"""Handler kinds (DonkeyLabs' ``.raw()``, ``.stream()``, ``.html()`` and custom kinds).

A kind changes how a handler meets HTTP, and is written as a decorator under the route
decorator::

    @app.get("/export")
    @stream(media_type="text/csv", filename="export.csv")
    async def export() -> AsyncIterator[str]: ...

``stream`` and ``html`` leave the handler as it is (its typed parameters, body and
dependencies are analysed like any other handler's) and only shape the response it
produces, through route middleware attached to the handler.  ``raw`` and kinds made with
:func:`handler_kind` replace the handler by one that takes ``ctx`` and hands the request to
the kind, which decides everything.  The RPC router (:mod:`avian.rpc`) takes the same kinds.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from .context import Context
from .errors import ConfigurationError
from .htmx import wants_partial
from .http.jsoncodec import encode_json
from .http.request import Request
from .http.response import HTMLResponse, Response, StreamingResponse, content_disposition
from .routing.router import CallNext, route_middleware

__all__ = [
    "ASGIResponse",
    "HandlerKind",
    "KindHandler",
    "get_kind",
    "handler_kind",
    "html",
    "raw",
    "register_kind",
    "stream",
    "typed",
]

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[..., Any]
Execute = Callable[[Context, Handler], Awaitable[Any]]
"""``async def execute(ctx, handle) -> value``: a custom kind's whole behaviour."""

KIND_ATTR = "__avian_kind__"
"""The :class:`HandlerKind` set on handlers a kind adapted (for OpenAPI: its name and
media type)."""


@dataclass(frozen=True)
class HandlerKind:
    """A named way of turning a handler into a route: usable as a decorator, and as the
    ``kind=`` of an RPC procedure (where ``methods`` are the procedure's default methods)."""

    name: str
    apply: Callable[[Handler], Handler]
    """Adapt the user's handler; returns what the router registers."""
    methods: tuple[str, ...] | None = ("POST",)
    """Methods an RPC procedure of this kind answers by default (``None``: every method)."""
    media_type: str | None = None
    """The success media type the kind produces, when it is fixed (for documentation)."""

    def __call__(self, handler: F) -> F:
        adapted: Any = self.apply(handler)
        return adapted  # type: ignore[no-any-return]


def _mark_kind(handler: Handler, kind: HandlerKind) -> None:
    try:
        setattr(handler, KIND_ATTR, kind)
    except AttributeError:  # a bound method or builtin: the route still works
        pass


# --- kinds that replace the handler ----------------------------------------------------------


_CTX_ONLY = inspect.Signature([inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD)])


class KindHandler:
    """What the router registers for ``raw`` and custom kinds: called with ``ctx`` only,
    it hands the request and the user's handler to the kind.

    It binds like a function, so it works on controller methods too.
    """

    def __init__(self, kind: HandlerKind, fn: Handler, execute: Execute) -> None:
        self.kind = kind
        self.fn = fn
        self.execute = execute
        self.__name__: str = getattr(fn, "__name__", kind.name)
        self.__qualname__: str = getattr(fn, "__qualname__", self.__name__)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        # Nothing for the parameter analyser to resolve: the kind reads the request itself.
        self.__annotations__: dict[str, Any] = {}
        self.__signature__ = _CTX_ONLY
        setattr(self, KIND_ATTR, kind)

    def __get__(self, instance: object, owner: type | None = None) -> KindHandler:
        if instance is None:
            return self
        bind = getattr(self.fn, "__get__", None)
        if bind is None:
            return self
        bound = copy.copy(self)
        bound.fn = bind(instance, owner)
        return bound

    async def __call__(self, ctx: Context) -> Any:
        return await self.execute(ctx, self.fn)

    def __repr__(self) -> str:
        return f"<{self.kind.name} handler {self.__qualname__}>"


def handler_kind(
    name: str, *, methods: tuple[str, ...] | None = ("POST",), media_type: str | None = None
) -> Callable[[Execute], HandlerKind]:
    """Define a custom kind from ``async def execute(ctx, handle) -> value``.

    ``execute`` reads the request, calls the user's handler (``handle``) however the kind
    defines, and returns a value or a :class:`Response`.  Register it with
    :func:`register_kind` to use it by name in RPC routers.
    """

    def define(execute: Execute) -> HandlerKind:
        if not callable(execute):
            raise ConfigurationError(f"handler kind {name!r}: {execute!r} is not callable")
        kind: HandlerKind

        def apply(fn: Handler) -> Handler:
            if not callable(fn):
                raise ConfigurationError(f"{name} handler {fn!r} is not callable")
            return KindHandler(kind, fn, execute)

        kind = HandlerKind(name, apply, methods, media_type)
        return kind

    return define


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


# --- raw ---------------------------------------------------------------------------------


class ASGIResponse(Response):
    """A response sent by an ASGI app (what a raw handler may return).

    Headers set on it (by middleware, hooks or ``ctx.response``) are added to the app's
    ``http.response.start`` message; the app chooses the status and the body.
    """

    __slots__ = ("app",)

    def __init__(self, app: Callable[[Any, Any, Any], Awaitable[None]]) -> None:
        super().__init__(b"", 200)
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        extra = list(self.raw_headers)

        async def send_with_headers(message: Any) -> None:
            if extra and message.get("type") == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _AlreadySent(Response):
    """Stands for a response the raw handler sent itself through ``send``."""

    __slots__ = ()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        return None


_RAW_SOURCES: dict[str, Callable[[Context], Any]] = {
    "ctx": lambda ctx: ctx,
    "request": lambda ctx: ctx.request,
    "scope": lambda ctx: ctx.scope,
    "receive": lambda ctx: ctx.receive,
}


def _raw_plan(fn: Handler) -> tuple[list[tuple[str, str]], bool]:
    """``(parameter name, source)`` pairs for a raw handler, and whether it is async."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"raw handler {fn!r}: cannot read its signature: {exc}") from None
    plan: list[tuple[str, str]] = []
    params = list(signature.parameters.values())
    if params and params[0].name in ("self", "cls"):
        params = params[1:]  # a controller method, bound later
    for param in params:
        annotation = param.annotation
        if isinstance(annotation, str):
            annotation = {"Context": Context, "Request": Request}.get(annotation, annotation)
        if param.name in _RAW_SOURCES or param.name == "send":
            plan.append((param.name, param.name))
        elif isinstance(annotation, type) and issubclass(annotation, Context):
            plan.append((param.name, "ctx"))
        elif isinstance(annotation, type) and issubclass(annotation, Request):
            plan.append((param.name, "request"))
        elif param.default is inspect.Parameter.empty:
            raise ConfigurationError(
                f"raw handler {getattr(fn, '__qualname__', fn)!r}: parameter {param.name!r} "
                "must be one of request, ctx, scope, receive, send"
            )
    target = inspect.unwrap(fn)
    is_async = inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - an object with async __call__
    )
    return plan, is_async


def _raw_result(value: Any, sent: bool, where: str) -> Response:
    if isinstance(value, Response):
        return value
    if value is None and sent:
        return _AlreadySent(b"", 200)
    if callable(value):
        return ASGIResponse(value)
    raise TypeError(
        f"raw handler {where} must return a Response or an ASGI app "
        f"(or send the response itself), got {type(value).__name__}"
    )


def _apply_raw(fn: Handler) -> Handler:
    if not callable(fn):
        raise ConfigurationError(f"raw handler {fn!r} is not callable")
    plan, is_async = _raw_plan(fn)
    where = getattr(fn, "__qualname__", repr(fn))

    async def execute(ctx: Context, handle: Handler) -> Response:
        started = False
        send = ctx.send

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = True
            await send(message)

        kwargs = {
            name: tracking_send if source == "send" else _RAW_SOURCES[source](ctx)
            for name, source in plan
        }
        if is_async:
            value = await handle(**kwargs)
        else:
            import asyncio  # PERF: only sync raw handlers need it

            value = await _maybe_await(await asyncio.to_thread(lambda: handle(**kwargs)))
        return _raw_result(value, started, where)

    return KindHandler(RAW, fn, execute)


RAW = HandlerKind("raw", _apply_raw, methods=None)


def raw(fn: Handler) -> KindHandler:
    """The raw kind: full control of the request and the response.

    The handler takes any of ``request``, ``ctx``, ``scope``, ``receive``, ``send`` (by name,
    or ``Request``/``Context`` by annotation) and returns a :class:`Response`, or an ASGI
    app ``(scope, receive, send)`` that answers (a proxy, a mounted app), or ``None`` after
    sending the response itself through ``send``.  The body is never read for it.
    """
    return _apply_raw(fn)  # type: ignore[return-value]


# --- stream --------------------------------------------------------------------------------

_OCTET = "application/octet-stream"


def encode_chunk(chunk: Any) -> bytes | str:
    """Bytes and text pass through; anything else becomes one line of JSON (JSON Lines)."""
    if isinstance(chunk, bytes | str):
        return chunk
    if isinstance(chunk, bytearray | memoryview):
        return bytes(chunk)
    return encode_json(chunk) + b"\n"


def _encoded(content: Any, encode: Callable[[Any], bytes | str]) -> Any:
    if isinstance(content, AsyncIterable):

        async def encode_async() -> AsyncIterator[bytes | str]:
            async for chunk in content:
                yield encode(chunk)

        return encode_async()

    def encode_sync() -> Iterator[bytes | str]:
        for chunk in content:
            yield encode(chunk)

    return encode_sync()


def _stream_kind(
    media_type: str,
    headers: Mapping[str, str] | None,
    filename: str | None,
    encode: Callable[[Any], bytes | str],
) -> HandlerKind:
    extra = dict(headers or {})
    if filename is not None:
        extra.setdefault("content-disposition", content_disposition("attachment", filename))

    async def shape_stream(ctx: Context, call_next: CallNext) -> Response:
        response = await call_next()
        # Only the stream avian built from the handler's iterator; a Response the handler
        # chose itself is left alone.
        if type(response) is StreamingResponse and response.media_type == _OCTET:
            response.media_type = media_type
            response.content = _encoded(response.content, encode)
            h = response.headers
            for key, value in extra.items():
                if key not in h:
                    h.set(key, value)
        return response

    shape_stream.__name__ = "stream_kind"

    def apply(fn: Handler) -> Handler:
        if not callable(fn):
            raise ConfigurationError(f"stream handler {fn!r} is not callable")
        adapted = route_middleware(shape_stream)(fn)
        _mark_kind(adapted, kind)
        return adapted

    kind = HandlerKind("stream", apply, ("POST",), media_type)
    return kind


@overload
def stream(fn: F, /) -> F: ...
@overload
def stream(
    *,
    media_type: str = "text/plain",
    headers: Mapping[str, str] | None = None,
    filename: str | None = None,
    encode: Callable[[Any], bytes | str] = encode_chunk,
) -> HandlerKind: ...
def stream(
    fn: Handler | None = None,
    /,
    *,
    media_type: str = "text/plain",
    headers: Mapping[str, str] | None = None,
    filename: str | None = None,
    encode: Callable[[Any], bytes | str] = encode_chunk,
) -> Any:
    """The stream kind: the handler returns (or is) a sync or async generator whose chunks
    are sent as they are produced.

    ``media_type`` (default ``text/plain``; use ``application/x-ndjson`` for JSON Lines),
    extra ``headers``, ``filename`` (a ``Content-Disposition: attachment`` download) and
    ``encode`` (chunk -> bytes or str; by default bytes and text pass through and other
    values become JSON lines).  A :class:`Response` returned by the handler is sent as is.
    """
    if not isinstance(media_type, str) or "/" not in media_type:
        raise ConfigurationError(f"stream: invalid media type {media_type!r}")
    if not callable(encode):
        raise ConfigurationError("stream: encode must be callable")
    kind = _stream_kind(media_type, headers, filename, encode)
    if fn is not None:
        return kind(fn)
    return kind


# --- html (htmx partials) ------------------------------------------------------------------

Layout = Callable[[str, Context], str | Awaitable[str]]
"""``layout(fragment, ctx) -> page``: wraps a fragment into a full page."""


def _html_kind(layout: Layout | None) -> HandlerKind:
    async def shape_html(ctx: Context, call_next: CallNext) -> Response:
        response = await call_next()
        kind_of = type(response)
        if kind_of is Response and response.media_type == "text/plain":
            response.media_type = "text/html"  # a returned str: the fragment
        if (
            layout is None
            or kind_of not in (Response, HTMLResponse)
            or response.media_type != "text/html"
        ):
            return response
        response.headers.add("vary", "HX-Request")
        if 200 <= response.status < 300 and not wants_partial(ctx):
            page = await _maybe_await(layout(response.body.decode(), ctx))
            if not isinstance(page, str):
                raise TypeError(f"html layout must return str, got {type(page).__name__}")
            response.body = page.encode()
        return response

    shape_html.__name__ = "html_kind"

    def apply(fn: Handler) -> Handler:
        if not callable(fn):
            raise ConfigurationError(f"html handler {fn!r} is not callable")
        adapted = route_middleware(shape_html)(fn)
        _mark_kind(adapted, kind)
        return adapted

    kind = HandlerKind("html", apply, ("GET", "POST"), "text/html")
    return kind


@overload
def html(fn: F, /) -> F: ...
@overload
def html(*, layout: Layout | None = None) -> HandlerKind: ...
def html(fn: Handler | None = None, /, *, layout: Layout | None = None) -> Any:
    """The html kind (htmx partials): a returned ``str`` is sent as ``text/html``.

    With ``layout``, a request that is not an htmx partial request (no ``HX-Request``, or a
    boosted or history-restore request) gets ``layout(fragment, ctx)`` instead, the full
    page; ``Vary: HX-Request`` tells caches the two differ.  See :mod:`avian.htmx` for
    reading htmx request headers and setting ``HX-*`` response headers.
    """
    if layout is not None and not callable(layout):
        raise ConfigurationError("html: layout must be callable (fragment, ctx) -> str")
    kind = _html_kind(layout)
    if fn is not None:
        return kind(fn)
    return kind


# --- typed (the RPC default) and the registry -----------------------------------------------


def _apply_typed(fn: Handler) -> Handler:
    if not callable(fn):
        raise ConfigurationError(f"handler {fn!r} is not callable")
    return fn


TYPED = HandlerKind("typed", _apply_typed, ("POST",), "application/json")
"""JSON in, JSON out: the handler as the typed-handler machinery analyses it."""
typed = TYPED

_REGISTRY: dict[str, HandlerKind] = {
    "typed": TYPED,
    "raw": RAW,
    "stream": stream(),
    "html": html(),
}


def register_kind(kind: HandlerKind, *, replace: bool = False) -> HandlerKind:
    """Make ``kind`` usable by name (``procedure("x", kind="xml")``); plugins call this."""
    if not isinstance(kind, HandlerKind):
        raise ConfigurationError(f"register_kind expects a HandlerKind, got {kind!r}")
    if kind.name in _REGISTRY and not replace and _REGISTRY[kind.name] is not kind:
        raise ConfigurationError(f"a handler kind named {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def get_kind(kind: str | HandlerKind) -> HandlerKind:
    """A kind by name (or the kind itself)."""
    if isinstance(kind, HandlerKind):
        return kind
    found = _REGISTRY.get(kind)
    if found is None:
        raise ConfigurationError(
            f"unknown handler kind {kind!r} (known: {', '.join(sorted(_REGISTRY))})"
        )
    return found
