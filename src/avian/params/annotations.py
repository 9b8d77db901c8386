"""Reading type annotations: what a parameter's type is made of.

Used at startup only: unwraps ``Annotated`` and ``X | None``, tells scalars (what a query
string or header can carry) from models (what a JSON body carries), and finds repeated
values (``list[int]``).  pydantic is never imported here: a pydantic model is recognised by
its methods, so apps without pydantic pay nothing.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid
from typing import Annotated, Any, Literal, Union

import msgspec

__all__ = [
    "NoneType",
    "contains_model",
    "contains_pydantic",
    "is_model",
    "is_pydantic_model",
    "is_scalar",
    "sequence_item",
    "split_annotated",
    "strip_optional",
]

NoneType = type(None)

SCALAR_TYPES: frozenset[Any] = frozenset(
    {
        str,
        int,
        float,
        bool,
        decimal.Decimal,
        uuid.UUID,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
    }
)
"""Types a single text value (query, header, cookie, path, form field) converts into."""

_SEQUENCE_ORIGINS: frozenset[Any] = frozenset(
    {
        list,
        set,
        frozenset,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
        collections.abc.Set,
        collections.abc.MutableSet,
        collections.abc.Collection,
        collections.abc.Iterable,
    }
)


def split_annotated(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[T, a, b]`` -> ``(T, (a, b))``; anything else -> ``(annotation, ())``."""
    if typing.get_origin(annotation) is Annotated:
        return annotation.__origin__, tuple(annotation.__metadata__)
    return annotation, ()


def _is_union(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin is Union or origin is types.UnionType


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; other types -> ``(annotation, False)``."""
    if not _is_union(annotation):
        return annotation, False
    args = typing.get_args(annotation)
    rest = tuple(a for a in args if a is not NoneType)
    if len(rest) == len(args):
        return annotation, False
    if len(rest) == 1:
        return rest[0], True
    return Union[rest], True  # noqa: UP007 - built from a runtime tuple


def _supertype(annotation: Any) -> Any:
    """The type behind a ``NewType``."""
    while hasattr(annotation, "__supertype__"):
        annotation = annotation.__supertype__
    return annotation


def is_scalar(annotation: Any) -> bool:
    """True for types one text value converts into: builtins, dates, UUID, Decimal, enums,
    ``Literal``, and unions of them."""
    annotation = _supertype(split_annotated(annotation)[0])
    if annotation in SCALAR_TYPES or annotation is Any:
        return annotation is not Any
    if typing.get_origin(annotation) is Literal:
        return True
    if _is_union(annotation):
        return all(a is NoneType or is_scalar(a) for a in typing.get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, enum.Enum | str | int | float)


def sequence_item(annotation: Any) -> tuple[Any, Any] | None:
    """For a collection of repeated values, ``(container, item type)``: ``list[int]`` ->
    ``(list, int)``, ``tuple[str, ...]`` -> ``(tuple, str)``; ``None`` for anything else."""
    annotation = split_annotated(annotation)[0]
    if annotation in (list, set, frozenset):
        return annotation, str
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _SEQUENCE_ORIGINS:
        container = origin if origin in (list, set, frozenset) else list
        if origin in (collections.abc.Set, collections.abc.MutableSet):
            container = set
        return container, (args[0] if args else str)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple, args[0]
    return None


def is_pydantic_model(annotation: Any) -> bool:
    """A pydantic v2 model class, recognised without importing pydantic."""
    return (
        "pydantic" in sys.modules
        and isinstance(annotation, type)
        and hasattr(annotation, "model_validate")
        and hasattr(annotation, "model_fields")
    )


def is_model(annotation: Any) -> bool:
    """A structured type decoded from JSON: msgspec ``Struct``, dataclass, ``TypedDict`` or
    pydantic model."""
    if not isinstance(annotation, type):
        return False
    if issubclass(annotation, msgspec.Struct) or dataclasses.is_dataclass(annotation):
        return True
    return typing.is_typeddict(annotation) or is_pydantic_model(annotation)


def _walk(annotation: Any, test: typing.Callable[[Any], bool], depth: int = 0) -> bool:
    if depth > 20:
        return False
    inner = split_annotated(annotation)[0]
    if test(inner):
        return True
    return any(_walk(arg, test, depth + 1) for arg in typing.get_args(inner))


def contains_model(annotation: Any) -> bool:
    """True when ``annotation`` is a model or holds one (``list[User]``, ``User | None``)."""
    return _walk(annotation, is_model)


def contains_pydantic(annotation: Any) -> bool:
    return _walk(annotation, is_pydantic_model)
