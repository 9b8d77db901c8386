"""Turning one setting's raw value into its declared type, and saying what a type expects.

Text (from the environment or a ``.env`` file) is parsed: booleans from ``1/true/yes/on``
and ``0/false/no/off``, sizes such as ``"10MB"``, durations such as ``"5m"``, lists as
comma-separated items or a JSON array, mappings and nested structs as JSON objects.
Python values (code defaults, overrides) are checked against the type instead; strings
among overrides are parsed like text, code defaults are not.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import types
from collections.abc import Callable, Collection, Iterable, Mapping, MutableSequence, Sequence, Set
from datetime import timedelta
from functools import lru_cache
from pathlib import PurePath
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec

from ..durations import DurationError, parse_duration
from ..errors import ConfigurationError
from .field_types import SIZE, Unit
from .secret import Secret
from .sizes import SizeError, parse_size

__all__ = [
    "ConversionError",
    "convert",
    "describe",
    "is_record_type",
    "record_hints",
]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
NONE_WORDS = frozenset({"none", "null"})


_SEQUENCES: dict[Any, Callable[[list[Any]], Collection[Any]]] = {
    tuple: tuple,
    list: list,
    set: set,
    frozenset: frozenset,
    Sequence: tuple,
    MutableSequence: list,
    Collection: tuple,
    Iterable: tuple,
    Set: frozenset,
}
_MAPPINGS = (dict, Mapping)


class ConversionError(ValueError):
    """A value that does not fit its type: ``expected`` says what would have, ``detail``
    (optional) says more, without repeating the value (which may be secret)."""

    def __init__(self, expected: str, detail: str | None = None) -> None:
        super().__init__(expected if detail is None else f"{expected} ({detail})")
        self.expected = expected
        self.detail = detail


def is_record_type(hint: Any) -> bool:
    """True for msgspec Struct classes and dataclasses: settings blocks and nested records."""
    return isinstance(hint, type) and (
        issubclass(hint, msgspec.Struct) or dataclasses.is_dataclass(hint)
    )


def record_hints(cls: Any) -> dict[str, Any]:
    """The fields of a Struct or dataclass with their annotations (``Annotated`` kept), in
    declaration order, base classes first (cached: do not modify the result)."""
    return _record_hints(cls)


@lru_cache(maxsize=256)
def _record_hints(cls: Any) -> dict[str, Any]:
    hints = get_type_hints(cls, include_extras=True)
    if issubclass(cls, msgspec.Struct):
        names = set(cls.__struct_fields__)
    else:
        names = {f.name for f in dataclasses.fields(cls) if f.init}
    return {name: hint for name, hint in hints.items() if name in names}


def convert(value: Any, hint: Any, *, parse_text: bool = True) -> Any:
    """``value`` as ``hint``; strings are parsed as text unless ``parse_text`` is false.

    Raises :class:`ConversionError` when the value does not fit.
    """
    return _convert(value, hint, parse_text)


def _convert(value: Any, hint: Any, text_ok: bool) -> Any:
    origin = get_origin(hint)
    if origin is Annotated:
        base, *meta = get_args(hint)
        unit = next((m for m in meta if isinstance(m, Unit)), None)
        try:
            result = (
                _convert(value, base, text_ok)
                if unit is None
                else _unit(value, base, unit, text_ok)
            )
        except ConversionError as exc:  # say what the constraints add, too
            raise ConversionError(describe(hint), exc.detail) from None
        for item in meta:
            if isinstance(item, msgspec.Meta):
                _check_meta(result, item, hint)
        return result
    if hint is Any or hint is object:
        return value
    if origin is Union or origin is types.UnionType:
        return _union(value, hint, text_ok)
    if origin is Literal:
        return _literal(value, hint, text_ok)
    text = isinstance(value, str) and text_ok
    if hint is bool:
        return _bool(value, text)
    if hint is int:
        return _int(value, text)
    if hint is float:
        return _float(value, text)
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConversionError(describe(hint))
    if hint is Secret:
        if isinstance(value, Secret):
            return value
        if isinstance(value, str) and text_ok:
            return Secret(value)
        raise ConversionError(describe(hint))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum(value, hint, text_ok)
    if isinstance(hint, type) and issubclass(hint, PurePath):
        if isinstance(value, hint):
            return value
        if isinstance(value, str | PurePath) and str(value):
            return hint(value)
        raise ConversionError(describe(hint))
    if origin in _SEQUENCES or hint in _SEQUENCES:
        return _sequence(value, hint, text_ok)
    if origin in _MAPPINGS or hint in _MAPPINGS:
        return _mapping(value, hint, text_ok)
    if is_record_type(hint):
        return _record(value, hint, text_ok)
    return _fallback(value, hint, text_ok)


# --- scalars ---------------------------------------------------------------------------------


def _bool(value: Any, text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if text:
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ConversionError(describe(bool))


def _int(value: Any, text: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if text:
        raw = value.strip()
        for base in (10, 0):  # 0: also "0o660", "0x1F"
            try:
                return int(raw, base)
            except ValueError:
                continue
    raise ConversionError(describe(int))


def _float(value: Any, text: bool) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif text:
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise ConversionError(describe(float))
    return number


def _enum(value: Any, hint: type[enum.Enum], text_ok: bool) -> enum.Enum:
    if isinstance(value, hint):
        return value
    for member in hint:
        if member.value == value and type(member.value) is type(value):
            return member
    if isinstance(value, str) and text_ok:
        wanted = value.strip().lower()
        for member in hint:
            if str(member.value).lower() == wanted or member.name.lower() == wanted:
                return member
    raise ConversionError(describe(hint))


def _literal(value: Any, hint: Any, text_ok: bool) -> Any:
    choices = get_args(hint)
    for choice in choices:
        if value == choice and type(value) is type(choice):
            return choice
    if isinstance(value, str) and text_ok:
        wanted = value.strip()
        for choice in choices:
            if isinstance(choice, str) and choice.lower() == wanted.lower():
                return choice
            if isinstance(choice, bool | int) and not isinstance(choice, str):
                try:
                    if _convert(wanted, type(choice), True) == choice:
                        return choice
                except ConversionError:
                    continue
    raise ConversionError(describe(hint))


def _unit(value: Any, base: Any, unit: Unit, text_ok: bool) -> Any:
    if isinstance(value, bool) or (isinstance(value, str) and not text_ok):
        raise ConversionError(_describe_unit(unit))
    try:
        if unit is SIZE:
            return parse_size(value)
        if not isinstance(value, str | int | float | timedelta):
            raise ConversionError(_describe_unit(unit))
        seconds = parse_duration(value)
    except (SizeError, DurationError):
        raise ConversionError(_describe_unit(unit)) from None
    if base is int:
        if seconds != int(seconds):
            raise ConversionError(_describe_unit(unit), "a whole number of seconds")
        return int(seconds)
    return seconds


# --- containers and records --------------------------------------------------------------------


def _json(text: str, expected: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConversionError(expected, f"not valid JSON: {exc}") from None


def _sequence(value: Any, hint: Any, text_ok: bool) -> Collection[Any]:
    origin = get_origin(hint) or hint
    args = get_args(hint)
    make = _SEQUENCES[origin]
    expected = describe(hint)
    items: list[Any]
    if isinstance(value, str):
        if not text_ok:
            raise ConversionError(expected)
        raw = value.strip()
        if raw.startswith("["):
            items = _json(raw, expected)
            if not isinstance(items, list):  # pragma: no cover - "[" starts only arrays
                raise ConversionError(expected)
        else:
            items = [item.strip() for item in raw.split(",") if item.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise ConversionError(expected)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(items) != len(args):
            raise ConversionError(expected, f"{len(items)} items instead of {len(args)}")
        item_hints = list(args)
    else:
        item_hints = [args[0] if args else Any] * len(items)
    converted: list[Any] = []
    for position, (item, item_hint) in enumerate(zip(items, item_hints, strict=True), 1):
        try:
            converted.append(_convert(item, item_hint, text_ok))
        except ConversionError as exc:
            raise ConversionError(expected, f"item {position}: expected {exc.expected}") from None
    return make(converted)


def _object(value: Any, text_ok: bool, expected: str) -> Mapping[Any, Any]:
    """``value`` as a mapping: itself, or (where text is accepted) a JSON object."""
    if isinstance(value, str):
        if not text_ok or not value.strip().startswith("{"):
            raise ConversionError(expected)
        value = _json(value.strip(), expected)
    if not isinstance(value, Mapping):
        raise ConversionError(expected)
    return value


def _mapping(value: Any, hint: Any, text_ok: bool) -> dict[Any, Any]:
    args = get_args(hint)
    key_hint, value_hint = args if len(args) == 2 else (Any, Any)
    expected = describe(hint)
    value = _object(value, text_ok, expected)
    result: dict[Any, Any] = {}
    for key, item in value.items():
        try:
            result[_convert(key, key_hint, text_ok)] = _convert(item, value_hint, text_ok)
        except ConversionError as exc:
            raise ConversionError(expected, f"at {key!r}: expected {exc.expected}") from None
    return result


def _record(value: Any, hint: type, text_ok: bool) -> Any:
    if isinstance(value, hint):
        return value
    expected = describe(hint)
    value = _object(value, text_ok, expected)
    hints = record_hints(hint)
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in hints:
            raise ConversionError(expected, f"unknown field {key!r}")
        try:
            kwargs[key] = _convert(item, hints[key], text_ok)
        except ConversionError as exc:
            raise ConversionError(expected, f"{key}: expected {exc.expected}") from None
    try:
        return hint(**kwargs)
    except (TypeError, ValueError, ConfigurationError) as exc:
        raise ConversionError(expected, str(exc)) from None


def _union(value: Any, hint: Any, text_ok: bool) -> Any:
    members = [m for m in get_args(hint) if m is not type(None)]
    optional = len(members) < len(get_args(hint))
    if optional:
        if value is None:
            return None
        if isinstance(value, str) and text_ok and not value.strip():
            return None
    detail: str | None = None
    for member in members:
        try:
            return _convert(value, member, text_ok)
        except ConversionError as exc:
            detail = exc.detail if len(members) == 1 else None
    if optional and isinstance(value, str) and text_ok and value.strip().lower() in NONE_WORDS:
        return None
    raise ConversionError(describe(hint), detail)


def _fallback(value: Any, hint: Any, text_ok: bool) -> Any:
    """Types this module does not know: msgspec converts them, text read as JSON."""
    if isinstance(value, str) and text_ok:
        try:
            value = json.loads(value)
        except ValueError:
            pass
    try:
        return msgspec.convert(value, hint, strict=False)
    except (msgspec.ValidationError, TypeError) as exc:
        raise ConversionError(describe(hint), str(exc)) from None


def _check_meta(value: Any, meta: msgspec.Meta, hint: Any) -> None:
    if value is None:
        return
    sized = value.reveal() if isinstance(value, Secret) else value
    ok = True
    if isinstance(sized, int | float) and not isinstance(sized, bool):
        ok = (
            (meta.ge is None or sized >= meta.ge)
            and (meta.gt is None or sized > meta.gt)
            and (meta.le is None or sized <= meta.le)
            and (meta.lt is None or sized < meta.lt)
        )
    if ok and isinstance(sized, str | Collection) and not isinstance(sized, bool):
        ok = (meta.min_length is None or len(sized) >= meta.min_length) and (
            meta.max_length is None or len(sized) <= meta.max_length
        )
        if ok and meta.pattern is not None and isinstance(sized, str):
            import re

            ok = re.search(meta.pattern, sized) is not None
    if not ok:
        raise ConversionError(describe(hint))


# --- describing types -------------------------------------------------------------------------


def _describe_unit(unit: Unit) -> str:
    if unit is SIZE:
        return "a size (bytes, or e.g. '512KiB', '10MB')"
    return "a duration (seconds, or e.g. '100ms', '30s', '5m', '2h', '1d')"


def _describe_meta(meta: msgspec.Meta) -> str:
    parts: list[str] = []
    for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        bound = getattr(meta, name)
        if bound is not None:
            parts.append(f"{symbol} {bound}")
    if meta.min_length is not None:
        parts.append(f"at least {meta.min_length} long")
    if meta.max_length is not None:
        parts.append(f"at most {meta.max_length} long")
    if meta.pattern is not None:
        parts.append(f"matching {meta.pattern!r}")
    return " and ".join(parts)


def describe(hint: Any) -> str:
    """What a value of type ``hint`` looks like, for error messages and docs."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *meta = get_args(hint)
        unit = next((m for m in meta if isinstance(m, Unit)), None)
        text = describe(base) if unit is None else _describe_unit(unit)
        limits = [_describe_meta(m) for m in meta if isinstance(m, msgspec.Meta)]
        limits = [limit for limit in limits if limit]
        return f"{text} {' and '.join(limits)}" if limits else text
    if hint is Any or hint is object:
        return "any value"
    if origin is Union or origin is types.UnionType:
        members = [m for m in get_args(hint) if m is not type(None)]
        text = " or ".join(describe(m) for m in members)
        return f"{text}, or empty for none" if len(members) < len(get_args(hint)) else text
    if origin is Literal:
        return "one of " + ", ".join(repr(choice) for choice in get_args(hint))
    simple = {
        bool: "a boolean (1/true/yes/on or 0/false/no/off)",
        int: "an integer",
        float: "a number",
        str: "a string",
        Secret: "a string (kept secret)",
    }
    if isinstance(hint, type) and hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in hint)
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return "a file system path"
    if origin in _SEQUENCES or hint in _SEQUENCES:
        args = get_args(hint)
        if (origin or hint) is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return f"a list of {len(args)} items: " + ", ".join(describe(a) for a in args)
        item = describe(args[0]) if args else "any value"
        return f"a list (comma-separated or a JSON array) whose items are each {item}"
    if origin in _MAPPINGS or hint in _MAPPINGS:
        args = get_args(hint)
        item = describe(args[1]) if len(args) == 2 else "any value"
        return f"a JSON object whose values are each {item}"
    if is_record_type(hint):
        return f"a JSON object with the fields of {hint.__name__}"
    return f"a value of type {getattr(hint, '__name__', hint)}"
