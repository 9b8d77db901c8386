"""Path patterns: ``/users/{id:int}`` (or ``/users/:id``) parsed once into segments.

A pattern is a list of segments; each is either static text or a parameter with a converter.
Converters turn the raw segment into a value, or return ``NO_MATCH`` so the router can try the
next candidate.  The ``path`` converter takes the rest of the path and must come last.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ..errors import ConfigurationError

__all__ = [
    "CONVERTERS",
    "NO_MATCH",
    "Converter",
    "PathPattern",
    "Segment",
    "join_paths",
    "normalize_prefix",
    "parse_pattern",
]


class _NoMatch:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_MATCH"


NO_MATCH: Final = _NoMatch()


def _to_int(raw: str) -> Any:
    # PERF: str.isdigit plus isascii is much cheaper than a regex; leading "-" allowed.
    digits = raw[1:] if raw[:1] == "-" else raw
    if digits and digits.isascii() and digits.isdigit():
        return int(raw)
    return NO_MATCH


_FLOAT_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _to_float(raw: str) -> Any:
    if not _FLOAT_RE.fullmatch(raw):
        return NO_MATCH
    value = float(raw)
    return value if math.isfinite(value) else NO_MATCH


def _to_str(raw: str) -> Any:
    return raw if raw else NO_MATCH


def _to_uuid(raw: str) -> Any:
    if len(raw) not in (32, 36):
        return NO_MATCH
    try:
        return uuid.UUID(raw)
    except ValueError:
        return NO_MATCH


def _to_path(raw: str) -> Any:
    return raw


@dataclass(frozen=True, slots=True)
class Converter:
    """How one parameter type is recognised, converted, and written back (``url_for``)."""

    name: str
    convert: Callable[[str], Any]
    to_string: Callable[[Any], str]


CONVERTERS: dict[str, Converter] = {
    "int": Converter("int", _to_int, lambda v: str(int(v))),
    "float": Converter("float", _to_float, lambda v: repr(float(v))),
    "uuid": Converter("uuid", _to_uuid, lambda v: str(uuid.UUID(str(v)))),
    "str": Converter("str", _to_str, str),
    "path": Converter("path", _to_path, str),
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``/``-separated piece of a pattern: static text, or a parameter."""

    text: str
    param: str | None = None
    converter: Converter | None = None

    @property
    def is_param(self) -> bool:
        return self.param is not None

    def key(self) -> str:
        """A name-free identity used for collision checks: ``{id:int}`` -> ``{int}``."""
        if self.converter is None:
            return self.text
        return "{" + self.converter.name + "}"


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A parsed route path."""

    path: str
    """Canonical form, with ``{name:type}`` parameters."""
    segments: tuple[Segment, ...]
    param_names: tuple[str, ...]

    @property
    def is_static(self) -> bool:
        return not self.param_names

    def shape(self) -> str:
        """The pattern with parameter names erased; equal shapes collide."""
        return "/" + "/".join(s.key() for s in self.segments)

    def build(self, params: dict[str, Any]) -> str:
        """Fill the parameters in (used by ``url_for``); unknown or missing ones raise."""
        from urllib.parse import quote

        missing = [n for n in self.param_names if n not in params]
        extra = [n for n in params if n not in self.param_names]
        if missing or extra:
            raise ConfigurationError(
                f"url for {self.path!r}: missing {missing or 'none'}, unexpected {extra or 'none'}"
            )
        parts: list[str] = []
        for seg in self.segments:
            if seg.converter is None:
                parts.append(seg.text)
                continue
            assert seg.param is not None
            try:
                value = seg.converter.to_string(params[seg.param])
            except (TypeError, ValueError):
                value = None
            if value is None or seg.converter.convert(value) is NO_MATCH:
                raise ConfigurationError(
                    f"url for {self.path!r}: {seg.param}={params[seg.param]!r} "
                    f"is not a valid {seg.converter.name}"
                )
            if any(part in (".", "..") for part in value.split("/")):
                # Clients resolve these and the router refuses them (400): never emit one.
                raise ConfigurationError(
                    f"url for {self.path!r}: {seg.param}={value!r} is a dot segment"
                )
            safe = "/" if seg.converter.name == "path" else ""
            parts.append(quote(value, safe=safe))
        return "/" + "/".join(parts)


_PARAM_RE = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}$")
_COLON_RE = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)$")
_STATIC_OK = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$")


def normalize_prefix(prefix: str) -> str:
    """``"books"`` / ``"/books/"`` -> ``"/books"``; ``""`` and ``"/"`` -> ``""``."""
    prefix = prefix.strip()
    if not prefix or prefix == "/":
        return ""
    return "/" + prefix.strip("/")


def join_paths(prefix: str, path: str) -> str:
    """Join a group prefix and a route path; ``("/api", "/")`` -> ``"/api"``."""
    prefix = normalize_prefix(prefix)
    if not path.startswith("/"):
        path = "/" + path
    if prefix and path == "/":
        return prefix
    return prefix + path


def parse_pattern(path: str) -> PathPattern:
    """Parse a route path; raise :class:`ConfigurationError` for anything ambiguous."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ConfigurationError(f"route path must start with '/': {path!r}")
    if "?" in path or "#" in path:
        raise ConfigurationError(f"route path must not contain '?' or '#': {path!r}")
    raw_segments = path[1:].split("/") if path != "/" else [""]
    segments: list[Segment] = []
    names: list[str] = []
    for index, raw in enumerate(raw_segments):
        m = _PARAM_RE.match(raw) or _COLON_RE.match(raw)
        if m is None:
            if "{" in raw or "}" in raw:
                raise ConfigurationError(
                    f"route {path!r}: a parameter must fill a whole segment: {raw!r}"
                )
            if raw in (".", ".."):
                raise ConfigurationError(f"route {path!r}: dot segments are not allowed")
            if "%" in raw:
                # Requests are matched decoded, so an escape here could never match.
                raise ConfigurationError(
                    f"route {path!r}: percent-escapes are not allowed in {raw!r}"
                )
            if not _STATIC_OK.match(raw):
                raise ConfigurationError(f"route {path!r}: invalid character in {raw!r}")
            segments.append(Segment(raw))
            continue
        name = m.group(1)
        conv_name = (m.group(2) if m.re is _PARAM_RE else None) or "str"
        converter = CONVERTERS.get(conv_name)
        if converter is None:
            raise ConfigurationError(
                f"route {path!r}: unknown converter {conv_name!r} "
                f"(use one of {', '.join(CONVERTERS)})"
            )
        if name in names:
            raise ConfigurationError(f"route {path!r}: duplicate parameter name {name!r}")
        if converter.name == "path" and index != len(raw_segments) - 1:
            raise ConfigurationError(f"route {path!r}: a path parameter must be the last segment")
        names.append(name)
        label = name if converter.name == "str" else f"{name}:{converter.name}"
        segments.append(Segment("{" + label + "}", name, converter))
    canonical = "/" + "/".join(s.text for s in segments)
    return PathPattern(canonical, tuple(segments), tuple(names))
