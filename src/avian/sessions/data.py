"""``ctx.session``: one request's view of its session, loaded lazily, saved only if changed.

The object is created with no I/O.  ``await ctx.session.load()`` reads the cookie and, for
server-side sessions, the store; a request that never loads its session never touches the
store.  After loading it is a plain mutable mapping.  At the end of the request the
middleware calls :meth:`SessionData.commit`, which writes the session and sends the cookie
only when something changed (or a new id was asked for).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Self

from .backend import (
    SessionBackend,
    SessionNotLoaded,
    SessionRecord,
    check_json,
    new_session_id,
)

if TYPE_CHECKING:
    from ..context import Context
    from ..http.response import Response

__all__ = ["SessionData"]

_NOT_LOADED = (
    "ctx.session is not loaded: call `await ctx.session.load()` first (sessions load "
    "lazily, so requests that never use them never touch the session store)"
)


class SessionData(MutableMapping[str, Any]):
    """A dict-like session with an id, created per request by the session middleware.

    Read and write it like a dict after ``await ctx.session.load()``.  ``id`` is ``None``
    until the session exists on the backend (or :meth:`ensure` / :meth:`rotate` gave it
    one); ``is_new`` is True when no live session came with the request; ``modified``
    tells whether it will be saved (set it to True after mutating a nested value).
    """

    __slots__ = (
        "_backend",
        "_created",
        "_ctx",
        "_data",
        "_expire_cookie",
        "_id",
        "_loaded",
        "_modified",
        "_must_save",
        "_record",
    )

    def __init__(self, backend: SessionBackend, ctx: Context) -> None:
        self._backend = backend
        self._ctx = ctx
        self._loaded = False
        self._data: dict[str, Any] = {}
        self._record: SessionRecord | None = None
        """What the backend holds for this session, ``None`` if nothing (yet)."""
        self._id: str | None = None
        self._created: float | None = None
        self._modified = False
        self._must_save = False
        self._expire_cookie = False

    # --- loading ----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` ran (never touches the backend)."""
        return self._loaded

    async def load(self) -> Self:
        """Read the session this request's cookie points to; a missing, unknown, forged or
        expired cookie gives an empty new session.  Safe to call many times."""
        if self._loaded:
            return self
        backend = self._backend
        value = backend.incoming(self._ctx)
        record = await backend.read(value) if value is not None else None
        if not self._loaded:  # another task of this request may have loaded meanwhile
            self._loaded = True
            if record is not None:
                self._record = record
                self._id = record.id
                self._created = record.created_at
                self._data = dict(record.data)
        return self

    def _live(self) -> dict[str, Any]:
        if not self._loaded:
            raise SessionNotLoaded(_NOT_LOADED)
        return self._data

    # --- the mapping ------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._live()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._live()[key] = value
        self._modified = True

    def __delitem__(self, key: str) -> None:
        del self._live()[key]
        self._modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._live())

    def __len__(self) -> int:
        return len(self._live())

    def __contains__(self, key: object) -> bool:
        return key in self._live()

    def get(self, key: str, default: Any = None) -> Any:
        return self._live().get(key, default)

    def clear(self) -> None:
        """Empty the session (it keeps its id; use :meth:`invalidate` to log out)."""
        data = self._live()
        if data:
            data.clear()
            self._modified = True

    def to_dict(self) -> dict[str, Any]:
        """A shallow copy of the data."""
        return dict(self._live())

    # --- state ------------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The session id, ``None`` while the session does not exist yet.

        It stays the same for the session's whole life, except across :meth:`rotate`.
        """
        self._live()
        return self._id

    @property
    def is_new(self) -> bool:
        """True when the request brought no live session."""
        self._live()
        return self._record is None

    @property
    def modified(self) -> bool:
        """True when the session will be written at the end of the request."""
        return self._modified or self._must_save

    @modified.setter
    def modified(self, value: bool) -> None:
        self._live()
        self._modified = bool(value)

    # --- lifecycle --------------------------------------------------------------------------

    async def ensure(self) -> str:
        """Make sure the session has an id and will be saved, and return the id.

        For features that key data on the session (CSRF tokens): the id is fixed from
        now on and the session exists once this request ends, even if it holds nothing.
        """
        await self.load()
        if self._id is None:
            self._id = new_session_id()
            self._created = self._backend.clock()
            self._must_save = True
        return self._id

    async def rotate(self) -> str:
        """Give the session a new id, keeping its data, and delete the old one.

        Call it when privileges change (at login) so an id an attacker planted or saw
        before is worthless afterwards (session fixation).  Returns the new id.
        """
        await self.load()
        old = self._record
        if old is not None:
            await self._backend.discard(old.id)
            self._record = None
        self._id = new_session_id()
        self._created = self._backend.clock()
        self._must_save = True
        return self._id

    async def invalidate(self) -> None:
        """Log out: delete the session on the backend, empty it, expire the cookie.

        Writing to the session afterwards in the same request starts a fresh one with a
        new id (a flash message after logout works).
        """
        await self.load()
        old = self._record
        if old is not None:
            await self._backend.discard(old.id)
        self._record = None
        self._id = None
        self._created = None
        self._data = {}
        self._modified = False
        self._must_save = False
        self._expire_cookie = self._backend.incoming(self._ctx) is not None

    # --- saving -----------------------------------------------------------------------------

    async def commit(self, response: Response) -> None:
        """Save what changed and set (or expire) the cookie on ``response``.

        Called by the middleware at the end of the request.  Untouched sessions cost
        nothing; a new session that ends up empty is not created.
        """
        if not self._loaded:
            return
        backend = self._backend
        _add_vary(response, backend.vary)
        now = backend.clock()
        if self._modified or self._must_save:
            await self._save(response, now)
        elif self._expire_cookie:
            self._expire(response)
        elif self._record is not None and backend.needs_touch(self._record, now):
            # Only read, but the idle timer needs a refresh (sliding idle timeout).
            record = self._record
            record.last_seen = now
            value = await backend.write(record)
            if backend.resend_on_touch:
                self._send(response, value, record, now)

    async def _save(self, response: Response, now: float) -> None:
        if self._id is None:
            if not self._data:  # a new session that holds nothing is not worth creating
                if self._expire_cookie:
                    self._expire(response)
                return
            self._id = new_session_id()
        check_json(self._data)
        created = self._created if self._created is not None else now
        record = SessionRecord(self._id, self._data, created, now)
        value = await self._backend.write(record)
        self._record = record
        self._modified = self._must_save = False
        self._send(response, value, record, now)

    def _send(self, response: Response, value: str, record: SessionRecord, now: float) -> None:
        backend = self._backend
        backend.send(
            response,
            value,
            max_age=backend.cookie_max_age(record, now),
            secure=backend.secure_for(self._ctx.request),
        )

    def _expire(self, response: Response) -> None:
        self._backend.expire(response, secure=self._backend.secure_for(self._ctx.request))

    def __repr__(self) -> str:
        if not self._loaded:
            return "<SessionData (not loaded)>"
        return f"<SessionData id={self._id!r} keys={sorted(self._data)!r}>"


def _add_vary(response: Response, name: str) -> None:
    """A response built from the session depends on the cookie (or session header): say
    so, so no shared cache hands one user's page to another."""
    headers = response.headers
    for value in headers.get_all("vary"):
        for item in value.split(","):
            if item.strip().lower() in (name, "*"):
                return
    headers.add("vary", "Cookie" if name == "cookie" else name)
