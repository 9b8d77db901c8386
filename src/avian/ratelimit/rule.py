"""A rule: which algorithm decides, with what quota and window.

A limiter builds one rule from its options (and one per distinct tiered limit), then hands
it to the backend with every decision; the backend keeps only per-key state.
"""

from __future__ import annotations

import math
import sys
from typing import Final, Literal

from .algorithms import DECIDERS, Decider

__all__ = ["ALGORITHMS", "Algorithm", "Rule"]

Algorithm = Literal["sliding_window", "sliding_log", "token_bucket", "fixed_window"]
ALGORITHMS: Final = ("sliding_window", "sliding_log", "token_bucket", "fixed_window")


class Rule:
    """One quota: ``limit`` requests per ``window`` seconds under ``algorithm``.

    For the token bucket, ``limit`` is the bucket's capacity (its burst size) and ``rate``
    the tokens added per second.  For the fixed window, ``strict`` aligns windows to the
    clock (``12:00:00``, ``12:01:00``...) instead of starting one at a key's first request.
    """

    __slots__ = (
        "algorithm",
        "decide",
        "limit",
        "policy_window",
        "rate",
        "refill_rate",
        "strict",
        "window",
    )

    def __init__(
        self,
        algorithm: Algorithm,
        limit: int,
        window: float,
        *,
        rate: float | None = None,
        strict: bool = False,
    ) -> None:
        self.algorithm: Algorithm = sys.intern(algorithm)  # type: ignore[assignment]
        self.decide: Decider = DECIDERS[algorithm]
        """The in-process decision function (memory and Store backends)."""
        self.limit = limit
        self.window = window
        self.refill_rate = rate
        """The refill rate as configured (``None``: derived from ``limit / window``)."""
        self.rate = rate if rate is not None else limit / window
        """Tokens per second (token bucket only)."""
        self.strict = strict
        whole = math.ceil(window)
        self.policy_window = max(1, whole)
        """The window in whole seconds (at least 1), as rate-limit headers state it."""

    def replace(self, *, limit: int | None = None, window: float | None = None) -> Rule:
        """The same rule with another quota or window (tiered limits, ``check(limit=...)``);
        a derived refill rate follows them, an explicit one stays."""
        return Rule(
            self.algorithm,
            self.limit if limit is None else limit,
            self.window if window is None else window,
            rate=self.refill_rate,
            strict=self.strict,
        )

    def __repr__(self) -> str:
        extra = ""
        if self.algorithm == "token_bucket":
            extra = f" rate={self.rate:g}/s"
        elif self.algorithm == "fixed_window" and self.strict:
            extra = " strict"
        return f"<Rule {self.algorithm} {self.limit}/{self.window:g}s{extra}>"
