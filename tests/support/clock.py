"""A clock tests move by hand, so expiry and rate windows are tested without sleeping."""

from __future__ import annotations


class FakeClock:
    """Seconds since the epoch that only move when a test says so; pass it wherever avian
    takes a ``clock`` callable."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
