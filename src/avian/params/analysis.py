"""Handler signature analysis, done once per route at startup.

A handler may take ``ctx`` (by name or by a ``Context`` annotation), path parameters by name
(converted by the route), and one body parameter: a msgspec ``Struct``, dataclass or
``TypedDict`` (decoded and validated from JSON, 422 listing the issue), or an un-annotated
parameter named ``body`` (the body parsed by its content type).  The result is a small
calling plan; nothing is inspected per request.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from ..errors import BodyError, ConfigurationError, HTTPError
from ..http.jsoncodec import decode_json
from ..http.media import parse_content_type
from ..http.request import is_json_media_type
from .spec import BodySpec, ParamSpec, ResponseSpec

__all__ = [
    "HandlerPlan",
    "analyse_handler",
    "is_async_callable",
    "path_converter_hint",
    "validation_error",
]

Handler = Callable[..., Any]


def is_async_callable(fn: Any) -> bool:
    """True for ``async def`` functions, also through decorators and ``partial``, and for
    objects whose ``__call__`` is ``async def``."""
    target = inspect.unwrap(fn)
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.iscoroutinefunction(target):
        return True
    # An instance whose class defines ``async def __call__``.
    call = vars(type(target)).get("__call__")
    return call is not None and inspect.iscoroutinefunction(call)


def _is_context_annotation(annotation: Any) -> bool:
    from ..context import Context

    return isinstance(annotation, type) and issubclass(annotation, Context)


def _is_body_model(annotation: Any) -> bool:
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation):
        return True
    if typing.is_typeddict(annotation):
        return True
    return hasattr(annotation, "model_validate") and hasattr(annotation, "model_fields")


_CONVERTER_HINTS: dict[Any, str] = {int: "int", float: "float", uuid.UUID: "uuid", str: "str"}


def path_converter_hint(handler: Handler, name: str) -> str | None:
    """The converter a handler's annotation asks for (``id: int`` -> ``"int"``), if any."""
    try:
        hints = typing.get_type_hints(handler)
    except Exception:
        return None
    return _CONVERTER_HINTS.get(hints.get(name))


_LOC_RE = re.compile(r" - at `\$(.*)`$")
_MISSING_RE = re.compile(r"^Object missing required field `([^`]+)`$")


def validation_error(exc: msgspec.ValidationError, where: str = "body") -> HTTPError:
    """A 422 with the issue's location: ``{"loc": ["body", "age"], "msg": ..., "type": ...}``."""
    message = str(exc)
    loc: list[str | int] = [where]
    m = _LOC_RE.search(message)
    if m:
        message = message[: m.start()]
        for part in re.findall(r"\.([^.\[]+)|\[(\d+)\]", m.group(1)):
            loc.append(part[0] if part[0] else int(part[1]))
    missing = _MISSING_RE.match(message)
    if missing:  # point at the field itself, as for any other issue
        loc.append(missing.group(1))
    issue = {"loc": loc, "msg": message, "type": "validation_error"}
    return HTTPError(422, "Validation failed", code="VALIDATION_ERROR", details={"issues": [issue]})


class HandlerPlan:
    """How to call one handler: which arguments come from where, and whether it is async."""

    __slots__ = (
        "body",
        "body_reader",
        "call",
        "handler",
        "is_async",
        "kind",
        "params",
        "response",
    )

    def __init__(
        self,
        handler: Handler,
        call: Callable[[Any], Awaitable[Any]],
        kind: str,
        is_async: bool,
        body_reader: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        self.handler = handler
        self.call = call
        """``async (ctx) -> value``: always correct, whatever the handler's shape."""
        self.kind = kind
        """``none``, ``ctx``, ``path``, ``ctx+path``, ``body`` (direct call shapes) or
        ``general``."""
        self.is_async = is_async
        self.body_reader = body_reader
        self.params: tuple[ParamSpec, ...] = ()
        """Every path/query/header/cookie input, dependencies' included (for OpenAPI)."""
        self.body: BodySpec | None = None
        self.response: ResponseSpec | None = None


def _body_reader(annotation: Any) -> Callable[[Any], Awaitable[Any]]:
    """An async function ``(ctx) -> value`` decoding the body into ``annotation``."""
    if annotation is None:

        async def parse_any(ctx: Any) -> Any:
            return await ctx.request.parse()

        return parse_any

    if hasattr(annotation, "model_validate") and not issubclass(annotation, msgspec.Struct):
        # pydantic model: decode with msgspec (fast, limits), validate with pydantic.
        async def read_pydantic(ctx: Any) -> Any:
            req = ctx.request
            if not is_json_media_type(req.content_type):
                raise BodyError(415, "expected an application/json body")
            data = decode_json(await req.body(), req.limits)
            try:
                return annotation.model_validate(data)
            except Exception as exc:
                errors_fn = getattr(exc, "errors", None)
                issues = [
                    {
                        "loc": ["body", *e.get("loc", ())],
                        "msg": e.get("msg", ""),
                        "type": e.get("type", ""),
                    }
                    for e in (errors_fn() if callable(errors_fn) else [])
                ]
                raise HTTPError(
                    422, "Validation failed", code="VALIDATION_ERROR", details={"issues": issues}
                ) from None

        return read_pydantic

    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(annotation)

    async def read_typed(ctx: Any) -> Any:
        req = ctx.request
        header = req.headers.get("content-type")
        if header is None or not is_json_media_type(parse_content_type(header)[0]):
            raise BodyError(415, "expected an application/json body")
        try:
            return decode_json(await req.body(), req.limits, decoder)
        except msgspec.ValidationError as exc:
            raise validation_error(exc) from None

    return read_typed


def _run_sync(handler: Handler) -> Callable[..., Awaitable[Any]]:
    async def in_thread(*args: Any, **kwargs: Any) -> Any:
        import asyncio  # PERF: not needed by `import avian`

        return await asyncio.to_thread(functools.partial(handler, *args, **kwargs))

    return in_thread


def analyse_handler(handler: Handler, path_params: tuple[str, ...], where: str) -> HandlerPlan:
    """Build the calling plan; unknown parameters are a :class:`ConfigurationError`."""
    if not callable(handler):
        raise ConfigurationError(f"{where}: handler {handler!r} is not callable")
    try:
        signature = inspect.signature(handler)
        hints = typing.get_type_hints(handler)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigurationError(f"{where}: cannot read the handler's signature: {exc}") from None
    is_async = is_async_callable(handler)
    invoke: Callable[..., Awaitable[Any]] = handler if is_async else _run_sync(handler)

    sources: list[tuple[str, str]] = []  # (name, "ctx" | "path" | "body")
    body_reader: Callable[[Any], Awaitable[Any]] | None = None
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigurationError(f"{where}: *args/**kwargs are not supported in handlers")
        name = param.name
        annotation = hints.get(name, param.annotation)
        if name == "ctx" or _is_context_annotation(annotation):
            sources.append((name, "ctx"))
        elif name in path_params:
            sources.append((name, "path"))
        elif _is_body_model(annotation) or name == "body":
            # A model type anywhere, or any parameter named ``body``: un-annotated/Any means
            # "parsed by content type"; another annotation (dict, list[int]...) is decoded
            # from JSON and validated against it.
            if body_reader is not None:
                raise ConfigurationError(f"{where}: only one body parameter is allowed")
            untyped = annotation in (inspect.Parameter.empty, Any)
            body_reader = _body_reader(None if untyped else annotation)
            sources.append((name, "body"))
        elif param.default is not inspect.Parameter.empty:
            continue  # keeps its default
        else:
            raise ConfigurationError(
                f"{where}: cannot tell where parameter {name!r} comes from "
                f"(path parameters: {', '.join(path_params) or 'none'})"
            )
    kinds = [s for _, s in sources]
    # PERF: the common shapes get a direct call without building kwargs.
    if not sources:

        async def call_none(ctx: Any) -> Any:
            return await invoke()

        return HandlerPlan(handler, call_none, "none", is_async)
    if kinds == ["ctx"]:
        if signature.parameters[sources[0][0]].kind is inspect.Parameter.KEYWORD_ONLY:
            ctx_name = sources[0][0]

            async def call_ctx_kw(ctx: Any) -> Any:
                return await invoke(**{ctx_name: ctx})

            return HandlerPlan(handler, call_ctx_kw, "general", is_async)

        async def call_ctx(ctx: Any) -> Any:
            return await invoke(ctx)

        return HandlerPlan(handler, call_ctx, "ctx", is_async)
    if all(s == "path" for s in kinds) and set(path_params) == {n for n, _ in sources}:

        async def call_path(ctx: Any) -> Any:
            return await invoke(**ctx.params)

        return HandlerPlan(handler, call_path, "path", is_async)

    if (
        kinds[0] == "ctx"
        and signature.parameters[sources[0][0]].kind is not inspect.Parameter.KEYWORD_ONLY
        and all(s == "path" for s in kinds[1:])
        and set(path_params) == {n for n, s in sources if s == "path"}
    ):

        async def call_ctx_path(ctx: Any) -> Any:
            return await invoke(ctx, **ctx.params)

        return HandlerPlan(handler, call_ctx_path, "ctx+path", is_async)

    if (
        kinds == ["body"]
        and signature.parameters[sources[0][0]].kind is not inspect.Parameter.KEYWORD_ONLY
    ):
        assert body_reader is not None

        async def call_body(ctx: Any) -> Any:
            return await invoke(await body_reader(ctx))

        return HandlerPlan(handler, call_body, "body", is_async, body_reader)

    plan = tuple(sources)
    reader = body_reader

    async def call_general(ctx: Any) -> Any:
        kwargs: dict[str, Any] = {}
        params = ctx.params
        for name, source in plan:
            if source == "path":
                kwargs[name] = params[name]
            elif source == "ctx":
                kwargs[name] = ctx
            else:
                assert reader is not None
                kwargs[name] = await reader(ctx)
        return await invoke(**kwargs)

    return HandlerPlan(handler, call_general, "general", is_async)
