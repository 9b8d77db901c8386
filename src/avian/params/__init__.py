"""Typed handlers: what a handler's signature asks for, analysed once at startup.

:mod:`.markers` holds what users write (``Query``, ``Depends``...), :mod:`.spec` describes
the result (read by the OpenAPI generator), :mod:`.analysis` builds the calling plan.  Only
the analysis entry points load with ``import avian``; the rest loads on first use.
"""

from typing import TYPE_CHECKING, Any

from .analysis import HandlerPlan, analyse_handler, is_async_callable, path_converter_hint

if TYPE_CHECKING:
    from .issues import RequestValidationError, validation_error
    from .markers import Body, Cookie, Depends, File, Form, Header, Path, Query
    from .responses import ResponseValidationError
    from .spec import BodySpec, Constraints, ParamSpec, ResponseSpec

_LAZY = {
    "Body": ".markers",
    "Cookie": ".markers",
    "Depends": ".markers",
    "File": ".markers",
    "Form": ".markers",
    "Header": ".markers",
    "Path": ".markers",
    "Query": ".markers",
    "RequestValidationError": ".issues",
    "validation_error": ".issues",
    "ResponseValidationError": ".responses",
    "BodySpec": ".spec",
    "Constraints": ".spec",
    "ParamSpec": ".spec",
    "ResponseSpec": ".spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Body",
    "BodySpec",
    "Constraints",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "HandlerPlan",
    "Header",
    "ParamSpec",
    "Path",
    "Query",
    "RequestValidationError",
    "ResponseSpec",
    "ResponseValidationError",
    "analyse_handler",
    "is_async_callable",
    "path_converter_hint",
    "validation_error",
]
