"""``security_headers``: CSP, HSTS and the other protective headers (``app.shield()``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock
from .field_types import Seconds

if TYPE_CHECKING:
    from ..app import App
    from ..middleware.shield import ShieldOptions
    from .checks import SettingsChecks

__all__ = ["SecurityHeaderSettings"]


class SecurityHeaderSettings(SettingsBlock, frozen=True, kw_only=True):
    """``app.shield(...)`` when ``enabled``; the fields are
    :class:`~avian.middleware.shield.ShieldOptions`'s, with HSTS and CSP spelled out.

    ``csp_directives`` replaces directives of the default policy (a JSON object such as
    ``{"img-src": ["'self'", "data:"], "frame-ancestors": null}``; ``null`` removes one).
    An empty ``referrer_policy`` (or any other optional header) sends no header.
    """

    enabled: bool = False
    csp: bool = True
    csp_directives: dict[str, tuple[str, ...] | None] = {}
    report_only: bool = False
    use_nonce: bool = False
    coop: str | None = "same-origin"
    coep: str | None = None
    corp: str | None = "same-origin"
    hsts: bool = True
    hsts_max_age: Seconds = 15552000.0
    hsts_include_subdomains: bool = True
    hsts_preload: bool = False
    referrer_policy: tuple[str, ...] | None = ("strict-origin-when-cross-origin",)
    nosniff: bool = True
    frame_options: Literal["SAMEORIGIN", "DENY"] | None = "SAMEORIGIN"
    xss_protection: str | None = "0"
    origin_agent_cluster: bool = True
    dns_prefetch_control: bool | None = False
    permitted_cross_domain_policies: str | None = "none"
    permissions_policy: dict[str, tuple[str, ...]] | None = None

    def options(self) -> ShieldOptions:
        """The :class:`~avian.middleware.shield.ShieldOptions` these settings describe."""
        from ..middleware.shield import ShieldOptions

        csp: Any = self.csp
        if self.csp and self.csp_directives:
            csp = dict(self.csp_directives)
        hsts: Any = False
        if self.hsts:
            hsts = {
                "max_age": int(self.hsts_max_age),
                "include_subdomains": self.hsts_include_subdomains,
                "preload": self.hsts_preload,
            }
        referrer: Any = self.referrer_policy
        if referrer is not None:
            referrer = referrer[0] if len(referrer) == 1 else list(referrer) or None
        return ShieldOptions(
            csp=csp,
            report_only=self.report_only,
            use_nonce=self.use_nonce,
            coop=self.coop,
            coep=self.coep,
            corp=self.corp,
            hsts=hsts,
            referrer_policy=referrer,
            nosniff=self.nosniff,
            frame_options=self.frame_options,
            xss_protection=self.xss_protection,
            origin_agent_cluster=self.origin_agent_cluster,
            dns_prefetch_control=self.dns_prefetch_control,
            permitted_cross_domain_policies=self.permitted_cross_domain_policies,
            permissions_policy=(
                {k: list(v) for k, v in self.permissions_policy.items()}
                if self.permissions_policy is not None
                else None
            ),
        )

    def install(self, app: App, settings: Any) -> None:
        if self.enabled:
            app.shield(self.options())

    def check(self, checks: SettingsChecks) -> None:
        checks.attempt(self.options, guess_from=self)
        if self.enabled and self.report_only and self.csp:
            checks.warn(
                "report_only", "the content security policy only reports, it blocks nothing"
            )
