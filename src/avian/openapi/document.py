"""Build the OpenAPI 3.1 document of an app from its compiled routes.

What goes in, per operation: the path and method; parameters and body from the handler's
analysed plan (``route.plan``) with the path's own parameters as a fallback; the response
model; summary and description from the docstring (first line, then the rest) unless the
route says otherwise; tags from the route and its groups (a named group is a tag by
default); security from the route, its groups, the app, or the security scheme it depends
on; and the explicit metadata a route may carry (``responses=``, ``deprecated=``,
``operation_id=``, ``openapi_extra=``...).  Routes or groups with ``include_in_schema=False``
and websocket routes are left out.

The document is built once per app, on first use (a request for it, or the CLI), and
cached: nothing of this runs at startup.
"""

from __future__ import annotations

import inspect
import re
import typing
import weakref
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import ConfigurationError
from .config import OpenAPIConfig, requirement_list, resolve_config
from .schemas import REF_PREFIX, SchemaRegistry
from .security import SecurityScheme, default_scheme_name, scheme_object

if TYPE_CHECKING:
    from ..app import App
    from ..routing.router import Route, RouteDef, Router

__all__ = ["build_openapi", "document_config"]

OPENAPI_VERSION = "3.1.0"

ANY_METHOD_OPERATIONS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""How a method-agnostic route (``router.all``) is documented."""

_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
"""Header parameters OpenAPI forbids describing as parameters."""

_OPERATION_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")

_cache: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def document_config(app: App) -> OpenAPIConfig:
    """The app's config, or the defaults when docs are switched off (export still works)."""
    return resolve_config(app.openapi_options) or OpenAPIConfig()


def build_openapi(app: App) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document (built on first call, then cached; do not mutate it).

    Compiles the app's routes if that has not happened yet (as the first request would).
    """
    cached = _cache.get(app)
    if cached is not None:
        return cached
    app._freeze()
    document = _Builder(app, document_config(app)).build()
    _cache[app] = document
    return document


def prime_document(app: App, document: dict[str, Any]) -> None:
    """Serve ``document`` for ``app`` from now on (the docs preview shows an enhanced one)."""
    _cache[app] = document


# --- assembly ------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, app: App, config: OpenAPIConfig) -> None:
        self.app = app
        self.config = config
        self.schemas = SchemaRegistry()
        self.scheme_names: dict[int, str] = {}
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self.operation_ids: dict[str, str] = {}
        self.used_tags: list[str] = []
        self.problem_refs: list[dict[str, Any]] = []
        self.validation_refs: list[dict[str, Any]] = []
        self.file_fields: list[tuple[dict[str, Any], tuple[str, ...]]] = []
        self.generated_models: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for name, scheme in config.security_schemes.items():
            self.security_schemes[name] = scheme_object(scheme, name)
            if isinstance(scheme, SecurityScheme):
                self.scheme_names.setdefault(id(scheme), name)

    def build(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for route, definition in compiled_routes(self.app):
            chain = _router_chain(definition.router)
            if not _included(definition, chain):
                continue
            path = openapi_path(route)
            methods = definition.methods or ANY_METHOD_OPERATIONS
            documented = [m for m in methods if not (m == "HEAD" and "GET" in methods)]
            for method in documented:
                operation = self._operation(route, definition, chain, method, len(documented))
                paths.setdefault(path, {})[method.lower()] = operation
        self.schemas.resolve()
        self._name_generated_models()
        self._mark_file_fields()
        self._add_problem_components()
        return self._root(paths)

    def _root(self, paths: dict[str, Any]) -> dict[str, Any]:
        config, app = self.config, self.app
        info: dict[str, Any] = {
            "title": config.title or app.title,
            "version": config.version or app.version,
        }
        if config.summary:
            info["summary"] = config.summary
        description = config.description or app.description
        if description:
            info["description"] = description
        if config.terms_of_service:
            info["termsOfService"] = config.terms_of_service
        if config.contact:
            info["contact"] = dict(config.contact)
        if config.license:
            info["license"] = dict(config.license)
        document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
        if config.servers:
            document["servers"] = [
                {"url": s} if isinstance(s, str) else dict(s) for s in config.servers
            ]
        tags = [dict(t) for t in config.tags]
        known = {t.get("name") for t in tags}
        tags.extend({"name": name} for name in self.used_tags if name not in known)
        if tags:
            document["tags"] = tags
        document["paths"] = paths
        components: dict[str, Any] = {}
        if self.schemas.components:
            components["schemas"] = dict(sorted(self.schemas.components.items()))
        if self.security_schemes:
            components["securitySchemes"] = self.security_schemes
        if components:
            document["components"] = components
        if config.external_docs:
            document["externalDocs"] = dict(config.external_docs)
        for key, value in config.extra.items():
            document[key] = value
        return document

    # --- one operation ------------------------------------------------------------------------

    def _operation(
        self,
        route: Route,
        definition: RouteDef,
        chain: list[Router],
        method: str,
        method_count: int,
    ) -> dict[str, Any]:
        options = definition.options
        operation: dict[str, Any] = {}
        tags = self._tags(definition, chain)
        if tags:
            operation["tags"] = tags
        summary, description = _docstring(definition.handler)
        summary = options.get("summary") or summary or _title_from_name(definition)
        description = options.get("description") or description
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = self._operation_id(route, definition, method, method_count)
        parameters = self._parameters(route)
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body(route, method)
        if body is not None:
            operation["requestBody"] = body
        security = self._security(route, definition, chain)
        operation["responses"] = self._responses(
            route,
            definition,
            takes_input=bool(body) or _has_query_like(parameters),
            secured=bool(security),
        )
        if options.get("deprecated"):
            operation["deprecated"] = True
        if security:
            operation["security"] = security
        extra = options.get("openapi_extra")
        if extra:
            if not isinstance(extra, Mapping):
                raise ConfigurationError(f"route {route.path}: openapi_extra must be a dict")
            _deep_merge(operation, extra)
        return operation

    def _tags(self, definition: RouteDef, chain: list[Router]) -> list[str]:
        tags: list[str] = []
        for router in chain:
            if router.tags:
                tags.extend(router.tags)
            elif router.name and router._parent is not None:
                tags.append(router.name)
        route_tags = definition.options.get("tags")
        if route_tags:
            if isinstance(route_tags, str):
                route_tags = [route_tags]
            tags.extend(str(t) for t in route_tags)
        unique = list(dict.fromkeys(tags))
        for tag in unique:
            if tag not in self.used_tags:
                self.used_tags.append(tag)
        return unique

    def _operation_id(
        self, route: Route, definition: RouteDef, method: str, method_count: int
    ) -> str:
        explicit = definition.options.get("operation_id")
        suffix = f"_{method.lower()}" if method_count > 1 else ""
        if explicit:
            operation_id = f"{explicit}{suffix}"
            owner = self.operation_ids.get(operation_id)
            if owner is not None:
                raise ConfigurationError(
                    f"operation_id {operation_id!r} is used by both {owner} and "
                    f"{method} {route.path}"
                )
        else:
            base = _identifier(_route_name(definition))
            candidates = [
                f"{base}{suffix}" if base else "",
                f"{method.lower()}_{_identifier(route.path)}",
            ]
            operation_id = next((c for c in candidates if c and c not in self.operation_ids), "")
            if not operation_id:
                stem, counter = candidates[-1], 2
                while f"{stem}_{counter}" in self.operation_ids:
                    counter += 1
                operation_id = f"{stem}_{counter}"
        self.operation_ids[operation_id] = f"{method} {route.path}"
        return operation_id

    def _parameters(self, route: Route) -> list[dict[str, Any]]:
        plan = route.plan
        specs = list(plan.params) if plan is not None else []
        by_path_name = {s.alias: s for s in specs if s.source == "path"}
        parameters: list[dict[str, Any]] = []
        for segment in route.pattern.segments:
            if segment.param is None:
                continue
            spec = by_path_name.get(segment.param)
            fallback = _converter_schema(segment.converter.name if segment.converter else "str")
            if spec is not None and spec.annotation is not Any:
                parameters.append(self._parameter(spec, required=True))
            else:
                parameter: dict[str, Any] = {
                    "name": segment.param,
                    "in": "path",
                    "required": True,
                    "schema": fallback,
                }
                if spec is not None:
                    _describe(parameter, spec)
                parameters.append(parameter)
        seen = {(p["name"], "path") for p in parameters}
        for spec in specs:
            if spec.source == "path" or not spec.include_in_schema:
                continue
            if spec.source == "header" and spec.alias.lower() in _IGNORED_HEADERS:
                continue
            key = (spec.alias, spec.source)
            if key in seen:
                continue  # the same input asked for by the handler and a dependency
            seen.add(key)
            parameters.append(self._parameter(spec, required=spec.required))
        return parameters

    def _parameter(self, spec: Any, *, required: bool) -> dict[str, Any]:
        extra = _constraint_keywords(spec.constraints, spec.annotation)
        if not required:
            default = _json_value(spec.default)
            if default is not _NO_VALUE and default is not None:
                extra["default"] = default
        if spec.examples:
            extra["examples"] = [_json_value(e, fallback=None) for e in spec.examples]
        parameter: dict[str, Any] = {
            "name": spec.alias,
            "in": spec.source,
            "required": required,
            "schema": self.schemas.slot(spec.annotation, "validation", extra),
        }
        _describe(parameter, spec)
        return parameter

    def _request_body(self, route: Route, method: str) -> dict[str, Any] | None:
        plan = route.plan
        spec = plan.body if plan is not None else None
        if spec is None:
            return None
        annotation, media = spec.annotation, spec.media_types or ("application/json",)
        content: dict[str, Any] = {}
        for media_type in media:
            if spec.generated:
                schema = self._generated_model(annotation, spec.files)
            elif annotation is not None:
                schema = self.schemas.slot(annotation, "validation")
                if spec.files:
                    self.file_fields.append((schema, spec.files))
            else:
                schema = {}
            entry: dict[str, Any] = {"schema": schema}
            if spec.examples:
                entry["examples"] = {
                    f"example{i + 1}": {"value": _json_value(v, fallback=None)}
                    for i, v in enumerate(spec.examples)
                }
            content[media_type] = entry
        body: dict[str, Any] = {"content": content, "required": bool(spec.required)}
        if spec.description:
            body["description"] = spec.description
        return body

    def _generated_model(self, model: Any, files: tuple[str, ...]) -> dict[str, Any]:
        """The ``$ref`` of a model avian built for a handler (its form fields, an embedded
        body); the component is assembled here (field schemas from msgspec) and named once
        every type is known."""
        properties: dict[str, Any] = {}
        required: list[str] = []
        for field in msgspec.structs.fields(model):
            if field.required:
                required.append(field.encode_name)
            if field.encode_name in files:
                binary = {"type": "string", "format": "binary"}
                many = _is_array(field.type)
                properties[field.encode_name] = (
                    {"type": "array", "items": binary} if many else binary
                )
                continue
            extra: dict[str, Any] = {}
            if not field.required:
                default = _json_value(
                    field.default
                    if field.default is not msgspec.NODEFAULT
                    else field.default_factory()
                )
                if default is not _NO_VALUE:
                    extra["default"] = default
            properties[field.encode_name] = self.schemas.slot(field.type, "validation", extra)
        component: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            component["required"] = required
        ref: dict[str, Any] = {}
        self.generated_models.append((model.__name__, component, ref))
        return ref

    def _name_generated_models(self) -> None:
        """Generated models get their handler-derived name (``LoginForm``,
        ``CreateItemBody``), or the next free ``LoginForm2``, ``LoginForm3``... when another
        schema has it; identical ones (one handler on two routes) share one component."""
        components = self.schemas.components
        for preferred, component, ref in self.generated_models:
            name, counter = preferred, 2
            while name in components and components[name] != {"title": name, **component}:
                name = f"{preferred}{counter}"
                counter += 1
            components.setdefault(name, {"title": name, **component})
            ref["$ref"] = REF_PREFIX + name

    def _responses(
        self, route: Route, definition: RouteDef, *, takes_input: bool, secured: bool
    ) -> dict[str, Any]:
        options = definition.options
        annotation, status, media_type, fixed_by_kind = _success_response(route)
        responses: dict[str, Any] = {}
        success: dict[str, Any] = {
            "description": options.get("response_description")
            or ("No Content" if status == 204 else "Successful Response")
        }
        if status not in (204, 304):
            if annotation is not None:
                schema = self.schemas.slot(annotation, "serialization")
                success["content"] = {media_type: {"schema": schema}}
            elif fixed_by_kind:
                text = media_type.startswith("text/")
                success["content"] = {media_type: {"schema": {"type": "string"} if text else {}}}
        responses[str(status)] = success
        explicit = options.get("responses") or {}
        if not isinstance(explicit, Mapping):
            raise ConfigurationError(f"route {route.path}: responses must be a dict")
        for key, value in explicit.items():
            code = str(key)
            if not (code == "default" or re.fullmatch(r"[1-5](?:\d\d|XX)", code)):
                raise ConfigurationError(
                    f"route {route.path}: response key {key!r} is not a status code"
                )
            base = responses.get(code, {})
            responses[code] = self._explicit_response(route, code, value, base)
        if takes_input and self.config.validation_responses and "422" not in responses:
            responses["422"] = self._problem_response("Validation Error", validation=True)
        if secured and "401" not in responses:
            responses["401"] = self._problem_response("Not authenticated")
        return dict(sorted(responses.items(), key=lambda item: item[0]))

    def _explicit_response(
        self, route: Route, code: str, value: Any, base: dict[str, Any]
    ) -> dict[str, Any]:
        response = dict(base)
        if isinstance(value, str):
            response["description"] = value
            value = {}
        elif isinstance(value, type) or not isinstance(value, Mapping):
            value = {"model": value}
        unknown = set(value) - {"description", "model", "content", "headers", "links", "examples"}
        if unknown:
            raise ConfigurationError(
                f"route {route.path}: response {code} has unknown key(s) "
                f"{', '.join(sorted(map(str, unknown)))}"
            )
        if "description" in value:
            response["description"] = str(value["description"])
        response.setdefault("description", _status_phrase(code))
        if "model" in value:
            media = next(iter(response.get("content", {})), "application/json")
            response["content"] = {
                media: {"schema": self.schemas.slot(value["model"], "serialization")}
            }
        if "content" in value:
            response["content"] = {k: dict(v) for k, v in value["content"].items()}
        if "examples" in value:
            content = response.setdefault("content", {"application/json": {}})
            for entry in content.values():
                entry["examples"] = {
                    name: {"value": example} for name, example in dict(value["examples"]).items()
                }
        if "headers" in value:
            response["headers"] = {
                name: {"description": header, "schema": {"type": "string"}}
                if isinstance(header, str)
                else dict(header)
                for name, header in dict(value["headers"]).items()
            }
        if "links" in value:
            response["links"] = dict(value["links"])
        if "content" not in response and code[0] in "45":
            response["content"] = self._problem_response("")["content"]
        return response

    def _mark_file_fields(self) -> None:
        """Uploaded-file fields of form bodies are binary strings, whatever their Python type."""
        for schema, files in self.file_fields:
            target = schema
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX):
                target = self.schemas.components.get(ref[len(REF_PREFIX) :], schema)
            if "properties" not in target:
                target.setdefault("type", "object")
            properties = target.setdefault("properties", {})
            for name in files:
                current = properties.get(name, {})
                binary = {"type": "string", "format": "binary"}
                if current.get("type") == "array" or "items" in current:
                    properties[name] = {"type": "array", "items": binary}
                else:
                    properties[name] = binary

    def _problem_response(self, description: str, *, validation: bool = False) -> dict[str, Any]:
        ref: dict[str, Any] = {}
        (self.validation_refs if validation else self.problem_refs).append(ref)
        return {
            "description": description,
            "content": {"application/problem+json": {"schema": ref}},
        }

    def _add_problem_components(self) -> None:
        if not self.problem_refs and not self.validation_refs:
            return
        problem = self.schemas.reserve("Problem", _PROBLEM_SCHEMA)
        for ref in self.problem_refs:
            ref["$ref"] = REF_PREFIX + problem
        if self.validation_refs:
            issue = self.schemas.reserve("ValidationIssue", _ISSUE_SCHEMA)
            validation = self.schemas.reserve(
                "ValidationProblem", _validation_problem(problem, issue)
            )
            for ref in self.validation_refs:
                ref["$ref"] = REF_PREFIX + validation

    # --- security -----------------------------------------------------------------------------

    def _security(
        self, route: Route, definition: RouteDef, chain: list[Router]
    ) -> list[dict[str, list[str]]]:
        where = f"route {definition.path}"
        declared: Any = definition.options.get("security")
        if declared is None:
            for router in reversed(chain):
                if router.security is not None:
                    declared = router.security
                    break
        if declared is None:
            declared = self.config.security
        detected = self._detected_security(route)
        if declared is None:
            return detected
        requirements = requirement_list(declared, where)
        for requirement in requirements:
            for name in requirement:
                if name not in self.security_schemes:
                    raise ConfigurationError(
                        f"{where}: security scheme {name!r} is not declared; add it to "
                        "OpenAPIConfig(security_schemes={...})"
                    )
        return requirements

    def _detected_security(self, route: Route) -> list[dict[str, list[str]]]:
        """The requirements of the security schemes the route depends on, however deep (the
        plan lists every provider: the app's, groups', the route's and sub-dependencies).

        Every dependency runs, so the schemes that answer 401 without credentials
        (``auto_error=True``) are all required together; one with ``auto_error=False`` may
        be added to them or left out.
        """
        required: dict[str, list[str]] = {}
        optional: list[str] = []
        providers = route.plan.dependencies if route.plan is not None else ()
        for scheme in providers:
            if not isinstance(scheme, SecurityScheme):
                continue
            name = self._scheme_name(scheme)
            if scheme.auto_error:
                required[name] = []
            elif name not in optional:
                optional.append(name)
        optional = [name for name in optional if name not in required]
        if not optional:
            return [required] if required else []
        return [*({**required, name: []} for name in optional), required]

    def _scheme_name(self, scheme: SecurityScheme) -> str:
        known = self.scheme_names.get(id(scheme))
        if known is not None:
            return known
        base = name = default_scheme_name(scheme)
        counter = 2
        while name in self.security_schemes:
            name = f"{base}{counter}"
            counter += 1
        self.security_schemes[name] = scheme.openapi()
        self.scheme_names[id(scheme)] = name
        return name


# --- routes ---------------------------------------------------------------------------------------


def compiled_routes(app: App) -> Iterator[tuple[Route, RouteDef]]:
    """Compiled routes in registration order."""
    by_definition: dict[int, Route] = {}
    for entry in app._table.entries():
        for route in (*entry.by_method.values(), entry.any):
            if route is not None:
                by_definition[id(route.definition)] = route
    for _full, definition, _levels in app.walk():
        route = by_definition.get(id(definition))
        if route is not None and definition.kind == "http":
            yield route, definition


def _router_chain(router: Router | None) -> list[Router]:
    """The routers from the app down to ``router``."""
    chain: list[Router] = []
    while router is not None:
        chain.append(router)
        router = router._parent
    chain.reverse()
    return chain


def _included(definition: RouteDef, chain: list[Router]) -> bool:
    if definition.options.get("include_in_schema") is False:
        return False
    return all(router.include_in_schema for router in chain)


def openapi_path(route: Route) -> str:
    """The route's path as OpenAPI spells it (``/users/{id}``, converters dropped)."""
    parts = [
        "{" + segment.param + "}" if segment.param is not None else segment.text
        for segment in route.pattern.segments
    ]
    return "/" + "/".join(parts)


def _has_query_like(parameters: list[dict[str, Any]]) -> bool:
    return any(p["in"] != "path" for p in parameters)


# --- successful responses -----------------------------------------------------------------------

_NO_VALUE: Any = object()


def _success_response(route: Route) -> tuple[Any, int, str, bool]:
    """``(annotation or None, status, media type, whether a handler kind fixed the media
    type)`` of the successful response.

    Stream, html and custom kinds (``handler.__avian_kind__``) send their own media type
    (``application/x-ndjson``, ``text/html``...), whatever the handler's annotation says.
    """
    from ..handler_kinds import KIND_ATTR  # PERF: only when the document is built

    definition = route.definition
    spec = route.plan.response if route.plan is not None else None
    if spec is None:
        return None, definition.status, "application/json", False
    kind = getattr(definition.handler, KIND_ATTR, None)
    media = getattr(kind, "media_type", None)
    if spec.empty or not isinstance(media, str):
        return spec.annotation, spec.status, spec.media_type, False
    return spec.annotation, spec.status, media, True


def _docstring(handler: Any) -> tuple[str | None, str | None]:
    target = inspect.unwrap(handler)
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        return None, None
    doc = inspect.getdoc(target)
    if not doc:
        return None, None
    first, _, rest = doc.strip().partition("\n")
    return first.strip() or None, rest.strip() or None


def _route_name(definition: RouteDef) -> str:
    name = definition.name or getattr(definition.handler, "__name__", None)
    return name if isinstance(name, str) else ""


def _title_from_name(definition: RouteDef) -> str | None:
    words = re.sub(r"[^A-Za-z0-9]+", " ", _route_name(definition)).strip()
    return words[:1].upper() + words[1:] if words else None


def _identifier(text: str) -> str:
    return _OPERATION_ID_UNSAFE.sub("_", text).strip("_")


# --- small schema helpers -------------------------------------------------------------------------


def _converter_schema(converter: str) -> dict[str, Any]:
    if converter == "int":
        return {"type": "integer"}
    if converter == "float":
        return {"type": "number"}
    if converter == "uuid":
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _is_array(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, list | tuple | set | frozenset)


def _constraint_keywords(constraints: Any, annotation: Any) -> dict[str, Any]:
    if constraints is None:
        return {}
    keywords: dict[str, Any] = {}
    pairs = (
        ("gt", "exclusiveMinimum"),
        ("ge", "minimum"),
        ("lt", "exclusiveMaximum"),
        ("le", "maximum"),
        ("multiple_of", "multipleOf"),
        ("pattern", "pattern"),
    )
    for attr, keyword in pairs:
        value = getattr(constraints, attr, None)
        if value is not None:
            keywords[keyword] = value
    array = _is_array(annotation)
    for attr, keyword in (("min_length", "min"), ("max_length", "max")):
        value = getattr(constraints, attr, None)
        if value is not None:
            keywords[f"{keyword}Items" if array else f"{keyword}Length"] = value
    return keywords


def _describe(parameter: dict[str, Any], spec: Any) -> None:
    if spec.description:
        parameter["description"] = spec.description
    if spec.deprecated:
        parameter["deprecated"] = True
    if spec.examples:
        parameter["example"] = _json_value(spec.examples[0], fallback=None)


def _json_value(value: Any, fallback: Any = _NO_VALUE) -> Any:
    """``value`` as plain JSON data, or ``fallback`` when it has no JSON form."""
    try:
        return msgspec.to_builtins(value)
    except (TypeError, ValueError, msgspec.EncodeError):
        return fallback


def _status_phrase(code: str) -> str:
    if code.isdigit():
        try:
            return HTTPStatus(int(code)).phrase
        except ValueError:
            pass
    return "Response"


def _deep_merge(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_merge(current, value)
        else:
            target[key] = value


_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem details object.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "details": {},
    },
    "required": ["type", "title", "status", "detail", "code"],
}

_ISSUE_SCHEMA: dict[str, Any] = {
    "title": "ValidationIssue",
    "description": "One invalid input: where it is and what is wrong.",
    "type": "object",
    "properties": {
        "loc": {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["loc", "msg"],
}


def _validation_problem(problem: str, issue: str) -> dict[str, Any]:
    return {
        "title": "ValidationProblem",
        "description": "A 422 problem listing every invalid input.",
        "allOf": [
            {"$ref": REF_PREFIX + problem},
            {
                "type": "object",
                "properties": {
                    "details": {
                        "type": "object",
                        "properties": {
                            "issues": {"type": "array", "items": {"$ref": REF_PREFIX + issue}}
                        },
                        "required": ["issues"],
                    }
                },
            },
        ],
    }
