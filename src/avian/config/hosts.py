"""``hosts``: which ``Host`` names the app answers to, and redirects to HTTPS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock

if TYPE_CHECKING:
    from ..app import App
    from .checks import SettingsChecks

__all__ = ["HostSettings"]


class HostSettings(SettingsBlock, frozen=True, kw_only=True):
    """:class:`~avian.middleware.hosts.AllowedHostsMiddleware` when ``allowed`` lists
    names (``example.com``, ``*.example.com``; empty: any host), and
    :class:`~avian.middleware.hosts.HTTPSRedirectMiddleware` when ``https_redirect``."""

    allowed: tuple[str, ...] = ()
    www_redirect: bool = False
    https_redirect: bool = False
    https_redirect_status: Literal[301, 302, 303, 307, 308] = 308
    https_port: int | None = None

    def install(self, app: App, settings: Any) -> None:
        from ..middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware

        if self.allowed:
            app.use(AllowedHostsMiddleware(list(self.allowed), www_redirect=self.www_redirect))
        if self.https_redirect:
            app.use(HTTPSRedirectMiddleware(self.https_redirect_status, https_port=self.https_port))

    def check(self, checks: SettingsChecks) -> None:
        from ..middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware

        if self.allowed:
            checks.attempt(lambda: AllowedHostsMiddleware(list(self.allowed)), "allowed")
        checks.attempt(
            lambda: HTTPSRedirectMiddleware(self.https_redirect_status, https_port=self.https_port),
            guess_from=self,
        )
        if self.www_redirect and not self.allowed:
            checks.warn("www_redirect", "does nothing unless allowed lists the host names")
