"""``Settings``: the app's whole configuration, one block per feature.

Extend it with your own fields and blocks by subclassing::

    class StripeSettings(SettingsBlock):
        api_key: Secret | None = None

    class MySettings(Settings):
        stripe: StripeSettings = msgspec.field(default_factory=StripeSettings)
        greeting: str = "hello"

The order of the blocks is the order ``build_app`` installs them in (host checks before
CORS before sessions before CSRF...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import msgspec

from .block import SettingsBlock
from .cache import CacheSettings
from .cors import CORSSettings
from .csrf import CSRFSettings
from .database import DatabaseSettings
from .hosts import HostSettings
from .http import HTTPSettings
from .limits import LimitSettings
from .logs import LoggingSettings
from .openapi import OpenAPISettings
from .rate_limit import RateLimitSettings
from .redis import RedisSettings
from .security_headers import SecurityHeaderSettings
from .server import ServerSettings
from .sessions import SessionSettings
from .websockets import WebSocketSettings

if TYPE_CHECKING:
    from .checks import SettingsChecks

__all__ = ["Settings"]

_EXPOSED_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})


def _block(cls: type[Any]) -> Any:
    return msgspec.field(default_factory=cls)


class Settings(SettingsBlock, frozen=True, kw_only=True):
    """Everything ``build_app`` needs; loaded by :func:`~avian.config.load_settings`."""

    env: Literal["development", "production", "test"] = "development"
    debug: bool = False
    server: ServerSettings = _block(ServerSettings)
    logging: LoggingSettings = _block(LoggingSettings)
    http: HTTPSettings = _block(HTTPSettings)
    limits: LimitSettings = _block(LimitSettings)
    websockets: WebSocketSettings = _block(WebSocketSettings)
    redis: RedisSettings = _block(RedisSettings)
    database: DatabaseSettings = _block(DatabaseSettings)
    openapi: OpenAPISettings = _block(OpenAPISettings)
    security_headers: SecurityHeaderSettings = _block(SecurityHeaderSettings)
    hosts: HostSettings = _block(HostSettings)
    cors: CORSSettings = _block(CORSSettings)
    rate_limit: RateLimitSettings = _block(RateLimitSettings)
    sessions: SessionSettings = _block(SessionSettings)
    csrf: CSRFSettings = _block(CSRFSettings)
    cache: CacheSettings = _block(CacheSettings)

    @property
    def production(self) -> bool:
        """``env == "production"``."""
        return self.env == "production"

    def app_options(self) -> dict[str, Any]:
        return {"debug": self.debug}

    def check(self, checks: SettingsChecks) -> None:
        """Checks that involve several blocks: risky combinations, and production."""
        exposed = self.server.host in _EXPOSED_HOSTS
        if self.debug and exposed:
            checks.warn(
                "debug",
                f"is on while the server listens on {self.server.host!r}: tracebacks are "
                "shown to anyone on the network",
            )
        if self.csrf.enabled and not self.csrf.double_submit and not self.sessions.enabled:
            checks.error(
                "csrf.enabled",
                "CSRF tokens are kept per session: enable sessions, or use double_submit",
            )
        if self.server.workers > 1 and self.redis.url is None:
            shared = [
                name
                for name, on in (
                    ("sessions", self.sessions.enabled and self.sessions.backend == "server"),
                    ("csrf", self.csrf.enabled and not self.csrf.double_submit),
                    ("rate_limit", self.rate_limit.enabled),
                    ("cache", self.cache.enabled),
                )
                if on
            ]
            if shared:
                checks.warn(
                    "server.workers",
                    f"each of the {self.server.workers} workers keeps its own "
                    f"{', '.join(shared)} in memory: set redis.url to share them",
                )
        if self.production:
            self._check_production(checks)

    def _check_production(self, checks: SettingsChecks) -> None:
        if self.debug:
            checks.warn("debug", "is on in production: 500 responses show tracebacks")
        if self.server.reload or self.server.development:
            checks.warn("server.reload", "reloading (development mode) is on in production")
        if self.sessions.enabled and self.sessions.secure is not True:
            checks.warn(
                "sessions.secure",
                "is not on in production: the session cookie is only marked Secure when the "
                "app itself sees https (behind a TLS proxy, set it to true)",
            )
        if self.csrf.enabled and self.csrf.double_submit and self.csrf.cookie_secure is not True:
            checks.warn("csrf.cookie_secure", "is not on in production")
        if not self.rate_limit.enabled:
            checks.warn(
                "rate_limit.enabled",
                "is off in production: nothing stops one client from flooding the app",
            )
        if not self.security_headers.enabled:
            checks.warn("security_headers.enabled", "is off in production")
