"""Response models: the declared return type shapes and filters what a handler returns.

When the return annotation (or the route's ``response_model=``) names a model (msgspec
``Struct``, dataclass, ``TypedDict``, pydantic model, or a list/dict/optional of them), the
returned value is converted into it: a dict with extra keys or an ORM object loses what the
model does not declare.  A value that already has the model's exact type is passed through
untouched (no work per request), and non-model annotations (``str``, ``dict[str, int]``,
``Response``, ``Any``) are never checked.  A value that cannot be converted is a bug in the
server, not in the request: :class:`ResponseValidationError`, answered as a 500 and logged.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ..errors import AvianError
from ..http.response import Response
from .annotations import (
    NoneType,
    contains_model,
    contains_pydantic,
    is_model,
    is_pydantic_model,
    split_annotated,
)
from .conversion import check_type
from .spec import ResponseSpec

__all__ = ["ResponseModel", "ResponseValidationError", "analyse_response", "no_response_model"]

_STREAM_ORIGINS = frozenset(
    {
        collections.abc.Iterator,
        collections.abc.Iterable,
        collections.abc.Generator,
        collections.abc.AsyncIterator,
        collections.abc.AsyncIterable,
        collections.abc.AsyncGenerator,
    }
)


class ResponseValidationError(AvianError):
    """A handler returned a value its response model cannot hold (a server bug: 500)."""


class ResponseModel:
    """The analysed response of one route."""

    __slots__ = ("exact", "shape", "spec")

    def __init__(
        self,
        spec: ResponseSpec,
        shape: Callable[[Any], Any] | None = None,
        exact: type | None = None,
    ) -> None:
        self.spec = spec
        self.shape = shape
        """``value -> value`` converting into the model; ``None``: nothing to do."""
        self.exact = exact
        """Values of exactly this type skip :attr:`shape` (checked inline by the pipeline)."""


def _without_responses(annotation: Any) -> Any:
    """``User | Response`` -> ``User`` (a handler may return either)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = tuple(
            a
            for a in typing.get_args(annotation)
            if not (isinstance(a, type) and issubclass(a, Response))
        )
        if not args:
            return Response
        if len(args) == 1:
            return args[0]
        return typing.Union[args]  # noqa: UP007 - built from a runtime tuple
    return annotation


def _shaper(annotation: Any, where: str) -> Callable[[Any], Any]:
    name = getattr(annotation, "__name__", None) or repr(annotation)
    convert: Callable[[Any], Any]
    if contains_pydantic(annotation):
        if is_pydantic_model(annotation):
            model_validate = annotation.model_validate

            def convert(value: Any) -> Any:
                return model_validate(value, from_attributes=True)

        else:
            from pydantic import TypeAdapter  # the annotation is pydantic: it is installed

            validate_python = TypeAdapter(annotation).validate_python

            def convert(value: Any) -> Any:
                return validate_python(value, from_attributes=True)

        errors: tuple[type[Exception], ...] = (ValueError,)
    else:
        check_type(annotation, where)

        def convert(value: Any) -> Any:
            return msgspec.convert(value, annotation, from_attributes=True)

        errors = (msgspec.ValidationError,)

    def shape(value: Any) -> Any:
        if value is None or isinstance(value, Response):
            return value  # 204, or a response built by hand / with ctx helpers
        try:
            return convert(value)
        except errors as exc:
            raise ResponseValidationError(
                f"{where}: the returned {type(value).__name__} does not match the response "
                f"model {name}: {exc}"
            ) from exc

    return shape


def no_response_model(status: int) -> ResponseModel:
    """``response_model=None``: whatever the handler returns is sent as it is, and the
    document says nothing about the output's shape (the return annotation is ignored)."""
    return ResponseModel(ResponseSpec(None, status))


def analyse_response(annotation: Any, status: int, where: str) -> ResponseModel:
    """The response spec and shaping for a declared return type (``inspect.Parameter.empty``
    when nothing was declared)."""
    annotation = split_annotated(annotation)[0]
    if annotation is inspect.Parameter.empty or annotation is Any or annotation is object:
        return ResponseModel(ResponseSpec(None, status))
    if annotation is None or annotation is NoneType:
        return ResponseModel(ResponseSpec(None, 204 if status == 200 else status, "", empty=True))
    annotation = _without_responses(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Response):
        media = getattr(annotation, "default_media_type", None) or "application/json"
        return ResponseModel(ResponseSpec(None, status, media))
    if annotation is str:
        return ResponseModel(ResponseSpec(str, status, "text/plain"))
    if annotation in (bytes, bytearray, memoryview):
        return ResponseModel(ResponseSpec(bytes, status, "application/octet-stream"))
    origin = typing.get_origin(annotation)
    if origin in _STREAM_ORIGINS or annotation in _STREAM_ORIGINS:
        return ResponseModel(ResponseSpec(None, status, "application/octet-stream"))
    spec = ResponseSpec(annotation, status, "application/json")
    if not contains_model(annotation):
        return ResponseModel(spec)
    exact = annotation if isinstance(annotation, type) and is_model(annotation) else None
    if exact is not None and typing.is_typeddict(exact):
        exact = None  # a TypedDict is a dict at run time: always converted (filtered)
    return ResponseModel(spec, _shaper(annotation, where), exact)
