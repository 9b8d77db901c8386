"""Durations written the way people say them: ``"100ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``.

Rate limits, caches and timeouts take a window or TTL either as a number of seconds or as
such a string; :func:`parse_duration` turns both into seconds, and refuses anything it
cannot read with a message saying what it expected (a typo in a config file should stop
the app at startup, not silently become zero).
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

from .errors import ConfigurationError

__all__ = ["DurationError", "parse_duration"]

UNITS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}
"""Seconds per unit; ``"1h30m"`` combines them (largest first)."""

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_PART = re.compile(rf"({_NUMBER})(ms|s|m|h|d|w)")
_WHOLE = re.compile(rf"(?:{_NUMBER}(?:ms|s|m|h|d|w))+")
_NUMBER_ONLY = re.compile(_NUMBER)
_ORDER = ("w", "d", "h", "m", "s", "ms")


class DurationError(ConfigurationError, ValueError):
    """A duration that cannot be read; both a :class:`ConfigurationError` (it is a setup
    mistake) and a :class:`ValueError` (it is a bad value)."""


def parse_duration(value: str | float | timedelta) -> float:
    """Seconds in ``value``: a number of seconds, a :class:`~datetime.timedelta`, or a
    string such as ``"100ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``, ``"1w"``,
    ``"1h30m"`` or ``"2.5s"`` (a bare ``"30"`` is seconds too).

    Negative, infinite and NaN durations are refused with :class:`DurationError`.
    """
    if isinstance(value, bool):
        raise DurationError(f"a duration must be seconds or a string like '30s', got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        raise DurationError(
            f"a duration must be seconds, a timedelta or a string like '30s', got {value!r}"
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise DurationError(f"a duration must be finite and not negative, got {value!r}")
    return seconds


def _parse_text(value: str) -> float:
    text = value.strip().lower()
    if _NUMBER_ONLY.fullmatch(text):
        return float(text)
    if not _WHOLE.fullmatch(text):
        raise DurationError(
            f"cannot read duration {value!r}: use a number of seconds or a number with a unit "
            "(ms, s, m, h, d, w), e.g. '100ms', '30s', '5m', '1h30m'"
        )
    total = 0.0
    last = -1
    for number, unit in _PART.findall(text):
        rank = _ORDER.index(unit)
        if rank <= last:
            raise DurationError(
                f"cannot read duration {value!r}: write each unit once, largest first ('1h30m')"
            )
        last = rank
        total += float(number) * UNITS[unit]
    return total
