"""``redis``: the one setting that moves every piece of shared state to Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block import SettingsBlock

if TYPE_CHECKING:
    from .checks import SettingsChecks

__all__ = ["RedisSettings", "check_url"]


class RedisSettings(SettingsBlock, frozen=True, kw_only=True):
    """``App(redis_url=...)``: with a URL, sessions, CSRF tokens, the cache and rate limits
    live in Redis and are shared by every worker and machine; without one, in memory."""

    url: str | None = None

    def app_options(self) -> dict[str, Any]:
        return {"redis_url": self.url}

    def check(self, checks: SettingsChecks) -> None:
        check_url(checks, "url", self.url, ("redis://", "rediss://", "unix://"))


def check_url(
    checks: SettingsChecks, field: str, url: str | None, schemes: tuple[str, ...]
) -> None:
    """Report ``url`` unless it is ``None`` or starts with one of ``schemes``."""
    if url is not None and not url.lower().startswith(schemes):
        checks.error(field, f"must be a URL starting with {' or '.join(schemes)}")
