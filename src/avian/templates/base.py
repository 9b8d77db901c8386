"""What both template engines share: when to render in a thread, the variables a template
sees, plugins, and turning Jinja2's errors into avian's (with the template file and line).

Rendering strategy (measured, see ``docs/templates.md``): Jinja2's synchronous renderer is
the fastest (``enable_async=True`` costs about a quarter more, a thread hop more than
doubles a small page).  So the first render of a view loads and compiles it -- and every
template it statically uses -- in a worker thread, and later renders run inline on the event
loop without touching the disk.  With ``auto_reload`` every render checks the files, so it
always runs in a thread.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import Environment, Template

from ..errors import ConfigurationError
from .errors import TemplateError, TemplateNotFoundError, TemplateRenderError, TemplateSyntaxError
from .expressions import valid_name
from .runtime import REQUEST_GLOBALS, RequestGlobals, load_flashes

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["EngineBase", "Loaded", "translate_error"]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A compiled view, ready to render; ``uses_flashes`` says whether it (or a template it
    uses) calls ``get_flashed_messages``, which must then be fetched before rendering."""

    template: Template
    uses_flashes: bool


class EngineBase:
    """The rendering machinery shared by :class:`TemplateEngine` and :class:`Jinja2Engine`."""

    environment: Environment
    _reserved_plugins: frozenset[str] = frozenset(REQUEST_GLOBALS)

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self._entries: dict[Hashable, Loaded] = {}

    # -- public ---------------------------------------------------------------------------

    def configure(self, app: Any, shield: Any = None) -> None:
        """Make this the app's engine (``app.templates = engine``), for ``ctx.render()``.

        ``shield`` is accepted for Harpia's ``engine.configure(app, shield)`` and ignored:
        ``generate_nonce()`` reads the nonce from the request being rendered.
        """
        app.templates = self

    def register_plugin(self, name: str, fn: Callable[..., Any]) -> None:
        """Make ``fn`` callable from every template as ``name(...)``.

        Plugins run while the template renders, which is synchronous: they must be plain
        functions (an ``async def`` is refused).  A plugin's result is escaped on output
        unless it returns ``markupsafe.Markup``.
        """
        if not isinstance(name, str) or not valid_name(name):
            raise ConfigurationError(f"plugin name {name!r} is not a valid template name")
        if name in self._reserved_plugins:
            raise ConfigurationError(f"{name!r} is built in and cannot be replaced by a plugin")
        if not callable(fn):
            raise ConfigurationError(f"plugin {name!r} must be callable")
        if inspect.iscoroutinefunction(fn):
            raise ConfigurationError(
                f"plugin {name!r} is async; template plugins must be plain functions "
                "(fetch the data in the handler and pass it to render())"
            )
        self.environment.globals[name] = fn

    # -- for subclasses -------------------------------------------------------------------

    def _load(self, key: Hashable) -> Loaded:  # pragma: no cover - every engine overrides it
        raise NotImplementedError

    async def _render_key(
        self,
        key: Hashable,
        data: Mapping[str, Any] | None,
        ctx: Context | None,
        block: str | None,
    ) -> str:
        entry = self._entries.get(key)
        reloading = self.environment.auto_reload
        if entry is None or reloading:
            entry = await asyncio.to_thread(self._load_cached, key)
        if ctx is None:
            variables = dict(data) if data else {}
        else:
            flashes = await load_flashes(ctx) if entry.uses_flashes else []
            variables = RequestGlobals(ctx, flashes).variables()
            if data:
                variables.update(data)
        if reloading:  # includes are re-checked on disk while rendering
            return await asyncio.to_thread(render_loaded, entry, variables, block)
        return render_loaded(entry, variables, block)

    def _render_key_sync(self, key: Hashable, data: Mapping[str, Any] | None) -> str:
        entry = self._entries.get(key)
        if entry is None or self.environment.auto_reload:
            entry = self._load_cached(key)
        return render_loaded(entry, dict(data) if data else {}, None)

    def _load_cached(self, key: Hashable) -> Loaded:
        try:
            entry = self._load(key)
        except Exception as exc:
            replacement = translate_error(exc)
            if replacement is exc:
                raise
            raise replacement from exc
        if not self.environment.auto_reload:
            self._entries[key] = entry
        return entry


def render_loaded(entry: Loaded, variables: dict[str, Any], block: str | None) -> str:
    """Render a view (or one of its blocks) with avian's error translation."""
    template = entry.template
    try:
        if block is None:
            return template.render(variables)
        return _render_block(template, block, variables)
    except Exception as exc:
        replacement = translate_error(exc)
        if replacement is exc:
            raise
        raise replacement from exc


def _render_block(template: Template, block: str, variables: dict[str, Any]) -> str:
    render = template.blocks.get(block)
    if render is None:
        raise TemplateNotFoundError(f"{template.filename or template.name} has no block {block!r}")
    context = template.new_context(variables)
    try:
        return "".join(render(context))
    except Exception:
        template.environment.handle_exception()


def translate_error(exc: BaseException) -> BaseException:
    """The exception to raise for ``exc``: Jinja2's own errors become avian's, with the
    template file and line in the message; anything else (a plugin's error, an
    ``HTTPError`` raised on purpose) is kept, with a note naming the template line."""
    if isinstance(exc, TemplateError):
        return exc
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return TemplateSyntaxError(
            exc.message or "syntax error", exc.filename or exc.name, exc.lineno
        )
    if isinstance(exc, jinja2.TemplateNotFound):
        return TemplateNotFoundError(f"template {exc.name or exc.message!r} not found")
    filename, lineno = _location(exc)
    if isinstance(exc, jinja2.TemplateError):
        return TemplateRenderError(exc.message or type(exc).__name__, filename, lineno)
    if filename is not None:
        exc.add_note(f"in template {filename}, line {lineno}")
    return exc


def _location(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost template frame of ``exc``'s traceback (Jinja2 rewrites tracebacks so
    that template frames carry the template's file name and line)."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        if "__jinja_exception__" in tb.tb_frame.f_globals:
            found = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
