"""JSON Schemas from msgspec, with the ``format`` of every date and time.

msgspec writes ``format: date-time`` (``time``) only for a ``datetime`` (``time``) declared
timezone-aware (``Annotated[datetime, Meta(tz=True)]``); a plain ``datetime`` field, which
is far more common, comes out as a bare string.  Docs UIs, validators and client generators
need the format to know the value is a timestamp, so it is added here: the generated schemas
are walked alongside msgspec's own description of each type, and a bare string standing for
a ``datetime`` gets ``date-time`` (a ``time``: ``time``).  Dates, UUIDs, decimals and
durations already carry theirs (``date``, ``uuid``, ``decimal`` as a string, ``duration``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
import msgspec.inspect as mi

__all__ = ["schema_components"]

_CLASS_TYPES = (mi.StructType, mi.TypedDictType, mi.DataclassType, mi.NamedTupleType)


def schema_components(
    types: Sequence[Any], hook: Callable[[Any], dict[str, Any]], ref_template: str
) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """:func:`msgspec.json.schema_components` with date and time formats filled in."""
    infos = mi.multi_type_info(types)
    classes: dict[Any, mi.Type] = {}
    for info in infos:
        _collect_classes(info, classes)
    # The classes are already among the components: asking for them too changes no name,
    # and each answer is a bare ``$ref`` that tells which component is whose.
    wanted = [*types, *classes]
    generated, components = msgspec.json.schema_components(
        wanted, schema_hook=hook, ref_template=ref_template
    )
    schemas = generated[: len(types)]
    prefix = ref_template.split("{name}", 1)[0]
    names: dict[Any, str] = {}
    for cls, ref in zip(classes, generated[len(types) :], strict=True):
        target = ref.get("$ref")
        if isinstance(target, str) and target.startswith(prefix):
            names[cls] = target[len(prefix) :]
    for info, schema in zip(infos, schemas, strict=True):
        _add_formats(info, schema, names, root=False)
    for cls, info in classes.items():
        name = names.get(cls)
        if name is not None:
            _add_formats(info, components.get(name), names, root=True)
    return schemas, components


def _collect_classes(info: mi.Type, found: dict[Any, mi.Type]) -> None:
    """Every class-like type (Struct, dataclass, TypedDict, NamedTuple) in ``info``."""
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, _CLASS_TYPES):
        if info.cls in found:
            return
        found[info.cls] = info
        for field in info.fields:
            _collect_classes(field.type, found)
    elif isinstance(info, mi.CollectionType):
        _collect_classes(info.item_type, found)
    elif isinstance(info, mi.TupleType):
        for item in info.item_types:
            _collect_classes(item, found)
    elif isinstance(info, mi.DictType | mi.FrozenDictType):
        _collect_classes(info.key_type, found)
        _collect_classes(info.value_type, found)
    elif isinstance(info, mi.UnionType):
        for member in info.types:
            _collect_classes(member, found)


def _bare(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _listed_last(member: mi.Type) -> bool:
    """A union member msgspec writes after the others: ``None``, or an object Struct."""
    bare = _bare(member)
    if isinstance(bare, mi.StructType):
        return not bare.array_like
    return isinstance(bare, mi.NoneType)


def _add_formats(info: mi.Type, schema: Any, names: Mapping[Any, str], *, root: bool) -> None:
    """Walk ``schema`` as msgspec built it from ``info``, adding the missing formats."""
    info = _bare(info)
    if not isinstance(schema, dict):
        return
    if not root and getattr(info, "cls", None) in names:
        return  # a ``$ref``: the component is walked on its own
    if isinstance(info, mi.DateTimeType | mi.TimeType):
        if schema.get("type") == "string" and "format" not in schema:
            schema["format"] = "date-time" if isinstance(info, mi.DateTimeType) else "time"
    elif isinstance(info, mi.CollectionType):
        _add_formats(info.item_type, schema.get("items"), names, root=False)
    elif isinstance(info, mi.TupleType):
        _add_each(info.item_types, schema.get("prefixItems"), names)
    elif isinstance(info, mi.DictType | mi.FrozenDictType):
        _add_formats(info.value_type, schema.get("additionalProperties"), names, root=False)
    elif isinstance(info, mi.UnionType):
        # msgspec lists the members that are neither Structs nor None first, in order.
        others = [member for member in info.types if not _listed_last(member)]
        _add_each(others, schema.get("anyOf"), names)
    elif isinstance(info, _CLASS_TYPES):
        field_types = [field.type for field in info.fields]
        if "properties" in schema:
            properties = schema["properties"]
            if isinstance(properties, dict):
                for field in info.fields:
                    _add_formats(field.type, properties.get(field.encode_name), names, root=False)
        elif "prefixItems" in schema:
            tagged = isinstance(info, mi.StructType) and info.tag_field is not None
            items = schema["prefixItems"]
            _add_each(
                field_types, items[1:] if tagged and isinstance(items, list) else items, names
            )


def _add_each(infos: Sequence[mi.Type], schemas: Any, names: Mapping[Any, str]) -> None:
    if isinstance(schemas, list):
        for info, schema in zip(infos, schemas, strict=False):
            _add_formats(info, schema, names, root=False)
