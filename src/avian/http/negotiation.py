"""Content-coding negotiation: reading ``Accept-Encoding`` (RFC 9110 §12.5.3).

Shared by static files (which precompressed variant to send) and the compression
middleware (which coding to apply).  q-values rank codings, ``q=0`` refuses one, ``*``
covers codings not named, ``x-gzip`` means gzip, and an entry with a malformed weight (or
any other parameter) is ignored rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["parse_accept_encoding", "ranked_encodings"]

_QVALUE_RE = re.compile(r"(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)", re.ASCII)


def parse_accept_encoding(value: str) -> dict[str, float]:
    """``Accept-Encoding`` as ``{coding: q}`` (lower-case); the first mention of a coding
    wins."""
    ratings: dict[str, float] = {}
    for item in value.split(","):
        name, _, params = item.partition(";")
        coding = name.strip(" \t").lower()
        if not coding:
            continue
        q = 1.0
        params = params.strip(" \t")
        if params:
            # The only parameter Accept-Encoding allows is the weight, "q=<qvalue>".
            key, _, raw = params.partition("=")
            match = _QVALUE_RE.fullmatch(raw.strip(" \t"))
            if key.strip(" \t").lower() != "q" or match is None:
                continue  # malformed: do not guess what the client meant
            q = float(match.group(1))
        if coding == "x-gzip":
            coding = "gzip"
        ratings.setdefault(coding, q)
    return ratings


@lru_cache(maxsize=128)
def _ranked(value: str, offered: tuple[str, ...]) -> tuple[str, ...]:
    ratings = parse_accept_encoding(value)
    star = ratings.get("*", 0.0)
    ranked = [(-ratings.get(name, star), order, name) for order, name in enumerate(offered)]
    return tuple(name for weight, _, name in sorted(ranked) if weight < 0)


def ranked_encodings(value: str | None, offered: Sequence[str]) -> tuple[str, ...]:
    """The codings of ``offered`` the client accepts, best first (ties keep ``offered``'s
    order).  Browsers send a handful of distinct values, so short ones are cached."""
    if not value:
        return ()
    if len(value) <= 256:
        return _ranked(value, tuple(offered))
    return _ranked.__wrapped__(value, tuple(offered))
