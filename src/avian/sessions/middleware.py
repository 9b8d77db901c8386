"""The session middleware: gives every request ``ctx.session`` and saves it afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import Context
from ..errors import ConfigurationError
from .backend import SessionBackend
from .data import SessionData
from .server import Session

if TYPE_CHECKING:
    from ..http.response import Response
    from ..routing.router import CallNext, Router

__all__ = ["SessionMiddleware", "session_of", "sessions"]


class SessionMiddleware:
    """``app.use(SessionMiddleware(Session(store=...)))``: puts a lazy
    :class:`SessionData` on ``ctx.session`` and commits it when the response is ready.

    Creating ``ctx.session`` costs no I/O; the backend is read only if the request calls
    ``await ctx.session.load()`` (or anything that loads it: flash messages, CSRF).
    """

    __slots__ = ("_bound", "backend")

    def __init__(self, backend: SessionBackend | None = None) -> None:
        if backend is not None and not isinstance(backend, SessionBackend):
            raise ConfigurationError(
                f"SessionMiddleware takes a Session or CookieSession, got {backend!r}"
            )
        self.backend: SessionBackend = backend if backend is not None else Session()
        self._bound = False

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        if not self._bound:  # the backend follows the app's store (App(redis_url=...))
            self.backend.bind_app(ctx.app)
            self._bound = True
        session = SessionData(self.backend, ctx)
        ctx.__dict__["session"] = session
        response = await call_next()
        # A commit error (data that is not JSON, a cookie over 4 KB) propagates: the app
        # answers 500 and logs it, rather than silently losing what the handler saved.
        await session.commit(response)
        return response

    def __repr__(self) -> str:
        return f"SessionMiddleware({self.backend!r})"


def sessions(app: Router, backend: SessionBackend | None = None) -> SessionBackend:
    """Install sessions on an app (or router/group) and return the backend:
    ``sessions(app)`` for server-side sessions in the app's store (memory, or Redis with
    ``App(redis_url=...)``), ``sessions(app, CookieSession(key))`` for signed cookies."""
    middleware = SessionMiddleware(backend)
    app.use(middleware)
    from ..app import App

    if isinstance(app, App):  # not a group: the backend can follow the app's store now
        middleware.backend.bind_app(app)
    return middleware.backend


def session_of(ctx: Context) -> SessionData:
    """``ctx.session``, typed, or a clear error when no session middleware is installed."""
    session = ctx.__dict__.get("session")
    if not isinstance(session, SessionData):
        raise ConfigurationError(
            "this request has no session: install app.use(SessionMiddleware(Session())) "
            "(or avian.sessions.sessions(app)) before using ctx.session"
        )
    return session
