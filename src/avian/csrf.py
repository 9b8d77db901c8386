"""Cross-site request forgery protection: the Harpia token service and the middleware.

:class:`CSRF` keeps one random token per session in a :class:`~avian.stores.Store`
(``generate`` / ``check`` / ``delete``, as in Harpia).  :class:`CSRFMiddleware` protects
unsafe methods: a request that carries ambient credentials (cookies, browser-cached HTTP
auth) must send the token back in a header or, for HTML forms, in a form field, and its
``Origin``/``Referer`` must be this site or a trusted one.  Tokens are bound to the session
the sessions middleware exposes as ``ctx.session``; ``double_submit=True`` replaces the
store with an HMAC-signed cookie.  See ``docs/csrf.md``.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import inspect
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import urlsplit

from markupsafe import Markup

from .errors import ConfigurationError, HTTPError
from .http.request import Request, is_json_media_type
from .routing.router import matches_filter
from .stores import MemoryStore, Store
from .stores.selection import FeatureStore, UsesFeatureStore

if TYPE_CHECKING:
    from .context import Context
    from .http.cookies import SameSite
    from .http.response import Response

__all__ = [
    "CSRF",
    "CSRFError",
    "CSRFMiddleware",
    "csrf_exempt",
    "csrf_field",
    "csrf_token",
]

_MAX_TOKEN_LENGTH: Final = 256
"""Submitted tokens longer than this are refused before any comparison or store lookup."""

_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Authorization schemes a browser attaches on its own once the user has logged in: they are
# ambient credentials exactly like cookies.  Bearer tokens are not (a page must set them).
_AMBIENT_AUTH: Final = frozenset({"basic", "digest", "negotiate", "ntlm"})
_EAGER_METHODS: Final = frozenset({"GET", "HEAD"})
_STATE_KEY: Final = "_avian_csrf"
_EXEMPT_ATTR: Final = "__avian_csrf_exempt__"
_HOST_RE: Final = re.compile(r"^[a-z0-9.\-_]+$|^\[[0-9a-f:.]+\]$")
_TRUSTED_RE: Final = re.compile(r"^https?://[a-z0-9.\-_*\[\]:]+$")


class CSRFError(HTTPError):
    """403 ``CSRF_FAILED``: an unsafe request without a valid token or from a foreign origin.

    ``reason`` says which check failed (also in the problem's ``details``); the expected
    token is never part of the error.  Register ``app.exception_handler(CSRFError)`` to
    answer with your own page.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(403, detail, code="CSRF_FAILED", details={"reason": reason})
        self.reason = reason


def _usable(token: object) -> bool:
    """A submitted token worth comparing: a short ASCII string (anything else can't match)."""
    return isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN_LENGTH and token.isascii()


def _same(a: str, b: str) -> bool:
    """Constant-time equality for ASCII strings (``compare_digest`` rejects other text)."""
    return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))


# --- the token service (Harpia's CSRF class) ---------------------------------------------------


class CSRF(UsesFeatureStore):
    """Per-session CSRF tokens kept in a store, each valid for ``ttl`` seconds.

    ``store`` defaults to a private :class:`~avian.stores.MemoryStore`, or to the app's
    shared store (``app.store``, under ``prefix``) once a request has shown the app runs
    with ``App(redis_url=...)``, which every worker shares, or has ``app.store`` assigned.
    ``clock`` returns seconds since the epoch; expiry times are stored with the token, so every worker sharing the store must
    agree on it, which is why the default is ``time.time`` and not ``time.monotonic``.
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.time,
        prefix: str = "csrf:",
    ) -> None:
        if ttl <= 0:
            raise ConfigurationError("CSRF ttl must be a positive number of seconds")
        self.ttl = float(ttl)
        self.clock = clock
        self.prefix = prefix
        self._store = FeatureStore(store, "CSRF", lambda: MemoryStore(clock=clock))

    def _key(self, session_id: str) -> str:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError("a CSRF token needs a non-empty session id")
        return self.prefix + session_id

    async def _save(self, session_id: str, token: str) -> None:
        expires = self.clock() + self.ttl
        await self.store.set(self._key(session_id), {"token": token, "expires": expires}, self.ttl)

    async def _load(self, session_id: str) -> tuple[str, float] | None:
        """The stored (token, expiry) when it is still live."""
        value = await self.store.get(self._key(session_id))
        if not isinstance(value, dict):
            return None
        token, expires = value.get("token"), value.get("expires")
        if not isinstance(token, str) or not isinstance(expires, int | float):
            return None
        if expires <= self.clock():
            return None
        return token, float(expires)

    async def generate(self, session_id: str) -> str:
        """A new token for ``session_id``, replacing any token it had."""
        token = secrets.token_urlsafe(32)
        await self._save(session_id, token)
        return token

    async def check(self, session_id: str, token: str) -> bool:
        """True when ``token`` is the session's current token and has not expired."""
        if not session_id or not isinstance(session_id, str) or not _usable(token):
            return False
        stored = await self._load(session_id)
        return stored is not None and _usable(stored[0]) and _same(stored[0], token)

    async def token(self, session_id: str) -> str:
        """The session's live token, or a new one.

        Reusing it keeps forms open in other tabs valid.  Past half its lifetime the token
        is saved again with a fresh expiry, so it lasts while the user keeps browsing and
        a page view costs at most one store read (and now and then a write).
        """
        stored = await self._load(session_id)
        if stored is None:
            return await self.generate(session_id)
        token, expires = stored
        if expires - self.clock() < self.ttl / 2:
            await self._save(session_id, token)
        return token

    async def delete(self, session_id: str) -> None:
        """Forget the session's token (on logout, or after a one-time use)."""
        await self.store.delete(self._key(session_id))

    def __repr__(self) -> str:
        return f"CSRF(ttl={self.ttl}, store={self.store!r})"


# --- signed double-submit tokens ---------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class _Signer:
    """HMAC-SHA256 over ``nonce`` and the session id; the first key signs, all verify."""

    def __init__(self, secrets_: Sequence[str | bytes]) -> None:
        keys = []
        for secret in secrets_:
            raw = secret.encode() if isinstance(secret, str) else bytes(secret)
            if len(raw) < 16:
                raise ConfigurationError("CSRFMiddleware secret must be at least 16 bytes long")
            # A key of its own, so the same app secret can also sign sessions safely.
            keys.append(hmac.new(raw, b"avian.csrf.double-submit", hashlib.sha256).digest())
        if not keys:
            raise ConfigurationError("CSRFMiddleware needs at least one secret")
        self._keys = keys

    def _mac(self, key: bytes, nonce: str, session_id: str) -> str:
        message = nonce.encode("ascii") + b"|" + session_id.encode("utf-8", "surrogatepass")
        return _b64(hmac.new(key, message, hashlib.sha256).digest())

    def sign(self, session_id: str) -> str:
        nonce = secrets.token_urlsafe(32)
        return f"{nonce}.{self._mac(self._keys[0], nonce, session_id)}"

    def verify(self, token: str, session_id: str) -> bool:
        if not _usable(token):
            return False
        nonce, dot, mac = token.partition(".")
        if not dot or not nonce or not mac:
            return False
        # Every key is tried, so timing does not reveal which one matched.
        ok = False
        for key in self._keys:
            ok |= _same(self._mac(key, nonce, session_id), mac)
        return ok


# --- the middleware ----------------------------------------------------------------------------


_F = TypeVar("_F", bound=Callable[..., Any])


def csrf_exempt(handler: _F) -> _F:
    """Mark a route handler as exempt from CSRF checks (webhooks, token-authenticated APIs)."""
    setattr(handler, _EXEMPT_ATTR, True)
    return handler


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` in lower case with default ports dropped, or None if not a
    well-formed http(s) URL."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if not _HOST_RE.match(host):
        return None
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class _Exchange:
    """What the middleware knows about one request, kept on the context for the helpers."""

    __slots__ = ("cookie", "middleware", "token")

    def __init__(self, middleware: CSRFMiddleware) -> None:
        self.middleware = middleware
        self.token: str | None = None
        self.cookie: str | None = None
        """A double-submit token to send in ``Set-Cookie`` on the way out."""


class CSRFMiddleware:
    """Require a valid CSRF token on unsafe requests that carry ambient credentials.

    Install it after (inside) the sessions middleware, so ``ctx.session`` exists when it
    runs: ``app.use(SessionMiddleware(Session()), CSRFMiddleware())``.  Every option is documented in
    ``docs/csrf.md``.
    """

    def __init__(
        self,
        csrf: CSRF | None = None,
        *,
        field_name: str = "_csrf",
        header_name: str = "x-csrf-token",
        safe_methods: Iterable[str] = ("GET", "HEAD", "OPTIONS", "TRACE"),
        exempt: Iterable[str] = (),
        eager: bool = True,
        check_origin: bool = True,
        trusted_origins: Iterable[str] = (),
        require_for_cookieless: bool = False,
        allow_json_body: bool = False,
        double_submit: bool = False,
        secret: str | bytes | Sequence[str | bytes] | None = None,
        cookie_name: str = "csrftoken",
        cookie_path: str = "/",
        cookie_domain: str | None = None,
        cookie_secure: bool | None = None,
        cookie_same_site: SameSite = "strict",
        cookie_max_age: int | None = None,
    ) -> None:
        if not field_name or not header_name:
            raise ConfigurationError("CSRFMiddleware field_name and header_name can't be empty")
        self.csrf = csrf if csrf is not None else CSRF()
        self.field_name = field_name
        self.header_name = header_name.lower()
        self.safe_methods = frozenset(m.upper() for m in safe_methods)
        self.exempt = tuple(exempt)
        self.eager = eager
        self.check_origin = check_origin
        self.trusted_origins, self._trusted_globs = self._parse_trusted(trusted_origins)
        self.require_for_cookieless = require_for_cookieless
        self.allow_json_body = allow_json_body
        self.double_submit = double_submit
        self.cookie_name = cookie_name
        self.cookie_path = cookie_path
        self.cookie_domain = cookie_domain
        self.cookie_secure = cookie_secure
        self.cookie_same_site: SameSite = cookie_same_site
        self.cookie_max_age = cookie_max_age
        self._signer: _Signer | None = None
        if double_submit:
            if secret is None:
                raise ConfigurationError(
                    "CSRFMiddleware(double_submit=True) needs secret=...: a value shared by "
                    "every worker, e.g. from secrets.token_urlsafe(32), kept out of the code"
                )
            self._signer = _Signer([secret] if isinstance(secret, str | bytes) else secret)
            if cookie_name.startswith("__Host-") and (
                cookie_domain is not None or cookie_path != "/" or cookie_secure is False
            ):
                raise ConfigurationError(
                    "a __Host- cookie must be Secure, with path '/' and no domain"
                )
            if cookie_name.startswith("__Secure-") and cookie_secure is False:
                raise ConfigurationError("a __Secure- cookie must be Secure")
        self._exempt_routes: dict[object, bool] = {}
        self._bound = False

    @staticmethod
    def _parse_trusted(origins: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        """Exact origins (normalised like request origins) and ``*`` globs."""
        exact: set[str] = set()
        globs: list[str] = []
        for raw in origins:
            value = raw.strip().lower().rstrip("/")
            if value == "null":
                exact.add(value)
                continue
            if "*" in value and _TRUSTED_RE.match(value):
                globs.append(value)
                continue
            origin = _origin_of(value) if _TRUSTED_RE.match(value) else None
            if origin is None:
                raise ConfigurationError(
                    f"trusted origin {raw!r} must look like 'https://example.com[:port]'"
                )
            exact.add(origin)
        return frozenset(exact), tuple(globs)

    # --- per request ----------------------------------------------------------------------

    async def __call__(
        self, ctx: Context, call_next: Callable[[], Awaitable[Response]]
    ) -> Response:
        if not self._bound:  # the token store follows the app's store (App(redis_url=...))
            self.csrf.bind_app(ctx.app)
            self._bound = True
        exchange = _Exchange(self)
        ctx.__dict__[_STATE_KEY] = exchange
        request = ctx.request
        if not self._is_exempt(ctx):
            method = request.method
            if method not in self.safe_methods or request.original_method not in self.safe_methods:
                await self._verify(ctx, request, exchange)
            elif self.eager and method in _EAGER_METHODS:
                await csrf_token(ctx)
        response = await call_next()
        if exchange.cookie is not None:
            secure = request.is_secure if self.cookie_secure is None else self.cookie_secure
            response.cookies.set(
                self.cookie_name,
                exchange.cookie,
                max_age=self.cookie_max_age,
                path=self.cookie_path,
                domain=self.cookie_domain,
                # Browsers drop prefixed cookies that are not Secure.
                secure=secure or self.cookie_name.startswith(("__Host-", "__Secure-")),
                http_only=False,  # scripts read it to echo it in the header
                same_site=self.cookie_same_site,
            )
        return response

    def _is_exempt(self, ctx: Context) -> bool:
        route = ctx.route
        if route is None:
            return bool(self.exempt) and matches_filter(self.exempt, ctx.request.path, None)
        # Routes are fixed once the app starts, so the answer is computed once per route.
        known = self._exempt_routes.get(route)
        if known is None:
            known = getattr(route.handler, _EXEMPT_ATTR, False) is True or (
                bool(self.exempt) and matches_filter(self.exempt, route.path, route.name)
            )
            self._exempt_routes[route] = known
        return known

    async def _verify(self, ctx: Context, request: Request, exchange: _Exchange) -> None:
        """Raise :class:`CSRFError` unless the unsafe request proves it came from this site."""
        if not self.require_for_cookieless and not _has_ambient_credentials(request):
            return
        if self.check_origin:
            self._verify_origin(request)
        submitted = await self._submitted_token(request)
        if submitted is None:
            raise CSRFError("missing_token", "CSRF token missing from the request")
        if self._signer is not None:
            cookie = request.cookies.get(self.cookie_name)
            if cookie is None or not self._signer.verify(cookie, await _bound_id(ctx)):
                raise CSRFError("invalid_cookie", "CSRF cookie missing or invalid")
            valid = _usable(submitted) and _same(cookie, submitted)
        else:
            _require_sessions(ctx)
            session_id = await _bound_id(ctx)
            if not session_id:
                raise CSRFError("no_session", "no session to check the CSRF token against")
            valid = await self.csrf.check(session_id, submitted)
        if not valid:
            raise CSRFError("invalid_token", "CSRF token invalid or expired")
        exchange.token = submitted
        ctx.state["csrf_token"] = submitted  # a form re-rendered after a failed validation

    def _verify_origin(self, request: Request) -> None:
        headers = request.headers
        origin = headers.get("origin")
        if origin is not None:
            if not self._origin_allowed(origin.strip().lower(), request):
                raise CSRFError("bad_origin", "request origin is not allowed")
            return
        referer = headers.get("referer")
        if referer is not None and not self._origin_allowed(_origin_of(referer), request):
            raise CSRFError("bad_referer", "request referer is not allowed")

    def _origin_allowed(self, origin: str | None, request: Request) -> bool:
        if origin == "null":
            return "null" in self.trusted_origins
        origin = _origin_of(origin) if origin else None
        if origin is None:
            return False
        if origin == _origin_of(f"{request.scheme}://{request.host}"):
            return True
        if origin in self.trusted_origins:
            return True
        return any(fnmatch.fnmatchcase(origin, glob) for glob in self._trusted_globs)

    async def _submitted_token(self, request: Request) -> str | None:
        """The header, else the form field of a form body (else, if allowed, a JSON field).

        Any other body, ``text/plain`` included, is never read: a cross-site page can post
        ``text/plain`` whose content looks like JSON or a form.
        """
        token = request.headers.get(self.header_name)
        if token is not None:
            return token
        media = request.content_type
        value: Any = None
        if media in _FORM_TYPES:
            value = (await request.form()).get(self.field_name)
        elif self.allow_json_body and is_json_media_type(media):
            data = await request.json()
            if isinstance(data, dict):
                value = data.get(self.field_name)
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        mode = "double_submit" if self.double_submit else "session"
        return f"CSRFMiddleware(mode={mode}, field_name={self.field_name!r})"


def _has_ambient_credentials(request: Request) -> bool:
    """Cookies, or an ``Authorization`` scheme the browser adds without the page's help."""
    if request.headers.get("cookie"):
        return True
    auth = request.headers.get("authorization")
    return auth is not None and auth.split(" ", 1)[0].lower() in _AMBIENT_AUTH


def _require_sessions(ctx: Context) -> None:
    if not hasattr(ctx, "session"):
        raise ConfigurationError(
            "CSRFMiddleware binds tokens to sessions: add the sessions middleware before "
            "it, or use CSRFMiddleware(double_submit=True, secret=...)"
        )


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def _bound_id(ctx: Context) -> str:
    """The id of the request's existing session, ``""`` without one (never creates one).

    A lazy session (avian's ``SessionData``) is loaded first: its ``id`` is only known then.
    """
    session = getattr(ctx, "session", None)
    if session is None:
        return ""
    load = getattr(session, "load", None)
    if callable(load):
        await _maybe_await(load())
    sid = getattr(session, "id", None)
    return sid if isinstance(sid, str) else ""


async def _ensure_session_id(ctx: Context) -> str:
    """The session id, creating the session if needed (``""`` without sessions)."""
    session = getattr(ctx, "session", None)
    if session is None:
        return ""
    ensure = getattr(session, "ensure", None)
    sid = await _maybe_await(ensure()) if callable(ensure) else None
    if isinstance(sid, str) and sid:
        return sid
    return await _bound_id(ctx)


# --- helpers for handlers and templates ---------------------------------------------------------


def _exchange(ctx: Context) -> _Exchange:
    exchange = ctx.__dict__.get(_STATE_KEY)
    if not isinstance(exchange, _Exchange):
        raise ConfigurationError("csrf_token() needs CSRFMiddleware in front of this route")
    return exchange


async def csrf_token(ctx: Context) -> str:
    """The CSRF token for this request's page or script, also set as ``ctx.state.csrf_token``.

    With sessions it is the session's token (the session is created if it did not exist);
    in double-submit mode it is the cookie's token, or a new one sent in ``Set-Cookie``.
    """
    exchange = _exchange(ctx)
    token = exchange.token
    if token is None:
        middleware = exchange.middleware
        signer = middleware._signer
        if signer is not None:
            session_id = await _ensure_session_id(ctx)
            cookie = ctx.request.cookies.get(middleware.cookie_name)
            if cookie is not None and signer.verify(cookie, session_id):
                token = cookie
            else:
                token = exchange.cookie = signer.sign(session_id)
        else:
            _require_sessions(ctx)
            session_id = await _ensure_session_id(ctx)
            if not session_id:
                raise ConfigurationError("the session has no id to bind a CSRF token to")
            token = await middleware.csrf.token(session_id)
        exchange.token = token
    ctx.state["csrf_token"] = token
    return token


def csrf_field(ctx: Context) -> Markup:
    """A hidden ``<input>`` carrying ``ctx.state.csrf_token`` (empty when there is none).

    The token must already be known: the middleware sets it on GET and HEAD requests, or a
    handler calls ``await csrf_token(ctx)`` first.
    """
    token = ctx.state.get("csrf_token")
    if not isinstance(token, str) or not token:
        return Markup("")
    exchange = ctx.__dict__.get(_STATE_KEY)
    name = exchange.middleware.field_name if isinstance(exchange, _Exchange) else "_csrf"
    return Markup('<input type="hidden" name="{}" value="{}">').format(name, token)
