"""Media types and header parameters: ``Content-Type`` and ``Content-Disposition`` values.

``parse_content_type("text/html; charset=UTF-8")`` gives ``("text/html", {"charset": "UTF-8"})``.
The request object calls it on every body read, and the same few content types repeat, so
results are cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote

__all__ = ["decode_ext_value", "parse_content_disposition", "parse_content_type"]

# One ``; key=value`` parameter.  The value is a quoted-string (with backslash escapes) or a
# run of anything up to the next ``;``.  A parameter without ``=`` gets an empty value.
_PARAM_RE = re.compile(
    r';[ \t]*([^\s;=]+)[ \t]*(?:=[ \t]*("(?:[^"\\]|\\.)*"|[^;]*))?',
    re.DOTALL,
)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_BROWSER_ESCAPE_RE = re.compile(r'\\(["\\])')

# Values longer than this are parsed but not cached: real content types are short, and a
# client sending huge random ones should not be able to fill the cache with them.
_CACHEABLE_LENGTH = 256

Params = tuple[tuple[str, str], ...]


def _split(value: str, *, browser_escapes: bool) -> tuple[str, Params]:
    """Split ``type; k=v; ...`` into the lower-cased type and every parameter, in order."""
    head, sep, rest = value.partition(";")
    media_type = head.strip(" \t").lower()
    if not sep:
        return media_type, ()
    params: list[tuple[str, str]] = []
    for match in _PARAM_RE.finditer(";" + rest):
        key, raw = match.group(1).lower(), match.group(2)
        if raw is None:
            params.append((key, ""))
        elif len(raw) >= 2 and raw[0] == '"' and raw[-1] == '"':
            inner = raw[1:-1]
            if "\\" in inner:
                if browser_escapes:
                    # Browsers escape only `"` (and write `\` raw, so Windows paths survive):
                    # undo exactly what they do.
                    inner = _BROWSER_ESCAPE_RE.sub(r"\1", inner)
                else:
                    inner = _QUOTED_PAIR_RE.sub(r"\1", inner)
            params.append((key, inner))
        else:
            params.append((key, raw.rstrip(" \t")))
    return media_type, tuple(params)


@lru_cache(maxsize=256)
def _split_cached(value: str) -> tuple[str, Params]:
    return _split(value, browser_escapes=False)


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Parse a ``Content-Type`` value into the lower-cased media type and its parameters.

    Parameter names are lower-cased, quoted values unescaped, and the first of duplicate
    parameters wins.  A fresh dict is returned each call, so callers may change it.
    """
    if len(value) <= _CACHEABLE_LENGTH:
        media_type, params = _split_cached(value)
    else:
        media_type, params = _split(value, browser_escapes=False)
    result: dict[str, str] = {}
    for key, param in params:
        result.setdefault(key, param)
    return media_type, result


def parse_content_disposition(value: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Parse a multipart part's ``Content-Disposition`` into its type and every parameter.

    Duplicates are kept (in order) so the caller can refuse ambiguous parts.  Quoted values
    are unescaped the way browsers escape them (only ``\\"`` and ``\\\\``), so a Windows
    path such as ``C:\\dir\\a.txt`` keeps its backslashes.  Not cached: names vary per part.
    """
    return _split(value, browser_escapes=True)


def decode_ext_value(value: str) -> str:
    """Decode an RFC 8187 (RFC 5987) extended value such as ``UTF-8''na%C3%AFve.txt``.

    Only the two charsets the RFC requires are accepted (UTF-8 and ISO-8859-1); anything
    else, or bytes invalid in the charset, raises :class:`ValueError`.
    """
    charset, sep1, rest = value.partition("'")
    _language, sep2, encoded = rest.partition("'")
    if not sep1 or not sep2:
        raise ValueError("extended value must look like charset'language'value")
    charset = charset.strip().lower()
    if charset in ("utf-8", "utf8"):
        codec = "utf-8"
    elif charset in ("iso-8859-1", "latin-1", "latin1"):
        codec = "latin-1"
    else:
        raise ValueError(f"unsupported charset {charset!r} in extended value")
    return unquote(encoded, encoding=codec, errors="strict")
