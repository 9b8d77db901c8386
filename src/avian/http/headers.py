"""Request headers (read-only, parsed lazily) and response headers (validated on write).

Header names are case-insensitive; avian stores them lower-case.  Nothing that contains CR,
LF or NUL can be written to a response header: :class:`HeaderValueError` is raised instead, so
header injection is impossible by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import overload

__all__ = ["HeaderValueError", "Headers", "MutableHeaders", "encode_header"]

_TOKEN_RE = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE_RE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class HeaderValueError(ValueError):
    """A header name or value would corrupt the response (CR/LF/NUL, bad token, non-latin-1)."""


def encode_header(name: str | bytes, value: str | bytes | int) -> tuple[bytes, bytes]:
    """Validate and encode one header for ASGI (lower-case name, latin-1 value)."""
    raw_name = name.lower().encode("latin-1") if isinstance(name, str) else name.lower()
    if not _TOKEN_RE.match(raw_name):
        raise HeaderValueError(f"invalid header name {name!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return raw_name, str(value).encode()
    if isinstance(value, str):
        try:
            raw_value = value.encode("latin-1")
        except UnicodeEncodeError:
            raise HeaderValueError(
                f"header {name!r} value is not latin-1; encode it (e.g. RFC 8187) first"
            ) from None
    elif isinstance(value, bytes):
        raw_value = value
    else:
        raise HeaderValueError(f"header {name!r} value must be str, bytes or int")
    if _BAD_VALUE_RE.search(raw_value):
        raise HeaderValueError(f"header {name!r} value contains a control character")
    return raw_name, raw_value.strip(b" \t")


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive view of request headers.

    Single-value access returns the first occurrence; :meth:`get_all` returns every one.
    """

    __slots__ = ("_dict", "raw")

    def __init__(self, raw: list[tuple[bytes, bytes]] | None = None) -> None:
        self.raw: list[tuple[bytes, bytes]] = raw if raw is not None else []
        self._dict: dict[str, str] | None = None

    def _index(self) -> dict[str, str]:
        d = self._dict
        if d is None:
            d = {}
            for k, v in self.raw:
                key = k.decode("latin-1").lower()
                if key not in d:
                    d[key] = v.decode("latin-1")
            self._dict = d
        return d

    def __getitem__(self, key: str) -> str:
        return self._index()[key.lower()]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        d = self._dict
        if d is not None:
            return d.get(key.lower(), default)
        # PERF: a request has few headers and a handler reads few; scanning the raw list
        # (names are lower-case in ASGI) beats decoding them all into a dict.
        name = key.lower().encode("latin-1")
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index()

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def get_all(self, key: str) -> list[str]:
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self.raw if k.lower() == name]

    def multi_items(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw]

    def __repr__(self) -> str:
        return f"Headers({self.multi_items()!r})"


class MutableHeaders:
    """Response headers backed by the raw ASGI list; every write is validated."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]] | None = None) -> None:
        self.raw: list[tuple[bytes, bytes]] = raw if raw is not None else []

    def _find(self, key: str) -> bytes:
        return key.lower().encode("latin-1")

    def get(self, key: str, default: str | None = None) -> str | None:
        name = self._find(key)
        for k, v in self.raw:
            if k == name:
                return v.decode("latin-1")
        return default

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = self._find(key)
        return any(k == name for k, _ in self.raw)

    def get_all(self, key: str) -> list[str]:
        name = self._find(key)
        return [v.decode("latin-1") for k, v in self.raw if k == name]

    def set(self, key: str, value: str | bytes | int) -> None:
        """Replace every value of ``key`` with one value."""
        item = encode_header(key, value)
        self.raw[:] = [kv for kv in self.raw if kv[0] != item[0]]
        self.raw.append(item)

    __setitem__ = set

    def setdefault(self, key: str, value: str | bytes | int) -> str:
        existing = self.get(key)
        if existing is not None:
            return existing
        self.add(key, value)
        return self[key]

    def add(self, key: str, value: str | bytes | int) -> None:
        """Append a value, keeping existing ones (e.g. several ``Set-Cookie``)."""
        self.raw.append(encode_header(key, value))

    def remove(self, *keys: str) -> None:
        """Remove every value of each key; missing keys are ignored."""
        names = {self._find(k) for k in keys}
        self.raw[:] = [kv for kv in self.raw if kv[0] not in names]

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.remove(key)

    @overload
    def update(self, other: Mapping[str, str | bytes | int]) -> None: ...
    @overload
    def update(self, other: Iterable[tuple[str, str | bytes | int]]) -> None: ...
    def update(
        self, other: Mapping[str, str | bytes | int] | Iterable[tuple[str, str | bytes | int]]
    ) -> None:
        """Set each header (replacing existing values), like ``dict.update``."""
        items = other.items() if isinstance(other, Mapping) else other
        for k, v in items:
            self.set(k, v)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for k, _ in self.raw:
            seen.setdefault(k.decode("latin-1"), None)
        return list(seen)

    def items(self) -> list[tuple[str, str]]:
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.raw]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"MutableHeaders({self.items()!r})"
