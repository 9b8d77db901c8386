"""Body readers: ``async (ctx) -> value`` functions built once per body parameter.

JSON bodies are decoded and validated in one msgspec pass (a decoder built at startup) under
the route's JSON limits; pydantic models are decoded by msgspec and validated by pydantic.
Form fields and uploaded files come from ``await ctx.request.form()``.  Invalid input
raises :class:`~.issues.RequestValidationError` (422); an unreadable body keeps its own
status (400, 408, 413, 415).
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import BodyError
from ..http.jsoncodec import decode_json
from ..http.media import parse_content_type
from ..http.request import is_json_media_type
from .annotations import contains_pydantic, is_pydantic_model, sequence_item, strip_optional
from .conversion import Converter, check_type
from .issues import RequestValidationError, issue_from_msgspec, missing_issue, pydantic_issues
from .markers import REQUIRED

if TYPE_CHECKING:
    from ..context import Context

__all__ = [
    "BodyReader",
    "embedded_body_reader",
    "envelope_model",
    "file_reader",
    "form_field_reader",
    "form_model_reader",
    "json_body_reader",
]

BodyReader = Callable[["Context"], Awaitable[Any]]

_BODY_LOC: list[str | int] = ["body"]


def _untyped_reader(default: Any) -> BodyReader:
    async def parse_any(ctx: Context) -> Any:
        value = await ctx.request.parse()
        if value is None and default is not REQUIRED:
            return default
        return value

    return parse_any


async def _json_bytes(ctx: Context, default: Any) -> bytes | None:
    """The raw JSON body; ``None`` when an optional body was left empty.  415 unless the
    content type is JSON."""
    req = ctx.request
    header = req.headers.get("content-type")
    if header is None or not is_json_media_type(parse_content_type(header)[0]):
        if default is not REQUIRED and header is None and not await req.body():
            return None
        raise BodyError(415, "expected an application/json body")
    return await req.body()


def _pydantic_reader(annotation: Any, default: Any) -> BodyReader:
    if is_pydantic_model(annotation):
        validate: Callable[[Any], Any] = annotation.model_validate
    else:  # a container of pydantic models (``list[Item]``)
        from pydantic import TypeAdapter  # the annotation is pydantic: it is installed

        validate = TypeAdapter(annotation).validate_python

    async def read_pydantic(ctx: Context) -> Any:
        raw = await _json_bytes(ctx, default)
        if raw is None:
            return default
        data = decode_json(raw, ctx.request.limits)
        try:
            return validate(data)
        except ValueError as exc:  # pydantic's ValidationError
            raise RequestValidationError(pydantic_issues(exc, _BODY_LOC)) from None

    return read_pydantic


def json_body_reader(annotation: Any, default: Any, where: str) -> BodyReader:
    """The reader for a JSON body of type ``annotation`` (``None``: parsed by content type,
    JSON or form).  ``default`` is returned for an empty body without a content type."""
    if annotation is None:
        return _untyped_reader(default)
    if contains_pydantic(annotation):
        return _pydantic_reader(annotation, default)
    check_type(annotation, where)
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(annotation)

    if default is REQUIRED:
        # PERF: the common case, a required body, without the empty-body branch.
        async def read_typed(ctx: Context) -> Any:
            req = ctx.request
            header = req.headers.get("content-type")
            if header is None or not is_json_media_type(parse_content_type(header)[0]):
                raise BodyError(415, "expected an application/json body")
            try:
                return decode_json(await req.body(), req.limits, decoder)
            except msgspec.ValidationError as exc:
                raise RequestValidationError([issue_from_msgspec(exc, _BODY_LOC)]) from None

        return read_typed

    async def read_optional(ctx: Context) -> Any:
        raw = await _json_bytes(ctx, default)
        if raw is None:
            return default
        try:
            return decode_json(raw, ctx.request.limits, decoder)
        except msgspec.ValidationError as exc:
            raise RequestValidationError([issue_from_msgspec(exc, _BODY_LOC)]) from None

    return read_optional


def envelope_model(name: str, key: str, annotation: Any, default: Any) -> Any:
    """The Struct of an embedded body: one field, ``key``, holding the value."""
    field: tuple[Any, ...] = ("value", annotation)
    if default is not REQUIRED:
        field = ("value", annotation, msgspec.field(default_factory=lambda: default))
    return msgspec.defstruct(name, [field], rename={"value": key})


def embedded_body_reader(
    envelope: Any, key: str, annotation: Any, default: Any, where: str
) -> BodyReader:
    """``Body(embed=True)``: the JSON body is ``{"<key>": value}``; the reader hands over
    ``value`` decoded into ``annotation`` (issues at ``["body", key, ...]``)."""
    validate: Callable[[Any], Any] | None = None
    if annotation is not None and contains_pydantic(annotation):
        # msgspec reads the envelope, pydantic validates what it holds.
        envelope = envelope_model("Envelope", key, Any, default)
        if is_pydantic_model(annotation):
            validate = annotation.model_validate
        else:
            from pydantic import TypeAdapter  # the annotation is pydantic: it is installed

            validate = TypeAdapter(annotation).validate_python
    read = json_body_reader(envelope, default, where)
    loc: list[str | int] = ["body", key]

    async def read_embedded(ctx: Context) -> Any:
        value = await read(ctx)
        if type(value) is not envelope:
            return value  # no body at all: the parameter's default
        inner = value.value
        if validate is None or inner is default:
            return inner
        try:
            return validate(inner)
        except ValueError as exc:  # pydantic's ValidationError
            raise RequestValidationError(pydantic_issues(exc, loc)) from None

    return read_embedded


async def _form_values(ctx: Context, alias: str, loc: list[str | int], default: Any) -> list[Any]:
    """Every value of form field ``alias`` (empty when not sent: the caller's default
    applies); a 422 when it is missing and ``default`` is ``REQUIRED``."""
    values: list[Any] = (await ctx.request.form()).get_all(alias)
    if not values and default is REQUIRED:
        raise RequestValidationError([missing_issue(loc)])
    return values


def form_field_reader(
    alias: str,
    convert: Converter | None,
    container: Any,
    default: Any,
    nullable: bool,
) -> BodyReader:
    """One text field of a form (``container`` set: every value under ``alias``)."""
    loc: list[str | int] = ["body", alias]

    async def read_field(ctx: Context) -> Any:
        values = await _form_values(ctx, alias, loc, default)
        if not values:
            return default
        issues = []
        out: list[Any] = []
        for index, value in enumerate(values if container is not None else values[:1]):
            where = [*loc, index] if container is not None else loc
            if not isinstance(value, str):
                issues.append({"loc": where, "msg": "Expected a text field", "type": "type_error"})
                continue
            if value == "" and nullable:
                out.append(None)
                continue
            try:
                out.append(value if convert is None else convert(value))
            except msgspec.ValidationError as exc:
                issues.append(issue_from_msgspec(exc, where))
        if issues:
            raise RequestValidationError(issues)
        return out[0] if container is None else container(out)

    return read_field


def file_reader(alias: str, many: bool, default: Any) -> BodyReader:
    """An uploaded file (``many``: every file under ``alias``)."""
    from ..http.uploads import UploadFile

    loc: list[str | int] = ["body", alias]

    async def read_file(ctx: Context) -> Any:
        values = await _form_values(ctx, alias, loc, default)
        if not values:
            return default
        files = [v for v in values if isinstance(v, UploadFile)]
        if len(files) != len(values):
            raise RequestValidationError(
                [{"loc": loc, "msg": "Expected an uploaded file", "type": "type_error"}]
            )
        return files if many else files[0]

    return read_file


def form_model_reader(annotation: Any, default: Any, where: str) -> BodyReader:
    """The whole form converted into a model (text fields converted leniently: ``"3"`` for an
    ``int`` field); a field the model declares as a list takes every value of its name."""
    if is_pydantic_model(annotation):
        validate: Callable[[Any], Any] = annotation.model_validate
    else:
        check_type(annotation, where)

        def validate(data: Any) -> Any:
            return msgspec.convert(data, annotation, strict=False)

    list_fields = _list_fields(annotation)

    async def read_form_model(ctx: Context) -> Any:
        req = ctx.request
        if default is not REQUIRED and not req.headers.get("content-type"):
            return default
        form = await req.form()
        data: dict[str, Any] = {}
        for name in form:
            data[name] = form.get_all(name) if name in list_fields else form[name]
        try:
            return validate(data)
        except msgspec.ValidationError as exc:
            raise RequestValidationError([issue_from_msgspec(exc, _BODY_LOC)]) from None
        except ValueError as exc:  # pydantic's ValidationError
            raise RequestValidationError(pydantic_issues(exc, _BODY_LOC)) from None

    return read_form_model


def _list_fields(annotation: Any) -> frozenset[str]:
    """Field names whose type is a collection (they take every value of a repeated key)."""
    try:
        hints = typing.get_type_hints(annotation)
    except Exception:
        return frozenset()
    return frozenset(
        name for name, hint in hints.items() if sequence_item(strip_optional(hint)[0]) is not None
    )
