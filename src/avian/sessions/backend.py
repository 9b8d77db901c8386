"""What every session backend shares: cookie settings, timeouts, records and errors.

A backend turns the session cookie a client sent into a :class:`SessionRecord` and back.
:class:`~avian.sessions.Session` keeps records in a :class:`~avian.stores.Store` and puts
only a random id in the cookie; :class:`~avian.sessions.CookieSession` puts the whole
record, signed, in the cookie.  The middleware and ``ctx.session`` talk to both through
the three abstract methods below, so they behave the same with either.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from ..context import Context
from ..errors import AvianError, ConfigurationError
from ..http.cookies import SameSite, build_set_cookie

if TYPE_CHECKING:
    from ..http.request import Request
    from ..http.response import Response

__all__ = [
    "DAY",
    "HOUR",
    "MAX_COOKIE_SIZE",
    "SessionBackend",
    "SessionError",
    "SessionNotLoaded",
    "SessionOptions",
    "SessionRecord",
]

HOUR = 3600.0
DAY = 24 * HOUR

MAX_COOKIE_SIZE = 4096
"""Browsers drop a cookie whose name and value together exceed 4096 bytes."""

_ID_BYTES = 32
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


class SessionError(AvianError):
    """A session was misused or could not be saved (values that are not JSON, a cookie
    too large...)."""


class SessionNotLoaded(SessionError):
    """``ctx.session`` was read before ``await ctx.session.load()``."""


@dataclass(slots=True)
class SessionRecord:
    """One session as a backend stores it: its id, its data and two timestamps.

    ``created_at`` bounds the absolute lifetime, ``last_seen`` the idle time; both are
    seconds from the backend's clock.
    """

    id: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    last_seen: float = 0.0


def new_session_id() -> str:
    """A fresh, unguessable session id (256 bits, URL-safe, 43 characters)."""
    return secrets.token_urlsafe(_ID_BYTES)


def check_json(data: Mapping[str, Any]) -> None:
    """Raise :class:`SessionError` unless ``data`` is plain JSON.

    Sessions hold JSON only (dicts with string keys, lists, strings, finite numbers, bools,
    ``None``; tuples come back as lists) so that the memory store, a Redis store and a
    signed cookie all give back exactly what was put in.
    """
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        where, value = pending.pop()
        if value is None or isinstance(value, str | bool | int):
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                raise SessionError(f"session value {where or 'data'} is {value}, not JSON")
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise SessionError(
                        f"session keys must be strings: {where or 'data'} has key {key!r}"
                    )
                pending.append((f"{where}[{key!r}]", item))
            continue
        if isinstance(value, list | tuple):
            pending.extend((f"{where}[{i}]", item) for i, item in enumerate(value))
            continue
        raise SessionError(
            f"session values must be JSON-serialisable: {where or 'data'} is a "
            f"{type(value).__name__}"
        )


def _check_seconds(name: str, value: float | None, *, allow_none: bool) -> None:
    if value is None:
        if not allow_none:
            raise ConfigurationError(f"{name} is required")
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {value!r}")


class SessionOptions(TypedDict, total=False):
    """The options every session backend takes (defaults in :class:`SessionBackend`)."""

    ttl: float | None
    idle_timeout: float | None
    absolute_timeout: float
    secure: bool | None
    same_site: SameSite
    http_only: bool
    domain: str | None
    path: str
    header_name: str | None
    clock: Callable[[], float]


class SessionBackend(ABC):
    """Cookie settings, timeouts and the clock, shared by every session backend.

    Subclasses implement :meth:`read`, :meth:`write` and :meth:`discard`.
    """

    def __init__(
        self,
        *,
        cookie_name: str,
        ttl: float | None = 14 * DAY,
        idle_timeout: float | None = 2 * HOUR,
        absolute_timeout: float = 14 * DAY,
        secure: bool | None = None,
        same_site: SameSite = "lax",
        http_only: bool = True,
        domain: str | None = None,
        path: str = "/",
        header_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _check_seconds("ttl", ttl, allow_none=True)
        _check_seconds("idle_timeout", idle_timeout, allow_none=True)
        _check_seconds("absolute_timeout", absolute_timeout, allow_none=False)
        if str(same_site).lower() == "none" and secure is not True:
            raise ConfigurationError(
                "same_site='none' needs secure=True (browsers reject such cookies otherwise)"
            )
        try:  # fail at startup, not on the first request, when the cookie settings are bad
            build_set_cookie(
                cookie_name, "x", path=path, domain=domain, secure=True, same_site=same_site
            )
        except ValueError as exc:
            raise ConfigurationError(f"bad session cookie settings: {exc}") from None
        if header_name is not None and not _HEADER_NAME_RE.fullmatch(header_name):
            raise ConfigurationError(f"invalid session header name {header_name!r}")
        self.cookie_name = cookie_name
        self.ttl = ttl
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self.secure = secure
        self.same_site: SameSite = same_site
        self.http_only = http_only
        self.domain = domain
        self.path = path
        self.header_name = header_name.lower() if header_name else None
        self.clock = clock
        # Last-seen times are refreshed at most this often, so an active user does not
        # cost one write per request: a tenth of the idle timeout, at most a minute.
        self.touch_interval = min(idle_timeout / 10, 60.0) if idle_timeout else None

    # --- what a backend implements ----------------------------------------------------------

    @abstractmethod
    async def read(self, cookie_value: str) -> SessionRecord | None:
        """The live session a cookie value points to, or ``None`` (unknown, forged,
        expired).  Never raises for bad input."""

    @abstractmethod
    async def write(self, record: SessionRecord) -> str:
        """Persist ``record`` and return the cookie value that refers to it."""

    @abstractmethod
    async def discard(self, session_id: str) -> None:
        """Forget a session for good (logout, rotation).  Stateless backends cannot."""

    def bind_app(self, app: Any) -> None:
        """Called with the app serving a request; backends that keep data in the app's
        store (``app.store``) start following it; the others ignore it."""
        return None

    resend_on_touch = False
    """True when refreshing ``last_seen`` changes the cookie itself (signed cookies)."""

    # --- timeouts ---------------------------------------------------------------------------

    def is_expired(self, created_at: float, last_seen: float, now: float) -> bool:
        """True when the absolute or the idle timeout has passed."""
        if now - created_at >= self.absolute_timeout:
            return True
        idle = self.idle_timeout
        return idle is not None and now - last_seen >= idle

    def remaining(self, record: SessionRecord, now: float) -> float:
        """Seconds until the record expires if nobody touches it again."""
        left = self.absolute_timeout - (now - record.created_at)
        idle = self.idle_timeout
        if idle is not None:
            left = min(left, idle - (now - record.last_seen))
        return left

    def needs_touch(self, record: SessionRecord, now: float) -> bool:
        """True when ``last_seen`` is old enough to be worth refreshing."""
        interval = self.touch_interval
        return interval is not None and now - record.last_seen >= interval

    # --- the cookie -------------------------------------------------------------------------

    def cookie_max_age(self, record: SessionRecord | None, now: float) -> int | None:
        """``Max-Age`` for the cookie: ``ttl``, never beyond the session's absolute end."""
        ttl = self.ttl
        if ttl is None:
            return None
        if record is not None:
            ttl = min(ttl, self.absolute_timeout - (now - record.created_at))
        return max(0, math.ceil(ttl))

    def secure_for(self, request: Request | None) -> bool:
        """``Secure`` when configured, or automatically when the request came over https."""
        if self.secure is not None:
            return self.secure
        return request is not None and request.is_secure

    def send_cookie(
        self,
        response: Response,
        value: str,
        *,
        max_age: int | None,
        secure: bool,
        http_only: bool | None = None,
    ) -> None:
        """Add the ``Set-Cookie`` header for the session cookie to ``response``."""
        size = len(self.cookie_name) + len(value)
        if size > MAX_COOKIE_SIZE:
            raise SessionError(
                f"the session cookie {self.cookie_name!r} would be {size} bytes, over the "
                f"{MAX_COOKIE_SIZE}-byte limit browsers enforce: keep less in the session, or "
                "use server-side sessions (Session(store=...)), whose cookie holds only an id"
            )
        response.cookies.set(
            self.cookie_name,
            value,
            max_age=max_age,
            path=self.path,
            domain=self.domain,
            secure=secure,
            http_only=self.http_only if http_only is None else http_only,
            same_site=self.same_site,
        )

    def expire_cookie(self, response: Response, *, secure: bool) -> None:
        """Tell the browser to drop the session cookie."""
        response.cookies.delete(
            self.cookie_name,
            path=self.path,
            domain=self.domain,
            secure=secure,
            http_only=self.http_only,
            same_site=self.same_site,
        )

    def incoming(self, source: Any) -> str | None:
        """The session token a context, request or websocket carries (the cookie, or the
        ``header_name`` header), or ``None``."""
        request = source.request if isinstance(source, Context) else source
        if self.header_name is not None:
            headers = getattr(request, "headers", None)
            value = headers.get(self.header_name) if headers is not None else None
        else:
            cookies = getattr(request, "cookies", None)
            value = cookies.get(self.cookie_name) if cookies is not None else None
        return value if isinstance(value, str) and value else None

    def send(self, response: Response, value: str, *, max_age: int | None, secure: bool) -> None:
        """Give the client its session token: the cookie, or the ``header_name`` header."""
        if self.header_name is not None:
            response.headers.set(self.header_name, value)
        else:
            self.send_cookie(response, value, max_age=max_age, secure=secure)

    def expire(self, response: Response, *, secure: bool) -> None:
        """Tell the client to drop its token (header mode: an empty header)."""
        if self.header_name is not None:
            response.headers.set(self.header_name, "")
        else:
            self.expire_cookie(response, secure=secure)

    @property
    def vary(self) -> str:
        """The request header a session-dependent response varies on."""
        return self.header_name or "cookie"


def split_target(target: Context | Response) -> tuple[Response, Request | None]:
    """The response to write to and, when ``target`` is a context, its request."""
    if isinstance(target, Context):
        return target.response, target.request
    return target, None
