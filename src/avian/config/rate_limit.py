"""``rate_limit``: the app-wide rate limiter (``app.rate_limit(...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock
from .field_types import PositiveInt, PositiveSeconds

if TYPE_CHECKING:
    from ..app import App
    from .checks import SettingsChecks

__all__ = ["RateLimitSettings"]


class RateLimitSettings(SettingsBlock, frozen=True, kw_only=True):
    """When ``enabled``, every route is limited to ``max_requests`` per ``window`` per
    client address, in memory or Redis (``store``; by default Redis when ``redis.url`` is
    set).  An empty ``header_format`` sends no rate-limit headers.
    ``refill_rate``/``burst_size`` are the token bucket's, ``strict_window`` aligns fixed
    windows to the clock; ``fail_open`` lets requests through while the store is down."""

    enabled: bool = False
    max_requests: PositiveInt = 60
    window: PositiveSeconds = 60.0
    algorithm: Literal["sliding_window", "sliding_log", "token_bucket", "fixed_window"] = (
        "sliding_window"
    )
    key_prefix: str = "rl:"
    name: str | None = None
    store: Literal["memory", "redis"] | None = None
    header_format: Literal["standard", "legacy", "both", "draft7", "draft8"] | None = "standard"
    refill_rate: PositiveSeconds | None = None
    burst_size: PositiveInt | None = None
    strict_window: bool = False
    fail_open: bool = True

    def limiter_options(self) -> dict[str, Any]:
        """Keyword arguments for ``app.rate_limit(...)``."""
        options: dict[str, Any] = {
            "max_requests": self.max_requests,
            "window": self.window,
            "algorithm": self.algorithm,
            "key_prefix": self.key_prefix,
            "name": self.name,
            "header_format": self.header_format,
            "fail_open": self.fail_open,
        }
        if self.store is not None:
            options["store"] = self.store
        if self.algorithm == "token_bucket":
            if self.refill_rate is not None:
                options["refill_rate"] = self.refill_rate
            if self.burst_size is not None:
                options["burst_size"] = self.burst_size
        if self.algorithm == "fixed_window":
            options["strict_window"] = self.strict_window
        return options

    def install(self, app: App, settings: Any) -> None:
        if self.enabled:
            app.rate_limit(**self.limiter_options())

    def check(self, checks: SettingsChecks) -> None:
        from ..ratelimit.limiter import RateLimiter

        checks.attempt(lambda: RateLimiter(**self.limiter_options()), guess_from=self)
        if self.algorithm != "token_bucket":
            for name in ("refill_rate", "burst_size"):
                if getattr(self, name) is not None:
                    checks.warn(name, f"only applies to the token bucket, not {self.algorithm}")
        if self.strict_window and self.algorithm != "fixed_window":
            checks.warn("strict_window", f"only applies to the fixed window, not {self.algorithm}")
