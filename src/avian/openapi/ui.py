"""The docs pages: Scalar, Swagger UI, ReDoc and RapiDoc around the app's document.

Each page is static HTML without inline JavaScript: the UI's settings travel in a
``<script type="application/json">`` data block (never executed, so a Content-Security-
Policy does not need ``'unsafe-inline'`` for scripts), and one small script served by avian
(:data:`INIT_SCRIPT`) starts the chosen UI.  Every configured value is escaped for where it
lands (HTML text, attribute, or JSON inside ``<script>``).  Script and style tags carry the
request's CSP nonce when the app's security headers use one.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from importlib import util as importlib_util
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigurationError
from .config import OpenAPIConfig

__all__ = [
    "INIT_SCRIPT",
    "UI_ASSETS",
    "AssetFiles",
    "asset_origin",
    "local_asset_dir",
    "render_page",
]


@dataclass(frozen=True)
class AssetFiles:
    """Where one UI's files live inside its npm package (and its local Python package)."""

    label: str
    package: str
    """``name@major`` on the npm CDN."""
    scripts: tuple[str, ...]
    styles: tuple[str, ...] = ()
    module: bool = False
    """Loaded with ``<script type="module">``."""
    python_package: str | None = None
    """A PyPI package shipping the same files, for offline docs."""


UI_ASSETS: dict[str, AssetFiles] = {
    "scalar": AssetFiles("Scalar", "@scalar/api-reference@1", ("dist/browser/standalone.js",)),
    "swagger": AssetFiles(
        "Swagger UI",
        "swagger-ui-dist@5",
        ("swagger-ui-bundle.js",),
        ("swagger-ui.css",),
        python_package="swagger_ui_bundle",
    ),
    "redoc": AssetFiles("ReDoc", "redoc@2", ("bundles/redoc.standalone.js",)),
    "rapidoc": AssetFiles("RapiDoc", "rapidoc@9", ("dist/rapidoc-min.js",), module=True),
}

INIT_SCRIPT = """\
/* avian docs: start the UI named in the page's JSON settings block. */
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("avian-docs-settings").textContent);
  var root = document.getElementById("avian-docs");
  var options = settings.options || {};
  var start = {
    scalar: function () {
      var config = Object.assign({}, options, { url: settings.specUrl });
      window.Scalar.createApiReference(root, config);
    },
    swagger: function () {
      var config = Object.assign(
        { url: settings.specUrl, domNode: root, deepLinking: true,
          presets: [window.SwaggerUIBundle.presets.apis], layout: "BaseLayout" },
        options);
      var ui = window.SwaggerUIBundle(config);
      if (settings.oauth) { ui.initOAuth(settings.oauth); }
    },
    redoc: function () {
      window.Redoc.init(settings.specUrl, options, root);
    },
    rapidoc: function () {
      var element = document.createElement("rapi-doc");
      element.setAttribute("spec-url", settings.specUrl);
      Object.keys(options).forEach(function (name) {
        element.setAttribute(name, options[name]);
      });
      root.appendChild(element);
    }
  };
  start[settings.ui]();
})();
"""


def local_asset_dir(ui: str) -> Path | None:
    """The directory of ``ui``'s files from an installed Python package, if any."""
    package = UI_ASSETS[ui].python_package
    if package is None or importlib_util.find_spec(package) is None:
        return None
    module = __import__(package)
    path = getattr(module, "swagger_ui_path", None)
    return Path(str(path)) if path is not None else None


def uses_local_assets(config: OpenAPIConfig, ui: str) -> bool:
    """Whether ``ui``'s files are served by the app (see ``OpenAPIConfig.local_assets``)."""
    if ui in config.asset_urls or config.local_assets is False:
        return False
    available = local_asset_dir(ui) is not None
    package = UI_ASSETS[ui].python_package
    if config.local_assets is True and not available and package:
        raise ConfigurationError(
            f"local_assets=True but the {UI_ASSETS[ui].label} files are not installed: "
            f"pip install {package.replace('_', '-')}"
        )
    return available


def asset_base(config: OpenAPIConfig, ui: str, local_prefix: str | None) -> str:
    """The URL of the directory holding ``ui``'s files."""
    if ui in config.asset_urls:
        return config.asset_urls[ui].rstrip("/")
    if local_prefix is not None:
        return local_prefix
    return f"{config.asset_base_url.rstrip('/')}/{UI_ASSETS[ui].package}"


def asset_origin(url: str) -> str | None:
    """``https://cdn.example`` for an absolute URL; ``None`` for a same-origin path."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def ui_options(config: OpenAPIConfig, ui: str) -> dict[str, Any]:
    if ui == "scalar":
        return config.scalar_options.to_configuration()
    if ui == "swagger":
        return dict(config.swagger_ui_parameters)
    if ui == "redoc":
        return dict(config.redoc_options)
    return dict(config.rapidoc_options)


def _script_json(data: Any) -> str:
    """JSON that cannot end the ``<script>`` element it sits in."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def render_page(
    config: OpenAPIConfig,
    ui: str,
    *,
    title: str,
    spec_url: str,
    init_url: str,
    base_url: str,
    nonce: str | None,
) -> str:
    """The HTML page for ``ui``; every value is escaped here."""
    files = UI_ASSETS[ui]
    attr = html.escape
    nonce_attr = f' nonce="{attr(nonce)}"' if nonce else ""
    head = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{attr(title)}</title>",
    ]
    if config.favicon_url:
        head.append(f'<link rel="icon" href="{attr(config.favicon_url)}">')
    for style in files.styles:
        head.append(f'<link rel="stylesheet" href="{attr(base_url)}/{attr(style)}"{nonce_attr}>')
    settings: dict[str, Any] = {"ui": ui, "specUrl": spec_url, "options": ui_options(config, ui)}
    if ui == "swagger" and config.swagger_init_oauth:
        settings["oauth"] = dict(config.swagger_init_oauth)
    kind = ' type="module"' if files.module else ""
    body = [
        '<div id="avian-docs"></div>',
        f'<script type="application/json" id="avian-docs-settings">{_script_json(settings)}</script>',
        *(
            f'<script{kind} src="{attr(base_url)}/{attr(script)}"{nonce_attr}></script>'
            for script in files.scripts
        ),
        f'<script src="{attr(init_url)}"{nonce_attr}></script>',
    ]
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n'
        + "\n".join(head)
        + "\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
