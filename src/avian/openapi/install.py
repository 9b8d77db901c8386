"""Registering the OpenAPI document and docs UI routes on an app at startup.

Runs once, when the app freezes, before routes compile.  It only adds routes: the document
itself is built on the first request for it (see :mod:`.document`).  Every route added here
is left out of the document, and a path the app already serves itself (a route of its own,
a mount, or a file or folder of a root static directory) is left to the app.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ..context import Context
from ..errors import ConfigurationError
from ..http.response import HTMLResponse, Response
from ..routing.patterns import join_paths, parse_pattern
from .config import OpenAPIConfig, resolve_config
from .document import build_openapi
from .serialise import document_json, document_yaml
from .ui import (
    INIT_SCRIPT,
    UI_ASSETS,
    asset_base,
    asset_origin,
    local_asset_dir,
    render_page,
    uses_local_assets,
)

if TYPE_CHECKING:
    from ..app import App

__all__ = ["install_openapi"]

_installed: weakref.WeakSet[Any] = weakref.WeakSet()

YAML_MEDIA_TYPE = "application/yaml"
"""RFC 9512's media type for YAML."""


def install_openapi(app: App) -> None:
    """Add ``/openapi.json``, ``/openapi.yaml`` and ``/docs`` (as configured) to ``app``."""
    config = resolve_config(app.openapi_options)
    if config is None or not config.enabled or app in _installed:
        return
    _installed.add(app)
    exported_document(config.document_file)  # a bad file fails at startup, not per request
    taken = _taken_paths(app)
    served: dict[tuple[str, str], bytes] = {}

    def document_for(ctx: Context) -> dict[str, Any]:
        document = exported_document(config.document_file) or build_openapi(app)
        root_path = ctx.scope.get("root_path", "")
        if root_path and not config.servers:
            # Served under a prefix: the operations' paths are relative to it.
            return {**document, "servers": [{"url": root_path}]}
        return document

    def add(path: str, name: str, handler: Callable[..., Any], **options: Any) -> None:
        if parse_pattern(path).shape() in taken or _under_mount(app, path):
            return
        if _in_static_root(app, path):
            return
        app.add_route(path, handler, methods=["GET"], name=name, include_in_schema=False, **options)

    def document_route(
        kind: str, encode: Callable[[dict[str, Any]], bytes], media_type: str
    ) -> Callable[[Context], Awaitable[Response]]:
        """A handler serving the document encoded by ``encode``, encoded once per
        ``root_path`` it is served under."""

        async def serve_document(ctx: Context) -> Response:
            key = (kind, ctx.scope.get("root_path", ""))
            body = served.get(key)
            if body is None:
                body = served[key] = encode(document_for(ctx))
            return Response(body, media_type=media_type)

        return serve_document

    if config.openapi_url:
        json_route = document_route("json", document_json, "application/json")
        add(config.openapi_url, "openapi:json", json_route)
    if config.yaml_url:
        yaml_route = document_route("yaml", document_yaml, YAML_MEDIA_TYPE)
        add(config.yaml_url, "openapi:yaml", yaml_route)

    if config.docs_url:
        _install_pages(app, config, config.docs_url, add)


def exported_document(path: str | None) -> dict[str, Any] | None:
    """The document exported to ``path`` (``OpenAPIConfig.document_file``), read once."""
    if path is None:
        return None
    cached = _exported.get(path)
    if cached is None:
        try:
            cached = msgspec.json.decode(Path(path).read_bytes())
        except (OSError, msgspec.DecodeError) as exc:
            raise ConfigurationError(f"openapi document_file {path!r}: {exc}") from None
        if not isinstance(cached, dict) or "openapi" not in cached:
            raise ConfigurationError(f"openapi document_file {path!r} is not an OpenAPI document")
        _exported[path] = cached
    return cached


_exported: dict[str, dict[str, Any]] = {}


def _install_pages(
    app: App, config: OpenAPIConfig, docs_url: str, add: Callable[..., None]
) -> None:
    spec_path = config.openapi_url
    if spec_path is None:
        raise ConfigurationError("openapi: the docs pages need openapi_url (it is None)")
    init_path = join_paths(docs_url, "/avian-docs.js")
    wanted = [config.ui, *(ui for ui in config.uis if ui != config.ui)]
    local: dict[str, str | None] = {}
    for ui in wanted:
        directory = local_asset_dir(ui) if uses_local_assets(config, ui) else None
        prefix = join_paths(docs_url, f"/assets/{ui}") if directory is not None else None
        local[ui] = prefix
        if directory is not None and prefix is not None:
            add(prefix + "/{path:path}", f"openapi:assets:{ui}", _asset_handler(directory))

    async def init_script(ctx: Context) -> Response:
        return Response(
            INIT_SCRIPT,
            media_type="text/javascript",
            headers={"cache-control": "no-cache"},
        )

    add(init_path, "openapi:init", init_script)

    shield_csp = _shield_csp_active(app)
    title = config.page_title
    for ui in wanted:
        path = docs_url if ui == config.ui else join_paths(docs_url, f"/{ui}")
        name = "openapi:docs" if ui == config.ui else f"openapi:docs:{ui}"
        base = asset_base(config, ui, local[ui])
        middleware = [_docs_csp(config, ui, base)] if shield_csp else []
        add(
            path,
            name,
            _page_handler(app, config, ui, title, spec_path, init_path, base),
            middleware=middleware,
        )
        if ui == config.ui and ui in config.uis:
            # The default UI is also reachable by its own name.
            add(
                join_paths(docs_url, f"/{ui}"),
                f"openapi:docs:{ui}",
                _page_handler(app, config, ui, title, spec_path, init_path, base),
                middleware=middleware,
            )


def _page_handler(
    app: App,
    config: OpenAPIConfig,
    ui: str,
    title: str | None,
    spec_path: str,
    init_path: str,
    base: str,
) -> Callable[[Context], Any]:
    from ..middleware.shield import csp_nonce

    async def docs_page(ctx: Context) -> Response:
        root_path = ctx.scope.get("root_path", "")
        local_base = root_path + base if base.startswith("/") else base
        page = render_page(
            config,
            ui,
            title=title or f"{config.title or app.title} - {UI_ASSETS[ui].label}",
            spec_url=root_path + spec_path,
            init_url=root_path + init_path,
            base_url=local_base,
            nonce=csp_nonce(ctx),
        )
        return HTMLResponse(page)

    return docs_page


def _asset_handler(directory: Any) -> Callable[..., Any]:
    from ..static import StaticFiles

    files = StaticFiles(directory, index=None, cache_control="public, max-age=86400")

    async def docs_asset(ctx: Context, path: str) -> Response:
        response = await files.response_for(path, ctx.scope)
        if response is None:
            from .. import errors

            raise errors.not_found(f"no docs asset {path!r}")
        return response

    return docs_asset


def _taken_paths(app: App) -> set[str]:
    """Shapes of the GET routes the app registered itself."""
    shapes: set[str] = set()
    for full, definition, _levels in app.walk():
        if definition.kind != "http":
            continue
        if definition.methods is None or "GET" in definition.methods:
            shapes.add(parse_pattern(full).shape())
    return shapes


def _under_mount(app: App, path: str) -> bool:
    for prefix, _mounted in app.walk_mounts():
        if path == prefix or path.startswith(prefix + "/"):
            return True
    return False


def _in_static_root(app: App, path: str) -> bool:
    """Whether a root static directory (``app.static("public")``) has a file or folder
    where ``path`` starts: the app's own files win over the docs."""
    first = path.strip("/").split("/", 1)[0]
    return any(os.path.lexists(os.path.join(files.directory, first)) for files in app._static_roots)


def _shield_csp_active(app: App) -> bool:
    """Whether the app sends a Content-Security-Policy through avian's security headers."""
    from ..middleware.shield import ShieldMiddleware

    layers = [*app._front_middleware, *(mw for _scope, mw in app._middleware)]
    return any(isinstance(mw, ShieldMiddleware) and mw.options.csp is not False for mw in layers)


def _docs_csp(config: OpenAPIConfig, ui: str, base: str) -> Any:
    """Route middleware loosening the app's CSP just enough for one docs page: its asset
    host, styles the UIs inject at run time, data: images and fonts, blob: workers."""
    from ..middleware.shield import shield_override

    origins = [origin for origin in (asset_origin(base),) if origin]
    fonts = ["https://fonts.scalar.com"] if ui == "scalar" else []
    servers = [
        origin
        for server in config.servers
        if (
            origin := asset_origin(
                server if isinstance(server, str) else str(server.get("url", ""))
            )
        )
    ]
    return shield_override(
        use_nonce=False,
        csp={
            "script-src": ["'self'", *origins],
            "style-src": ["'self'", *origins, "'unsafe-inline'"],
            "font-src": ["'self'", "data:", *origins, *fonts],
            "img-src": ["'self'", "data:", "https:"],
            "connect-src": ["'self'", *origins, *servers],
            "worker-src": ["'self'", "blob:"],
        },
    )
