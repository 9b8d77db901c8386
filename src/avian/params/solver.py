"""Compiling a handler and its dependencies into one per-request function.

At startup every parameter of the handler and of each provider it depends on (directly or
through app, group and route ``dependencies``) is given a *slot*: the value comes from the
path, the query string, a header, a cookie, the body, a form, the context, or a provider
call.  The compiled function fills the slots in a fixed order:

1. every text input is converted and checked, and every body read, collecting *all* issues
   (one 422 lists them; no provider runs on invalid input);
2. providers run in dependency order (sub-dependencies first, each once per request unless
   ``use_cache=False``);
3. the handler is called and its value handed to ``finish`` (which builds the response);
4. generator providers are closed (see :mod:`.dependencies`).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Union

import msgspec

from ..errors import ConfigurationError
from ..http.request import Request
from .annotations import (
    is_model,
    is_scalar,
    sequence_item,
    split_annotated,
    split_header_list,
    strip_optional,
    text_model_fields,
)
from .body import (
    BodyReader,
    embedded_body_reader,
    envelope_model,
    file_reader,
    form_field_reader,
    form_model_reader,
    json_body_reader,
)
from .conversion import (
    LENGTH_CONSTRAINTS,
    Converter,
    constraint_meta,
    merge_meta,
    scalar_converter,
)
from .dependencies import (
    ASYNC,
    SYNC,
    THREAD,
    Step,
    close_generators,
    provider_mode,
    start_generator,
)
from .issues import Issue, RequestValidationError, issue_from_msgspec, missing_issue
from .markers import REQUIRED, Dependency, ParamInfo
from .signatures import Unresolved, read_signature
from .spec import BodySpec, Constraints, ParamSpec

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["Argument", "Finish", "InputCompiler", "Solver", "model_name"]

Finish = Callable[["Context", Any], Any]
"""``finish(ctx, handler_value)``: what the solver returns (the response, in the pipeline)."""
Solver = Callable[["Context", Finish], Awaitable[Any]]
Extractor = Callable[[Any, list[Issue]], Any]
"""``(mapping, issues) -> value``: one text input from the query, headers or cookies."""

CTX_SLOT = 0
_EMPTY = inspect.Parameter.empty
_ABSENT: Any = object()
"""What a model field's extractor returns when the value was not sent (the model's own
default applies)."""
_FORM_MEDIA = ("application/x-www-form-urlencoded", "multipart/form-data")
_JSON_MEDIA = ("application/json",)


def _is_context(annotation: Any) -> bool:
    from ..context import Context

    return isinstance(annotation, type) and issubclass(annotation, Context)


def _is_upload(annotation: Any) -> bool:
    from ..http.uploads import UploadFile

    item = sequence_item(annotation)
    target = strip_optional(item[1] if item else annotation)[0]
    return isinstance(target, type) and issubclass(target, UploadFile)


def _callable_name(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", None) or getattr(type(fn), "__qualname__", repr(fn)))


class Argument:
    """How one parameter of the handler is filled."""

    __slots__ = ("kind", "name", "param_kind", "slot")

    def __init__(self, name: str, slot: int, kind: str, param_kind: Any) -> None:
        self.name = name
        self.slot = slot
        self.kind = kind
        """``ctx``, ``path`` (passed as routed), ``body``, or ``other``."""
        self.param_kind = param_kind


def _call_slots(arguments: list[Argument]) -> tuple[tuple[int, ...], tuple[tuple[str, int], ...]]:
    """How a function is called from the slots: positional-only slots, then
    ``(keyword, slot)`` pairs."""
    positional = tuple(
        a.slot for a in arguments if a.param_kind is inspect.Parameter.POSITIONAL_ONLY
    )
    keywords = tuple(
        (a.name, a.slot) for a in arguments if a.param_kind is not inspect.Parameter.POSITIONAL_ONLY
    )
    return positional, keywords


def _documentation(marker: ParamInfo | None) -> dict[str, Any]:
    """The OpenAPI documentation a marker gives its parameter's spec (the spec's defaults
    without one)."""
    if marker is None:
        return {}
    return {
        "description": marker.description,
        "examples": marker.examples,
        "deprecated": marker.deprecated,
        "include_in_schema": marker.include_in_schema,
    }


def _item_constraints(constraints: Constraints) -> Constraints:
    """The constraints of a list parameter that apply to each item (bounds and patterns;
    the length ones bound the list)."""
    return dataclasses.replace(constraints, **dict.fromkeys(LENGTH_CONSTRAINTS))


class InputCompiler:
    """Collects the inputs of a handler and its dependency tree (one instance per route)."""

    def __init__(
        self,
        path_params: tuple[str, ...],
        where: str,
        overrides: Mapping[Any, Any] | None,
        name: str = "handler",
    ) -> None:
        self.path_params = path_params
        self.where = where
        self.name = name
        """The handler's name: generated body models are named after it."""
        self.overrides = overrides or {}
        self.slots = 1  # slot 0 is the context
        self.path: list[tuple[int, str, Converter | None]] = []
        self.query: list[tuple[int, Extractor]] = []
        self.header: list[tuple[int, Extractor]] = []
        self.cookie: list[tuple[int, Extractor]] = []
        self.readers: list[tuple[int, BodyReader]] = []
        self.request_slots: list[int] = []
        self.steps: list[Step] = []
        self.cache: dict[int, int] = {}
        """Provider identity -> the slot of its (request-cached) result."""
        self.providers: list[Any] = []
        """Every provider named in the tree (before overrides)."""
        self.specs: dict[tuple[str, str], ParamSpec] = {}
        self.body: BodySpec | None = None
        self.json_body: tuple[str, Any] | None = None
        self.body_claim: Any = _ABSENT
        """What the JSON body is decoded into (the first body parameter decides)."""
        self.form_fields: list[tuple[str, Any, Any]] = []
        self.file_fields: list[str] = []
        self.form_model: Any = None

    # --- slots ------------------------------------------------------------------------------

    def _slot(self) -> int:
        slot = self.slots
        self.slots += 1
        return slot

    def _spec(self, spec: ParamSpec) -> None:
        self.specs.setdefault((spec.source, spec.alias), spec)

    # --- callables --------------------------------------------------------------------------

    def bind(
        self, fn: Callable[..., Any], where: str, stack: tuple[Any, ...] = ()
    ) -> list[Argument]:
        """Give every parameter of ``fn`` a slot; the arguments in signature order."""
        signature, hints = read_signature(fn, where)
        arguments: list[Argument] = []
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ConfigurationError(f"{where}: *args/**kwargs are not supported")
            argument = self._parameter(param, hints.get(param.name, param.annotation), where, stack)
            if argument is None:
                continue  # keeps its default
            arguments.append(argument)
        json_bodies = [a for a in arguments if a.kind == "body"]
        if len(json_bodies) > 1:
            names = ", ".join(a.name for a in json_bodies)
            raise ConfigurationError(f"{where}: only one body parameter is allowed ({names})")
        return arguments

    def _parameter(
        self, param: inspect.Parameter, hint: Any, where: str, stack: tuple[Any, ...]
    ) -> Argument | None:
        name = param.name
        base, extras = _unwrap(hint)
        markers = [e for e in extras if isinstance(e, ParamInfo | Dependency)]
        default = param.default
        if isinstance(default, ParamInfo | Dependency):
            if markers:
                raise ConfigurationError(
                    f"{where}: parameter {name!r} has a marker both in Annotated and as "
                    "its default; keep one"
                )
            markers = [default]
            default = _EMPTY
        if len(markers) > 1:
            raise ConfigurationError(f"{where}: parameter {name!r} has several markers")
        marker = markers[0] if markers else None
        if isinstance(marker, Dependency):
            slot = self.dependency(marker, base, f"{where}: parameter {name!r}", stack)
            return Argument(name, slot, "other", param.kind)
        if marker is not None and marker.default is not REQUIRED:
            if default is not _EMPTY:
                raise ConfigurationError(
                    f"{where}: parameter {name!r} has two defaults (the marker's and its own)"
                )
            default = marker.default
        default = REQUIRED if default is _EMPTY else default

        if marker is None:
            if name == "ctx" or _is_context(base):
                return Argument(name, CTX_SLOT, "ctx", param.kind)
            if isinstance(base, type) and issubclass(base, Request):
                slot = self._slot()
                self.request_slots.append(slot)
                return Argument(name, slot, "other", param.kind)
            if name in self.path_params:
                return self._path(name, name, base, extras, None, param.kind, where)
            if name == "body" or is_model(strip_optional(base)[0]):
                return self._json_body(name, base, extras, None, default, param.kind, where)
            if _is_upload(base):
                return self._file(name, name, base, None, default, param.kind, where)
            if default is not REQUIRED and self._is_text(base):
                return self._text("query", name, base, extras, None, default, param.kind, where)
            if default is not REQUIRED:
                return None
            hint_text = (
                f"; for a query parameter write `{name}: Annotated[..., Query()]` or give it "
                "a default"
                if self._is_text(base)
                else ""
            )
            if isinstance(hint, Unresolved):
                hint_text = (
                    f"; its annotation {str(hint)!r} cannot be resolved where the function is "
                    "defined (a TYPE_CHECKING-only import?)"
                )
            raise ConfigurationError(
                f"{where}: cannot tell where parameter {name!r} comes from "
                f"(path parameters: {', '.join(self.path_params) or 'none'}){hint_text}"
            )

        source = marker.source
        alias = marker.alias or name
        if source == "path":
            if alias not in self.path_params:
                raise ConfigurationError(
                    f"{where}: Path() parameter {alias!r} is not in the route's path "
                    f"(path parameters: {', '.join(self.path_params) or 'none'})"
                )
            return self._path(name, alias, base, extras, marker, param.kind, where)
        if source == "body":
            return self._json_body(name, base, extras, marker, default, param.kind, where)
        if source == "file":
            return self._file(name, alias, base, marker, default, param.kind, where)
        if source == "form":
            if is_model(strip_optional(base)[0]):
                return self._form_model(name, base, marker, default, param.kind, where)
            return self._form_field(name, alias, base, extras, marker, default, param.kind, where)
        if is_model(strip_optional(base)[0]):
            return self._text_model(source, name, base, marker, default, param.kind, where)
        return self._text(source, name, base, extras, marker, default, param.kind, where)

    # --- dependencies -----------------------------------------------------------------------

    def dependency(
        self, marker: Dependency, annotation: Any, where: str, stack: tuple[Any, ...]
    ) -> int:
        """The slot holding ``marker``'s provider result (compiling it on first use)."""
        provider = marker.provider
        if provider is None:
            if not isinstance(annotation, type):
                raise ConfigurationError(
                    f"{where}: Depends() without a provider needs a class annotation"
                )
            provider = annotation
        if not any(p is provider for p in self.providers):
            self.providers.append(provider)
        # Providers are keyed by identity: a callable instance need not be hashable.
        if marker.use_cache and id(provider) in self.cache:
            return self.cache[id(provider)]
        if any(p is provider for p in stack):
            chain = " -> ".join(_callable_name(p) for p in (*stack, provider))
            raise ConfigurationError(f"{where}: dependency cycle {chain}")
        actual = _override(self.overrides, provider)
        if not callable(actual):
            raise ConfigurationError(f"{where}: dependency {actual!r} is not callable")
        name = _callable_name(actual)
        arguments = self.bind(actual, f"{self.where}: dependency {name}", (*stack, provider))
        slot = self._slot()
        positional, keywords = _call_slots(arguments)
        mode = provider_mode(actual, marker.blocking)
        self.steps.append(Step(slot, actual, mode, positional, keywords, name))
        if marker.use_cache:
            self.cache[id(provider)] = slot
        return slot

    def add_dependencies(self, dependencies: list[Any]) -> None:
        """App, group and route ``dependencies=[...]``: run for their effects."""
        for item in dependencies:
            marker = item if isinstance(item, Dependency) else None
            if marker is None:
                if not callable(item):
                    raise ConfigurationError(
                        f"{self.where}: dependencies must be Depends(...) or callables, "
                        f"got {item!r}"
                    )
                marker = Dependency(item, True, False)
            self.dependency(marker, None, self.where, ())

    # --- text inputs ------------------------------------------------------------------------

    @staticmethod
    def _is_text(annotation: Any) -> bool:
        inner = strip_optional(split_annotated(annotation)[0])[0]
        item = sequence_item(inner)
        return is_scalar(item[1] if item else inner)

    def _path(
        self,
        name: str,
        alias: str,
        base: Any,
        extras: tuple[Any, ...],
        marker: ParamInfo | None,
        param_kind: Any,
        where: str,
    ) -> Argument:
        constraints = merge_meta(marker.constraints if marker else Constraints(), extras)
        annotation = split_annotated(strip_optional(base)[0])[0]
        convert: Converter | None = None
        plain = annotation in (_EMPTY, str, int, float, Any) or _is_uuid(annotation)
        if annotation is _EMPTY or annotation is Any:
            annotation = str
        if not plain or constraint_meta(constraints) is not None:
            if not is_scalar(annotation):
                raise ConfigurationError(
                    f"{where}: path parameter {alias!r} must be a scalar type, got {annotation!r}"
                )
            convert = scalar_converter(annotation, constraints, f"{where}: parameter {name!r}")
        self._spec(
            ParamSpec(
                name=name,
                source="path",
                alias=alias,
                annotation=annotation,
                required=True,
                constraints=constraints,
                **_documentation(marker),
            )
        )
        if convert is None and alias == name:
            slot = self._slot()
            self.path.append((slot, alias, None))
            return Argument(name, slot, "path", param_kind)
        slot = self._slot()
        self.path.append((slot, alias, convert))
        return Argument(name, slot, "other", param_kind)

    def _text(
        self,
        source: str,
        name: str,
        base: Any,
        extras: tuple[Any, ...],
        marker: ParamInfo | None,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        where = f"{where}: parameter {name!r}"
        alias = _wire_name(source, name, marker)
        extract, spec = self._text_input(source, name, alias, base, extras, marker, default, where)
        self._spec(spec)
        slot = self._slot()
        self._text_inputs(source).append((slot, extract))
        return Argument(name, slot, "other", param_kind)

    def _text_inputs(self, source: str) -> list[tuple[int, Extractor]]:
        return {"query": self.query, "header": self.header, "cookie": self.cookie}[source]

    def _text_input(
        self,
        source: str,
        name: str,
        alias: str,
        base: Any,
        extras: tuple[Any, ...],
        marker: ParamInfo | None,
        default: Any,
        where: str,
    ) -> tuple[Extractor, ParamSpec]:
        """The extractor of one query/header/cookie value and its description."""
        inner, nullable = strip_optional(base)
        inner, inner_extras = split_annotated(inner)
        constraints = merge_meta(marker.constraints if marker else Constraints(), extras)
        constraints = merge_meta(constraints, inner_extras)
        loc: list[str | int] = [source, alias]
        required = default is REQUIRED
        item = sequence_item(inner)
        if item is not None:
            container, item_type = item
            item_type, item_extras = split_annotated(item_type)
            item_constraints = merge_meta(_item_constraints(constraints), item_extras)
            if not is_scalar(item_type):
                raise ConfigurationError(f"{where}: {source} values must be scalars")
            convert = scalar_converter(item_type, item_constraints, where)
            min_length, max_length = constraints.min_length, constraints.max_length
            extract = _list_extractor(
                alias,
                loc,
                convert,
                container,
                required,
                default,
                min_length,
                max_length,
                split_commas=source == "header",
            )
        else:
            if not is_scalar(inner):
                raise ConfigurationError(
                    f"{where}: {source} values must be scalars or lists of scalars, got {inner!r}"
                )
            convert = scalar_converter(inner, constraints, where)
            empty_is_none = nullable and inner is not str
            extract = _value_extractor(alias, loc, convert, required, default, empty_is_none)
        spec = ParamSpec(
            name=name,
            source=source,  # type: ignore[arg-type]
            alias=alias,
            annotation=inner if item is None else _list_annotation(item),
            required=required,
            default=None if required or default is _ABSENT else default,
            nullable=nullable or (not required and default is None),
            constraints=constraints,
            **_documentation(marker),
        )
        return extract, spec

    def _text_model(
        self,
        source: str,
        name: str,
        base: Any,
        marker: ParamInfo,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        """A Struct or dataclass whose every field is one query parameter (header,
        cookie): ``filters: Annotated[Filters, Query()]``."""
        where = f"{where}: parameter {name!r}"
        model = strip_optional(base)[0]
        extractors: list[tuple[str, Extractor]] = []
        aliases: list[str] = []
        for field in text_model_fields(model, where):
            field_marker = ParamInfo(
                source,  # type: ignore[arg-type]
                REQUIRED,
                field.wire_name if field.renamed else None,
                None,
                None,
                marker.deprecated,
                marker.include_in_schema,
                Constraints(),
                convert_underscores=marker.convert_underscores,
            )
            alias = _wire_name(source, field.name, field_marker)
            field_base, field_extras = _unwrap(field.annotation)
            extract, spec = self._text_input(
                source,
                field.name,
                alias,
                field_base,
                field_extras,
                field_marker,
                REQUIRED if field.required else _ABSENT,
                f"{where}: field {field.name!r}",
            )
            if not field.required:
                nullable = spec.nullable or field.default is None
                spec = dataclasses.replace(spec, default=field.default, nullable=nullable)
            elif default is not REQUIRED:  # the whole model may be left out
                spec = dataclasses.replace(spec, required=False)
            self._spec(spec)
            extractors.append((field.name, extract))
            aliases.append(alias)
        extract_model = _model_extractor(model, source, name, extractors, aliases, default)
        slot = self._slot()
        self._text_inputs(source).append((slot, extract_model))
        return Argument(name, slot, "other", param_kind)

    # --- bodies -----------------------------------------------------------------------------

    def _claim_body(self, kind: str, annotation: Any, where: str) -> None:
        """One body per route: a JSON body, or form fields, never both; the same JSON body
        type may be asked for by several functions."""
        if kind == "json":
            if self.form_fields or self.file_fields or self.form_model is not None:
                raise ConfigurationError(f"{where}: a JSON body and form fields cannot be mixed")
            if self.body_claim is _ABSENT:
                self.body_claim = annotation
            elif self.body_claim != annotation:
                first = self.json_body[0] if self.json_body else "?"
                raise ConfigurationError(
                    f"{where}: the route already has a body ({first}); only one body type per route"
                )
        elif self.json_body is not None:
            raise ConfigurationError(f"{where}: a JSON body and form fields cannot be mixed")

    def _json_body(
        self,
        name: str,
        base: Any,
        extras: tuple[Any, ...],
        marker: ParamInfo | None,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        untyped = base is _EMPTY or base is Any
        constraints = merge_meta(marker.constraints if marker else Constraints(), extras)
        meta = constraint_meta(constraints)
        annotation: Any = None if untyped else base
        decoded = annotation if meta is None or annotation is None else Annotated[annotation, meta]
        where = f"{where}: parameter {name!r}"
        generated = False
        if marker is not None and marker.embed:
            key = marker.alias or name
            self._claim_body("json", ("embedded", key, annotation), where)
            envelope = envelope_model(
                model_name(self.name, "Body"), key, Any if untyped else decoded, default
            )
            reader = embedded_body_reader(envelope, key, decoded, default, where)
            annotation, generated = envelope, True
            media: tuple[str, ...] = _JSON_MEDIA
        else:
            self._claim_body("json", annotation, where)
            reader = json_body_reader(decoded, default, where)
            media = (
                (*_JSON_MEDIA, *_FORM_MEDIA)
                if untyped
                else ((marker.media_type or _JSON_MEDIA[0],) if marker else _JSON_MEDIA)
            )
        if self.json_body is None:
            self.json_body = (name, annotation)
            self.body = BodySpec(
                name=name,
                annotation=annotation,
                media_types=media,
                required=default is REQUIRED,
                description=marker.description if marker else None,
                examples=marker.examples if marker else (),
                generated=generated,
            )
        slot = self._slot()
        self.readers.append((slot, reader))
        return Argument(name, slot, "body", param_kind)

    def _form_field(
        self,
        name: str,
        alias: str,
        base: Any,
        extras: tuple[Any, ...],
        marker: ParamInfo,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        self._claim_body("form", None, where)
        where = f"{where}: parameter {name!r}"
        inner, nullable = strip_optional(base)
        inner, inner_extras = split_annotated(inner)
        constraints = merge_meta(merge_meta(marker.constraints, extras), inner_extras)
        item = sequence_item(inner)
        container = None
        if item is not None:
            container, item_type = item
            item_constraints = _item_constraints(constraints)
            target = split_annotated(item_type)[0]
        else:
            item_constraints = constraints
            target = inner
        if target is _EMPTY or target is Any:
            target = str
        if not is_scalar(target):
            raise ConfigurationError(f"{where}: form fields must be scalars or lists of scalars")
        convert = scalar_converter(target, item_constraints, where)
        reader = form_field_reader(
            alias, convert, container, default, nullable and target is not str
        )
        documented: Any = _with_meta(target, constraint_meta(item_constraints))
        if container is not None:
            length = constraint_meta(constraints, LENGTH_CONSTRAINTS)
            documented = _with_meta(container[documented], length)
        if nullable:
            documented = Union[documented, None]  # noqa: UP007 - built at run time
        self.form_fields.append((alias, documented, default))
        return self._form_reader(name, reader, param_kind)

    def _file(
        self,
        name: str,
        alias: str,
        base: Any,
        marker: ParamInfo | None,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        self._claim_body("form", None, where)
        if base is not _EMPTY and not _is_upload(base):
            raise ConfigurationError(
                f"{where}: File() parameter {name!r} must be an UploadFile or a list of them"
            )
        many = base is not _EMPTY and sequence_item(strip_optional(base)[0]) is not None
        reader = file_reader(alias, many, default)
        self.file_fields.append(alias)
        self.form_fields.append((alias, list[bytes] if many else bytes, default))
        return self._form_reader(name, reader, param_kind)

    def _form_model(
        self,
        name: str,
        base: Any,
        marker: ParamInfo,
        default: Any,
        param_kind: Any,
        where: str,
    ) -> Argument:
        self._claim_body("form", None, where)
        if self.form_model is not None or self.form_fields:
            raise ConfigurationError(f"{where}: a form model takes the whole form; only one")
        model = strip_optional(base)[0]
        self.form_model = model
        reader = form_model_reader(model, default, f"{where}: parameter {name!r}")
        self.body = BodySpec(
            name=name,
            annotation=model,
            media_types=_FORM_MEDIA,
            required=default is REQUIRED,
            description=marker.description,
            examples=marker.examples,
        )
        return self._form_reader(name, reader, param_kind)

    def _form_reader(self, name: str, reader: BodyReader, param_kind: Any) -> Argument:
        slot = self._slot()
        self.readers.append((slot, reader))
        return Argument(name, slot, "form", param_kind)

    def finish_specs(
        self, path_types: Mapping[str, Any], body_name: str
    ) -> tuple[tuple[ParamSpec, ...], BodySpec | None]:
        """The parameter specs (every path parameter first, in path order) and the body."""
        for name in self.path_params:
            if ("path", name) not in self.specs:
                self.specs[("path", name)] = ParamSpec(
                    name=name,
                    source="path",
                    alias=name,
                    annotation=path_types.get(name, str),
                    required=True,
                )
        ordered = [self.specs[("path", n)] for n in self.path_params]
        ordered += [s for key, s in self.specs.items() if key[0] != "path"]
        body = self.body
        if body is None and self.form_fields:
            fields = [
                (alias, annotation, msgspec.NODEFAULT if default is REQUIRED else default)
                for alias, annotation, default in self.form_fields
            ]
            fields.sort(key=lambda f: f[2] is not msgspec.NODEFAULT)
            model = msgspec.defstruct(model_name(body_name, "Form"), fields)
            body = BodySpec(
                name="form",
                annotation=model,
                media_types=("multipart/form-data",) if self.file_fields else _FORM_MEDIA,
                required=any(d is REQUIRED for _, _, d in self.form_fields),
                files=tuple(self.file_fields),
                generated=True,
            )
        return tuple(ordered), body

    # --- the per-request function -----------------------------------------------------------

    def solver(
        self,
        invoke: Callable[..., Awaitable[Any]],
        arguments: list[Argument],
    ) -> Solver:
        """The compiled ``async (ctx, finish)`` for the handler called with ``arguments``."""
        steps = tuple(
            (s.slot, s.call, s.mode, s.positional, s.keywords, s.name) for s in self.steps
        )
        positional, keywords = _call_slots(arguments)
        if not steps and not positional:
            return self._solver_without_dependencies(invoke, arguments)

        n = self.slots
        collect = _collector(
            tuple(self.path),
            tuple(self.query),
            tuple(self.header),
            tuple(self.cookie),
            tuple(self.request_slots),
        )
        readers = tuple(self.readers)

        async def solve(ctx: Context, finish: Finish) -> Any:
            values: list[Any] = [None] * n
            values[CTX_SLOT] = ctx
            issues: list[Issue] = []
            collect(ctx, values, issues)
            if readers:
                await _read_bodies(ctx, readers, values, issues)
            if issues:
                raise RequestValidationError(_unique(issues))
            started: list[tuple[Any, int, str]] = []  # open generator providers
            try:
                for slot, call, mode, pos, kw, name in steps:
                    kwargs = {k: values[s] for k, s in kw}
                    args = [values[s] for s in pos]
                    if mode == ASYNC:
                        values[slot] = await call(*args, **kwargs)
                    elif mode == SYNC:
                        values[slot] = call(*args, **kwargs)
                    elif mode == THREAD:
                        values[slot] = await _in_thread(call, args, kwargs)
                    else:
                        gen = call(*args, **kwargs)
                        values[slot] = await start_generator(gen, mode, name)
                        started.append((gen, mode, name))
                value = await invoke(
                    *[values[s] for s in positional], **{k: values[s] for k, s in keywords}
                )
                result = finish(ctx, value)
            except BaseException as exc:
                if started:
                    await close_generators(started, exc)
                raise
            if started:
                await close_generators(started, None)
            return result

        return solve

    def _solver_without_dependencies(
        self, invoke: Callable[..., Awaitable[Any]], arguments: list[Argument]
    ) -> Solver:
        """A handler without dependencies: its inputs go straight into its keyword
        arguments (no slot array, one coroutine frame unless it reads a body)."""
        names = {a.slot: a.name for a in arguments if a.slot != CTX_SLOT}
        ctx_names = tuple(a.name for a in arguments if a.slot == CTX_SLOT)
        collect = _collector(
            tuple((names[slot], alias, convert) for slot, alias, convert in self.path),
            tuple((names[slot], extract) for slot, extract in self.query),
            tuple((names[slot], extract) for slot, extract in self.header),
            tuple((names[slot], extract) for slot, extract in self.cookie),
            tuple(names[slot] for slot in self.request_slots),
        )
        readers = tuple((names[slot], reader) for slot, reader in self.readers)

        async def solve_arguments(ctx: Context, finish: Finish) -> Any:
            kwargs: dict[str, Any] = dict.fromkeys(ctx_names, ctx)
            issues: list[Issue] = []
            collect(ctx, kwargs, issues)
            if readers:
                await _read_bodies(ctx, readers, kwargs, issues)
            if issues:
                raise RequestValidationError(_unique(issues))
            return finish(ctx, await invoke(**kwargs))

        return solve_arguments


def _collector(
    path: tuple[tuple[Any, str, Converter | None], ...],
    query: tuple[tuple[Any, Extractor], ...],
    header: tuple[tuple[Any, Extractor], ...],
    cookie: tuple[tuple[Any, Extractor], ...],
    requests: tuple[Any, ...],
) -> Callable[[Context, Any, list[Issue]], None]:
    """``collect(ctx, store, issues)``: every text input converted into ``store[key]``
    (a slot array or a keyword dict) and the request into its ``requests`` keys; problems
    appended to ``issues``."""

    def collect(ctx: Context, store: Any, issues: list[Issue]) -> None:
        if path:
            params = ctx.params
            for key, alias, convert in path:
                raw = params[alias]
                if convert is None:
                    store[key] = raw
                    continue
                try:
                    store[key] = convert(raw)
                except msgspec.ValidationError as exc:
                    issues.append(issue_from_msgspec(exc, ["path", alias]))
        if query:
            mapping: Any = ctx.request.query
            for key, extract in query:
                store[key] = extract(mapping, issues)
        if header:
            mapping = ctx.request.headers
            for key, extract in header:
                store[key] = extract(mapping, issues)
        if cookie:
            mapping = ctx.request.cookies
            for key, extract in cookie:
                store[key] = extract(mapping, issues)
        if requests:
            request = ctx.request
            for key in requests:
                store[key] = request

    return collect


async def _read_bodies(
    ctx: Context, readers: tuple[tuple[Any, BodyReader], ...], store: Any, issues: list[Issue]
) -> None:
    """Every body reader's value into ``store[key]``; what they refuse appended to
    ``issues`` (so one 422 lists body and text problems together)."""
    for key, reader in readers:
        try:
            store[key] = await reader(ctx)
        except RequestValidationError as exc:
            issues.extend(exc.issues)


def model_name(handler_name: str, suffix: str) -> str:
    """The readable name of a model avian builds for a handler (its form fields, an
    embedded body): ``login`` -> ``LoginForm``, ``upload_avatar`` -> ``UploadAvatarForm``,
    ``signup_form`` -> ``SignupForm``."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", handler_name) if w]
    stem = "".join(w[:1].upper() + w[1:] for w in words)
    if stem[:1].isdigit():
        stem = "_" + stem
    return stem if stem.endswith(suffix) else f"{stem}{suffix}"


def _override(overrides: Mapping[Any, Any], provider: Any) -> Any:
    """The replacement of ``provider`` in ``app.dependency_overrides``, or itself."""
    if not overrides:
        return provider
    try:
        return overrides.get(provider, provider)
    except TypeError:  # unhashable: it cannot be a key, so it is not overridden
        return provider


def _unwrap(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type and ``Annotated`` extras of a parameter, also when the extras sit inside an
    optional (``Annotated[list[int], Query()] | None``)."""
    base, extras = split_annotated(hint)
    inner, nullable = strip_optional(base)
    if nullable:
        inner_base, inner_extras = split_annotated(inner)
        if inner_extras:
            return Union[inner_base, None], (*extras, *inner_extras)  # noqa: UP007
    return base, extras


def _is_uuid(annotation: Any) -> bool:
    import uuid

    return annotation is uuid.UUID


def _with_meta(annotation: Any, meta: msgspec.Meta | None) -> Any:
    return annotation if meta is None else Annotated[annotation, meta]


def _list_annotation(item: tuple[Any, Any]) -> Any:
    container, item_type = item
    return container[item_type]


async def _in_thread(call: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    import asyncio  # PERF: not needed by `import avian`
    import functools

    return await asyncio.to_thread(functools.partial(call, *args, **kwargs))


def _unique(issues: list[Issue]) -> list[Issue]:
    """Issues without repeats (a handler and a dependency may read the same input)."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Issue] = []
    for issue in issues:
        key = (tuple(issue["loc"]), issue["msg"])
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


def _wire_name(source: str, name: str, marker: ParamInfo | None) -> str:
    """The query key, header name (lower-case; ``_`` -> ``-`` unless switched off) or
    cookie name a parameter reads."""
    if source != "header":
        return marker.alias if marker and marker.alias else name
    if marker and marker.alias:
        return marker.alias.lower()
    underscores = marker.convert_underscores if marker else True
    return (name.replace("_", "-") if underscores else name).lower()


def _model_extractor(
    model: Any,
    source: str,
    name: str,
    fields: list[tuple[str, Extractor]],
    aliases: list[str],
    default: Any,
) -> Extractor:
    """Builds ``model`` from its fields' values; ``default`` when the parameter has one and
    none of the fields was sent."""
    optional = default is not REQUIRED

    def extract(mapping: Any, issues: list[Issue]) -> Any:
        if optional and not any(alias in mapping for alias in aliases):
            return default
        before = len(issues)
        values: dict[str, Any] = {}
        for field, extract_field in fields:
            value = extract_field(mapping, issues)
            if value is not _ABSENT:
                values[field] = value
        if len(issues) > before:
            return None
        try:
            return model(**values)
        except (TypeError, ValueError) as exc:  # a __post_init__ refusing the combination
            issues.append({"loc": [source, name], "msg": str(exc), "type": "validation_error"})
            return None

    return extract


def _value_extractor(
    alias: str,
    loc: list[str | int],
    convert: Converter | None,
    required: bool,
    default: Any,
    empty_is_none: bool,
) -> Extractor:
    def extract(mapping: Any, issues: list[Issue]) -> Any:
        raw = mapping.get(alias)
        if raw is None:
            if required:
                issues.append(missing_issue(loc))
            return default
        if convert is None:
            return raw
        if empty_is_none and raw == "":
            return None
        try:
            return convert(raw)
        except msgspec.ValidationError as exc:
            issues.append(issue_from_msgspec(exc, loc))
            return None

    return extract


def _list_extractor(
    alias: str,
    loc: list[str | int],
    convert: Converter | None,
    container: Any,
    required: bool,
    default: Any,
    min_length: int | None,
    max_length: int | None,
    *,
    split_commas: bool = False,
) -> Extractor:
    def extract(mapping: Any, issues: list[Issue]) -> Any:
        raws = mapping.get_all(alias)
        if split_commas and raws:
            raws = [value for line in raws for value in split_header_list(line)]
        if not raws:
            if required:
                issues.append(missing_issue(loc))
                return None
            return default
        if min_length is not None and len(raws) < min_length:
            issues.append(
                {
                    "loc": loc,
                    "msg": f"Expected at least {min_length} values",
                    "type": "validation_error",
                }
            )
            return None
        if max_length is not None and len(raws) > max_length:
            issues.append(
                {
                    "loc": loc,
                    "msg": f"Expected at most {max_length} values",
                    "type": "validation_error",
                }
            )
            return None
        if convert is None:
            return container(raws)
        values = []
        for index, raw in enumerate(raws):
            try:
                values.append(convert(raw))
            except msgspec.ValidationError as exc:
                issues.append(issue_from_msgspec(exc, [*loc, index]))
        return container(values)

    return extract
