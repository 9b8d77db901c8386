"""``Secret``: a setting whose value must never appear in logs, errors or reprs."""

from __future__ import annotations

import hmac
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = ["Secret", "redact_url"]

_MASK: Final = "***"


class Secret:
    """A string that hides itself: ``repr()`` and ``str()`` show ``***``.

    Call :meth:`reveal` where the real value is needed (signing keys, passwords), so the
    places that can leak it are few and easy to find.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a string, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The secret value itself."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK


def redact_url(value: str) -> str:
    """``value`` with the password of a URL (``redis://user:pw@host``) masked; other text
    is returned as it is."""
    if "@" not in value or "://" not in value:
        return value
    try:
        parts = urlsplit(value)
        password = parts.password
    except ValueError:
        return value
    if not password:
        return value
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{_MASK}@{host}"))
