"""``openapi``: the app's title and version, the OpenAPI document and the docs pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock

if TYPE_CHECKING:
    from .checks import SettingsChecks

__all__ = ["OpenAPISettings"]

UI = Literal["scalar", "swagger", "redoc", "rapidoc"]


class OpenAPISettings(SettingsBlock, frozen=True, kw_only=True):
    """``App(title=, version=, description=, openapi=...)``: with ``enabled`` false no
    document or docs page is served; the other fields are
    :class:`~avian.openapi.OpenAPIConfig`'s (an empty URL serves nothing there); the
    structured ones (``contact``, ``tags``, ``security_schemes``, UI options...) are JSON."""

    enabled: bool = True
    title: str = "avian app"
    version: str = "0.1.0"
    description: str | None = None
    summary: str | None = None
    openapi_url: str | None = "/openapi.json"
    yaml_url: str | None = "/openapi.yaml"
    docs_url: str | None = "/docs"
    ui: UI = "scalar"
    uis: tuple[UI, ...] = ("scalar", "swagger", "redoc", "rapidoc")
    asset_base_url: str = "https://cdn.jsdelivr.net/npm"
    local_assets: bool | None = None
    page_title: str | None = None
    favicon_url: str | None = None
    terms_of_service: str | None = None
    contact: dict[str, str] | None = None
    license: dict[str, str] | None = None
    servers: tuple[str | dict[str, Any], ...] = ()
    tags: tuple[dict[str, Any], ...] = ()
    external_docs: dict[str, str] | None = None
    security_schemes: dict[str, Any] = {}
    security: tuple[dict[str, tuple[str, ...]], ...] | None = None
    asset_urls: dict[str, str] = {}
    scalar: dict[str, Any] = {}
    swagger_ui_parameters: dict[str, Any] = {}
    swagger_init_oauth: dict[str, Any] | None = None
    redoc_options: dict[str, Any] = {}
    rapidoc_options: dict[str, str] = {}
    validation_responses: bool = True
    extra: dict[str, Any] = {}
    document_file: str | None = None

    def openapi_options(self) -> dict[str, Any] | Literal[False]:
        """``App(openapi=...)``: ``False``, or the config as a dict."""
        if not self.enabled:
            return False
        return {
            "summary": self.summary,
            "openapi_url": self.openapi_url,
            "yaml_url": self.yaml_url,
            "docs_url": self.docs_url,
            "ui": self.ui,
            "uis": self.uis,
            "asset_base_url": self.asset_base_url,
            "local_assets": self.local_assets,
            "page_title": self.page_title,
            "favicon_url": self.favicon_url,
            "terms_of_service": self.terms_of_service,
            "contact": self.contact,
            "license": self.license,
            "servers": self.servers,
            "tags": self.tags,
            "external_docs": self.external_docs,
            "security_schemes": self.security_schemes,
            "security": self.security,
            "asset_urls": self.asset_urls,
            "scalar": self.scalar,
            "swagger_ui_parameters": self.swagger_ui_parameters,
            "swagger_init_oauth": self.swagger_init_oauth,
            "redoc_options": self.redoc_options,
            "rapidoc_options": self.rapidoc_options,
            "validation_responses": self.validation_responses,
            "extra": self.extra,
            "document_file": self.document_file,
        }

    def app_options(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "version": self.version,
            "description": self.description,
            "openapi": self.openapi_options(),
        }

    def check(self, checks: SettingsChecks) -> None:
        options = self.openapi_options()
        if options:
            from ..openapi.config import resolve_config

            checks.attempt(lambda: resolve_config(options), guess_from=self)
