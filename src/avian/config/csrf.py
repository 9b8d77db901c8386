"""``csrf``: the CSRF middleware (tokens in the session, or signed double-submit cookies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock
from .field_types import PositiveSeconds
from .secret import Secret

if TYPE_CHECKING:
    from ..app import App
    from ..csrf import CSRFMiddleware
    from .checks import SettingsChecks

__all__ = ["CSRFSettings"]


class CSRFSettings(SettingsBlock, frozen=True, kw_only=True):
    """Installs :class:`~avian.csrf.CSRFMiddleware` when ``enabled`` (after the sessions
    middleware, whose session the tokens are bound to).  ``ttl`` and ``key_prefix`` are the
    token service's (:class:`~avian.csrf.CSRF`); ``secret`` (and ``old_secrets``) sign
    double-submit cookies; the rest are the middleware's options of the same names."""

    enabled: bool = False
    ttl: PositiveSeconds = 300.0
    key_prefix: str = "csrf:"
    field_name: str = "_csrf"
    header_name: str = "x-csrf-token"
    safe_methods: tuple[str, ...] = ("GET", "HEAD", "OPTIONS", "TRACE")
    exempt: tuple[str, ...] = ()
    eager: bool = True
    check_origin: bool = True
    trusted_origins: tuple[str, ...] = ()
    require_for_cookieless: bool = False
    allow_json_body: bool = False
    double_submit: bool = False
    secret: Secret | None = None
    old_secrets: tuple[Secret, ...] = ()
    cookie_name: str = "csrftoken"
    cookie_path: str = "/"
    cookie_domain: str | None = None
    cookie_secure: bool | None = None
    cookie_same_site: Literal["strict", "lax", "none"] = "strict"
    cookie_max_age: int | None = None

    def middleware(self) -> CSRFMiddleware:
        """A new CSRF middleware with these settings (its store follows the app's)."""
        from ..csrf import CSRF, CSRFMiddleware

        secrets: list[str] | None = None
        if self.secret is not None:
            secrets = [self.secret.reveal(), *(s.reveal() for s in self.old_secrets)]
        return CSRFMiddleware(
            CSRF(ttl=self.ttl, prefix=self.key_prefix),
            field_name=self.field_name,
            header_name=self.header_name,
            safe_methods=self.safe_methods,
            exempt=self.exempt,
            eager=self.eager,
            check_origin=self.check_origin,
            trusted_origins=self.trusted_origins,
            require_for_cookieless=self.require_for_cookieless,
            allow_json_body=self.allow_json_body,
            double_submit=self.double_submit,
            secret=secrets,
            cookie_name=self.cookie_name,
            cookie_path=self.cookie_path,
            cookie_domain=self.cookie_domain,
            cookie_secure=self.cookie_secure,
            cookie_same_site=self.cookie_same_site,
            cookie_max_age=self.cookie_max_age,
        )

    def install(self, app: App, settings: Any) -> None:
        if self.enabled:
            app.use(self.middleware())

    def check(self, checks: SettingsChecks) -> None:
        if self.double_submit and self.secret is None:
            checks.error(
                "secret",
                "double_submit signs its cookie with a secret shared by every worker: set it "
                "outside the code",
            )
            return
        checks.attempt(self.middleware, guess_from=self)
