"""Allowed hosts and HTTPS redirects.

:class:`AllowedHostsMiddleware` answers 400 to requests whose ``Host`` is not one of the
app's names, which stops DNS-rebinding attacks and Host-header poisoning of absolute URLs
(password-reset links, redirects, caches).  :class:`HTTPSRedirectMiddleware` sends plain
``http`` requests to the same URL over ``https``.  Both are ordinary middleware::

    app.use(AllowedHostsMiddleware(["example.com", "*.example.com"]))
    app.use(HTTPSRedirectMiddleware())
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_from_bytes

from .. import errors
from ..errors import ConfigurationError
from ..http.response import RedirectResponse

if TYPE_CHECKING:
    from ..context import Context
    from ..http.response import Response
    from ..routing.router import CallNext

__all__ = ["AllowedHostsMiddleware", "HTTPSRedirectMiddleware", "parse_host"]

_HOST_RE = re.compile(
    r"(?P<name>\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?\.?)"
    r"(?::(?P<port>[0-9]{1,5}))?",
    re.ASCII | re.IGNORECASE,
)
_MAX_HOST = 300
_HOST = b"host"
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = _PATH_SAFE + "?"
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def parse_host(value: str) -> tuple[str, int | None] | None:
    """``"Example.COM.:8080"`` -> ``("example.com", 8080)``; ``None`` for anything that is
    not a host name, IPv4 or bracketed IPv6 address with an optional port."""
    if not value or len(value) > _MAX_HOST:
        return None
    match = _HOST_RE.fullmatch(value)
    if match is None:
        return None
    name = match["name"].lower()
    if name.endswith("."):
        name = name[:-1]  # "example.com." is the same, fully qualified name
    if ".." in name:
        return None
    port = match["port"]
    if port is None:
        return name, None
    number = int(port)
    return (name, number) if 0 < number <= 65535 else None


def _request_host(ctx: Context) -> tuple[str, int | None] | None:
    """The request's single, well-formed ``Host``, or ``None``."""
    found: bytes | None = None
    for k, v in ctx.scope["headers"]:
        if k == _HOST:
            if found is not None:  # pragma: no cover - the app refuses these before routing
                return None  # two Host headers: which one did the proxy route on?
            found = v
    if found is None:
        return None
    return parse_host(found.decode("latin-1"))


def _target(scope: dict[str, Any]) -> str:
    """Path and query of the request as received (still percent-encoded)."""
    raw: bytes | None = scope.get("raw_path")
    if not raw:
        raw = scope["path"].encode("utf-8")
    raw = raw.split(b"?", 1)[0]
    target = quote_from_bytes(raw, safe=_PATH_SAFE)
    query: bytes = scope.get("query_string", b"")
    if query:
        target += "?" + quote_from_bytes(query, safe=_QUERY_SAFE)
    return target


def _invalid_host() -> errors.HTTPError:
    # The host is not repeated in the body: it is attacker-chosen text.
    return errors.bad_request("Invalid Host header", code="INVALID_HOST")


class AllowedHostsMiddleware:
    """Refuse (400) requests whose ``Host`` is not listed.

    ``hosts`` holds exact names (``"example.com"``, ``"127.0.0.1"``, ``"[::1]"``) and
    wildcards (``"*.example.com"``: any subdomain, at any depth, but not ``example.com``
    itself); ``"*"`` allows every well-formed host.  Ports and letter case are ignored.
    With ``www_redirect=True`` a request for ``example.com`` that is not allowed, when
    ``www.example.com`` is, is redirected there (308).
    """

    __slots__ = ("_any", "_exact", "_suffixes", "hosts", "www_redirect")

    def __init__(self, hosts: Sequence[str], *, www_redirect: bool = False) -> None:
        if isinstance(hosts, str) or not isinstance(hosts, Sequence):
            raise ConfigurationError(
                f"allowed hosts must be a list of host names, e.g. ['example.com']: {hosts!r}"
            )
        if not hosts:
            raise ConfigurationError("allowed hosts must not be empty (use ['*'] to allow all)")
        if not isinstance(www_redirect, bool):
            raise ConfigurationError("www_redirect must be True or False")
        exact: set[str] = set()
        suffixes: list[str] = []
        any_host = False
        for entry in hosts:
            if not isinstance(entry, str):
                raise ConfigurationError(f"allowed host {entry!r} is not a string")
            if entry == "*":
                any_host = True
                continue
            wildcard = entry.startswith("*.")
            parsed = parse_host(entry[2:] if wildcard else entry)
            if parsed is None or "*" in entry[2 if wildcard else 0 :]:
                raise ConfigurationError(
                    f"allowed host {entry!r} is not a host name, an IP address, '*.domain' or '*'"
                )
            if parsed[1] is not None:
                raise ConfigurationError(
                    f"allowed host {entry!r}: list names without a port (ports are ignored)"
                )
            if wildcard:
                suffixes.append("." + parsed[0])
            else:
                exact.add(parsed[0])
        self.hosts = tuple(hosts)
        self.www_redirect = www_redirect
        self._any = any_host
        self._exact = frozenset(exact)
        self._suffixes = tuple(suffixes)

    def allows(self, name: str) -> bool:
        """Whether the host name (lower-case, no port) is allowed."""
        if self._any or name in self._exact:
            return True
        return any(name.endswith(suffix) for suffix in self._suffixes)

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        parsed = _request_host(ctx)
        if parsed is None:
            raise _invalid_host()
        name, port = parsed
        if self.allows(name):
            return await call_next()
        if self.www_redirect and not name.startswith("www.") and self.allows("www." + name):
            scope = ctx.scope
            authority = f"www.{name}" if port is None else f"www.{name}:{port}"
            scheme = "https" if scope.get("scheme") == "https" else "http"
            return RedirectResponse(f"{scheme}://{authority}{_target(scope)}", 308)
        raise _invalid_host()


class HTTPSRedirectMiddleware:
    """Redirect plain-``http`` requests to the same URL over ``https``.

    The scheme is the request's own (``ctx.request.scheme``): behind a proxy that ends TLS,
    run uvicorn with ``--proxy-headers`` and ``--forwarded-allow-ips`` so ``https`` shows
    through, or every request would be redirected in a loop.  ``host`` fixes the redirect's
    host (else the request's ``Host``, which should then be checked by
    :class:`AllowedHostsMiddleware`); ``https_port`` is added when it is not 443.
    """

    __slots__ = ("host", "https_port", "status")

    def __init__(
        self, status: int = 308, *, host: str | None = None, https_port: int | None = None
    ) -> None:
        if status not in _REDIRECT_STATUSES or isinstance(status, bool):
            raise ConfigurationError(
                f"HTTPS redirect status must be one of 301, 302, 303, 307, 308: {status!r}"
            )
        if host is not None:
            parsed = parse_host(host) if isinstance(host, str) else None
            if parsed is None or parsed[1] is not None:
                raise ConfigurationError(
                    f"HTTPS redirect host must be a host name without port: {host!r}"
                )
            host = parsed[0]
        if https_port is not None and (
            not isinstance(https_port, int)
            or isinstance(https_port, bool)
            or not 0 < https_port <= 65535
        ):
            raise ConfigurationError(f"https_port must be a port number: {https_port!r}")
        self.status = status
        self.host = host
        self.https_port = https_port

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        scope = ctx.scope
        if scope.get("scheme", "http") != "http":
            return await call_next()
        host = self.host
        if host is None:
            parsed = _request_host(ctx)
            if parsed is None:
                raise _invalid_host()
            host = parsed[0]
        port = self.https_port
        authority = host if port is None or port == 443 else f"{host}:{port}"
        return RedirectResponse(f"https://{authority}{_target(scope)}", self.status)
