"""Cookies: parsing the ``Cookie`` header and writing ``Set-Cookie`` with safe defaults.

Values are percent-encoded on write when they contain characters a cookie value may not hold
(RFC 6265 ``cookie-octet``), and percent-decoded on read, so any string round-trips.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Literal, TypedDict, Unpack
from urllib.parse import quote, unquote

from .dates import http_date
from .headers import MutableHeaders

__all__ = [
    "CookieOptions",
    "CookieScope",
    "RequestCookies",
    "ResponseCookies",
    "SameSite",
    "build_set_cookie",
    "parse_cookie_header",
]

SameSite = Literal["strict", "lax", "none", "Strict", "Lax", "None"]

_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 6265 cookie-octet minus "%" (kept for our own percent-encoding).
_SAFE_VALUE = "!#$&'()*+-./:<=>?@[]^_`{|}~"
_ATTR_RE = re.compile(r"^[^\x00-\x1f\x7f;]*$")


def parse_cookie_header(header: str) -> list[tuple[str, str]]:
    """Split a ``Cookie`` header into (name, value) pairs; malformed pieces are skipped."""
    pairs: list[tuple[str, str]] = []
    for piece in header.split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip()
        if not sep or not name or not _NAME_RE.match(name):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        pairs.append((name, unquote(value) if "%" in value else value))
    return pairs


class RequestCookies(Mapping[str, str]):
    """Cookies sent by the client; ``get`` returns the first, ``get_all`` every value."""

    __slots__ = ("_first", "_pairs")

    def __init__(self, header: str | None) -> None:
        self._pairs = parse_cookie_header(header) if header else []
        first: dict[str, str] = {}
        for name, value in self._pairs:
            first.setdefault(name, value)
        self._first = first

    def __getitem__(self, name: str) -> str:
        return self._first[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def get_all(self, name: str) -> list[str]:
        """Every value sent for one cookie name (duplicates happen across paths/domains)."""
        return [v for n, v in self._pairs if n == name]

    def to_dict(self) -> dict[str, str]:
        """Every cookie, first value each (Harpia's ``getAll()``)."""
        return dict(self._first)

    def __repr__(self) -> str:
        return f"RequestCookies({self._first!r})"


def _normalize_same_site(same_site: str | None) -> str | None:
    if same_site is None:
        return None
    value = same_site.capitalize()
    if value not in ("Strict", "Lax", "None"):
        raise ValueError(f"same_site must be 'strict', 'lax' or 'none', got {same_site!r}")
    return value


class CookieScope(TypedDict, total=False):
    """Where a cookie lives and how it is guarded (defaults in :func:`build_set_cookie`)."""

    path: str | None
    domain: str | None
    secure: bool
    http_only: bool
    same_site: SameSite | None
    partitioned: bool


class CookieOptions(CookieScope, total=False):
    """Plus its lifetime."""

    max_age: int | None
    expires: datetime | int | float | None


def build_set_cookie(
    name: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: datetime | int | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    http_only: bool = True,
    same_site: SameSite | None = "lax",
    partitioned: bool = False,
) -> str:
    """The ``Set-Cookie`` header value; raises :class:`ValueError` on unsafe input."""
    if not _NAME_RE.match(name):
        raise ValueError(f"invalid cookie name {name!r}")
    site = _normalize_same_site(same_site)
    if site == "None" and not secure:
        raise ValueError("same_site='none' requires secure=True (browsers reject it otherwise)")
    if partitioned and not secure:
        raise ValueError("partitioned cookies require secure=True")
    parts = [f"{name}={quote(value, safe=_SAFE_VALUE)}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        parts.append("Expires=" + http_date(expires))
    for attr, attr_value in (("Domain", domain), ("Path", path)):
        if attr_value is not None:
            if not _ATTR_RE.match(attr_value):
                raise ValueError(f"invalid cookie {attr.lower()} {attr_value!r}")
            parts.append(f"{attr}={attr_value}")
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if site is not None:
        parts.append(f"SameSite={site}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)


class ResponseCookies:
    """``ctx.response.cookies``: adds ``Set-Cookie`` headers to the response."""

    __slots__ = ("_headers",)

    def __init__(self, headers: MutableHeaders) -> None:
        self._headers = headers

    def set(self, name: str, value: str = "", **options: Unpack[CookieOptions]) -> None:
        """Set a cookie (options as :func:`build_set_cookie`).  Defaults are the safe ones:
        ``HttpOnly``, ``SameSite=Lax``, path ``/``."""
        self._headers.add("set-cookie", build_set_cookie(name, value, **options))

    def delete(self, name: str, **options: Unpack[CookieScope]) -> None:
        """Expire a cookie now (empty value, ``Max-Age=0``, ``Expires`` in 1970).

        ``path`` and ``domain`` must match the ones the cookie was set with, and so must
        ``partitioned``: browsers keep partitioned cookies apart from unpartitioned ones.
        """
        self.set(name, "", max_age=0, expires=0, **options)

    def __repr__(self) -> str:
        return f"ResponseCookies({self._headers.get_all('set-cookie')!r})"
