"""What a typed handler declares, in a form the OpenAPI generator and clients can read.

The analyser fills these once per route at startup (``route.plan``); nothing here is used
per request.  Parameters contributed by dependencies are flattened into the same lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["BodySpec", "Constraints", "ParamSpec", "ResponseSpec"]

ParamSource = Literal["path", "query", "header", "cookie"]


@dataclass(frozen=True)
class Constraints:
    """Validation constraints declared on a parameter or body (``Query(ge=1)``...)."""

    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    multiple_of: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class ParamSpec:
    """One non-body input of an operation."""

    name: str
    """The Python parameter name."""
    source: ParamSource
    alias: str
    """The name on the wire (query key, header name lower-cased, cookie name, path name)."""
    annotation: Any
    """The Python type with ``Annotated``/``Optional`` markers removed from the outside
    (``list[int]`` for a repeated query key); ``Any`` when un-annotated."""
    required: bool
    default: Any = None
    nullable: bool = False
    """``X | None``: the parameter may be absent or explicitly empty."""
    description: str | None = None
    examples: tuple[Any, ...] = ()
    deprecated: bool = False
    include_in_schema: bool = True
    constraints: Constraints = field(default_factory=Constraints)


@dataclass(frozen=True)
class BodySpec:
    """The request body of an operation."""

    name: str
    annotation: Any
    """The model type, or ``None`` for an untyped ``body`` parsed by content type."""
    media_types: tuple[str, ...] = ("application/json",)
    required: bool = True
    description: str | None = None
    examples: tuple[Any, ...] = ()
    files: tuple[str, ...] = ()
    """Form bodies: the fields of ``annotation`` that are uploaded files (binary parts)."""
    generated: bool = False
    """``annotation`` is a Struct avian built from the handler's ``Form()``/``File()``
    parameters, named after the handler (``login`` -> ``LoginForm``)."""


@dataclass(frozen=True)
class ResponseSpec:
    """What a successful call returns: the return annotation or ``response_model=``."""

    annotation: Any
    """The declared type, or ``None`` when nothing usable was declared (``Response``,
    ``Any``, missing)."""
    status: int = 200
    media_type: str = "application/json"
    empty: bool = False
    """The handler returns nothing (``-> None``): no body, status 204 unless the route sets
    another."""
