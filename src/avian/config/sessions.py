"""``sessions``: ``ctx.session`` for every request, server-side or in a signed cookie."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock
from .field_types import PositiveSeconds
from .secret import Secret

if TYPE_CHECKING:
    from ..app import App
    from ..sessions import SessionBackend
    from .checks import SettingsChecks

__all__ = ["SessionSettings"]

HOUR = 3600.0
DAY = 24 * HOUR


class SessionSettings(SettingsBlock, frozen=True, kw_only=True):
    """Installs :class:`~avian.sessions.SessionMiddleware` when ``enabled``.

    ``backend="server"`` keeps data in the app's store (memory, or Redis with
    ``redis.url``) and only an id in the cookie; ``backend="cookie"`` signs the data into
    the cookie with ``secret_key`` (``old_secret_keys`` still verify during a key
    rotation).  ``cookie_name`` defaults to the backend's (``sid`` / ``session``).
    """

    enabled: bool = False
    backend: Literal["server", "cookie"] = "server"
    secret_key: Secret | None = None
    old_secret_keys: tuple[Secret, ...] = ()
    cookie_name: str | None = None
    key_prefix: str = "session:"
    salt: str = "avian.session"
    ttl: PositiveSeconds | None = 14 * DAY
    idle_timeout: PositiveSeconds | None = 2 * HOUR
    absolute_timeout: PositiveSeconds = 14 * DAY
    secure: bool | None = None
    same_site: Literal["lax", "strict", "none"] = "lax"
    http_only: bool = True
    domain: str | None = None
    path: str = "/"
    header_name: str | None = None

    def backend_instance(self) -> SessionBackend:
        """A new session backend with these settings (its store follows the app's)."""
        from ..sessions import CookieSession, Session

        options: dict[str, Any] = {
            "ttl": self.ttl,
            "idle_timeout": self.idle_timeout,
            "absolute_timeout": self.absolute_timeout,
            "secure": self.secure,
            "same_site": self.same_site,
            "http_only": self.http_only,
            "domain": self.domain,
            "path": self.path,
            "header_name": self.header_name,
        }
        if self.cookie_name is not None:
            options["cookie_name"] = self.cookie_name
        if self.backend == "cookie":
            if self.secret_key is None:
                from ..errors import ConfigurationError

                raise ConfigurationError("the cookie backend needs secret_key")
            keys = [self.secret_key.reveal(), *(key.reveal() for key in self.old_secret_keys)]
            return CookieSession(keys, salt=self.salt, **options)
        return Session(key_prefix=self.key_prefix, **options)

    def install(self, app: App, settings: Any) -> None:
        if self.enabled:
            from ..sessions import SessionMiddleware

            app.use(SessionMiddleware(self.backend_instance()))

    def check(self, checks: SettingsChecks) -> None:
        if self.backend == "cookie" and self.secret_key is None:
            checks.error(
                "secret_key",
                "the cookie backend signs sessions with a secret key: set it, e.g. to "
                "secrets.token_urlsafe(32), outside the code",
            )
        else:
            checks.attempt(self.backend_instance, guess_from=self)
