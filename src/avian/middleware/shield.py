"""Shield: security headers on every response (Harpia ``app.shield``).

``app.shield()`` installs a :class:`ShieldMiddleware` in front of the user's middleware, so
its headers reach every response the app sends, errors, 404s and 405s included.  Headers a
handler set itself are left alone; :func:`shield_override` changes the options for one
route or group (allow framing of one page, a looser CSP for a widget).

All header values except the CSP nonce are built once, when the middleware is created.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias

from ..errors import ConfigurationError
from ..http.headers import HeaderValueError, encode_header
from .cors import normalize_origin
from .options import coerce_options

if TYPE_CHECKING:
    from ..context import Context
    from ..http.response import Response
    from ..routing.router import CallNext

__all__ = [
    "DEFAULT_CSP",
    "DEFAULT_HSTS",
    "CSPValue",
    "ShieldMiddleware",
    "ShieldOptions",
    "ShieldOverride",
    "csp_nonce",
    "shield_options",
    "shield_override",
]

CSPValue: TypeAlias = str | Sequence[str] | bool | None
"""A directive's sources: a list, a space-separated string, ``True`` or ``[]`` for a
directive without value (``upgrade-insecure-requests``), ``None``/``False`` to remove it."""

DEFAULT_CSP: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "default-src": ("'self'",),
        "base-uri": ("'self'",),
        "object-src": ("'none'",),
        "frame-ancestors": ("'self'",),
        "form-action": ("'self'",),
        "img-src": ("'self'", "data:"),
        "script-src": ("'self'",),
        "script-src-attr": ("'none'",),
        "style-src": ("'self'",),
        "upgrade-insecure-requests": (),
    }
)
"""The directives ``csp=True`` sends; a ``csp`` dict replaces or removes single entries."""

DEFAULT_HSTS: Mapping[str, Any] = MappingProxyType(
    {"max_age": 15552000, "include_subdomains": True, "preload": False}
)
"""180 days, subdomains included, not submitted to the browsers' preload lists."""

_NONCE_DIRECTIVES = ("script-src", "style-src")
_HTTPS_ONLY_DIRECTIVES = frozenset({"upgrade-insecure-requests"})
_NONCE_SLOT = "\x00nonce\x00"
_DIRECTIVE_RE = re.compile(r"[a-z][a-z0-9-]*", re.ASCII)
_SOURCE_RE = re.compile(r"[!-~]+", re.ASCII)  # visible ASCII; ';' and ',' checked apart
_FEATURE_RE = re.compile(r"[a-z][a-z0-9-]*", re.ASCII)
_BARE_KEYWORDS = frozenset(
    {
        "self",
        "none",
        "unsafe-inline",
        "unsafe-eval",
        "unsafe-hashes",
        "strict-dynamic",
        "report-sample",
        "wasm-unsafe-eval",
        "inline-speculation-rules",
    }
)

_COOP = frozenset(
    {"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"}
)
_COEP = frozenset({"require-corp", "credentialless", "unsafe-none"})
_CORP = frozenset({"same-origin", "same-site", "cross-origin"})
_REFERRER = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
_FRAME = frozenset({"DENY", "SAMEORIGIN"})
_XSS = frozenset({"0", "1", "1; mode=block"})
_CROSS_DOMAIN = frozenset({"none", "master-only", "by-content-type", "all"})


def _choice(name: str, value: Any, allowed: frozenset[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise ConfigurationError(
            f"shield {name} must be None or one of {', '.join(sorted(allowed))}: {value!r}"
        )
    return value


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"shield {name} must be True or False: {value!r}")
    return value


@dataclass(frozen=True)
class ShieldOptions:
    """Which security headers to send, and with what values (see ``docs/security-headers.md``).

    Checked when created; every header can be turned off with ``None``/``False``.
    """

    csp: bool | Mapping[str, CSPValue] = True
    """``True``: :data:`DEFAULT_CSP`; a dict: the defaults with these directives replaced
    (``None`` removes one); ``False``: no CSP header."""
    report_only: bool = False
    """Send ``Content-Security-Policy-Report-Only`` instead (the browser reports, not blocks)."""
    use_nonce: bool = False
    """A fresh nonce per request in ``ctx.state.csp_nonce``, allowed in script-src/style-src."""
    coop: str | None = "same-origin"
    """``Cross-Origin-Opener-Policy``."""
    coep: str | None = None
    """``Cross-Origin-Embedder-Policy``; off by default because it blocks every cross-origin
    image, script or frame that does not opt in with CORP or CORS."""
    corp: str | None = "same-origin"
    """``Cross-Origin-Resource-Policy``."""
    hsts: bool | Mapping[str, Any] = True
    """``Strict-Transport-Security`` on https requests: ``True`` for :data:`DEFAULT_HSTS`, a
    dict with ``max_age``/``include_subdomains``/``preload`` to change them, ``False``: off."""
    referrer_policy: str | Sequence[str] | None = "strict-origin-when-cross-origin"
    """``Referrer-Policy`` (a list is sent as a fallback chain)."""
    nosniff: bool = True
    """``X-Content-Type-Options: nosniff``."""
    frame_options: str | None = "SAMEORIGIN"
    """``X-Frame-Options``: ``"SAMEORIGIN"``, ``"DENY"`` or ``None``."""
    xss_protection: str | None = "0"
    """``X-XSS-Protection``: ``"0"`` switches off the old browsers' XSS auditor, which could
    be abused to leak data; modern browsers have none (CSP replaces it)."""
    origin_agent_cluster: bool = True
    """``Origin-Agent-Cluster: ?1``: ask for a process per origin rather than per site."""
    dns_prefetch_control: bool | None = False
    """``X-DNS-Prefetch-Control``: ``False`` sends ``off``, ``True`` ``on``, ``None`` nothing."""
    permitted_cross_domain_policies: str | None = "none"
    """``X-Permitted-Cross-Domain-Policies`` (Adobe clients' crossdomain.xml)."""
    permissions_policy: Mapping[str, str | Sequence[str]] | None = None
    """``Permissions-Policy``: feature -> allowlist, e.g. ``{"camera": [],
    "geolocation": ["self", "https://maps.example"]}``."""

    _compiled: _Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _Compiled(self))


_ALIASES = {
    "content_security_policy": "csp",
    "contentSecurityPolicy": "csp",
    "strict_transport_security": "hsts",
    "strictTransportSecurity": "hsts",
    "useNonce": "use_nonce",
    "cross_origin_opener_policy": "coop",
    "cross_origin_embedder_policy": "coep",
    "cross_origin_resource_policy": "corp",
    "x_frame_options": "frame_options",
    "x_content_type_options": "nosniff",
    "x_xss_protection": "xss_protection",
    "referrerPolicy": "referrer_policy",
}


def shield_options(
    options: ShieldOptions | Mapping[str, Any] | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> ShieldOptions:
    """Build :class:`ShieldOptions` from an instance, a dict and/or keyword arguments."""
    return coerce_options(ShieldOptions, options, kwargs, label="shield", aliases=_ALIASES)


# --- building header values --------------------------------------------------------------------


def _sources(directive: str, value: Any) -> tuple[str, ...] | None:
    """A directive's sources, validated; ``None`` when the directive is removed."""
    if value is None or value is False:
        return None
    if value is True:
        return ()
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        items = [s for v in value for s in v.split()]
    else:
        hint = ""
        if directive == "directives" and isinstance(value, Mapping):
            hint = " (pass the directives themselves: csp={'script-src': [...]})"
        raise ConfigurationError(
            f"CSP {directive}: sources must be a string or a list of strings, "
            f"True, or None to remove it{hint}: {value!r}"
        )
    for source in items:
        if source.lower() in _BARE_KEYWORDS:
            raise ConfigurationError(
                f"CSP {directive}: keyword {source!r} must be quoted, as \"'{source}'\""
            )
        if not _SOURCE_RE.fullmatch(source) or ";" in source or "," in source:
            raise ConfigurationError(f"CSP {directive}: invalid source {source!r}")
    return tuple(items)


def _csp_directives(csp: Any) -> dict[str, tuple[str, ...]] | None:
    """The effective directives for a ``csp`` option, or ``None`` when CSP is off."""
    if csp is False or csp is None:
        return None
    directives = dict(DEFAULT_CSP)
    if csp is True:
        return directives
    if not isinstance(csp, Mapping):
        raise ConfigurationError(f"shield csp must be True, False or a dict: {csp!r}")
    for name, value in csp.items():
        if not isinstance(name, str) or not _DIRECTIVE_RE.fullmatch(name.lower()):
            raise ConfigurationError(f"CSP directive name {name!r} is invalid")
        key = name.lower()
        sources = _sources(key, value)
        if sources is None:
            directives.pop(key, None)
        else:
            directives[key] = sources
    return directives


def _csp_value(
    directives: dict[str, tuple[str, ...]], *, https: bool, use_nonce: bool
) -> str | None:
    """The header value; with a nonce it holds :data:`_NONCE_SLOT` where the nonce goes."""
    work = dict(directives)
    if use_nonce:
        nonce = f"'nonce-{_NONCE_SLOT}'"
        for name in _NONCE_DIRECTIVES:
            if name in work:
                work[name] = (*work[name], nonce)
            elif "default-src" in work:
                # Without its own directive the type falls back to default-src: keep that
                # list and add the nonce, so nothing else about the policy changes.
                work[name] = (*work["default-src"], nonce)
    parts = []
    for name, sources in work.items():
        if not https and name in _HTTPS_ONLY_DIRECTIVES:
            continue
        parts.append(" ".join((name, *sources)))
    return "; ".join(parts) if parts else None


def _hsts_value(hsts: Any) -> str | None:
    if hsts is False or hsts is None:
        return None
    settings = dict(DEFAULT_HSTS)
    if hsts is not True:
        if not isinstance(hsts, Mapping):
            raise ConfigurationError(f"shield hsts must be True, False or a dict: {hsts!r}")
        for key in hsts:
            if key not in DEFAULT_HSTS:
                raise ConfigurationError(
                    f"unknown hsts setting {key!r}; settings are max_age, "
                    "include_subdomains, preload"
                )
        settings.update(hsts)
    max_age = settings["max_age"]
    if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0:
        raise ConfigurationError(f"hsts max_age must be seconds >= 0: {max_age!r}")
    sub = _flag("hsts include_subdomains", settings["include_subdomains"])
    preload = _flag("hsts preload", settings["preload"])
    if preload and (max_age < 31536000 or not sub):
        raise ConfigurationError(
            "hsts preload needs max_age >= 31536000 (one year) and include_subdomains=True "
            "(the preload lists refuse anything less)"
        )
    value = f"max-age={max_age}"
    if sub:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


def _referrer_value(value: Any) -> str | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, Sequence)
        or not items
        or not all(isinstance(v, str) and v in _REFERRER for v in items)
    ):
        raise ConfigurationError(
            f"shield referrer_policy must be None, one of {', '.join(sorted(_REFERRER))}, "
            f"or a list of them: {value!r}"
        )
    return ", ".join(items)


def _permissions_value(policy: Any) -> str | None:
    if policy is None:
        return None
    if not isinstance(policy, Mapping):
        raise ConfigurationError(
            f"shield permissions_policy must be a dict of feature -> allowlist: {policy!r}"
        )
    entries = []
    for feature, allow in policy.items():
        if not isinstance(feature, str) or not _FEATURE_RE.fullmatch(feature):
            raise ConfigurationError(f"Permissions-Policy feature {feature!r} is invalid")
        if allow == "*":
            entries.append(f"{feature}=*")
            continue
        items = [allow] if isinstance(allow, str) else allow
        if not isinstance(items, Sequence) or not all(isinstance(v, str) for v in items):
            raise ConfigurationError(
                f"Permissions-Policy {feature}: the allowlist must be '*', 'self', an origin "
                f"or a list of those: {allow!r}"
            )
        members = []
        for item in items:
            if item in ("self", "src"):
                members.append(item)
                continue
            origin = normalize_origin(item)
            if origin is None:
                raise ConfigurationError(
                    f"Permissions-Policy {feature}: {item!r} is not 'self', 'src' or an origin"
                )
            members.append(f'"{origin}"')
        entries.append(f"{feature}=({' '.join(members)})")
    return ", ".join(entries) if entries else None


def _encode(name: str, value: str) -> tuple[bytes, bytes]:
    try:
        return encode_header(name, value)
    except HeaderValueError as exc:  # pragma: no cover - values are validated above
        raise ConfigurationError(str(exc)) from None


class _Compiled:
    """Header values of one :class:`ShieldOptions`, ready to append to a response."""

    __slots__ = ("csp_name", "csp_plain", "csp_secure", "fixed_plain", "fixed_secure", "nonce")

    def __init__(self, o: ShieldOptions) -> None:
        self.nonce = _flag("use_nonce", o.use_nonce)
        report_only = _flag("report_only", o.report_only)
        directives = _csp_directives(o.csp)
        self.csp_name = (
            b"content-security-policy-report-only" if report_only else b"content-security-policy"
        )
        self.csp_plain: tuple[str, ...] | None = None
        self.csp_secure: tuple[str, ...] | None = None
        if directives is not None:
            for https in (False, True):
                value = _csp_value(directives, https=https, use_nonce=self.nonce)
                if value is not None:
                    _encode("content-security-policy", value.replace(_NONCE_SLOT, "n"))
                    # Split where the nonce goes: per request it is ``nonce.join(parts)``.
                    parts = tuple(value.split(_NONCE_SLOT))
                    if https:
                        self.csp_secure = parts
                    else:
                        self.csp_plain = parts

        frame = o.frame_options
        if isinstance(frame, str):
            frame = frame.upper()
        dns = o.dns_prefetch_control
        if dns is not None and not isinstance(dns, bool):
            raise ConfigurationError(
                f"shield dns_prefetch_control must be True, False or None: {dns!r}"
            )
        common: list[tuple[str, str | None]] = [
            ("cross-origin-opener-policy", _choice("coop", o.coop, _COOP)),
            ("cross-origin-embedder-policy", _choice("coep", o.coep, _COEP)),
            ("cross-origin-resource-policy", _choice("corp", o.corp, _CORP)),
            ("referrer-policy", _referrer_value(o.referrer_policy)),
            ("x-content-type-options", "nosniff" if _flag("nosniff", o.nosniff) else None),
            ("x-frame-options", _choice("frame_options", frame, _FRAME)),
            ("x-xss-protection", _choice("xss_protection", o.xss_protection, _XSS)),
            (
                "origin-agent-cluster",
                "?1" if _flag("origin_agent_cluster", o.origin_agent_cluster) else None,
            ),
            ("x-dns-prefetch-control", None if dns is None else ("on" if dns else "off")),
            (
                "x-permitted-cross-domain-policies",
                _choice(
                    "permitted_cross_domain_policies",
                    o.permitted_cross_domain_policies,
                    _CROSS_DOMAIN,
                ),
            ),
            ("permissions-policy", _permissions_value(o.permissions_policy)),
        ]
        fixed = [_encode(name, value) for name, value in common if value is not None]
        self.fixed_plain = tuple(fixed)
        hsts = _hsts_value(o.hsts)
        # HSTS over plain http is ignored by browsers (RFC 6797 §8.1) and would only
        # advertise a policy an attacker in the middle could strip anyway.
        self.fixed_secure = (
            (*fixed, _encode("strict-transport-security", hsts)) if hsts else self.fixed_plain
        )

    def apply(self, response: Response, secure: bool, nonce: str | None) -> None:
        raw = response.raw_headers
        present = {k for k, _ in raw}
        for item in self.fixed_secure if secure else self.fixed_plain:
            if item[0] not in present:
                raw.append(item)
        parts = self.csp_secure if secure else self.csp_plain
        if parts is not None and self.csp_name not in present:
            # Without a nonce from the request (none was made), a fresh unused one keeps
            # the header well-formed.
            value = (
                parts[0] if len(parts) == 1 else (nonce or secrets.token_urlsafe(16)).join(parts)
            )
            raw.append((self.csp_name, value.encode("latin-1")))


# --- the middleware ----------------------------------------------------------------------------

_OVERRIDE_KEY = "_shield_override"


def _new_nonce(ctx: Context) -> str:
    nonce = secrets.token_urlsafe(16)
    ctx.state["csp_nonce"] = nonce
    return nonce


def csp_nonce(ctx: Context) -> str | None:
    """This request's CSP nonce (``use_nonce=True``), for ``<script nonce="...">``; the
    templates' ``generate_nonce()`` returns the same value."""
    state = ctx._state
    return None if state is None else state.get("csp_nonce")


class ShieldMiddleware:
    """Adds the security headers of :class:`ShieldOptions` to every response.

    ``ShieldMiddleware()``, ``ShieldMiddleware(ShieldOptions(...))``,
    ``ShieldMiddleware({"hsts": False})`` or ``ShieldMiddleware(frame_options="DENY")``.
    """

    __slots__ = ("_compiled", "_overrides", "options")

    def __init__(
        self, options: ShieldOptions | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> None:
        self.options = shield_options(options, kwargs)
        self._compiled = self.options._compiled
        self._overrides: dict[ShieldOverride, _Compiled] = {}

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        compiled = self._compiled
        nonce = _new_nonce(ctx) if compiled.nonce else None
        response = await call_next()
        override: ShieldOverride | None = ctx.__dict__.get(_OVERRIDE_KEY)
        if override is not None:
            compiled = self._overrides.get(override) or self._compile_override(override)
            if compiled.nonce and nonce is None:
                nonce = csp_nonce(ctx)
        compiled.apply(response, ctx.scope.get("scheme") == "https", nonce)
        return response

    def _compile_override(self, override: ShieldOverride) -> _Compiled:
        compiled = override.merged(self.options)._compiled
        self._overrides[override] = compiled
        return compiled


class ShieldOverride:
    """Route middleware from :func:`shield_override`: different shield options for the
    routes it wraps, applied by the app's :class:`ShieldMiddleware` on the way out."""

    __slots__ = ("changes",)

    def __init__(self, changes: Mapping[str, Any]) -> None:
        shield_options(changes)  # names and values checked now, at import time
        self.changes: dict[str, Any] = dict(changes)

    def merged(self, base: ShieldOptions) -> ShieldOptions:
        """``base`` with these changes; ``csp`` and ``hsts`` dicts extend the base's."""
        changes = dict(self.changes)
        for name in ("csp", "hsts"):
            mine, theirs = changes.get(name), getattr(base, name)
            if isinstance(mine, Mapping) and isinstance(theirs, Mapping):
                changes[name] = {**theirs, **mine}
        return replace(base, **changes)

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        ctx.__dict__[_OVERRIDE_KEY] = self
        if self.changes.get("use_nonce") and csp_nonce(ctx) is None:
            _new_nonce(ctx)  # the handler may render it: it must exist before the handler
        return await call_next()

    def __repr__(self) -> str:
        return f"shield_override({', '.join(f'{k}={v!r}' for k, v in self.changes.items())})"


def shield_override(**changes: Any) -> ShieldOverride:
    """Middleware that changes the shield options for the routes it wraps::

        @app.get("/embed", middleware=[shield_override(frame_options=None,
                                                       csp={"frame-ancestors": ["*"]})])

    ``csp`` and ``hsts`` dicts are merged into the app's; other options replace its value.
    """
    if not changes:
        raise ConfigurationError("shield_override() needs at least one option to change")
    return ShieldOverride(changes)
