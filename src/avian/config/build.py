"""``build_app``: an :class:`~avian.App` with a settings object applied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from .validation import is_validated, iter_blocks, validate_settings

if TYPE_CHECKING:
    from ..app import App

__all__ = ["build_app"]


def build_app(settings: Any, /, **overrides: Any) -> App:
    """A new ``App`` configured by ``settings``, with ``overrides`` (any ``App(...)``
    keyword) winning over what the settings say.

    Each block contributes ``App(...)`` options (``app_options()``), then installs its
    feature (``install()``: security headers, CORS, rate limits, sessions, CSRF, cache,
    database connections) in the order the blocks are declared.  Middleware given as
    ``middleware=`` runs inside the installed middleware, so it sees ``ctx.session``.
    ``app.core.settings`` holds ``settings``.  Settings not made by
    :func:`~avian.config.load_settings` are validated first.
    """
    from ..app import App

    if not is_validated(settings):
        validate_settings(settings)
    blocks = list(iter_blocks(settings))
    options: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for path, block in blocks:
        contribute = getattr(block, "app_options", None)
        if not callable(contribute):
            continue
        for key, value in contribute().items():
            where = ".".join(path) or "settings"
            if key in owners:
                raise ConfigurationError(
                    f"App option {key!r} is set by both {owners[key]} and {where}"
                )
            owners[key] = where
            options[key] = value
    middleware = overrides.pop("middleware", ())
    options.update(overrides)
    app = App(**options)
    app.core.settings = settings
    for _, block in blocks:
        install = getattr(block, "install", None)
        if callable(install):
            install(app, settings)
    if middleware:
        app.use(*middleware)
    return app
