"""HTTP dates (RFC 9110 IMF-fixdate), e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``.

Written here rather than taken from ``email.utils`` so that importing avian does not pull in
the email package for two header formats.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["http_date"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(when: float | datetime) -> str:
    """Format a POSIX timestamp or a datetime (naive means UTC) as an HTTP date."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.timestamp()
    t = time.gmtime(when)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )
