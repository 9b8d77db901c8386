"""Sessions: server-side (:class:`Session`, data in a store) or signed cookies
(:class:`CookieSession`), both giving each request a lazy ``ctx.session``.

::

    from avian.sessions import Session, SessionMiddleware

    app.use(SessionMiddleware(Session()))

    @app.post("/login")
    async def login(ctx):
        session = await ctx.session.load()
        await session.rotate()          # new id at login: fixation defence
        session["user_id"] = 42

See ``docs/sessions.md``.
"""

from .backend import SessionBackend, SessionError, SessionNotLoaded, SessionRecord
from .data import SessionData
from .middleware import SessionMiddleware, session_of, sessions
from .server import Session, SessionManager
from .signed import CookieSession

__all__ = [
    "CookieSession",
    "Session",
    "SessionBackend",
    "SessionData",
    "SessionError",
    "SessionManager",
    "SessionMiddleware",
    "SessionNotLoaded",
    "SessionRecord",
    "session_of",
    "sessions",
]
