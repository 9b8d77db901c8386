"""Request limits: one frozen config object per concern, with safe defaults.

Limits are set on the app (``App(limits=BodyLimits(...))``) and may be overridden per route
(``@app.post("/upload", limits={"max_body_size": 50 * MiB})``); the route's object is the
app's with the overrides applied, built once at startup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError, HTTPError

__all__ = ["BodyLimits", "HeaderLimits", "KiB", "MiB"]

KiB = 1024
MiB = 1024 * 1024

_BLOCKED_EXTENSIONS = (
    ".exe", ".bat", ".cmd", ".com", ".scr", ".pif", ".msi", ".vbs", ".js", ".jar",
    ".ps1", ".sh", ".dll",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """Limits on request bodies and the parsers that read them.

    Every size counts bytes actually received, whatever ``Content-Length`` claims.
    """

    max_body_size: int = 1 * MiB
    """Largest body accepted, in bytes (413 beyond)."""
    body_timeout: float = 30.0
    """Seconds allowed to receive the whole body (408 beyond)."""

    json_max_depth: int = 32
    """Deepest nesting of objects/arrays in a JSON body (400 beyond)."""
    json_max_keys: int = 1000
    """Most keys in one JSON object."""
    json_max_array_length: int = 10_000
    """Most items in one JSON array."""
    json_max_string_length: int = 1 * MiB
    """Longest string value or key in a JSON body, in characters."""

    form_max_fields: int = 1000
    """Most non-file fields in an urlencoded or multipart form."""
    form_max_field_name_length: int = 100
    """Longest field name, in characters."""
    form_max_field_size: int = 1 * MiB
    """Largest value of one non-file field, in bytes."""

    multipart_max_files: int = 100
    """Most file parts in one multipart body."""
    multipart_max_file_size: int = 10 * MiB
    """Largest single uploaded file, in bytes (also bounded by ``max_body_size``)."""
    multipart_max_part_headers: int = 16 * KiB
    """Largest header block of one multipart part, in bytes."""
    multipart_max_filename_length: int = 255
    """Longest client-supplied file name, in characters."""
    multipart_allowed_extensions: tuple[str, ...] = ()
    """If not empty, only file names with these extensions are accepted (415 otherwise)."""
    multipart_blocked_extensions: tuple[str, ...] = field(default=_BLOCKED_EXTENSIONS)
    """File extensions refused outright (415); set ``()`` to allow everything."""
    multipart_spool_size: int = 1 * MiB
    """Uploaded files larger than this are spooled to a temporary file on disk."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
                raise ConfigurationError(f"BodyLimits.{f.name} must be positive, got {value!r}")
        for name in ("multipart_allowed_extensions", "multipart_blocked_extensions"):
            exts = getattr(self, name)
            if isinstance(exts, str) or not all(isinstance(e, str) for e in exts):
                raise ConfigurationError(f"BodyLimits.{name} must be a tuple of strings")
            object.__setattr__(
                self, name, tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in exts)
            )

    def with_overrides(self, overrides: BodyLimits | Mapping[str, Any] | None) -> BodyLimits:
        """These limits with a route's overrides applied (a mapping, or a whole object)."""
        if overrides is None:
            return self
        if isinstance(overrides, BodyLimits):
            return overrides
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigurationError(f"unknown body limit(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    """Limits on request headers, checked before routing (431 beyond)."""

    max_headers: int = 100
    max_name_length: int = 200
    max_value_length: int = 8192

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if getattr(self, f.name) <= 0:
                raise ConfigurationError(f"HeaderLimits.{f.name} must be positive")

    def check(self, headers: list[tuple[bytes, bytes]]) -> HTTPError | None:
        """The error for headers over a limit (431) or with more than one Host (400)."""
        if len(headers) > self.max_headers:
            return HTTPError(431, f"more than {self.max_headers} headers")
        max_name = self.max_name_length
        max_value = self.max_value_length
        hosts = 0
        for name, value in headers:
            if len(name) > max_name or len(value) > max_value:
                return HTTPError(431, f"header {name[:40].decode('latin-1')!r} is too long")
            if name == b"host":
                hosts += 1
        if hosts > 1:
            return HTTPError(400, "more than one Host header")
        return None
