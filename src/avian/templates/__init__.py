"""Templates: the Harpia syntax compiled to Jinja2 (:class:`TemplateEngine`), plain Jinja2
(:class:`Jinja2Engine`), or any object with ``render(view, data, *, ctx=None, module=None)``
assigned to ``app.templates``.

::

    from avian.templates import TemplateEngine

    engine = TemplateEngine(path={"views": "views", "layouts": "layouts"})
    engine.configure(app)

    @app.get("/")
    async def home(ctx):
        return await ctx.render("home", {"title": "Welcome"})
"""

from .engine import TemplateEngine
from .errors import TemplateError, TemplateNotFoundError, TemplateRenderError, TemplateSyntaxError
from .jinja import Jinja2Engine
from .runtime import REQUEST_GLOBALS, raw

__all__ = [
    "REQUEST_GLOBALS",
    "Jinja2Engine",
    "TemplateEngine",
    "TemplateError",
    "TemplateNotFoundError",
    "TemplateRenderError",
    "TemplateSyntaxError",
    "raw",
]
