"""``Jinja2Engine``: plain Jinja2 templates, with the same ``render()`` contract and request
globals as the Harpia engine."""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, TemplateNotFound, meta, nodes

from ..errors import ConfigurationError
from .base import EngineBase, Loaded
from .runtime import request_defaults

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["Jinja2Engine", "autoescape_for"]

_ESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg")
_JINJA_SUFFIXES = (".jinja", ".jinja2", ".j2")


def autoescape_for(name: str | None) -> bool:
    """Escape HTML and XML templates (``page.html``, ``feed.xml``, ``page.html.jinja``);
    leave others (``mail.txt``) as they are."""
    if name is None:
        return True  # Environment.from_string()
    lowered = name.lower()
    for suffix in _JINJA_SUFFIXES:
        if lowered.endswith(suffix):
            lowered = lowered[: -len(suffix)]
            break
    return lowered.endswith(_ESCAPED)


class Jinja2Engine(EngineBase):
    """Render Jinja2 templates: ``app.templates = Jinja2Engine("templates")``.

    ``source`` is a folder (or a list of folders), a Jinja2 loader, or a ready
    ``jinja2.Environment``; other keyword arguments go to ``Environment``.  Defaults:
    autoescaping for ``.html``/``.htm``/``.xml``/``.xhtml``/``.svg`` (also with a
    ``.jinja``/``.j2`` suffix) and ``auto_reload=False``.  ``render("home")`` renders
    ``home.html``: ``file_extension`` is added to names without one; with ``module`` the
    name is ``"<module>/<view>"``.
    """

    def __init__(
        self,
        source: str
        | os.PathLike[str]
        | Sequence[str | os.PathLike[str]]
        | BaseLoader
        | Environment,
        *,
        file_extension: str = ".html",
        **options: Any,
    ) -> None:
        if isinstance(source, Environment):
            if options:
                raise ConfigurationError("pass Environment options to the Environment itself")
            environment = source
        else:
            loader = source if isinstance(source, BaseLoader) else FileSystemLoader(source)
            options.setdefault("autoescape", autoescape_for)
            options.setdefault("auto_reload", False)
            environment = Environment(loader=loader, **options)
        if environment.loader is None:
            raise ConfigurationError("the Jinja2 environment needs a loader")
        for name, value in request_defaults().items():
            environment.globals.setdefault(name, value)
        self.file_extension = file_extension
        super().__init__(environment)

    async def render(
        self,
        view: str,
        data: Mapping[str, Any] | None = None,
        *,
        ctx: Context | None = None,
        module: str | None = None,
        block: str | None = None,
    ) -> str:
        """Render ``view`` (a template name); ``ctx`` binds the request globals, ``block``
        renders one block only."""
        return await self._render_key(self.template_name(view, module), data, ctx, block)

    def render_sync(self, view: str, data: Mapping[str, Any] | None = None) -> str:
        """Render outside the event loop (scripts, threads), without request globals."""
        return self._render_key_sync(self.template_name(view, None), data)

    def template_name(self, view: str, module: str | None = None) -> str:
        """The loader name of a view: ``file_extension`` added when the last segment has
        none, ``module/`` in front."""
        name = f"{module}/{view}" if module else view
        if self.file_extension and "." not in name.rsplit("/", 1)[-1]:
            name += self.file_extension
        return name

    def _load(self, key: Hashable) -> Loaded:
        assert isinstance(key, str)
        environment = self.environment
        template = environment.get_template(key)
        uses_flashes = False
        seen: set[str] = set()
        pending = [key]
        loader = environment.loader
        assert loader is not None
        while pending:  # load what the view extends/includes/imports by literal name
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                if name != key:
                    environment.get_template(name)
                source = loader.get_source(environment, name)[0]
            except TemplateNotFound:
                continue  # "ignore missing" includes; a real miss fails when rendering
            tree = environment.parse(source)
            uses_flashes = uses_flashes or any(
                node.name == "get_flashed_messages" for node in tree.find_all(nodes.Name)
            )
            pending.extend(ref for ref in meta.find_referenced_templates(tree) if ref)
        return Loaded(template, uses_flashes)
