"""Hiding passwords in connection URLs and options before they reach logs or health output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["SECRET_OPTION_NAMES", "redact_options", "redact_url"]

MASK = "***"

SECRET_OPTION_NAMES = frozenset(
    {"password", "sslpassword", "tlscertificatekeyfilepassword", "credentialprovider"}
)
"""Option names, lower-case without underscores, whose values are never shown."""


def redact_url(url: str) -> str:
    """``scheme://user:***@host/...``: the URL with its password (if any) masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK  # unparsable: show nothing rather than a secret
    if parts.password is None:
        return url
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hosts}"))


def redact_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``options`` with secrets masked and URL values redacted."""
    shown: dict[str, Any] = {}
    for key, value in options.items():
        normed = key.lower().replace("_", "")
        if value is not None and normed in SECRET_OPTION_NAMES:
            shown[key] = MASK
        elif isinstance(value, str) and "://" in value:
            shown[key] = redact_url(value)
        elif isinstance(value, Mapping):
            shown[key] = redact_options(value)
        else:
            shown[key] = value
    return shown
