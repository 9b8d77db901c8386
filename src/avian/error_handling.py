"""Turning exceptions into responses, and reporting the ones nobody handled.

Handlers are looked up by the status of an :class:`HTTPError`, then by the exception's
classes from most to least specific; an exception that is not an ``HTTPError`` falls back to
a handler registered for 500.  Unhandled errors are logged and passed to every ``on_error``
hook; their response never carries internals (debug mode adds the traceback).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ClientDisconnect, ConfigurationError, HTTPError
from .http.problem import problem_response
from .http.response import Response
from .pipeline import finalize

if TYPE_CHECKING:
    from logging import Logger

    from .app import App
    from .context import Context
    from .llm.errors import LLMErrorMessages

__all__ = ["ErrorHandling", "ErrorHook", "ExceptionHandler", "avian_logger", "pending_status"]


def avian_logger() -> Logger:
    """The ``avian`` logger; ``logging`` loads on the first report, not at import."""
    import logging

    return logging.getLogger("avian")


ExceptionHandler = Callable[["Context", Exception], Any]
ErrorHook = Callable[[BaseException, "Context | None"], Any]


def pending_status(ctx: Context, status: int) -> None:
    """Give a blank pending ``ctx.response`` the error's status before a handler fills it."""
    pending = ctx._response
    if pending is not None and not ctx.dispatched:
        pending.status = status


class ErrorHandling:
    """One app's exception handlers and ``on_error`` hooks."""

    def __init__(self, app: App, on_error: list[ErrorHook]) -> None:
        self.app = app
        self.handlers: dict[int | type[BaseException], ExceptionHandler] = {}
        self.on_error = on_error
        self._cache: dict[type, ExceptionHandler | None] = {}
        self.llm: LLMErrorMessages | None = None
        """Set by ``app.with_llm_errors()``: messages for errors that carry none."""

    @staticmethod
    def check_key(key: object) -> None:
        """A handler key is a 4xx/5xx status or an exception class."""
        if not (
            (isinstance(key, int) and not isinstance(key, bool) and 400 <= key <= 599)
            or (isinstance(key, type) and issubclass(key, BaseException))
        ):
            raise ConfigurationError(
                f"exception_handler key must be a 4xx/5xx status or an exception class: {key!r}"
            )

    def add(self, key: int | type[BaseException], handler: ExceptionHandler) -> None:
        self.check_key(key)
        self.handlers[key] = handler
        self._cache.clear()

    def find(self, exc: Exception) -> ExceptionHandler | None:
        handlers = self.handlers
        if not handlers:
            return None
        if isinstance(exc, HTTPError):
            found = handlers.get(exc.status)
            if found is not None:
                return found
        cls = type(exc)
        if cls in self._cache:
            return self._cache[cls]
        result = None
        for klass in cls.__mro__:
            if klass in handlers:
                result = handlers[klass]
                break
        if result is None and not issubclass(cls, HTTPError):
            result = handlers.get(500)  # an unhandled error becomes a 500
        self._cache[cls] = result
        return result

    async def handle(self, ctx: Context, exc: Exception) -> Response:
        """Turn an exception into a response; unhandled ones are reported and become 500s."""
        if isinstance(exc, ClientDisconnect):
            raise exc
        ctx.error = exc
        handler = self.find(exc)
        if handler is not None:
            status = exc.status if isinstance(exc, HTTPError) else 500
            if handler is self.handlers.get(500) and not isinstance(exc, HTTPError):
                await self.report(exc, ctx)  # a custom 500 page; still unhandled
            try:
                pending_status(ctx, status)
                result = handler(ctx, exc)
                if inspect.isawaitable(result):
                    result = await result
                return finalize(ctx, result, status)
            except ClientDisconnect:
                raise
            except Exception as handler_exc:
                await self.report(handler_exc, ctx)
                return await self.safe_problem(ctx, HTTPError(500), handler_exc)
        llm = self.llm
        if isinstance(exc, HTTPError):
            inferred = await llm.infer(exc, ctx) if llm is not None else None
            return await self.safe_problem(ctx, inferred or exc, None)
        await self.report(exc, ctx)
        inferred = await llm.infer(exc, ctx) if llm is not None else None
        return await self.safe_problem(ctx, inferred or HTTPError(500), exc)

    async def safe_problem(
        self, ctx: Context, error: HTTPError, cause: BaseException | None
    ) -> Response:
        """The problem response, or a bare 500 if building it fails (unencodable details)."""
        try:
            return self.problem(ctx, error, cause)
        except Exception as exc:
            await self.report(exc, ctx)
            return self.problem(ctx, HTTPError(500), None)

    def problem(self, ctx: Context, error: HTTPError, cause: BaseException | None) -> Response:
        """problem+json (or HTML for browsers) for ``error``, keeping cookies already set."""
        tb = None
        if self.app.debug and cause is not None:
            import traceback

            tb = "".join(traceback.format_exception(cause))
        accept = None
        for k, v in ctx.scope.get("headers", ()):
            if k == b"accept":
                accept = v.decode("latin-1")
                break
        response = problem_response(
            error, instance=ctx.scope.get("path"), accept=accept, traceback=tb
        )
        pending = ctx._response
        if pending is not None and pending is not response:
            # Keep cookies set before the error (e.g. a session cookie), not the headers of
            # a half-built body.
            for k, v in pending.raw_headers:
                if k == b"set-cookie":
                    response.raw_headers.append((k, v))
        ctx._response = response
        return response

    async def report(self, error: BaseException, ctx: Context | None = None) -> None:
        """Log an unhandled error and pass it to every ``on_error`` hook (errors inside
        those hooks are logged, never raised)."""
        if self.app.log_exceptions:
            where = (
                f" during {ctx.scope.get('method', 'WS')} {ctx.scope.get('path')}" if ctx else ""
            )
            avian_logger().error("unhandled error%s", where, exc_info=error)
        for hook in self.on_error:
            try:
                result = hook(error, ctx)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                avian_logger().exception("on_error hook %r failed", hook)
