"""Sizes written the way people say them: ``"10MB"``, ``"512KiB"``, ``"1.5 GiB"``.

Decimal units (kB, MB, GB, TB) are powers of 1000 and binary units (KiB, MiB, GiB, TiB)
powers of 1024, as the standards define them, so ``"10MB"`` is 10,000,000 bytes and
``"10MiB"`` is 10,485,760.  A bare number is bytes.  Letter case is ignored; anything
else (``"10M"``, ``"-1KB"``, ``"1.5B"``) is refused with a message, because a typo in a
limit should stop the app at startup rather than become some other limit.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..errors import ConfigurationError

__all__ = ["SIZE_UNITS", "SizeError", "parse_size"]

SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
"""Bytes per unit, keyed by the lower-cased unit name."""

_SIZE_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)")


class SizeError(ConfigurationError, ValueError):
    """A size that cannot be read (a setup mistake, and a bad value)."""


def parse_size(value: str | int) -> int:
    """Bytes in ``value``: an integer, or a string such as ``"1048576"``, ``"512KiB"``,
    ``"10MB"`` or ``"1.5 GiB"``; the result must be a whole number of bytes."""
    if isinstance(value, bool):
        raise SizeError(f"a size must be bytes or a string like '10MB', got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise SizeError(f"a size can't be negative, got {value}")
        return value
    if not isinstance(value, str):
        raise SizeError(f"a size must be bytes or a string like '10MB', got {value!r}")
    match = _SIZE_RE.fullmatch(value.strip().lower())
    if match is None or (match[2] and match[2] not in SIZE_UNITS):
        raise SizeError(
            f"cannot read size {value!r}: use bytes or a number with a unit "
            "(B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. '512KiB' or '10MB'"
        )
    size = Fraction(match[1]) * SIZE_UNITS[match[2] or "b"]
    if size.denominator != 1:
        raise SizeError(f"size {value!r} is not a whole number of bytes")
    return int(size)
