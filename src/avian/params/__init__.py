"""Typed handlers: what a handler's signature asks for, analysed once at startup.

:mod:`.spec` describes the result (read by the OpenAPI generator), :mod:`.analysis` builds
the calling plan.
"""

from .analysis import (
    HandlerPlan,
    analyse_handler,
    is_async_callable,
    path_converter_hint,
    validation_error,
)
from .spec import BodySpec, ParamSpec, ResponseSpec

__all__ = [
    "BodySpec",
    "HandlerPlan",
    "ParamSpec",
    "ResponseSpec",
    "analyse_handler",
    "is_async_callable",
    "path_converter_hint",
    "validation_error",
]
