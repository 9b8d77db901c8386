"""``limits``: request body, parser and header limits (``App(limits=..., header_limits=...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from .block import SettingsBlock
from .field_types import PositiveInt, PositiveSeconds, PositiveSize

if TYPE_CHECKING:
    from ..http.limits import BodyLimits, HeaderLimits
    from .checks import SettingsChecks

__all__ = ["RISKY_LIMITS", "LimitSettings"]

KiB: Final = 1024
MiB: Final = 1024 * 1024

RISKY_LIMITS: Final[dict[str, float]] = {
    "max_body_size": 100 * MiB,
    "multipart_max_file_size": 1024 * MiB,
    "body_timeout": 300.0,
    "json_max_depth": 128,
    "json_max_keys": 100_000,
    "json_max_array_length": 1_000_000,
    "json_max_string_length": 100 * MiB,
    "form_max_fields": 10_000,
    "form_max_field_size": 100 * MiB,
    "multipart_max_files": 1000,
    "max_headers": 500,
    "max_header_value_length": 64 * KiB,
}
"""Values above these are allowed but logged as risky at startup: a limit that high lets a
few clients tie up the server's memory, disk or CPU.  Raise a limit per route
(``@app.post(..., limits={...})``) where one route needs it, rather than for all."""

_BLOCKED_EXTENSIONS = (
    ".exe", ".bat", ".cmd", ".com", ".scr", ".pif", ".msi", ".vbs", ".js", ".jar",
    ".ps1", ".sh", ".dll",
)  # fmt: skip


class LimitSettings(SettingsBlock, frozen=True, kw_only=True):
    """Every field of :class:`~avian.http.limits.BodyLimits` under the same name, and the
    three of :class:`~avian.http.limits.HeaderLimits` prefixed with ``max_header``."""

    max_body_size: PositiveSize = 1 * MiB
    body_timeout: PositiveSeconds = 30.0
    json_max_depth: PositiveInt = 32
    json_max_keys: PositiveInt = 1000
    json_max_array_length: PositiveInt = 10_000
    json_max_string_length: PositiveInt = 1 * MiB
    form_max_fields: PositiveInt = 1000
    form_max_field_name_length: PositiveInt = 100
    form_max_field_size: PositiveSize = 1 * MiB
    multipart_max_files: PositiveInt = 100
    multipart_max_file_size: PositiveSize = 10 * MiB
    multipart_max_part_headers: PositiveSize = 16 * KiB
    multipart_max_filename_length: PositiveInt = 255
    multipart_allowed_extensions: tuple[str, ...] = ()
    multipart_blocked_extensions: tuple[str, ...] = _BLOCKED_EXTENSIONS
    multipart_spool_size: PositiveSize = 1 * MiB
    max_headers: PositiveInt = 100
    max_header_name_length: PositiveInt = 200
    max_header_value_length: PositiveInt = 8192

    def body_limits(self) -> BodyLimits:
        """The :class:`~avian.http.limits.BodyLimits` these settings describe."""
        from ..http.limits import BodyLimits

        return BodyLimits(
            max_body_size=self.max_body_size,
            body_timeout=self.body_timeout,
            json_max_depth=self.json_max_depth,
            json_max_keys=self.json_max_keys,
            json_max_array_length=self.json_max_array_length,
            json_max_string_length=self.json_max_string_length,
            form_max_fields=self.form_max_fields,
            form_max_field_name_length=self.form_max_field_name_length,
            form_max_field_size=self.form_max_field_size,
            multipart_max_files=self.multipart_max_files,
            multipart_max_file_size=self.multipart_max_file_size,
            multipart_max_part_headers=self.multipart_max_part_headers,
            multipart_max_filename_length=self.multipart_max_filename_length,
            multipart_allowed_extensions=self.multipart_allowed_extensions,
            multipart_blocked_extensions=self.multipart_blocked_extensions,
            multipart_spool_size=self.multipart_spool_size,
        )

    def header_limits(self) -> HeaderLimits:
        """The :class:`~avian.http.limits.HeaderLimits` these settings describe."""
        from ..http.limits import HeaderLimits

        return HeaderLimits(
            max_headers=self.max_headers,
            max_name_length=self.max_header_name_length,
            max_value_length=self.max_header_value_length,
        )

    def app_options(self) -> dict[str, Any]:
        return {"limits": self.body_limits(), "header_limits": self.header_limits()}

    def check(self, checks: SettingsChecks) -> None:
        checks.attempt(self.body_limits, guess_from=self)
        checks.attempt(self.header_limits, guess_from=self)
        for name, threshold in RISKY_LIMITS.items():
            value = getattr(self, name)
            if value > threshold:
                checks.warn(
                    name,
                    f"{_amount(name, value)} is above {_amount(name, threshold)}: a few clients "
                    "could tie up the server; raise the limit on the routes that need it instead",
                )
        if self.multipart_spool_size > self.multipart_max_file_size:
            checks.warn(
                "multipart_spool_size",
                "is larger than multipart_max_file_size, so uploads are always held in memory",
            )


def _amount(name: str, value: float) -> str:
    """A limit as people read it: ``"200 MiB"``, ``"600 s"``, ``"256"``."""
    if name == "body_timeout":
        return f"{value:g} s"
    if name in _BYTE_LIMITS:
        for unit, size in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", KiB)):
            if value >= size:
                return f"{value / size:.4g} {unit}"
        return f"{int(value)} bytes"
    return f"{int(value)}"


_BYTE_LIMITS = frozenset(
    {"max_body_size", "multipart_max_file_size", "form_max_field_size", "max_header_value_length"}
)
