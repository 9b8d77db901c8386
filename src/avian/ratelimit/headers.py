"""Rate-limit response headers, in the formats clients look for.

======== ===================================================================================
format   headers
======== ===================================================================================
standard ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds to reset;
         IETF draft-06, what most clients read)
legacy   ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (Unix time
         of the reset, the GitHub convention)
both     standard and legacy together
draft7   ``RateLimit: limit=60, remaining=59, reset=30`` and ``RateLimit-Policy: 60;w=60``
draft8   ``RateLimit-Policy: "name";q=60;w=60`` and ``RateLimit: "name";r=59;t=30``
         (structured-field lists of IETF draft-08)
======== ===================================================================================

A refused request also gets ``Retry-After`` (whole seconds, at least 1); its reset value
names the same moment, as the drafts ask.  Headers are written on every response a limiter
lets through, so their pairs are cached: the limit's pair is built once, small remaining
counts come from a table, and the reset pair changes at most once a second.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil
from typing import Final, Literal

from .result import RateLimitResult

__all__ = [
    "HEADER_FORMATS",
    "RESET_SLACK",
    "SMALL_COUNTS",
    "HeaderFormat",
    "HeaderTriple",
    "HeaderWriter",
    "retry_after_seconds",
    "whole_seconds",
]

HeaderFormat = Literal["standard", "legacy", "both", "draft7", "draft8"]
HEADER_FORMATS: Final = ("standard", "legacy", "both", "draft7", "draft8")

Pair = tuple[bytes, bytes]

RESET_SLACK = 1e-6
"""Float noise below this does not round a reset up to the next second."""
SMALL_COUNTS = 256
"""Remaining counts below this use prebuilt header pairs."""


def whole_seconds(seconds: float) -> int:
    """``seconds`` rounded up to whole seconds (never negative)."""
    whole = ceil(seconds - RESET_SLACK)
    return whole if whole > 0 else 0


def retry_after_seconds(result: RateLimitResult) -> int:
    """``Retry-After`` for a refused request: whole seconds, never 0."""
    return max(1, whole_seconds(result.retry_after))


class HeaderTriple:
    """``*-Limit``, ``*-Remaining``, ``*-Reset`` under one naming, with cached pairs."""

    __slots__ = (
        "cached_limit",
        "cached_reset",
        "epoch",
        "limit_name",
        "remaining_name",
        "reset_index",
        "reset_name",
        "small",
    )

    def __init__(self, prefix: bytes, *, epoch: bool) -> None:
        self.limit_name = prefix + b"limit"
        self.remaining_name = prefix + b"remaining"
        self.reset_name = prefix + b"reset"
        self.epoch = epoch
        """Reset as a Unix time (legacy) instead of seconds from now."""
        self.reset_index = 3 if epoch else 4
        """Where the reset moment is in a :class:`RateLimitResult` (``reset_at`` or
        ``reset_after``)."""
        self.small = [(self.remaining_name, b"%d" % n) for n in range(SMALL_COUNTS)]
        """The remaining pairs of counts below ``SMALL_COUNTS``, prebuilt."""
        self.cached_limit: tuple[int, Pair] = (-1, (b"", b""))
        self.cached_reset: tuple[int, Pair] = (-1, (b"", b""))

    def write(self, raw: list[Pair], result: RateLimitResult) -> None:
        # PERF: runs on every allowed request; fields by index (cheaper than by name on a
        # named tuple), one extend, no helper calls.
        limit = result[2]
        cached = self.cached_limit
        if cached[0] != limit:
            cached = self.cached_limit = (limit, (self.limit_name, b"%d" % limit))
        remaining = result[1]
        if remaining < SMALL_COUNTS:
            remaining_pair = self.small[remaining]
        else:
            remaining_pair = (self.remaining_name, b"%d" % remaining)
        reset = ceil(result[self.reset_index] - RESET_SLACK)
        reset_cached = self.cached_reset
        if reset_cached[0] != reset:
            reset_cached = self.cached_reset = (reset, self.reset_pair(reset))
        raw += (cached[1], remaining_pair, reset_cached[1])

    def reset_pair(self, reset: int) -> Pair:
        """The reset header for ``reset`` whole seconds (never negative)."""
        return (self.reset_name, b"%d" % reset if reset > 0 else b"0")


class HeaderWriter:
    """Writes one limiter's headers for a policy of ``window`` whole seconds.

    ``write(raw, result)`` appends the headers for ``result`` to a response's raw header
    list; it is bound at creation to the code of the chosen format.
    """

    __slots__ = ("_name", "_triples", "format", "single", "window", "write")

    def __init__(self, header_format: HeaderFormat | None, policy_name: str, window: int) -> None:
        self.format = header_format
        self.window = window
        triples = []
        if header_format in ("standard", "both"):
            triples.append(HeaderTriple(b"ratelimit-", epoch=False))
        if header_format in ("legacy", "both"):
            triples.append(HeaderTriple(b"x-ratelimit-", epoch=True))
        self._triples = tuple(triples)
        self.single: HeaderTriple | None = triples[0] if len(triples) == 1 else None
        """The one ``*-Limit``/``*-Remaining``/``*-Reset`` triple of the ``standard`` and
        ``legacy`` formats (a limiter's hot path writes it inline)."""
        escaped = policy_name.replace("\\", "\\\\").replace('"', '\\"')
        self._name = f'"{escaped}"'.encode("ascii")
        self.write: Callable[[list[Pair], RateLimitResult], None]
        if header_format is None:
            self.write = _write_nothing
        elif header_format == "draft7":
            self.write = self._write_draft7
        elif header_format == "draft8":
            self.write = self._write_draft8
        elif len(triples) == 1:
            self.write = triples[0].write  # PERF: no loop for the common formats
        else:
            self.write = self._write_triples

    def _write_triples(self, raw: list[Pair], result: RateLimitResult) -> None:
        for triple in self._triples:
            triple.write(raw, result)

    def _write_draft7(self, raw: list[Pair], result: RateLimitResult) -> None:
        reset = whole_seconds(result.reset_after)
        raw.append(
            (
                b"ratelimit",
                b"limit=%d, remaining=%d, reset=%d" % (result.limit, result.remaining, reset),
            )
        )
        raw.append((b"ratelimit-policy", b"%d;w=%d" % (result.limit, self.window)))

    def _write_draft8(self, raw: list[Pair], result: RateLimitResult) -> None:
        name = self._name
        reset = whole_seconds(result.reset_after)
        raw.append((b"ratelimit-policy", b"%s;q=%d;w=%d" % (name, result.limit, self.window)))
        raw.append((b"ratelimit", b"%s;r=%d;t=%d" % (name, result.remaining, reset)))

    def as_dict(self, result: RateLimitResult) -> dict[str, str]:
        """The same headers as a ``{name: value}`` dict (for :class:`~avian.errors.HTTPError`)."""
        raw: list[Pair] = []
        self.write(raw, result)
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in raw}


def _write_nothing(raw: list[Pair], result: RateLimitResult) -> None:
    return None
