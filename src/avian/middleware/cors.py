"""Cross-Origin Resource Sharing: which other sites' pages may read this app's responses.

``app.cors(...)`` (or ``group.cors(...)``, or ``app.cors(..., path="/api")``) records a rule;
at startup every rule becomes part of one :class:`CORSMiddleware`, which runs first for every
request, including 404s, 405s and automatic ``OPTIONS`` answers.  For each request the most
specific rule (longest path prefix) decides.

The middleware never echoes an origin it was not told to allow: a missing, ``null``,
malformed or repeated ``Origin`` header is treated as not allowed, and then no
``Access-Control-Allow-Origin`` is sent at all.  Preflights (``OPTIONS`` with ``Origin`` and
``Access-Control-Request-Method``) are answered here, before routing, so a route needs no
``OPTIONS`` handler.  A rejected preflight gets a 403 without any ``Access-Control-*``
header, which the browser reports as a CORS failure.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from .. import errors
from ..errors import ConfigurationError
from ..http.response import Response
from ..routing.patterns import normalize_prefix
from ..routing.target import routing_path
from .options import coerce_options

if TYPE_CHECKING:
    from ..context import Context
    from ..routing.router import CallNext

__all__ = [
    "DEFAULT_METHODS",
    "CORSMiddleware",
    "CORSOptions",
    "OriginCheck",
    "OriginSetting",
    "cors_options",
    "normalize_origin",
]

OriginCheck: TypeAlias = Callable[[str], bool | Awaitable[bool]]
"""``(origin) -> bool``, sync or async; receives the origin lower-cased, default port removed."""

OriginSetting: TypeAlias = (
    bool
    | str
    | re.Pattern[str]
    | Sequence[str | re.Pattern[str]]
    | Set[str | re.Pattern[str]]
    | OriginCheck
)
"""What ``CORSOptions.origin`` accepts."""

DEFAULT_METHODS = ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")

_ORIGIN_RE = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.\-]*)://"
    r"(?P<host>\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?)"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?",
    re.ASCII | re.IGNORECASE,
)
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_MAX_ORIGIN = 1024
"""Longer ``Origin`` values are refused unparsed (a host name is at most 253 characters)."""

_ORIGIN = b"origin"
_REQUEST_METHOD = b"access-control-request-method"
_REQUEST_HEADERS = b"access-control-request-headers"


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased with the default port dropped, or ``None`` when
    ``value`` is not a single serialized origin (``null``, a path, whitespace, a list,
    credentials, a bad port)."""
    if len(value) > _MAX_ORIGIN:
        return None
    match = _ORIGIN_RE.fullmatch(value)
    if match is None:
        return None
    scheme = match["scheme"].lower()
    host = match["host"].lower()
    port = match["port"]
    if port is not None:
        if int(port) > 65535:
            return None
        if _DEFAULT_PORTS.get(scheme) == port:
            port = None
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


# --- options -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CORSOptions:
    """CORS settings (Harpia's ``CorsOptions``, spelled the Python way).

    Checked when created, so a mistake fails at startup rather than on the first request.
    """

    origin: OriginSetting = "*"
    """Who may read responses: ``"*"`` (anyone, without credentials), ``True`` (reflect any
    well-formed origin), ``False`` (nobody: turns CORS off under a path), an exact origin,
    a compiled regex (``fullmatch``), a list of both, or a callable."""
    methods: str | Sequence[str] = DEFAULT_METHODS
    """Methods a preflight may ask for: a list, a comma-separated string, or ``"*"``."""
    allowed_headers: str | Sequence[str] | None = None
    """Request headers a preflight may ask for; ``None`` reflects what the browser asks for
    (once the origin is allowed), ``"*"`` allows any."""
    exposed_headers: str | Sequence[str] = ()
    """Response headers the page's script may read beyond the safelisted ones."""
    credentials: bool = False
    """Send ``Access-Control-Allow-Credentials: true`` (cookies, HTTP auth)."""
    max_age: int | None = None
    """Seconds a browser may cache a preflight answer; ``None`` sends no header."""
    preflight_continue: bool = False
    """Pass preflights on to the route (with the CORS headers added) instead of answering."""
    options_success_status: int = 204
    """Status of an accepted preflight (some old clients need 200)."""

    _policy: _Policy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_policy", _Policy(self))


def cors_options(
    options: CORSOptions | Mapping[str, Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> CORSOptions:
    """Build :class:`CORSOptions` from any accepted spelling: an instance, a dict, keyword
    arguments, or an instance/dict with keyword overrides."""
    return coerce_options(CORSOptions, options, kwargs, label="CORS")


# --- the compiled form -------------------------------------------------------------------------


def _split_list(value: str | Sequence[str], what: str) -> list[str]:
    """A comma-separated string or a sequence of strings -> the stripped, non-empty items."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise ConfigurationError(f"CORS {what} must be a string or a list of strings: {value!r}")
    out = [item.strip() for item in items if item.strip()]
    for item in out:
        if not _TOKEN_RE.fullmatch(item):
            raise ConfigurationError(f"CORS {what}: {item!r} is not a valid name")
    return out


def _config_origin(value: str) -> str:
    if value == "*":
        raise ConfigurationError("CORS origin '*' must be given alone, not inside a list")
    if value == "null":
        raise ConfigurationError(
            "CORS origin 'null' cannot be allowed: sandboxed frames, file: pages and "
            "redirects all send it, so any site could claim it"
        )
    if "*" in value:
        raise ConfigurationError(
            f"CORS origin {value!r}: wildcards are not patterns; use "
            r're.compile(r"https://.*\.example\.com") instead'
        )
    normalized = normalize_origin(value)
    if normalized is None:
        raise ConfigurationError(
            f"CORS origin {value!r} is not an origin: write scheme://host[:port], "
            "with no path and no trailing slash"
        )
    return normalized


class _Policy:
    """A validated :class:`CORSOptions`, in the form the middleware consults per request."""

    __slots__ = (
        "allow_headers",
        "allow_headers_lower",
        "allow_methods",
        "any_origin",
        "check",
        "credentials",
        "exact",
        "expose_headers",
        "max_age",
        "methods",
        "methods_any",
        "patterns",
        "preflight_continue",
        "reflect",
        "success_status",
    )

    def __init__(self, o: CORSOptions) -> None:
        if not isinstance(o.credentials, bool):
            raise ConfigurationError(f"CORS credentials must be True or False: {o.credentials!r}")
        self.credentials = o.credentials
        self.any_origin = False
        self.reflect = False
        self.exact: frozenset[str] = frozenset()
        self.patterns: tuple[re.Pattern[str], ...] = ()
        self.check: OriginCheck | None = None
        self._origin(o.origin)

        if o.methods == "*":
            self.methods_any = True
            self.methods: frozenset[str] = frozenset()
            self.allow_methods = "*"
        else:
            methods = [m.upper() for m in _split_list(o.methods, "methods")]
            if not methods:
                raise ConfigurationError("CORS methods must not be empty")
            self.methods_any = False
            self.methods = frozenset(methods)
            self.allow_methods = ", ".join(dict.fromkeys(methods))

        self.allow_headers: str | None
        self.allow_headers_lower: frozenset[str] | None
        if o.allowed_headers is None:
            self.allow_headers, self.allow_headers_lower = None, None
        elif o.allowed_headers == "*":
            self.allow_headers, self.allow_headers_lower = "*", None
        else:
            names = _split_list(o.allowed_headers, "allowed_headers")
            self.allow_headers = ", ".join(names)
            self.allow_headers_lower = frozenset(n.lower() for n in names)

        if o.exposed_headers == "*":
            if o.credentials:
                raise ConfigurationError(
                    "CORS exposed_headers '*' is not a wildcard when credentials=True "
                    "(browsers read it as a header named '*'); list the headers"
                )
            self.expose_headers: str | None = "*"
        else:
            exposed = _split_list(o.exposed_headers, "exposed_headers")
            self.expose_headers = ", ".join(exposed) if exposed else None

        if o.max_age is not None and (
            not isinstance(o.max_age, int) or isinstance(o.max_age, bool) or o.max_age < 0
        ):
            raise ConfigurationError(f"CORS max_age must be None or seconds >= 0: {o.max_age!r}")
        self.max_age = None if o.max_age is None else str(o.max_age)

        if not isinstance(o.preflight_continue, bool):
            raise ConfigurationError("CORS preflight_continue must be True or False")
        self.preflight_continue = o.preflight_continue
        status = o.options_success_status
        if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 299:
            raise ConfigurationError(
                f"CORS options_success_status must be a 2xx status: {status!r}"
            )
        self.success_status = status

    def _origin(self, origin: Any) -> None:
        credentials = self.credentials
        if origin is True or origin == "*":
            if credentials:
                raise ConfigurationError(
                    f"CORS origin={origin!r} with credentials=True would let every site read "
                    "responses with the user's cookies; list the allowed origins instead"
                )
            self.any_origin = origin == "*"
            self.reflect = origin is True
        elif origin is False:
            pass
        elif isinstance(origin, str):
            self.exact = frozenset([_config_origin(origin)])
        elif isinstance(origin, re.Pattern):
            self.patterns = (self._pattern(origin),)
        elif isinstance(origin, (Sequence, Set)):
            exact: set[str] = set()
            patterns: list[re.Pattern[str]] = []
            for item in origin:
                if isinstance(item, str):
                    exact.add(_config_origin(item))
                elif isinstance(item, re.Pattern):
                    patterns.append(self._pattern(item))
                else:
                    raise ConfigurationError(
                        f"CORS origin list items must be strings or compiled regexes: {item!r}"
                    )
            self.exact = frozenset(exact)
            self.patterns = tuple(patterns)
        elif callable(origin):
            self.check = origin
        else:
            raise ConfigurationError(
                "CORS origin must be '*', True, False, a string, a compiled regex, a list of "
                f"those, or a callable: {origin!r}"
            )

    @staticmethod
    def _pattern(pattern: re.Pattern[Any]) -> re.Pattern[str]:
        if not isinstance(pattern.pattern, str):
            raise ConfigurationError("CORS origin regexes must be str patterns, not bytes")
        return pattern

    async def allows(self, origin: str) -> bool:
        """``origin`` is already normalized; a malformed one never gets here."""
        if self.reflect or origin in self.exact:
            return True
        for pattern in self.patterns:
            if pattern.fullmatch(origin):
                return True
        check = self.check
        if check is None:
            return False
        verdict = check(origin)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if not isinstance(verdict, bool):
            raise TypeError(
                f"CORS origin check {getattr(check, '__name__', check)!r} must return a bool, "
                f"got {type(verdict).__name__}"
            )
        return verdict


# --- per-path rules ----------------------------------------------------------------------------

_ANY_SEGMENT = "\x00*"
_REST = "\x00**"


def _rule_segments(prefix: str) -> tuple[str, ...]:
    """``"/users/{id}/files"`` -> ``("users", ANY, "files")``: path parameters in a group
    prefix match any one segment, a ``{name:path}`` parameter everything below."""
    prefix = normalize_prefix(prefix)
    if not prefix:
        return ()
    out: list[str] = []
    for seg in prefix[1:].split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            out.append(_REST if seg[1:-1].partition(":")[2] == "path" else _ANY_SEGMENT)
        elif seg.startswith(":") and len(seg) > 1:
            out.append(_ANY_SEGMENT)
        else:
            out.append(seg)
    return tuple(out)


def _segments_match(rule: tuple[str, ...], parts: list[str]) -> bool:
    for i, seg in enumerate(rule):
        if seg == _REST:
            return True
        if i >= len(parts):
            return False
        part = parts[i]
        if seg == _ANY_SEGMENT:
            if not part:
                return False
        elif seg != part:
            return False
    return True


def _specificity(segments: tuple[str, ...]) -> tuple[int, int]:
    literal = sum(1 for s in segments if not s.startswith("\x00"))
    return (len(segments), literal)


# --- the middleware ----------------------------------------------------------------------------


class _Incoming:
    """The CORS request headers, gathered in one pass over the raw list."""

    __slots__ = ("origin", "present", "raw", "request_headers", "request_methods")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        origins: list[bytes] = []
        self.request_methods: list[bytes] = []
        self.request_headers: list[bytes] = []
        for k, v in headers:
            if k == _ORIGIN:
                origins.append(v)
            elif k == _REQUEST_METHOD:
                self.request_methods.append(v)
            elif k == _REQUEST_HEADERS:
                self.request_headers.append(v)
        self.present = bool(origins)
        self.raw: str | None = None
        """The origin exactly as sent, only when it is one well-formed origin."""
        self.origin: str | None = None
        """Its normalized form (what rules compare)."""
        if len(origins) == 1:
            raw = origins[0].decode("latin-1")
            self.origin = normalize_origin(raw)
            if self.origin is not None:
                self.raw = raw


def add_vary(response: Response, *names: str) -> None:
    """Add ``names`` to the response's ``Vary`` header, keeping what is there."""
    headers = response.headers
    current = ", ".join(headers.get_all("vary"))
    present = {item.strip().lower() for item in current.split(",") if item.strip()}
    if "*" in present:
        return
    missing = [n for n in names if n.lower() not in present]
    if missing:
        headers.set("vary", ", ".join([current, *missing]) if current else ", ".join(missing))


def _setdefault(response: Response, name: str, value: str) -> None:
    # The route may have answered CORS itself (preflight_continue, a hand-written header).
    if name not in response.headers:
        response.headers.add(name, value)


def _rejected(reason: str) -> errors.HTTPError:
    return errors.forbidden(
        f"CORS preflight rejected: {reason}", code="CORS_REJECTED", headers={"vary": "Origin"}
    )


class CORSMiddleware:
    """Answers preflights and adds ``Access-Control-*`` headers to responses.

    ``CORSMiddleware(options)``, ``CORSMiddleware(origin=[...])`` or
    ``CORSMiddleware.from_rules(rules)`` (what the app builds from ``cors()`` calls).
    """

    __slots__ = ("_only", "_rules", "options")

    def __init__(
        self, options: CORSOptions | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> None:
        resolved = cors_options(options, kwargs)
        self.options: CORSOptions | None = resolved
        """The options of the app-wide rule (``None`` when every rule is path-scoped)."""
        self._only: _Policy | None = resolved._policy
        self._rules: tuple[tuple[tuple[str, ...], _Policy], ...] = (((), resolved._policy),)

    @classmethod
    def from_rules(
        cls,
        rules: Sequence[tuple[str, CORSOptions | Mapping[str, Any] | None, Mapping[str, Any]]],
    ) -> CORSMiddleware:
        """One middleware for every ``(path prefix, options, keyword options)`` rule; the
        most specific prefix that contains a request's path decides (``""`` = everything)."""
        if not rules:
            raise ConfigurationError("CORSMiddleware.from_rules needs at least one rule")
        compiled: dict[tuple[str, ...], tuple[str, CORSOptions]] = {}
        for prefix, options, kwargs in rules:
            if not isinstance(prefix, str):
                raise ConfigurationError(f"CORS rule path must be a string: {prefix!r}")
            segments = _rule_segments(prefix)
            if segments in compiled:
                where = compiled[segments][0] or "the whole app"
                raise ConfigurationError(f"CORS is configured twice for {where}")
            compiled[segments] = (normalize_prefix(prefix), cors_options(options, kwargs))
        self = cls.__new__(cls)
        ordered = sorted(compiled, key=_specificity, reverse=True)
        self._rules = tuple((seg, compiled[seg][1]._policy) for seg in ordered)
        root = compiled.get(())
        self.options = root[1] if root else None
        self._only = self._rules[0][1] if ordered == [()] else None
        return self

    def _policy_for(self, scope: dict[str, Any]) -> _Policy | None:
        target = routing_path(scope)
        if isinstance(target, str):
            parts = target[1:].split("/")
        elif isinstance(target, list):
            parts = target
        else:  # pragma: no cover - the app answers a bad path with 400 before middleware
            return None
        for segments, policy in self._rules:
            if _segments_match(segments, parts):
                return policy
        return None

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        scope = ctx.scope
        # PERF: with one app-wide rule there is no path to look at.
        policy = self._only if self._only is not None else self._policy_for(scope)
        if policy is None:
            return await call_next()
        incoming = _Incoming(scope["headers"])
        if incoming.present and incoming.request_methods and scope["method"] == "OPTIONS":
            return await self._preflight(call_next, policy, incoming)
        response = await call_next()
        if policy.any_origin:
            _setdefault(response, "access-control-allow-origin", "*")
        else:
            add_vary(response, "Origin")
            raw, origin = incoming.raw, incoming.origin
            if raw is None or origin is None or not await policy.allows(origin):
                return response
            _setdefault(response, "access-control-allow-origin", raw)
            if policy.credentials:
                _setdefault(response, "access-control-allow-credentials", "true")
        if policy.expose_headers is not None:
            _setdefault(response, "access-control-expose-headers", policy.expose_headers)
        return response

    async def _preflight(
        self, call_next: CallNext, policy: _Policy, incoming: _Incoming
    ) -> Response:
        verdict = await _judge(policy, incoming)
        if isinstance(verdict, errors.HTTPError):
            if policy.preflight_continue:
                return await call_next()  # the route decides; it gets no CORS headers
            raise verdict
        headers, vary = verdict
        if policy.preflight_continue:
            response = await call_next()
        else:
            response = Response.make(b"", policy.success_status, None)
        for name, value in headers:
            _setdefault(response, name, value)
        add_vary(response, *vary)
        return response


async def _judge(
    policy: _Policy, incoming: _Incoming
) -> tuple[list[tuple[str, str]], list[str]] | errors.HTTPError:
    """A preflight's ``(headers, vary)``, or the 403 that refuses it."""
    if policy.any_origin:
        allow_origin = "*"  # the answer is the same for every origin, even a malformed one
    else:
        raw, origin = incoming.raw, incoming.origin
        if raw is None or origin is None:
            return _rejected("the Origin header is null, malformed or repeated")
        if not await policy.allows(origin):
            return _rejected("origin not allowed")
        allow_origin = raw
    if len(incoming.request_methods) != 1:
        return _rejected("Access-Control-Request-Method must be sent once")
    method = incoming.request_methods[0].decode("latin-1").strip()
    if not _TOKEN_RE.fullmatch(method):
        return _rejected("Access-Control-Request-Method is not a method name")
    if not policy.methods_any and method.upper() not in policy.methods:
        return _rejected(f"method not allowed (allowed: {policy.allow_methods})")

    requested: list[str] = []
    for value in incoming.request_headers:
        for item in value.decode("latin-1").split(","):
            name = item.strip()
            if not name:
                continue
            if not _TOKEN_RE.fullmatch(name):
                return _rejected("Access-Control-Request-Headers is malformed")
            requested.append(name)
    allowed_lower = policy.allow_headers_lower
    if allowed_lower is not None:
        for name in requested:
            if name.lower() not in allowed_lower:
                return _rejected(f"header not allowed (allowed: {policy.allow_headers})")

    headers = [("access-control-allow-origin", allow_origin)]
    vary = ["Access-Control-Request-Method", "Access-Control-Request-Headers"]
    if not policy.any_origin:
        vary.insert(0, "Origin")
    if policy.credentials:
        headers.append(("access-control-allow-credentials", "true"))
    # With credentials a "*" is read literally by browsers, so reflect what was asked.
    if policy.methods_any and policy.credentials:
        headers.append(("access-control-allow-methods", method))
    else:
        headers.append(("access-control-allow-methods", policy.allow_methods))
    if policy.allow_headers is None or (policy.allow_headers == "*" and policy.credentials):
        reflected = ", ".join(dict.fromkeys(requested))
        if reflected:
            headers.append(("access-control-allow-headers", reflected))
    else:
        headers.append(("access-control-allow-headers", policy.allow_headers))
    if policy.max_age is not None:
        headers.append(("access-control-max-age", policy.max_age))
    return headers, vary
