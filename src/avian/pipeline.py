"""Per-route pipelines, compiled once at startup.

Each layer (app, every enclosing group, the route itself) contributes middleware and
before/after hooks.  A layer's middleware wraps its hooks and everything inside it::

    app mw -> before_all -> group mw -> group before -> route mw -> route before
        -> handler -> route after -> group after -> after_all -> (back out through mw)

which is YinzerFlow's documented order (MW-09).  Errors raised inside a layer become error
responses at that layer's boundary, so after hooks and middleware always see a response
(``ctx.error`` holds the exception).  Empty layers add no call at all.

Internal protocol, for built-in middleware on the hot path: a middleware whose *type*
defines ``__avian_wrap__(self, inner, on_error) -> Runner`` is asked, at compile time, for
its own runner around ``inner`` instead of getting the generic wrapper (a ``call_next``
closure and three coroutine frames per request).  The runner must keep the generic
semantics: errors raised by ``inner`` become ``await on_error(ctx, exc)``, errors of its
own propagate to the enclosing layer, ``inner`` is not called when the response was
already chosen (``ctx.dispatched`` with a ``ctx._response``: that response is used), and
the response returned is stored in ``ctx._response``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import msgspec

from .http.jsoncodec import encode_json
from .http.response import Response, StreamingResponse
from .params.signatures import is_async_callable
from .routing.router import Hook, Level, Middleware

if TYPE_CHECKING:
    from .context import Context
    from .params import HandlerPlan

__all__ = ["ErrorConverter", "Runner", "compile_pipeline", "finalize", "to_response"]

Runner = Callable[["Context"], Awaitable[Response]]
ErrorConverter = Callable[["Context", Exception], Awaitable[Response]]

_JSON = "application/json"
_TEXT = "text/plain"
_OCTET = "application/octet-stream"
_make = Response.make


def to_response(value: Any, status: int = 200) -> Response:
    """Turn a handler's return value into a response (DESIGN §3).

    dict/list/Struct/dataclass/model -> JSON, ``str`` -> text, bytes -> octet-stream,
    ``None`` -> 204 (or the route's non-200 status with no body), async or sync generators
    -> streaming, a :class:`Response` as is.
    """
    t = type(value)
    # PERF: exact-type checks first for the common cases.
    if t is dict or t is list:
        return _make(encode_json(value), status, _JSON)
    if t is str:
        return _make(value.encode(), status, _TEXT)
    if value is None:
        return _make(b"", 204 if status == 200 else status, None)
    if isinstance(value, Response):
        return value
    if isinstance(value, msgspec.Struct) or hasattr(t, "__dataclass_fields__"):
        # PERF: models before the (slow) ABC checks below.
        return _make(encode_json(value), status, _JSON)
    if t is bytes or t is bytearray or t is memoryview:
        return _make(bytes(value), status, _OCTET)
    if isinstance(value, str):
        return _make(value.encode(), status, _TEXT)
    if (
        isinstance(value, AsyncIterable)
        or inspect.isgenerator(value)
        or isinstance(value, Iterator)
    ):
        return StreamingResponse(value, status, media_type=_OCTET)  # type: ignore[arg-type]
    return _make(encode_json(value), status, _JSON)


def finalize(ctx: Context, value: Any, status: int) -> Response:
    """The response for a handler's (or short-circuiting hook's) return value, merged with
    whatever was set on ``ctx.response`` before."""
    if isinstance(value, Response):
        return ctx.dispatch(value)
    pending = ctx._response
    if pending is None:
        response = ctx._response = to_response(value, status)
        return response
    if value is None and ctx.dispatched:
        return pending
    response = to_response(value, pending.status)
    response.merge_from(pending)
    ctx._response = response
    return response


def _as_async(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Hooks may be sync; wrap them once so the pipeline always awaits."""
    if is_async_callable(fn):
        return fn

    async def call_sync(*args: Any) -> Any:
        result = fn(*args)
        if inspect.isawaitable(result):
            return await result
        return result

    return call_sync


def _wrap_hooks(
    before: list[Hook], after: list[Hook], inner: Runner, status: int, on_error: ErrorConverter
) -> Runner:
    befores = tuple(_as_async(h) for h in before)
    afters = tuple(_as_async(h) for h in after)

    async def run_hooks(ctx: Context) -> Response:
        try:
            for hook in befores:
                result = await hook(ctx)
                if result is not None or ctx.dispatched:
                    response = finalize(ctx, result, status)
                    break
            else:
                response = await inner(ctx)
        except Exception as exc:
            response = await on_error(ctx, exc)
        ctx._response = response
        for hook in afters:
            replaced = await hook(ctx)
            if isinstance(replaced, Response):
                ctx._response = replaced
        return ctx._response

    return run_hooks


def _wrap_middleware(mw: Middleware, inner: Runner, on_error: ErrorConverter) -> Runner:
    call_mw = _as_async(mw)

    async def run_middleware(ctx: Context) -> Response:
        async def call_next() -> Response:
            if ctx.dispatched and ctx._response is not None:
                return ctx._response  # CTX-14: answered already (ctx.fire in middleware)
            try:
                return await inner(ctx)
            except Exception as exc:
                return await on_error(ctx, exc)

        response = await call_mw(ctx, call_next)
        if not isinstance(response, Response):
            raise TypeError(
                f"middleware {getattr(mw, '__name__', mw)!r} must return a Response "
                f"(the value of `await call_next()`), got {type(response).__name__}"
            )
        ctx._response = response
        return response

    return run_middleware


def compile_pipeline(
    levels: list[Level], core: Runner, status: int, on_error: ErrorConverter
) -> Runner:
    """Wrap ``core`` in the layers, innermost last in ``levels``."""
    run = core
    for level in reversed(levels):
        if level.before or level.after:
            run = _wrap_hooks(level.before, level.after, run, status, on_error)
        for mw in reversed(level.middleware):
            wrap = getattr(type(mw), "__avian_wrap__", None)
            if wrap is not None:
                run = wrap(mw, run, on_error)
            else:
                run = _wrap_middleware(mw, run, on_error)
    return run


def _respond(ctx: Context, value: Any, status: int) -> Response:
    # PERF: the common case, nothing set on ctx.response, handled inline.
    if ctx._response is None:
        response = ctx._response = to_response(value, status)
        return response
    return finalize(ctx, value, status)


def make_core(plan: HandlerPlan, status: int) -> Runner:
    """The innermost runner: call the handler and convert what it returns.

    Async handlers of the common shapes are called directly (one coroutine frame less per
    request); everything else goes through the plan's solver, which produces the response
    before closing generator dependencies.  With a response model, a value of exactly the
    model's type is passed through; anything else is shaped into the model first.
    """
    if plan.shape is not None:
        return _make_shaped_core(plan, status)
    handler = plan.handler
    kind = plan.kind if plan.is_async else "general"
    if kind == "none":

        async def core_none(ctx: Context) -> Response:
            return _respond(ctx, await handler(), status)

        return core_none
    if kind == "ctx":

        async def core_ctx(ctx: Context) -> Response:
            return _respond(ctx, await handler(ctx), status)

        return core_ctx
    if kind == "path":

        async def core_path(ctx: Context) -> Response:
            return _respond(ctx, await handler(**ctx.params), status)

        return core_path
    if kind == "body":
        reader = plan.body_reader
        assert reader is not None

        async def core_body(ctx: Context) -> Response:
            return _respond(ctx, await handler(await reader(ctx)), status)

        return core_body
    if kind == "ctx+path":

        async def core_ctx_path(ctx: Context) -> Response:
            return _respond(ctx, await handler(ctx, **ctx.params), status)

        return core_ctx_path
    solve = plan.solve

    def finish(ctx: Context, value: Any) -> Response:
        return _respond(ctx, value, status)

    async def core(ctx: Context) -> Response:
        return await solve(ctx, finish)  # type: ignore[no-any-return]

    return core


def _make_shaped_core(plan: HandlerPlan, status: int) -> Runner:
    """:func:`make_core` for handlers with a response model."""
    handler = plan.handler
    kind = plan.kind if plan.is_async else "general"
    shape = plan.shape
    exact = plan.exact_response
    assert shape is not None
    if kind == "body":
        reader = plan.body_reader
        assert reader is not None

        async def core_body_shaped(ctx: Context) -> Response:
            value = await handler(await reader(ctx))
            if type(value) is not exact:
                value = shape(value)
            return _respond(ctx, value, status)

        return core_body_shaped
    if kind == "path":

        async def core_path_shaped(ctx: Context) -> Response:
            value = await handler(**ctx.params)
            if type(value) is not exact:
                value = shape(value)
            return _respond(ctx, value, status)

        return core_path_shaped
    if kind == "ctx+path":

        async def core_ctx_path_shaped(ctx: Context) -> Response:
            value = await handler(ctx, **ctx.params)
            if type(value) is not exact:
                value = shape(value)
            return _respond(ctx, value, status)

        return core_ctx_path_shaped
    solve = plan.solve

    def finish_shaped(ctx: Context, value: Any) -> Response:
        if type(value) is not exact:
            value = shape(value)
        return _respond(ctx, value, status)

    async def core_shaped(ctx: Context) -> Response:
        return await solve(ctx, finish_shaped)  # type: ignore[no-any-return]

    return core_shaped
