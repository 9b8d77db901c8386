"""The language-neutral description of an API that the client generators read.

An OpenAPI document says the same thing in many ways (``$ref``s, ``allOf``, nullable as a
type list or as ``anyOf`` with ``null``, inline objects); :mod:`.openapi_reader` boils it
down to these few shapes so each generator only has to handle each idea once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "AnyType",
    "ApiDescription",
    "ArrayOf",
    "BodyKind",
    "Discriminator",
    "Field",
    "LiteralOf",
    "MapOf",
    "Model",
    "ModelAlias",
    "ObjectModel",
    "Operation",
    "Parameter",
    "ParameterLocation",
    "Primitive",
    "PrimitiveKind",
    "Reference",
    "RequestBody",
    "ResponseKind",
    "SuccessResponse",
    "TypeRef",
    "UnionOf",
    "is_null",
    "split_null",
]

PrimitiveKind = Literal["string", "integer", "number", "boolean", "null"]
LiteralValue: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True)
class Primitive:
    """A JSON scalar; ``format`` keeps ``date-time``, ``uuid``... for languages that care."""

    kind: PrimitiveKind
    format: str | None = None


@dataclass(frozen=True)
class Reference:
    """A named model (``components/schemas`` entry or a hoisted inline object)."""

    name: str


@dataclass(frozen=True)
class ArrayOf:
    items: TypeRef


@dataclass(frozen=True)
class MapOf:
    """A JSON object used as a dictionary (``additionalProperties``)."""

    values: TypeRef


@dataclass(frozen=True)
class LiteralOf:
    """``enum`` or ``const``: one of a fixed set of JSON values."""

    values: tuple[LiteralValue, ...]


@dataclass(frozen=True)
class Discriminator:
    """Which property tells the members of a union apart, and its value for each model."""

    property: str
    mapping: tuple[tuple[str, str], ...]
    """``(tag value, model name)`` pairs, in the document's order."""


@dataclass(frozen=True)
class UnionOf:
    options: tuple[TypeRef, ...]
    discriminator: Discriminator | None = None


@dataclass(frozen=True)
class AnyType:
    """Any JSON value (an empty schema, or something the reader cannot express)."""


TypeRef: TypeAlias = Primitive | Reference | ArrayOf | MapOf | LiteralOf | UnionOf | AnyType

_NULL = Primitive("null")


def is_null(type_ref: TypeRef) -> bool:
    return type_ref == _NULL


def split_null(type_ref: TypeRef) -> tuple[TypeRef, bool]:
    """``(type without null, whether null was allowed)``; ``X | null`` -> ``(X, True)``."""
    if isinstance(type_ref, UnionOf) and any(is_null(o) for o in type_ref.options):
        rest = tuple(o for o in type_ref.options if not is_null(o))
        if not rest:
            return _NULL, True
        if len(rest) == 1:
            return rest[0], True
        return UnionOf(rest, type_ref.discriminator), True
    if isinstance(type_ref, LiteralOf) and None in type_ref.values:
        values = tuple(v for v in type_ref.values if v is not None)
        return (LiteralOf(values) if values else _NULL), True
    return type_ref, is_null(type_ref)


@dataclass(frozen=True)
class Field:
    """One property of an object model."""

    wire_name: str
    type: TypeRef
    required: bool
    description: str | None = None
    deprecated: bool = False


@dataclass(frozen=True)
class ObjectModel:
    name: str
    fields: tuple[Field, ...]
    description: str | None = None
    extra: TypeRef | None = None
    """The type of properties beyond ``fields`` when the schema allows them typed."""


@dataclass(frozen=True)
class ModelAlias:
    """A named schema that is not an object: an enum, a union, an array..."""

    name: str
    type: TypeRef
    description: str | None = None


Model: TypeAlias = ObjectModel | ModelAlias

ParameterLocation = Literal["path", "query", "header", "cookie"]
BodyKind = Literal["json", "form", "multipart", "raw"]
ResponseKind = Literal["json", "text", "binary", "empty"]


@dataclass(frozen=True)
class Parameter:
    wire_name: str
    location: ParameterLocation
    type: TypeRef
    required: bool
    description: str | None = None
    deprecated: bool = False


@dataclass(frozen=True)
class RequestBody:
    type: TypeRef
    kind: BodyKind
    media_type: str
    required: bool = True
    description: str | None = None


@dataclass(frozen=True)
class SuccessResponse:
    status: int
    kind: ResponseKind
    type: TypeRef | None = None
    """The decoded JSON type; ``None`` unless ``kind == "json"``."""
    media_type: str | None = None


@dataclass(frozen=True)
class Operation:
    operation_id: str
    """The document's ``operationId`` (or one derived from the method and path)."""
    method: str
    """Upper case: ``GET``, ``POST``..."""
    path: str
    tag: str | None
    """The first tag: the client namespace the operation lives in (``None``: top level)."""
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: tuple[SuccessResponse, ...]
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False


@dataclass(frozen=True)
class ApiDescription:
    title: str
    version: str
    models: tuple[Model, ...]
    """Sorted by name."""
    operations: tuple[Operation, ...]
    """Sorted by ``(tag, operation_id)``."""
    description: str | None = None
    server_url: str | None = None
