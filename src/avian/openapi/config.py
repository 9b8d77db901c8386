"""``OpenAPIConfig``: one options object for the document, its endpoints and the docs UIs.

``App(openapi=True)`` (the default) means ``OpenAPIConfig()``; ``App(openapi=False)`` serves
nothing; ``App(openapi=OpenAPIConfig(...))`` or a dict of the same names customises it.
Every value is checked when the config is built, so a typo fails at import time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigurationError
from ..middleware.options import coerce_options

__all__ = [
    "DEFAULT_ASSET_BASE_URL",
    "UI_NAMES",
    "OpenAPIConfig",
    "ScalarOptions",
    "resolve_config",
]

UIName = Literal["scalar", "swagger", "redoc", "rapidoc"]

UI_NAMES: tuple[UIName, ...] = ("scalar", "swagger", "redoc", "rapidoc")
"""The docs UIs avian can serve."""

DEFAULT_ASSET_BASE_URL = "https://cdn.jsdelivr.net/npm"
"""Where the UIs' scripts load from by default: a public npm CDN."""

_SCALAR_LAYOUTS = frozenset({"modern", "classic"})
_SCALAR_THEMES = frozenset(
    {
        "default",
        "alternate",
        "moon",
        "purple",
        "solarized",
        "bluePlanet",
        "deepSpace",
        "saturn",
        "kepler",
        "elysiajs",
        "fastify",
        "mars",
        "laserwave",
        "none",
    }
)
_PATH_RE = re.compile(r"^/[A-Za-z0-9\-._~/]*$")


@dataclass(frozen=True)
class ScalarOptions:
    """Scalar's look and behaviour (te.js ``scalarConfig``); sent to Scalar as its
    configuration object, with ``extra`` merged in for anything not listed here."""

    layout: Literal["modern", "classic"] = "modern"
    """``modern`` (three columns) or ``classic`` (one column, like Swagger UI)."""
    theme: str = "default"
    """One of Scalar's themes: default, alternate, moon, purple, solarized, bluePlanet,
    deepSpace, saturn, kepler, elysiajs, fastify, mars, laserwave, none."""
    show_sidebar: bool = True
    """The navigation sidebar on the left."""
    hide_test_request_button: bool = False
    """Hide the "Test Request" button (read-only docs)."""
    hide_models: bool = False
    """Hide the list of schemas."""
    hide_download_button: bool = False
    """Hide the "Download OpenAPI document" button."""
    hide_search: bool = False
    dark_mode: bool | None = None
    """Start in dark (``True``) or light (``False``) mode; ``None`` follows the user."""
    hide_dark_mode_toggle: bool = False
    default_open_all_tags: bool = False
    """Expand every tag on load."""
    search_hot_key: str = "k"
    """The key that, with Ctrl/Cmd, focuses the search field."""
    custom_css: str = ""
    """Extra CSS Scalar injects into the page."""
    hidden_clients: bool | Sequence[str] = ()
    """Code-sample clients to hide (``True`` hides every one)."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More Scalar configuration keys, passed as they are (camelCase)."""

    def __post_init__(self) -> None:
        if self.layout not in _SCALAR_LAYOUTS:
            raise ConfigurationError(
                f"scalar layout must be 'modern' or 'classic': {self.layout!r}"
            )
        if self.theme not in _SCALAR_THEMES:
            raise ConfigurationError(
                f"scalar theme {self.theme!r} is unknown; themes: {', '.join(sorted(_SCALAR_THEMES))}"
            )
        if not isinstance(self.search_hot_key, str) or len(self.search_hot_key) != 1:
            raise ConfigurationError("scalar search_hot_key must be a single character")

    def to_configuration(self) -> dict[str, Any]:
        """The options as Scalar's own (camelCase) configuration keys."""
        config: dict[str, Any] = {
            "layout": self.layout,
            "theme": self.theme,
            "showSidebar": self.show_sidebar,
            "hideTestRequestButton": self.hide_test_request_button,
            "hideModels": self.hide_models,
            "hideDownloadButton": self.hide_download_button,
            "hideSearch": self.hide_search,
            "hideDarkModeToggle": self.hide_dark_mode_toggle,
            "defaultOpenAllTags": self.default_open_all_tags,
            "searchHotKey": self.search_hot_key,
        }
        if self.dark_mode is not None:
            config["darkMode"] = self.dark_mode
            config["forceDarkModeState"] = "dark" if self.dark_mode else "light"
        if self.custom_css:
            config["customCss"] = self.custom_css
        if self.hidden_clients:
            config["hiddenClients"] = (
                True if self.hidden_clients is True else list(self.hidden_clients)
            )
        config.update(self.extra)
        return config


_SCALAR_ALIASES = {
    "showSidebar": "show_sidebar",
    "hideTestRequestButton": "hide_test_request_button",
    "hideModels": "hide_models",
    "hideDownloadButton": "hide_download_button",
    "hideSearch": "hide_search",
    "darkMode": "dark_mode",
    "hideDarkModeToggle": "hide_dark_mode_toggle",
    "defaultOpenAllTags": "default_open_all_tags",
    "searchHotKey": "search_hot_key",
    "customCss": "custom_css",
    "hiddenClients": "hidden_clients",
}


@dataclass(frozen=True)
class OpenAPIConfig:
    """The OpenAPI document's metadata, where it is served, and the docs UIs."""

    enabled: bool = True
    """Serve the document and the docs pages (``False``: nothing is served, but
    :func:`~avian.openapi.build_openapi` and ``avian docs export`` still work)."""
    openapi_url: str | None = "/openapi.json"
    """The JSON document (te.js ``specPath``); ``None`` to not serve it."""
    yaml_url: str | None = "/openapi.yaml"
    """The same document as YAML; ``None`` to not serve it."""
    docs_url: str | None = "/docs"
    """The default UI; the others under ``{docs_url}/{ui}``.  ``None``: no pages."""
    ui: UIName = "scalar"
    """The UI served at ``docs_url``: ``scalar`` (te.js's choice), ``swagger``, ``redoc``
    or ``rapidoc``."""
    uis: Sequence[UIName] = UI_NAMES
    """UIs also served at ``{docs_url}/{name}`` (``()`` for none)."""
    asset_base_url: str = DEFAULT_ASSET_BASE_URL
    """The npm CDN the UIs' files load from (``{base}/swagger-ui-dist@5/...``)."""
    asset_urls: Mapping[str, str] = field(default_factory=dict)
    """Per UI, the directory (URL) holding its files, replacing the CDN: for example
    ``{"swagger": "/static/swagger-ui"}`` for files you serve yourself."""
    local_assets: bool | None = None
    """Serve the UI files from an installed package (``swagger-ui-bundle``) under
    ``{docs_url}/assets/{ui}/``: ``None`` when installed, ``True`` always (an error if the
    package is missing), ``False`` never."""
    page_title: str | None = None
    """The docs pages' ``<title>`` (default: the document's title)."""
    favicon_url: str | None = None
    scalar: ScalarOptions | Mapping[str, Any] = field(default_factory=ScalarOptions)
    """Scalar's options (te.js ``scalarConfig``): layout, theme, sidebar..."""
    swagger_ui_parameters: Mapping[str, Any] = field(default_factory=dict)
    """Extra ``SwaggerUIBundle({...})`` parameters (``docExpansion``, ``persistAuthorization``...)."""
    swagger_init_oauth: Mapping[str, Any] | None = None
    """Passed to Swagger UI's ``initOAuth`` (``clientId``, ``scopes``, ``usePkceWithAuthorizationCodeGrant``...)."""
    redoc_options: Mapping[str, Any] = field(default_factory=dict)
    """ReDoc's options (``hideDownloadButton``, ``expandResponses``, ``theme``...)."""
    rapidoc_options: Mapping[str, str] = field(default_factory=dict)
    """Attributes of the ``<rapi-doc>`` element (``theme``, ``render-style``...)."""
    title: str | None = None
    """``info.title`` (default: ``App(title=...)``)."""
    version: str | None = None
    """``info.version`` (default: ``App(version=...)``)."""
    description: str | None = None
    """``info.description`` (default: ``App(description=...)``); Markdown."""
    summary: str | None = None
    """``info.summary``: one line."""
    terms_of_service: str | None = None
    contact: Mapping[str, str] | None = None
    """``{"name": ..., "url": ..., "email": ...}``."""
    license: Mapping[str, str] | None = None
    """``{"name": "MIT", "identifier": "MIT"}`` or with ``url``."""
    servers: Sequence[str | Mapping[str, Any]] = ()
    """Base URLs (``"https://api.example.com"`` or full Server objects).  Without any, a
    request served under a ``root_path`` gets that path as its server."""
    tags: Sequence[Mapping[str, Any]] = ()
    """Tag metadata in display order: ``{"name": ..., "description": ...}``."""
    external_docs: Mapping[str, str] | None = None
    security_schemes: Mapping[str, Any] = field(default_factory=dict)
    """Named schemes (``{"bearer": HTTPBearer()}``, see :mod:`avian.openapi.security`), or
    raw Security Scheme objects as dicts."""
    security: Sequence[Mapping[str, Sequence[str]]] | None = None
    """App-wide requirements, e.g. ``[{"bearer": []}]``; groups and routes override."""
    validation_responses: bool = True
    """Document the 422 problem response on operations that take input."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Merged into the document's root (``x-`` extensions, ``webhooks``...)."""
    document_file: str | None = None
    """Serve this exported JSON document (e.g. the LLM-enhanced ``openapi.json`` written by
    ``avian docs export --llm-level N``) instead of generating one; read at startup."""

    def __post_init__(self) -> None:
        for name in ("openapi_url", "yaml_url", "docs_url"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, str) or not _PATH_RE.match(value) or value == "/"
            ):
                raise ConfigurationError(
                    f"openapi {name} must be a path like '/docs' (or None): {value!r}"
                )
        if self.ui not in UI_NAMES:
            raise ConfigurationError(
                f"openapi ui must be one of {', '.join(UI_NAMES)}: {self.ui!r}"
            )
        for name in self.uis:
            if name not in UI_NAMES:
                raise ConfigurationError(
                    f"openapi uis: unknown UI {name!r} (use {', '.join(UI_NAMES)})"
                )
        for name in self.asset_urls:
            if name not in UI_NAMES:
                raise ConfigurationError(f"openapi asset_urls: unknown UI {name!r}")
        if self.local_assets not in (None, True, False):
            raise ConfigurationError("openapi local_assets must be None, True or False")
        if not isinstance(self.scalar, ScalarOptions):
            if not isinstance(self.scalar, Mapping):
                raise ConfigurationError("openapi scalar must be ScalarOptions or a dict")
            scalar = coerce_options(
                ScalarOptions,
                _renamed(self.scalar, _SCALAR_ALIASES),
                None,
                label="scalar",
                aliases=_SCALAR_ALIASES,
            )
            object.__setattr__(self, "scalar", scalar)
        for key, value in self.rapidoc_options.items():
            if not re.fullmatch(r"[a-z][a-z0-9-]*", key) or not isinstance(value, str):
                raise ConfigurationError(
                    f"rapidoc_options must map attribute names to strings: {key!r}={value!r}"
                )
        if self.security is not None and not _is_requirement_list(self.security):
            raise ConfigurationError(
                "openapi security must be a list of {scheme name: [scopes]} dicts"
            )

    @property
    def scalar_options(self) -> ScalarOptions:
        assert isinstance(self.scalar, ScalarOptions)
        return self.scalar


def _is_requirement_list(value: Any) -> bool:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        return False
    for item in value:
        if not isinstance(item, Mapping):
            return False
        for name, scopes in item.items():
            if not isinstance(name, str) or isinstance(scopes, str):
                return False
            if not isinstance(scopes, Sequence) or not all(isinstance(s, str) for s in scopes):
                return False
    return True


_ALIASES = {
    "specPath": "openapi_url",
    "spec_path": "openapi_url",
    "scalarConfig": "scalar",
    "scalar_config": "scalar",
    "termsOfService": "terms_of_service",
    "securitySchemes": "security_schemes",
    "externalDocs": "external_docs",
}


def _renamed(options: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """te.js's spellings (``specPath``, ``scalarConfig``, ``showSidebar``) as avian's."""
    return {aliases.get(key, key): value for key, value in options.items()}


def resolve_config(options: Any) -> OpenAPIConfig | None:
    """``App(openapi=...)`` as a config: ``None`` when docs are switched off."""
    if options is None or options is False:
        return None
    if options is True:
        return OpenAPIConfig()
    if isinstance(options, OpenAPIConfig):
        return options
    if isinstance(options, Mapping):
        return coerce_options(
            OpenAPIConfig, _renamed(options, _ALIASES), None, label="openapi", aliases=_ALIASES
        )
    raise ConfigurationError(
        f"App(openapi=...) must be True, False, a dict or an OpenAPIConfig, not {type(options).__name__}"
    )


def requirement_list(value: Any, where: str) -> list[dict[str, list[str]]]:
    """A checked copy of a security requirement list (``[{"bearer": ["read"]}]``)."""
    if not _is_requirement_list(value):
        raise ConfigurationError(
            f"{where}: security must be a list of {{scheme name: [scopes]}} dicts: {value!r}"
        )
    return [{name: list(scopes) for name, scopes in item.items()} for item in value]
