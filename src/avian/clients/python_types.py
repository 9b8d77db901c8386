"""Spelling API types as Python annotations that msgspec can decode.

msgspec decodes a union only when its members can be told apart by JSON shape alone: at
most one object-like type (unless all are Structs tagged on the same field), one array
type, one string-like type and one integer-like type.  Unions that break a rule are
widened here (two untagged models become ``dict[str, Any]``), so every generated
annotation can decode a response.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .api_model import (
    ApiDescription,
    ArrayOf,
    LiteralOf,
    LiteralValue,
    MapOf,
    ModelAlias,
    ObjectModel,
    Primitive,
    Reference,
    TypeRef,
    UnionOf,
    is_null,
)

__all__ = ["PythonTypes", "StructTag", "py_string"]

_STRING_FORMATS: dict[str, tuple[str, str]] = {
    "date-time": ("datetime.datetime", "datetime"),
    "date": ("datetime.date", "datetime"),
    "time": ("datetime.time", "datetime"),
    "duration": ("datetime.timedelta", "datetime"),
    "uuid": ("uuid.UUID", "uuid"),
    "decimal": ("decimal.Decimal", "decimal"),
    "byte": ("bytes", ""),
}
_WIDE = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "array": "list[Any]",
    "object": "dict[str, Any]",
}


def py_string(text: str) -> str:
    """A Python string literal, double-quoted unless that would need more escapes."""
    body = text.replace("\\", "\\\\")
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        body = body.replace(char, escape)
    body = "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in body)
    if '"' in body and "'" not in body:
        return f"'{body}'"
    return '"' + body.replace('"', '\\"') + '"'


def _literal_text(value: LiteralValue) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return py_string(value)
    return repr(value)


@dataclass(frozen=True)
class StructTag:
    """The msgspec tag a model carries because it is a member of a discriminated union."""

    field: str
    value: str


@dataclass
class PythonTypes:
    """Type expressions for one API, remembering which imports they need."""

    api: ApiDescription
    imports: set[str] = field(default_factory=set)
    """``datetime``, ``uuid``, ``decimal``, ``Any``, ``Literal``..."""
    tags: dict[str, StructTag] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.models = {model.name: model for model in self.api.models}
        self.tags = self._struct_tags()

    # -- tags ---------------------------------------------------------------------

    def _struct_tags(self) -> dict[str, StructTag]:
        """Models that can carry a msgspec tag: each in discriminated unions of one kind."""
        wanted: dict[str, set[StructTag]] = {}
        for union in self._unions():
            if union.discriminator is None:
                continue
            for tag_value, model_name in union.discriminator.mapping:
                tag = StructTag(union.discriminator.property, tag_value)
                wanted.setdefault(model_name, set()).add(tag)
        tags: dict[str, StructTag] = {}
        for name, found in wanted.items():
            model = self.models.get(name)
            if len(found) == 1 and isinstance(model, ObjectModel):
                tags[name] = next(iter(found))
        return tags

    def _unions(self) -> Iterable[UnionOf]:
        roots: list[TypeRef] = []
        for model in self.api.models:
            if isinstance(model, ObjectModel):
                roots.extend(f.type for f in model.fields)
            else:
                roots.append(model.type)
        for op in self.api.operations:
            roots.extend(p.type for p in op.parameters)
            if op.body is not None:
                roots.append(op.body.type)
            roots.extend(r.type for r in op.responses if r.type is not None)
        pending = list(roots)
        while pending:
            item = pending.pop()
            if isinstance(item, UnionOf):
                yield item
                pending.extend(item.options)
            elif isinstance(item, ArrayOf):
                pending.append(item.items)
            elif isinstance(item, MapOf):
                pending.append(item.values)

    # -- expressions --------------------------------------------------------------

    def expr(self, type_ref: TypeRef) -> str:
        """The annotation for ``type_ref``."""
        if isinstance(type_ref, Primitive):
            return self._primitive(type_ref)
        if isinstance(type_ref, Reference):
            return type_ref.name
        if isinstance(type_ref, ArrayOf):
            return f"list[{self.expr(type_ref.items)}]"
        if isinstance(type_ref, MapOf):
            return f"dict[str, {self.expr(type_ref.values)}]"
        if isinstance(type_ref, LiteralOf):
            return self._literal(type_ref)
        if isinstance(type_ref, UnionOf):
            return self._union(type_ref)
        return self._any()

    def _any(self) -> str:
        self.imports.add("Any")
        return "Any"

    def _primitive(self, prim: Primitive) -> str:
        if prim.kind == "string":
            spelled = _STRING_FORMATS.get(prim.format or "")
            if spelled is None:
                return "str"
            if spelled[1]:
                self.imports.add(spelled[1])
            return spelled[0]
        return {"integer": "int", "number": "float", "boolean": "bool", "null": "None"}[prim.kind]

    def _literal(self, lit: LiteralOf) -> str:
        values = [v for v in lit.values if v is not None]
        parts: list[str] = []
        if any(isinstance(v, float) for v in values):
            parts.append("float")  # typing has no float literals
            values = [v for v in values if not isinstance(v, float)]
        if values:
            self.imports.add("Literal")
            parts.insert(0, f"Literal[{', '.join(_literal_text(v) for v in values)}]")
        if None in lit.values or not parts:
            parts.append("None")
        return " | ".join(parts)

    def _union(self, union: UnionOf) -> str:
        options: list[TypeRef | str] = list(union.options)
        if self._conflicts(list(union.options)):
            options = self._widened(self._expanded(list(union.options)))
        parts: list[str] = []
        for option in options:
            spelled = self.expr(option) if not isinstance(option, str) else option
            for piece in spelled.split(" | "):
                if piece not in parts:
                    parts.append(piece)
        if "Any" in parts:
            return "Any"
        if "None" in parts:  # keep ``X | None`` order
            parts.remove("None")
            parts.append("None")
        return " | ".join(parts)

    # -- msgspec union rules ------------------------------------------------------

    def kinds(self, type_ref: TypeRef, seen: frozenset[str] = frozenset()) -> set[str]:
        """How each member of ``type_ref`` looks in JSON: ``str``, ``object``, ``tagged:kind``..."""
        if isinstance(type_ref, Primitive):
            return {_PRIMITIVE_KIND[type_ref.kind]}
        if isinstance(type_ref, LiteralOf):
            return {_value_kind(v) for v in type_ref.values} or {"null"}
        if isinstance(type_ref, ArrayOf):
            return {"array"}
        if isinstance(type_ref, MapOf):
            return {"object"}
        if isinstance(type_ref, UnionOf):
            found: set[str] = set()
            for option in type_ref.options:
                found |= self.kinds(option, seen)
            return found
        if isinstance(type_ref, Reference):
            model = self.models.get(type_ref.name)
            if isinstance(model, ObjectModel):
                tag = self.tags.get(model.name)
                return {f"tagged:{tag.field}"} if tag else {"object"}
            if isinstance(model, ModelAlias) and model.name not in seen:
                return self.kinds(model.type, seen | {model.name})
        return {"any"}

    def _conflicts(self, options: list[TypeRef]) -> bool:
        counts: dict[str, int] = {}
        for option in options:
            for kind in self.kinds(option):
                counts[kind] = counts.get(kind, 0) + 1
        if "any" in counts:
            return False
        tagged = {k for k in counts if k.startswith("tagged:")}
        if len(tagged) > 1 or (tagged and "object" in counts):
            return True
        return any(n > 1 for k, n in counts.items() if not k.startswith("tagged:"))

    def _expanded(self, options: list[TypeRef]) -> list[TypeRef]:
        """Aliases and nested unions replaced by their members."""
        flat: list[TypeRef] = []
        pending = list(reversed(options))
        seen: set[str] = set()
        while pending:
            item = pending.pop()
            if isinstance(item, UnionOf):
                pending.extend(reversed(item.options))
                continue
            if isinstance(item, Reference):
                model = self.models.get(item.name)
                if isinstance(model, ModelAlias) and item.name not in seen:
                    seen.add(item.name)
                    pending.append(model.type)
                    continue
            if isinstance(item, LiteralOf) and len({_value_kind(v) for v in item.values}) > 1:
                pending.extend(LiteralOf((v,)) for v in reversed(item.values))
                continue
            flat.append(item)
        return flat

    def _widened(self, options: list[TypeRef]) -> list[TypeRef | str]:
        """Members sharing a JSON shape replaced by the plain type of that shape."""
        by_kind: dict[str, list[TypeRef]] = {}
        for option in options:
            kind = next(iter(self.kinds(option)))
            if kind.startswith("tagged:"):
                kind = "object"
            by_kind.setdefault(kind, []).append(option)
        result: list[TypeRef | str] = []
        for option in options:
            kind = next(iter(self.kinds(option)))
            kind = "object" if kind.startswith("tagged:") else kind
            if kind == "any":
                return [self._any()]
            same = by_kind[kind]
            if len(same) == 1 or kind == "null":
                result.append(option)
            elif option is same[0]:
                wide = _WIDE[kind]
                if "Any" in wide:
                    self.imports.add("Any")
                result.append(wide)
        return result

    def has_null(self, type_ref: TypeRef) -> bool:
        if is_null(type_ref):
            return True
        if isinstance(type_ref, UnionOf):
            return any(self.has_null(o) for o in type_ref.options)
        if isinstance(type_ref, LiteralOf):
            return None in type_ref.values
        return False


_PRIMITIVE_KIND = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "null",
}


def _value_kind(value: LiteralValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"
