"""Server-side sessions: data in a :class:`~avian.stores.Store`, a random id in the cookie.

This is Harpia's ``Session`` (SES-01..03): ``create``, ``from_request``, ``update``,
``delete``, ``set_cookie`` and the ``SessionManager`` names ``create_session``,
``get_session``, ``delete_session``.  The same object is what
:class:`~avian.sessions.SessionMiddleware` uses to give every request ``ctx.session``.

Only the Store protocol's ``get``/``set(ttl=)``/``delete`` are used and records are plain
JSON-shaped dicts, so a Redis store plugs in unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Unpack

from ..context import Context
from ..http.response import Response
from ..stores import Store
from ..stores.selection import FeatureStore, UsesFeatureStore
from .backend import (
    SessionBackend,
    SessionOptions,
    SessionRecord,
    check_json,
    new_session_id,
    split_target,
)

__all__ = ["Session", "SessionManager"]

# What new_session_id() produces: 43 URL-safe characters.  Anything else in the cookie is
# garbage and is dropped without asking the store.
_ID_RE = re.compile(r"[A-Za-z0-9_-]{43}")


class Session(UsesFeatureStore, SessionBackend):
    """Server-side sessions kept in ``store``; by default a private memory store, or the
    app's shared store (``app.store``, under ``key_prefix``) when the app runs with
    ``App(redis_url=...)`` or ``app.store`` was assigned, learnt from the first request.
    While that store is down, loading a session raises
    :class:`~avian.stores.StoreUnavailable` (a 503).

    ::

        session = Session(store=MemoryStore(), idle_timeout=30 * 60)
        app.use(SessionMiddleware(session))

    ``ttl`` is the cookie's ``Max-Age`` (``None``: a browser-session cookie);
    ``absolute_timeout`` and ``idle_timeout`` are enforced on the server from timestamps in
    the record; ``secure=None`` sets ``Secure`` whenever the request came over https.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        cookie_name: str = "sid",
        key_prefix: str = "session:",
        **options: Unpack[SessionOptions],
    ) -> None:
        super().__init__(cookie_name=cookie_name, **options)
        self._store = FeatureStore(store, "Session")
        self.key_prefix = key_prefix

    def key(self, session_id: str) -> str:
        """The store key of a session id (``session:<id>``)."""
        return self.key_prefix + session_id

    # --- SessionBackend ---------------------------------------------------------------------

    async def read(self, cookie_value: str) -> SessionRecord | None:
        if not _ID_RE.fullmatch(cookie_value):
            return None
        return await self._load(cookie_value)

    async def write(self, record: SessionRecord) -> str:
        # The store forgets the record when it would expire anyway; reads still check the
        # timestamps, so the one-second floor (a TTL must be positive) changes nothing.
        ttl = self.remaining(record, record.last_seen)
        await self.store.set(
            self.key(record.id),
            {"data": record.data, "created": record.created_at, "seen": record.last_seen},
            ttl=max(ttl, 1.0),
        )
        return record.id

    async def discard(self, session_id: str) -> None:
        if _ID_RE.fullmatch(session_id):
            await self.store.delete(self.key(session_id))

    async def _load(self, session_id: str) -> SessionRecord | None:
        """The live record of an id; an expired one is deleted on the way."""
        raw = await self.store.get(self.key(session_id))
        if not isinstance(raw, dict):
            return None
        data, created, seen = raw.get("data"), raw.get("created"), raw.get("seen")
        if (
            not isinstance(data, dict)
            or not isinstance(created, int | float)
            or not isinstance(seen, int | float)
        ):
            return None
        if self.is_expired(created, seen, self.clock()):
            await self.store.delete(self.key(session_id))
            return None
        return SessionRecord(session_id, data, float(created), float(seen))

    # --- Harpia's API -----------------------------------------------------------------------

    async def create(self, data: Mapping[str, Any] | None = None) -> str:
        """Store a new session holding ``data`` and return its id (send it with
        :meth:`set_cookie`)."""
        record_data = dict(data or {})
        check_json(record_data)
        now = self.clock()
        return await self.write(SessionRecord(new_session_id(), record_data, now, now))

    async def get(self, session_id: str) -> dict[str, Any] | None:
        """The data of a live session, or ``None``."""
        if not isinstance(session_id, str) or not _ID_RE.fullmatch(session_id):
            return None
        record = await self._load(session_id)
        return None if record is None else record.data

    async def from_request(self, source: Any) -> SessionRecord | None:
        """The session whose id the request's cookie holds (``source`` is a context, a
        request or a websocket), or ``None`` when there is no live one."""
        app = getattr(source, "app", None)
        if app is not None:
            self.bind_app(app)
        value = self.incoming(source)
        return None if value is None else await self.read(value)

    async def update(self, session_id: str, data: Mapping[str, Any]) -> bool:
        """Merge ``data`` into a live session (Harpia's ``{...old, ...data}``); False when
        the session does not exist or has expired."""
        if not isinstance(session_id, str) or not _ID_RE.fullmatch(session_id):
            return False
        record = await self._load(session_id)
        if record is None:
            return False
        merged = {**record.data, **data}
        check_json(merged)
        record.data = merged
        record.last_seen = self.clock()
        await self.write(record)
        return True

    async def delete(self, session_id: str, response: Context | Response | None = None) -> None:
        """Delete a session and, given a response (or ``ctx``), expire its cookie."""
        await self.discard(session_id)
        if response is not None:
            target, request = split_target(response)
            self.expire_cookie(target, secure=self.secure_for(request))

    def set_cookie(
        self,
        response: Context | Response,
        session_id: str,
        *,
        http_only: bool | None = None,
        secure: bool | None = None,
        max_age: int | None = None,
    ) -> None:
        """Send the session cookie.  Unset options come from the constructor: ``Max-Age``
        is ``ttl``; ``Secure`` is automatic for https requests when given ``ctx``."""
        target, request = split_target(response)
        self.send_cookie(
            target,
            session_id,
            max_age=max_age if max_age is not None else self.cookie_max_age(None, 0.0),
            secure=self.secure_for(request) if secure is None else secure,
            http_only=http_only,
        )

    # SessionManager's names (SES-03).
    create_session = create
    get_session = get

    async def delete_session(self, session_id: str) -> None:
        """Delete a session from the store (no cookie involved)."""
        await self.discard(session_id)

    def __repr__(self) -> str:
        return f"Session(store={self.store!r}, cookie_name={self.cookie_name!r})"


SessionManager = Session
"""Harpia's ``SessionManager``: the same class under its other name."""
