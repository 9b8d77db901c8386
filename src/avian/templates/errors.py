"""Template exceptions: every one names the template file and, where known, the line."""

from __future__ import annotations

from ..errors import AvianError

__all__ = [
    "TemplateError",
    "TemplateNotFoundError",
    "TemplateRenderError",
    "TemplateSyntaxError",
]


class TemplateError(AvianError):
    """Base class of the template engines' errors."""


class TemplateNotFoundError(TemplateError):
    """A view, layout, component or import does not exist, or its name leaves its folder."""


class TemplateSyntaxError(TemplateError):
    """A template could not be compiled; ``filename`` and ``lineno`` point into its source.

    For Harpia templates the line is the line of the Harpia source, not of the Jinja2 code it
    is translated to.
    """

    def __init__(self, message: str, filename: str | None, lineno: int | None) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        super().__init__(_located(message, filename, lineno))


class TemplateRenderError(TemplateError):
    """A template failed while rendering (an undefined name with ``strict_undefined``, a
    name that is not callable, ...); the message starts with ``file:line:``."""

    def __init__(self, message: str, filename: str | None, lineno: int | None) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        super().__init__(_located(message, filename, lineno))


def _located(message: str, filename: str | None, lineno: int | None) -> str:
    if filename is None:
        return message
    if lineno is None:
        return f"{filename}: {message}"
    return f"{filename}:{lineno}: {message}"
