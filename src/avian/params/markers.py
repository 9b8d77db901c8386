"""Markers a handler signature uses to say where a value comes from and how it is checked.

``Query``, ``Header``, ``Cookie``, ``Path``, ``Body``, ``Form`` and ``File`` describe an
input; ``Depends`` names a provider whose result is injected.  Each can be written inside
``typing.Annotated`` (``limit: Annotated[int, Query(ge=1)] = 10``) or as the default value
(``limit: int = Query(10, ge=1)``).  They are read once at startup and never per request.

The factories return ``Any`` so that the default-value form type-checks against the
parameter's annotation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from .spec import Constraints

__all__ = [
    "REQUIRED",
    "Body",
    "Cookie",
    "Dependency",
    "Depends",
    "File",
    "Form",
    "Header",
    "MarkerSource",
    "ParamInfo",
    "Path",
    "Query",
]

MarkerSource = Literal["query", "header", "cookie", "path", "body", "form", "file"]


class _Required:
    """The default of a parameter that must be given (``Query()`` without a default)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class ParamInfo:
    """What ``Query(...)``/``Header(...)``/... declared for one parameter."""

    __slots__ = (
        "alias",
        "constraints",
        "convert_underscores",
        "default",
        "deprecated",
        "description",
        "embed",
        "examples",
        "include_in_schema",
        "media_type",
        "source",
    )

    def __init__(
        self,
        source: MarkerSource,
        default: Any,
        alias: str | None,
        description: str | None,
        examples: Sequence[Any] | None,
        deprecated: bool,
        include_in_schema: bool,
        constraints: Constraints,
        convert_underscores: bool = True,
        media_type: str | None = None,
        embed: bool = False,
    ) -> None:
        self.source = source
        self.default = REQUIRED if default is ... else default
        self.alias = alias
        self.description = description
        self.examples: tuple[Any, ...] = tuple(examples or ())
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.constraints = constraints
        self.convert_underscores = convert_underscores
        self.media_type = media_type
        self.embed = embed

    def __repr__(self) -> str:
        name = self.source.capitalize()
        default = "" if self.default is REQUIRED else repr(self.default)
        alias = f", alias={self.alias!r}" if self.alias else ""
        return f"{name}({default}{alias})"


def _constraints(
    gt: float | None,
    ge: float | None,
    lt: float | None,
    le: float | None,
    multiple_of: float | None,
    min_length: int | None,
    max_length: int | None,
    pattern: str | None,
) -> Constraints:
    return Constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern)


def Query(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    deprecated: bool = False,
    include_in_schema: bool = True,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A query-string parameter (``?name=value``; repeated keys for ``list[X]``)."""
    return ParamInfo(
        "query",
        default,
        alias,
        description,
        examples,
        deprecated,
        include_in_schema,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
    )


def Header(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    convert_underscores: bool = True,
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    deprecated: bool = False,
    include_in_schema: bool = True,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A request header; ``user_agent`` reads ``User-Agent`` unless
    ``convert_underscores=False`` (repeated header lines for ``list[X]``)."""
    return ParamInfo(
        "header",
        default,
        alias,
        description,
        examples,
        deprecated,
        include_in_schema,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
        convert_underscores=convert_underscores,
    )


def Cookie(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    deprecated: bool = False,
    include_in_schema: bool = True,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A request cookie, by name."""
    return ParamInfo(
        "cookie",
        default,
        alias,
        description,
        examples,
        deprecated,
        include_in_schema,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
    )


def Path(
    *,
    alias: str | None = None,
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    deprecated: bool = False,
    include_in_schema: bool = True,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A path parameter with documentation or constraints (always required)."""
    return ParamInfo(
        "path",
        REQUIRED,
        alias,
        description,
        examples,
        deprecated,
        include_in_schema,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
    )


def Body(
    default: Any = REQUIRED,
    *,
    embed: bool = False,
    alias: str | None = None,
    media_type: str = "application/json",
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """The JSON request body, decoded into the parameter's type (any type, not only
    models: ``ids: Annotated[list[int], Body()]``).

    With ``embed=True`` the body is an object holding the value under the parameter's name
    (or ``alias``): ``item: Annotated[Item, Body(embed=True)]`` reads ``{"item": {...}}``.
    """
    return ParamInfo(
        "body",
        default,
        alias,
        description,
        examples,
        False,
        True,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
        media_type=media_type,
        embed=embed,
    )


def Form(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    description: str | None = None,
    examples: Sequence[Any] | None = None,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    multiple_of: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
) -> Any:
    """A field of an urlencoded or multipart form; on a model type, the whole form."""
    return ParamInfo(
        "form",
        default,
        alias,
        description,
        examples,
        False,
        True,
        _constraints(gt, ge, lt, le, multiple_of, min_length, max_length, pattern),
    )


def File(
    default: Any = REQUIRED,
    *,
    alias: str | None = None,
    description: str | None = None,
) -> Any:
    """An uploaded file of a multipart form (an ``UploadFile``; ``list[UploadFile]`` for
    several files under one name)."""
    return ParamInfo("file", default, alias, description, None, False, True, Constraints())


class Dependency:
    """What ``Depends(...)`` declared: a provider and how its result is reused."""

    __slots__ = ("blocking", "provider", "use_cache")

    def __init__(
        self, provider: Callable[..., Any] | None, use_cache: bool, blocking: bool
    ) -> None:
        self.provider = provider
        self.use_cache = use_cache
        self.blocking = blocking

    def __repr__(self) -> str:
        name = getattr(self.provider, "__qualname__", None) or repr(self.provider)
        return f"Depends({name})"


def Depends(
    provider: Callable[..., Any] | None = None,
    *,
    use_cache: bool = True,
    blocking: bool = False,
) -> Any:
    """Inject what ``provider`` returns (or yields).

    ``provider`` takes the same kinds of parameters as a handler (``ctx``, query, headers,
    other dependencies...).  With ``use_cache`` (default) it runs once per request however
    many times it is asked for.  Sync providers run inline on the event loop; pass
    ``blocking=True`` to run a sync provider (or sync generator) in the thread pool.
    ``Depends()`` without a provider uses the parameter's annotation (a class).
    """
    if provider is not None and not callable(provider):
        from ..errors import ConfigurationError

        raise ConfigurationError(f"Depends() needs a callable, got {provider!r}")
    return Dependency(provider, use_cache, blocking)
