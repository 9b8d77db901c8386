"""The 422 answer for invalid input, listing every issue with where it was found.

Each issue is ``{"loc": [source, name, ...], "msg": str, "type": str}``: ``source`` is
``"path"``, ``"query"``, ``"header"``, ``"cookie"`` or ``"body"``, followed by the
parameter's wire name and, inside a body or a list, the field names and indexes that lead
to the bad value.  ``type`` is ``"missing"`` for an absent required value,
``"validation_error"`` for a value msgspec or avian rejected, and pydantic's own error type
for pydantic models.  Input values are never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from ..errors import HTTPError

__all__ = [
    "Issue",
    "RequestValidationError",
    "issue_from_msgspec",
    "missing_issue",
    "pydantic_issues",
    "validation_error",
]

Issue = dict[str, Any]
Loc = list[str | int]

_LOC_RE = re.compile(r" - at `\$(.*)`$")
_PART_RE = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_MISSING_RE = re.compile(r"^Object missing required field `([^`]+)`$")


class RequestValidationError(HTTPError):
    """422: the request's inputs did not validate; :attr:`issues` lists every problem."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(
            422, "Validation failed", code="VALIDATION_ERROR", details={"issues": issues}
        )
        self.issues = issues


def issue_from_msgspec(exc: msgspec.ValidationError, loc: Sequence[str | int]) -> Issue:
    """One issue from msgspec's message, its ``- at `$.a[0]``` path appended to ``loc``."""
    message = str(exc)
    full: Loc = list(loc)
    m = _LOC_RE.search(message)
    if m:
        message = message[: m.start()]
        for name, index in _PART_RE.findall(m.group(1)):
            full.append(name if name else int(index))
    missing = _MISSING_RE.match(message)
    if missing:  # point at the field itself, as for any other issue
        full.append(missing.group(1))
    return {"loc": full, "msg": message, "type": "validation_error"}


def missing_issue(loc: Sequence[str | int]) -> Issue:
    return {"loc": list(loc), "msg": "Field required", "type": "missing"}


def pydantic_issues(exc: Exception, loc: Sequence[str | int]) -> list[Issue]:
    """The issues of a pydantic ``ValidationError`` (its ``errors()``), input not included."""
    errors = getattr(exc, "errors", None)
    found = errors(include_input=False, include_url=False) if callable(errors) else []
    return [
        {
            "loc": [*loc, *e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "validation_error")),
        }
        for e in found
    ] or [{"loc": list(loc), "msg": str(exc), "type": "validation_error"}]


def validation_error(exc: msgspec.ValidationError, where: str = "body") -> HTTPError:
    """A 422 for one msgspec error: ``{"loc": ["body", "age"], "msg": ..., "type": ...}``."""
    return RequestValidationError([issue_from_msgspec(exc, [where])])
