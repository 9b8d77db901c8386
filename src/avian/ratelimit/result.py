"""What one rate-limit decision says: allowed or not, what is left, and when to come back."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["RateLimitResult"]


class RateLimitResult(NamedTuple):
    """The answer of :meth:`RateLimiter.check <avian.ratelimit.RateLimiter.check>`.

    ``allowed``: the request may proceed.  ``remaining``: requests still allowed now (for
    the token bucket, whole tokens left).  ``limit``: the quota that applied.
    ``reset_at``: Unix time (seconds) at which the quota is next restored (the window end,
    or when the bucket is full again; for a refused request, when a retry can succeed).
    ``reset_after``: the same moment as seconds from now.  ``retry_after``: seconds to
    wait before a retry can succeed (``0.0`` when allowed).  ``degraded``: the storage
    could not be reached and the limiter's ``fail_open`` policy decided instead.
    """

    allowed: bool
    remaining: int
    limit: int
    reset_at: float
    reset_after: float
    retry_after: float = 0.0
    degraded: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (DonkeyLabs' ``{allowed, remaining, limit, resetAt,
        retryAfter}`` shape, in Python names)."""
        return self._asdict()

    def __repr__(self) -> str:
        state = "allowed" if self.allowed else f"limited retry_after={self.retry_after:.3f}"
        extra = " degraded" if self.degraded else ""
        return (
            f"<RateLimitResult {state} remaining={self.remaining}/{self.limit} "
            f"reset_after={self.reset_after:.3f}{extra}>"
        )
