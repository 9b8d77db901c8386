"""``cors``: which other origins may call the app from a browser."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block import SettingsBlock

if TYPE_CHECKING:
    from ..app import App
    from ..middleware.cors import CORSOptions
    from .checks import SettingsChecks

__all__ = ["CORSSettings"]


class CORSSettings(SettingsBlock, frozen=True, kw_only=True):
    """``app.cors(...)`` when ``enabled``: for the whole app, or only under ``paths``.

    ``origins`` lists exact origins (``https://app.example``), or is ``*`` for any origin
    (never with ``credentials``); ``origin_patterns`` adds regular expressions an origin
    must fully match.  ``allowed_headers`` empty reflects what the browser asks for.
    """

    enabled: bool = False
    origins: tuple[str, ...] = ("*",)
    origin_patterns: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "HEAD", "PUT", "PATCH", "POST", "DELETE")
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    credentials: bool = False
    max_age: int | None = None
    preflight_continue: bool = False
    options_success_status: int = 204
    paths: tuple[str, ...] = ()

    def options(self) -> CORSOptions:
        """The :class:`~avian.middleware.cors.CORSOptions` these settings describe."""
        import re

        from ..middleware.cors import CORSOptions

        origin: Any
        if "*" in self.origins:
            origin = "*" if len(self.origins) == 1 and not self.origin_patterns else None
            if origin is None:
                raise ValueError("CORS origins '*' can't be combined with other origins")
        else:
            origin = [*self.origins, *(re.compile(p) for p in self.origin_patterns)]
        return CORSOptions(
            origin=origin,
            methods=self.methods,
            allowed_headers=(
                "*" if self.allowed_headers == ("*",) else list(self.allowed_headers) or None
            ),
            exposed_headers=self.exposed_headers,
            credentials=self.credentials,
            max_age=self.max_age,
            preflight_continue=self.preflight_continue,
            options_success_status=self.options_success_status,
        )

    def install(self, app: App, settings: Any) -> None:
        if not self.enabled:
            return
        options = self.options()
        for path in self.paths or (None,):
            app.cors(options, path=path)

    def check(self, checks: SettingsChecks) -> None:
        if self.credentials and "*" in self.origins:
            checks.error(
                "credentials",
                "with origins '*' would let every site read responses made with the user's "
                "cookies: list the allowed origins",
            )
            return
        checks.attempt(self.options, guess_from=self)
