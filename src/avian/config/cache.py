"""``cache``: the app's cache service, ``ctx.core.cache``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block import SettingsBlock
from .field_types import PositiveSeconds

if TYPE_CHECKING:
    from ..app import App
    from ..cache import Cache
    from .checks import SettingsChecks

__all__ = ["CacheSettings"]


class CacheSettings(SettingsBlock, frozen=True, kw_only=True):
    """When ``enabled``, ``app.core.cache`` is a :class:`~avian.cache.Cache` in the app's
    store (memory, or Redis with ``redis.url``)."""

    enabled: bool = False
    default_ttl: PositiveSeconds | None = 300.0
    prefix: str = "cache:"

    def cache(self, app: App | None = None) -> Cache:
        """A new cache with these settings, following ``app``'s store when given."""
        from ..cache import Cache

        cache = Cache(default_ttl=self.default_ttl, prefix=self.prefix)
        if app is not None:
            cache.bind_app(app)
        return cache

    def install(self, app: App, settings: Any) -> None:
        if self.enabled:
            app.core.cache = self.cache(app)

    def check(self, checks: SettingsChecks) -> None:
        checks.attempt(self.cache, guess_from=self)
