"""``TemplateEngine``: Harpia-syntax views, compiled to Jinja2 templates.

Views, layouts and components live in folders (``path={"views": ..., "layouts": ...,
"components": ...}``); every file is translated once by :mod:`avian.templates.syntax` and
then rendered by Jinja2's compiled, cached, autoescaping runtime.  Loader names are the
absolute paths of the files, produced only by this module after checking that they stay
inside their folder.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, ChainableUndefined, Environment, StrictUndefined

from ..errors import ConfigurationError
from .base import EngineBase, Loaded
from .errors import TemplateNotFoundError, TemplateSyntaxError
from .runtime import finalize, harpia_globals
from .syntax import CompiledTemplate, Reference, compile_template

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["TemplateEngine"]

PathLike = str | os.PathLike[str]
_PATH_KEYS = frozenset({"views", "layouts", "components"})
_GLOB = "**"


def _absolute(path: PathLike) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _check_relative(name: object, what: str) -> str:
    """A name given to render()/@import/...: relative, no NUL, no backslash."""
    if not isinstance(name, str) or not name:
        raise TemplateNotFoundError(f"{what} name must be a non-empty string, not {name!r}")
    if "\x00" in name or "\\" in name or name.startswith("/") or os.path.isabs(name):
        raise TemplateNotFoundError(f"{what} name {name!r} must be a relative path with '/'")
    return name


class _HarpiaLoader(BaseLoader):
    """Reads a Harpia file and hands Jinja2 its translation."""

    def __init__(self, engine: TemplateEngine) -> None:
        self.engine = engine

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        return self.engine._source(template)


class _GuardedEnvironment(Environment):
    """Jinja2's attribute and item lookup, minus ``__dunder__`` names.

    Templates cannot write ``x.__class__`` (the compiler refuses it), but a key computed at
    render time can still arrive, e.g. ``{{ row[column] }}`` with ``column`` taken from the
    query string: Jinja2 would fall back from ``row["__class__"]`` to the attribute.
    """

    def getitem(self, obj: Any, argument: Any) -> Any:
        try:
            return obj[argument]
        except (AttributeError, TypeError, LookupError):
            if isinstance(argument, str) and not argument.startswith("__"):
                try:
                    return getattr(obj, argument)
                except AttributeError:
                    pass
            return self.undefined(obj=obj, name=argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if attribute.startswith("__"):
            return self.undefined(obj=obj, name=attribute)
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


class TemplateEngine(EngineBase):
    """The Harpia template engine: ``{{ expr }}``, ``@if``, ``@for``, ``@layout``, ...

    ::

        engine = TemplateEngine(path={"views": "resources/pages",
                                      "layouts": "resources/layouts",
                                      "components": "resources/components"})
        engine.configure(app)          # app.templates = engine

        @app.get("/books")
        async def books(ctx):
            return await ctx.render("home", {"title": "Books"})

    ``render("home")`` reads ``<views>/home/page.html`` (``view_name`` and
    ``file_extension``).  See ``docs/templates.md`` for the syntax and every option.
    """

    _reserved_plugins = EngineBase._reserved_plugins | {"raw"}

    def __init__(
        self,
        *,
        view_name: str | None = "page",
        use_modules: bool = False,
        file_extension: str = ".html",
        path: Mapping[str, PathLike] | None = None,
        auto_reload: bool = False,
        cache_size: int = 400,
        strict_undefined: bool = False,
    ) -> None:
        if not isinstance(file_extension, str) or not file_extension.startswith("."):
            raise ConfigurationError(f"file_extension must start with '.', not {file_extension!r}")
        if view_name is not None and (not view_name or "/" in view_name or "\\" in view_name):
            raise ConfigurationError(
                f"view_name must be a file name without folders, not {view_name!r}"
            )
        paths = dict(path) if path is not None else {"views": "views"}
        unknown = set(paths) - _PATH_KEYS
        if unknown:
            raise ConfigurationError(
                f"unknown template path {sorted(unknown)}: use views, layouts and components"
            )
        if "views" not in paths:
            raise ConfigurationError("path needs 'views'")
        self.view_name = view_name
        self.use_modules = use_modules
        self.file_extension = file_extension
        views = os.path.abspath(os.fspath(paths["views"]))
        parts = views.split(os.sep)
        globs = parts.count(_GLOB)
        if use_modules:
            if globs != 1:
                raise ConfigurationError(
                    "use_modules=True needs one '**' segment in path['views'] marking the "
                    f"module folder (e.g. 'modules/**/pages'), got {views!r}"
                )
            at = parts.index(_GLOB)
            self._views_root = os.path.normpath(os.sep.join(parts[:at]) or os.sep)
            self._module_tail = os.sep.join(parts[at + 1 :])
        elif globs:
            raise ConfigurationError(f"'**' in path['views'] needs use_modules=True: {views!r}")
        else:
            self._views_root = os.path.normpath(views)
            self._module_tail = ""
        self.layouts = _absolute(paths["layouts"]) if paths.get("layouts") else None
        self.components = _absolute(paths["components"]) if paths.get("components") else None
        self._roots = [r for r in (self._views_root, self.layouts, self.components) if r]
        self._compiled: dict[str, CompiledTemplate] = {}
        environment = _GuardedEnvironment(
            loader=_HarpiaLoader(self),
            autoescape=True,
            auto_reload=auto_reload,
            cache_size=cache_size,
            undefined=StrictUndefined if strict_undefined else ChainableUndefined,
            finalize=finalize,
            keep_trailing_newline=True,
        )
        environment.globals.update(harpia_globals())
        super().__init__(environment)

    @property
    def auto_reload(self) -> bool:
        return self.environment.auto_reload

    # -- rendering --------------------------------------------------------------------------

    async def render(
        self,
        view: str,
        data: Mapping[str, Any] | None = None,
        *,
        ctx: Context | None = None,
        module: str | None = None,
        block: str | None = None,
    ) -> str:
        """Render a view to HTML.

        ``ctx`` binds the request globals (``generate_nonce()``, ``csrf_field()``, ...);
        ``module`` picks the module folder with ``use_modules=True`` (``ctx.module(name)``
        passes it); ``block`` renders only that block of the view (an htmx fragment).
        """
        return await self._render_key(("view", module, view), data, ctx, block)

    async def generate(
        self,
        path: PathLike,
        data: Mapping[str, Any] | None = None,
        *,
        ctx: Context | None = None,
    ) -> str:
        """Render the template file at ``path`` (relative to the working directory or
        absolute; ``file_extension`` is added unless ``path`` names an existing file), for
        use outside requests: e-mails, files, jobs.  Outside a request (no ``ctx``) the
        request globals are empty."""
        return await self._render_key(("file", os.fspath(path)), data, ctx, None)

    def generate_sync(self, path: PathLike, data: Mapping[str, Any] | None = None) -> str:
        """:meth:`generate` for synchronous code (scripts, threads): reads files in the
        calling thread."""
        return self._render_key_sync(("file", os.fspath(path)), data)

    def jinja_source(self, view: str, *, module: str | None = None) -> str:
        """The Jinja2 source a view compiles to (for debugging the translation)."""
        filename = self._view_file(view, module)
        self._require_file(filename, f"view {view!r}")
        return self._compile(filename)[0].source

    # -- loading (in a worker thread) -------------------------------------------------------

    def _load(self, key: Hashable) -> Loaded:
        assert isinstance(key, tuple)
        if key[0] == "view":
            _, module, view = key
            filename = self._view_file(view, module)
            self._require_file(filename, f"view {view!r}")
        else:
            filename = self._generate_file(key[1])
        template = self.environment.get_template(filename)
        names: set[str] = set()
        seen: set[str] = set()
        pending = [filename]
        while pending:  # load every template the view uses, so that rendering never reads
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if name != filename:
                self.environment.get_template(name)
            compiled = self._compiled[name]
            names |= compiled.names
            pending.extend(compiled.dependencies)
        return Loaded(template, "get_flashed_messages" in names)

    def _view_file(self, view: str, module: str | None) -> str:
        _check_relative(view, "view")
        if self.use_modules:
            if module is None:
                raise ConfigurationError(
                    "use_modules=True: render views of a module with "
                    "ctx.module(name).render(view) (or render(view, module=name))"
                )
            _check_relative(module, "module")
            root = os.path.normpath(os.path.join(self._views_root, module, self._module_tail))
            if not _within(root, self._views_root) or root == self._views_root:
                raise TemplateNotFoundError(f"module {module!r} is outside {self._views_root}")
        elif module is not None:
            raise ConfigurationError(
                f"module {module!r} given but the engine has use_modules=False"
            )
        else:
            root = self._views_root
        if self.view_name is not None:
            filename = os.path.join(root, view, self.view_name + self.file_extension)
        else:
            filename = os.path.join(root, view + self.file_extension)
        filename = os.path.normpath(filename)
        if not _within(filename, root):
            raise TemplateNotFoundError(f"view {view!r} is outside the views folder {root}")
        return filename

    def _generate_file(self, path: str) -> str:
        filename = _absolute(path)
        if not os.path.isfile(filename):
            if filename.endswith(self.file_extension):
                self._require_file(filename, f"template {path!r}")
            filename += self.file_extension
            self._require_file(filename, f"template {path!r}")
        cwd = os.getcwd()
        root = cwd if _within(filename, cwd) else os.path.dirname(filename)
        if root not in self._roots:
            self._roots.append(root)  # imports of generated templates may reach into it
        return filename

    @staticmethod
    def _require_file(filename: str, what: str) -> None:
        if not os.path.isfile(filename):
            raise TemplateNotFoundError(f"{what} not found: looked for {filename}")

    def _source(self, filename: str) -> tuple[str, str, Any]:
        """Jinja2 loader: the translated source, cached until the file changes (checked
        only with ``auto_reload``)."""
        if not self.auto_reload:
            cached = self._compiled.get(filename)
            if cached is not None:
                return cached.source, filename, _always
        compiled, mtime = self._compile(filename)
        self._compiled[filename] = compiled

        def uptodate() -> bool:
            try:
                return os.stat(filename).st_mtime_ns == mtime
            except OSError:
                return False

        return compiled.source, filename, uptodate

    def _compile(self, filename: str) -> tuple[CompiledTemplate, int]:
        try:
            mtime = os.stat(filename).st_mtime_ns
            with open(filename, encoding="utf-8") as file:
                text = file.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise TemplateNotFoundError(f"template file not found: {filename}") from None
        except UnicodeDecodeError as exc:
            raise TemplateSyntaxError(f"not UTF-8 text ({exc.reason})", filename, None) from None

        def resolve(kind: Reference, name: str) -> str:
            return self._reference(kind, name, filename)

        return compile_template(text, filename, resolve), mtime

    def _reference(self, kind: Reference, name: str, current: str) -> str:
        """The file behind ``@layout``/``@component`` (their folders) or ``@import``
        (relative to the template that imports)."""
        _check_relative(name, kind)
        relative = name if name.endswith(self.file_extension) else name + self.file_extension
        if kind == "import":
            filename = os.path.normpath(os.path.join(os.path.dirname(current), relative))
            if not any(_within(filename, root) for root in self._roots):
                raise TemplateNotFoundError(f"@import {name!r} leaves the template folders")
        else:
            folder = self.layouts if kind == "layout" else self.components
            if folder is None:
                key = "layouts" if kind == "layout" else "components"
                raise TemplateNotFoundError(f"@{kind} needs path[{key!r}] to be set")
            filename = os.path.normpath(os.path.join(folder, relative))
            if not _within(filename, folder):
                raise TemplateNotFoundError(f"@{kind} {name!r} is outside {folder}")
        self._require_file(filename, f"{kind} {name!r}")
        return filename


def _always() -> bool:
    return True
