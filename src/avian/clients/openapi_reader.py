"""Reading an OpenAPI 3.1 document (3.0 is accepted too) into an :class:`ApiDescription`.

Everything that decides a generated name happens here, in a stable order (components by
name, then operations by path and method), so the same document always yields the same
description, whatever order its keys came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from ..errors import ConfigurationError
from .api_model import (
    AnyType,
    ApiDescription,
    ArrayOf,
    BodyKind,
    Discriminator,
    Field,
    LiteralOf,
    LiteralValue,
    MapOf,
    Model,
    ModelAlias,
    ObjectModel,
    Operation,
    Parameter,
    ParameterLocation,
    Primitive,
    Reference,
    RequestBody,
    ResponseKind,
    SuccessResponse,
    TypeRef,
    UnionOf,
)
from .naming import UniqueNames, pascal_case, snake_case

__all__ = ["HTTP_METHODS", "InvalidSpec", "read_openapi"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_LOCATIONS: tuple[ParameterLocation, ...] = ("path", "query", "header", "cookie")
_SCHEMA_PREFIX = "#/components/schemas/"
_MAX_REF_DEPTH = 32


class InvalidSpec(ConfigurationError):
    """The document is not an OpenAPI 3 document a client can be generated from."""


def read_openapi(document: Mapping[str, Any], reserved: Iterable[str] = ()) -> ApiDescription:
    """Boil ``document`` down to models and operations.

    ``reserved`` are names the generated code already uses (``Client``, ``ApiError``...);
    a schema with such a name gets ``Model`` appended.
    """
    if not isinstance(document, Mapping):
        raise InvalidSpec("the OpenAPI document must be a JSON object")
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise InvalidSpec(
            f"expected an OpenAPI 3.x document (an 'openapi' field like '3.1.0'), got {version!r}"
        )
    return _Reader(document, frozenset(reserved)).read()


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


class _Reader:
    def __init__(self, document: Mapping[str, Any], reserved: frozenset[str]) -> None:
        self.document = document
        self.names = UniqueNames(reserved)
        self.reserved = reserved
        self.models: dict[str, Model] = {}
        self.component_names: dict[str, str] = {}
        components = document.get("components") or {}
        schemas = components.get("schemas") if isinstance(components, Mapping) else None
        self.schemas: Mapping[str, Any] = schemas if isinstance(schemas, Mapping) else {}

    # -- entry ------------------------------------------------------------------------

    def read(self) -> ApiDescription:
        for key in sorted(self.schemas):
            self.component_names[key] = self._claim_model_name(key)
        for key in sorted(self.schemas):
            name = self.component_names[key]
            self.models[name] = self._component_model(name, self.schemas[key])
        operations = self._operations()
        info = self.document.get("info") or {}
        servers = self.document.get("servers") or []
        server_url = None
        if isinstance(servers, list) and servers and isinstance(servers[0], Mapping):
            url = servers[0].get("url")
            server_url = url if isinstance(url, str) else None
        return ApiDescription(
            title=str(info.get("title") or "API"),
            version=str(info.get("version") or ""),
            description=_text(info.get("description")),
            models=tuple(self.models[name] for name in sorted(self.models)),
            operations=tuple(sorted(operations, key=lambda o: (o.tag or "", o.operation_id))),
            server_url=server_url,
        )

    def _claim_model_name(self, key: str) -> str:
        name = key if key.isidentifier() and key.isascii() else pascal_case(key)
        name = name or "Model"
        if name[0].isdigit():
            name = f"Model{name}"
        if name in self.names:
            name = f"{name}Model"
        return self.names.claim(name)

    # -- references -------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follow local ``$ref``s (to any part of the document) to the node they name."""
        for _ in range(_MAX_REF_DEPTH):
            if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
                return node
            node = self._pointer(node["$ref"])
        raise InvalidSpec("$ref chain too long (a reference loop?)")

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise InvalidSpec(f"only local references are supported, not {ref!r}")
        node: Any = self.document
        for raw in ref[2:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise InvalidSpec(f"unresolvable reference {ref!r}")
            node = node[part]
        return node

    # -- schemas ----------------------------------------------------------------------

    def _component_model(self, name: str, schema: Any) -> Model:
        schema = schema if isinstance(schema, Mapping) else {}
        description = _text(schema.get("description"))
        if self._is_object(schema):
            return self._object_model(name, schema, description)
        return ModelAlias(name, self.type_of(schema, name), description)

    def _is_object(self, schema: Mapping[str, Any]) -> bool:
        if "allOf" in schema:
            parts = [self.resolve(p) for p in schema["allOf"] if isinstance(p, Mapping)]
            return any(isinstance(p, Mapping) and self._is_object(p) for p in parts)
        kind = schema.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k not in ("object", None) for k in kinds):
            return False
        if any(k in schema for k in ("anyOf", "oneOf", "enum", "const", "items")):
            return False
        return isinstance(schema.get("properties"), Mapping) and bool(schema["properties"])

    def _object_model(self, name: str, schema: Mapping[str, Any], description: str | None) -> Model:
        properties: dict[str, Any] = {}
        required: set[str] = set()
        extra: TypeRef | None = None
        for part in self._object_parts(schema):
            props = part.get("properties")
            if isinstance(props, Mapping):
                properties.update(props)
            req = part.get("required")
            if isinstance(req, list):
                required.update(r for r in req if isinstance(r, str))
            additional = part.get("additionalProperties")
            if isinstance(additional, Mapping) and additional:
                extra = self.type_of(additional, f"{name} value")
        fields: list[Field] = []
        for key, prop in properties.items():
            about = prop if isinstance(prop, Mapping) else {}
            fields.append(
                Field(
                    wire_name=str(key),
                    type=self.type_of(prop, f"{name} {key}"),
                    required=key in required,
                    description=_text(about.get("description")),
                    deprecated=about.get("deprecated") is True,
                )
            )
        return ObjectModel(name, tuple(fields), description, extra)

    def _object_parts(self, schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The schema and, recursively, every ``allOf`` part merged into it."""
        parts: list[Mapping[str, Any]] = []
        pending: list[Any] = [schema]
        seen = 0
        while pending and seen < 256:
            seen += 1
            part = self.resolve(pending.pop(0))
            if not isinstance(part, Mapping):
                continue
            parts.append(part)
            all_of = part.get("allOf")
            if isinstance(all_of, list):
                pending.extend(all_of)
        return parts

    def type_of(self, schema: Any, context: str) -> TypeRef:
        """The type a schema describes; inline objects become models named after ``context``."""
        if schema is True or schema is None or schema == {}:
            return AnyType()
        if not isinstance(schema, Mapping):
            return AnyType()
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref.startswith(_SCHEMA_PREFIX):
                key = ref[len(_SCHEMA_PREFIX) :].replace("~1", "/").replace("~0", "~")
                if key in self.component_names:
                    return self._nullable(Reference(self.component_names[key]), schema)
                raise InvalidSpec(f"unresolvable reference {ref!r}")
            return self.type_of(self.resolve(schema), context)
        result = self._plain_type(schema, context)
        return self._nullable(result, schema)

    def _nullable(self, result: TypeRef, schema: Mapping[str, Any]) -> TypeRef:
        if schema.get("nullable") is True:  # OpenAPI 3.0 spelling
            return _union([result, Primitive("null")])
        return result

    def _plain_type(self, schema: Mapping[str, Any], context: str) -> TypeRef:
        if "const" in schema:
            return LiteralOf((_literal(schema["const"]),))
        if isinstance(schema.get("enum"), list):
            return LiteralOf(tuple(_literal(v) for v in schema["enum"]))
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                types = [
                    self.type_of(o, f"{context} option {i + 1}") for i, o in enumerate(options)
                ]
                return _union(types, self._discriminator(schema, options))
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            if self._is_object(schema):
                return self._hoist(context, schema)
            if len(all_of) == 1:
                return self.type_of(all_of[0], context)
            return AnyType()
        kind = schema.get("type")
        if isinstance(kind, list):
            types = [self._typed(schema, k, context) for k in kind if isinstance(k, str)]
            return _union(types) if types else AnyType()
        if isinstance(kind, str):
            return self._typed(schema, kind, context)
        if "properties" in schema or "additionalProperties" in schema:
            return self._typed(schema, "object", context)
        if "items" in schema:
            return self._typed(schema, "array", context)
        return AnyType()

    def _typed(self, schema: Mapping[str, Any], kind: str, context: str) -> TypeRef:
        if kind in ("string", "integer", "number", "boolean", "null"):
            fmt = schema.get("format")
            return Primitive(
                cast("Any", kind), fmt if isinstance(fmt, str) and kind != "null" else None
            )
        if kind == "array":
            items = schema.get("prefixItems") if "items" not in schema else schema.get("items")
            if isinstance(items, list):  # a tuple: keep it simple, a list of the union
                return ArrayOf(_union([self.type_of(i, f"{context} item") for i in items]))
            return ArrayOf(self.type_of(items, f"{context} item"))
        if kind == "object":
            if self._is_object(schema):
                return self._hoist(context, schema)
            additional = schema.get("additionalProperties")
            if isinstance(additional, Mapping):
                return MapOf(self.type_of(additional, f"{context} value"))
            return MapOf(AnyType())
        return AnyType()

    def _hoist(self, context: str, schema: Mapping[str, Any]) -> TypeRef:
        """An inline object becomes a model of its own, named after where it appeared."""
        name = self._claim_model_name(pascal_case(context) or "Model")
        self.models[name] = self._object_model(name, schema, _text(schema.get("description")))
        return Reference(name)

    def _discriminator(self, schema: Mapping[str, Any], options: list[Any]) -> Discriminator | None:
        spec = schema.get("discriminator")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("propertyName"), str):
            return None
        prop: str = spec["propertyName"]
        explicit = spec.get("mapping")
        if not isinstance(explicit, Mapping):
            explicit = {}
        by_ref = {ref: tag for tag, ref in explicit.items() if isinstance(ref, str)}
        mapping: list[tuple[str, str]] = []
        for option in options:
            ref = option.get("$ref") if isinstance(option, Mapping) else None
            if not isinstance(ref, str) or not ref.startswith(_SCHEMA_PREFIX):
                return None  # only unions of named models can be told apart by a tag
            key = ref[len(_SCHEMA_PREFIX) :]
            tag = by_ref.get(ref) or self._tag_of(self.resolve(option), prop) or key
            if key not in self.component_names:
                return None
            mapping.append((str(tag), self.component_names[key]))
        return Discriminator(prop, tuple(mapping))

    @staticmethod
    def _tag_of(schema: Any, prop: str) -> str | None:
        if not isinstance(schema, Mapping):
            return None
        props = schema.get("properties")
        field = props.get(prop) if isinstance(props, Mapping) else None
        if not isinstance(field, Mapping):
            return None
        if isinstance(field.get("const"), str):
            return str(field["const"])
        enum = field.get("enum")
        if isinstance(enum, list) and len(enum) == 1 and isinstance(enum[0], str):
            return enum[0]
        return None

    # -- operations -------------------------------------------------------------------

    def _operations(self) -> list[Operation]:
        paths = self.document.get("paths")
        if paths is None:
            paths = {}
        if not isinstance(paths, Mapping):
            raise InvalidSpec("'paths' must be an object")
        found: list[Operation] = []
        seen_ids = UniqueNames()
        for path in sorted(paths):
            item = self.resolve(paths[path])
            if not isinstance(item, Mapping):
                continue
            shared = item.get("parameters")
            if not isinstance(shared, list):
                shared = []
            for method in HTTP_METHODS:
                spec = item.get(method)
                if isinstance(spec, Mapping):
                    found.append(self._operation(str(path), method, spec, shared, seen_ids))
        return found

    def _operation(
        self,
        path: str,
        method: str,
        spec: Mapping[str, Any],
        shared: list[Any],
        seen_ids: UniqueNames,
    ) -> Operation:
        raw_id = spec.get("operationId")
        if not isinstance(raw_id, str) or not snake_case(raw_id):
            raw_id = f"{method} {path}"
        operation_id = seen_ids.claim(raw_id)
        tags = spec.get("tags")
        tag = tags[0] if isinstance(tags, list) and tags and isinstance(tags[0], str) else None
        context = pascal_case(operation_id)
        return Operation(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            tag=tag if tag and snake_case(tag) else None,
            parameters=self._parameters(shared, spec.get("parameters"), context),
            body=self._body(spec.get("requestBody"), context),
            responses=self._responses(spec.get("responses"), context),
            summary=_text(spec.get("summary")),
            description=_text(spec.get("description")),
            deprecated=spec.get("deprecated") is True,
        )

    def _parameters(self, shared: list[Any], own: Any, context: str) -> tuple[Parameter, ...]:
        merged: dict[tuple[str, str], Parameter] = {}
        for raw in [*shared, *(own if isinstance(own, list) else [])]:
            param = self.resolve(raw)
            if not isinstance(param, Mapping):
                continue
            name, location = param.get("name"), param.get("in")
            if not isinstance(name, str) or location not in _LOCATIONS:
                continue
            schema = param.get("schema")
            if schema is None and isinstance(param.get("content"), Mapping):
                media: Any = next(iter(param["content"].values()), {})
                schema = media.get("schema") if isinstance(media, Mapping) else None
            merged[(location, name)] = Parameter(
                wire_name=name,
                location=location,
                type=self.type_of(schema, f"{context} {name}"),
                required=location == "path" or param.get("required") is True,
                description=_text(param.get("description")),
                deprecated=param.get("deprecated") is True,
            )
        order = {loc: i for i, loc in enumerate(_LOCATIONS)}
        return tuple(sorted(merged.values(), key=lambda p: (order[p.location], not p.required)))

    def _body(self, raw: Any, context: str) -> RequestBody | None:
        body = self.resolve(raw)
        if not isinstance(body, Mapping) or not isinstance(body.get("content"), Mapping):
            return None
        content: Mapping[str, Any] = body["content"]
        media_type = _pick_media_type(content)
        if media_type is None:
            return None
        media = content[media_type] if isinstance(content[media_type], Mapping) else {}
        kind = _body_kind(media_type)
        schema = media.get("schema")
        body_type: TypeRef
        if kind == "raw":
            body_type = Primitive("string", "binary")
        else:
            body_type = self.type_of(schema, f"{context} body")
        return RequestBody(
            type=body_type,
            kind=kind,
            media_type=media_type,
            required=body.get("required") is True,
            description=_text(body.get("description")),
        )

    def _responses(self, raw: Any, context: str) -> tuple[SuccessResponse, ...]:
        if not isinstance(raw, Mapping):
            return ()
        found: list[SuccessResponse] = []
        by_code = {str(key): value for key, value in raw.items()}
        for code in sorted(by_code):
            if not (len(code) == 3 and code.startswith("2") and code.isdigit()):
                continue
            response = self.resolve(by_code[code])
            content = response.get("content") if isinstance(response, Mapping) else None
            status = int(code)
            if status in (204, 205) or not isinstance(content, Mapping) or not content:
                found.append(SuccessResponse(status, "empty"))
                continue
            media_type = _pick_media_type(content) or next(iter(content))
            kind = _response_kind(media_type)
            media = content.get(media_type)
            type_ref = None
            if kind == "json":
                schema = media.get("schema") if isinstance(media, Mapping) else None
                suffix = "response" if status == 200 else f"response {status}"
                type_ref = self.type_of(schema, f"{context} {suffix}")
            found.append(SuccessResponse(status, kind, type_ref, media_type))
        return tuple(found)


def _pick_media_type(content: Mapping[str, Any]) -> str | None:
    """JSON first, then forms, then whatever comes first."""
    keys = [str(k) for k in content]
    if not keys:
        return None
    for key in keys:
        if _is_json(key):
            return key
    for wanted in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if wanted in keys:
            return wanted
    return keys[0]


def _is_json(media_type: str) -> bool:
    base = media_type.split(";", 1)[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "*/*"


def _body_kind(media_type: str) -> BodyKind:
    base = media_type.split(";", 1)[0].strip().lower()
    if _is_json(base):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base == "multipart/form-data":
        return "multipart"
    return "raw"


def _response_kind(media_type: str) -> ResponseKind:
    base = media_type.split(";", 1)[0].strip().lower()
    if _is_json(base):
        return "json"
    if base.startswith("text/") or base in ("application/xml", "application/javascript"):
        return "text"
    return "binary"


def _literal(value: Any) -> LiteralValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _union(types: list[TypeRef], discriminator: Discriminator | None = None) -> TypeRef:
    """Flatten nested unions, drop duplicates and collapse unions that hold one type."""
    flat: list[TypeRef] = []
    for t in types:
        members = t.options if isinstance(t, UnionOf) and t.discriminator is None else (t,)
        for member in members:
            if isinstance(member, AnyType):
                return AnyType()
            if member not in flat:
                flat.append(member)
    literals = [t for t in flat if isinstance(t, LiteralOf)]
    if len(literals) > 1:  # "a" | "b" written as two consts: one literal set
        values: list[LiteralValue] = []
        for lit in literals:
            values.extend(v for v in lit.values if v not in values)
        first = flat.index(literals[0])
        flat = [t for t in flat if not isinstance(t, LiteralOf)]
        flat.insert(first, LiteralOf(tuple(values)))
    if len(flat) == 1:
        return flat[0]
    return UnionOf(tuple(flat), discriminator)
