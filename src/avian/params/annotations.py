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
import re
import sys
import types
import typing
import uuid
from typing import Annotated, Any, Literal, Union

import msgspec

__all__ = [
    "NoneType",
    "TextModelField",
    "contains_model",
    "contains_pydantic",
    "is_model",
    "is_pydantic_model",
    "is_scalar",
    "sequence_item",
    "split_annotated",
    "split_header_list",
    "strip_optional",
    "text_model_fields",
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


class TextModelField(typing.NamedTuple):
    """One field of a model used as a set of query parameters (headers, cookies)."""

    name: str
    """The attribute name (the model is built with it)."""
    wire_name: str
    """The name on the wire: the Struct's encoded name (``rename=``), else ``name``."""
    annotation: Any
    required: bool
    default: Any
    """The field's default (a factory's value), or ``None`` when it has none."""

    @property
    def renamed(self) -> bool:
        return self.wire_name != self.name


def text_model_fields(model: Any, where: str) -> list[TextModelField]:
    """The fields of a msgspec ``Struct``, dataclass or ``TypedDict`` read from the query
    string (headers, cookies) one parameter per field."""
    from ..errors import ConfigurationError

    if isinstance(model, type) and issubclass(model, msgspec.Struct):
        return [
            TextModelField(
                f.name,
                f.encode_name,
                f.type,
                f.required,
                _default_of(f.default, f.default_factory, msgspec.NODEFAULT),
            )
            for f in msgspec.structs.fields(model)
        ]
    hints = _model_hints(model, where)
    if dataclasses.is_dataclass(model):
        return [
            TextModelField(
                f.name,
                f.name,
                hints.get(f.name, Any),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                _default_of(f.default, f.default_factory, dataclasses.MISSING),
            )
            for f in dataclasses.fields(model)
            if f.init
        ]
    if typing.is_typeddict(model):
        required = getattr(model, "__required_keys__", frozenset(hints))
        return [TextModelField(n, n, h, n in required, None) for n, h in hints.items()]
    raise ConfigurationError(
        f"{where}: a model read from query parameters, headers or cookies must be a msgspec "
        f"Struct, a dataclass or a TypedDict, got {model!r}"
    )


def _model_hints(model: Any, where: str) -> dict[str, Any]:
    from ..errors import ConfigurationError

    try:
        return typing.get_type_hints(model, include_extras=True)
    except Exception as exc:
        raise ConfigurationError(
            f"{where}: cannot resolve the annotations of {model!r}: {exc}"
        ) from None


def _default_of(default: Any, factory: Any, missing: Any) -> Any:
    if default is not missing:
        return default
    if factory is not missing and factory in (list, dict, set, frozenset, tuple):
        return factory()
    return None


def split_header_list(value: str) -> list[str]:
    """The members of a comma-separated header value (RFC 9110 lists): ``a, b,,c`` ->
    ``["a", "b", "c"]``; a double-quoted member may hold commas (``"x, y"`` -> ``x, y``)."""
    if '"' not in value:
        return [part.strip() for part in value.split(",") if part.strip()]
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [_unquoted(part.strip()) for part in parts if part.strip()]


def _unquoted(member: str) -> str:
    """``"a, b"`` -> ``a, b`` (a member that is one quoted string, escapes resolved)."""
    if len(member) < 2 or member[0] != '"' or member[-1] != '"':
        return member
    return re.sub(r"\\(.)", r"\1", member[1:-1])
