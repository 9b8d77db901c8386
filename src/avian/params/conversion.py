"""Text values (query, header, cookie, path, form field) converted into declared types.

A converter is built once per parameter at startup; per request it is one call that either
returns the value or raises :class:`msgspec.ValidationError`.  Constraints (``ge``,
``max_length``, ``pattern``...) become :class:`msgspec.Meta` so msgspec checks them in C.
Integers are parsed strictly (ASCII digits with an optional ``-``); booleans accept
``true/false``, ``1/0``, ``yes/no``, ``on/off``, ``t/f``, ``y/n`` in any case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

from ..errors import ConfigurationError
from .spec import Constraints

__all__ = [
    "Converter",
    "check_type",
    "constraint_meta",
    "merge_meta",
    "scalar_converter",
]

Converter = Callable[[Any], Any]
"""``(raw) -> value``, raising :class:`msgspec.ValidationError` on bad input."""

NUMERIC_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of")
LENGTH_CONSTRAINTS = ("min_length", "max_length")
TEXT_CONSTRAINTS = ("pattern",)
ALL_CONSTRAINTS = (*NUMERIC_CONSTRAINTS, *LENGTH_CONSTRAINTS, *TEXT_CONSTRAINTS)

_TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "off", "f", "n"})


def constraint_meta(
    constraints: Constraints, names: tuple[str, ...] | None = None
) -> msgspec.Meta | None:
    """The ``msgspec.Meta`` for the constraints that are set (only ``names`` if given)."""
    wanted = names or ALL_CONSTRAINTS
    values = {n: getattr(constraints, n) for n in wanted if getattr(constraints, n) is not None}
    return msgspec.Meta(**values) if values else None


def merge_meta(constraints: Constraints, extras: tuple[Any, ...]) -> Constraints:
    """Fold ``msgspec.Meta`` objects found in ``Annotated`` into ``constraints`` (values set
    on the marker win)."""
    values = {name: getattr(constraints, name) for name in ALL_CONSTRAINTS}
    changed = False
    for extra in extras:
        if isinstance(extra, msgspec.Meta):
            for name in ALL_CONSTRAINTS:
                value = getattr(extra, name, None)
                if value is not None and values[name] is None:
                    values[name] = value
                    changed = True
    return Constraints(**values) if changed else constraints


def check_type(annotation: Any, where: str) -> None:
    """Fail at startup, not per request, when msgspec cannot handle ``annotation`` (an
    unsupported type, or a constraint that does not fit it: ``ge`` on a ``str``)."""
    try:
        msgspec.json.Decoder(annotation)
    except TypeError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def _parse_int(raw: Any) -> int:
    # ASCII digits only: int() alone also takes " 1", "1_000" and other scripts' digits.
    if type(raw) is str and raw.isascii():
        if raw.isdigit() or (raw[:1] == "-" and raw[1:].isdigit()):
            try:
                return int(raw)
            except ValueError:  # longer than Python's int-parsing limit
                pass
        raise msgspec.ValidationError("Expected `int`")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return int(raw)
    raise msgspec.ValidationError("Expected `int`")


def _parse_bool(raw: Any) -> bool:
    if type(raw) is bool:
        return raw
    text = str(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise msgspec.ValidationError("Expected `bool` (true/false, 1/0, yes/no, on/off)")


def scalar_converter(annotation: Any, constraints: Constraints, where: str) -> Converter | None:
    """The converter for one text value; ``None`` when the text is used as is (``str``
    without constraints)."""
    meta = constraint_meta(constraints)
    target: Any = annotation if meta is None else Annotated[annotation, meta]
    check_type(target, where)
    if annotation is str and meta is None:
        return None
    if annotation is bool:
        if meta is not None:
            raise ConfigurationError(f"{where}: constraints do not apply to a bool")
        return _parse_bool
    if annotation is int:
        if meta is None:
            return _parse_int
        checked: Any = target

        def convert_int(raw: Any) -> int:
            return msgspec.convert(_parse_int(raw), checked)  # type: ignore[no-any-return]

        return convert_int

    def convert(raw: Any) -> Any:
        return msgspec.convert(raw, target, strict=False)

    return convert
