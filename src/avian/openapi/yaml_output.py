"""The OpenAPI document as YAML: PyYAML when installed, else a small built-in emitter.

The document is JSON data (dicts with string keys, lists, strings, numbers, booleans,
``None``), so the built-in emitter only needs that subset: block mappings and sequences,
and scalars that are written plain only when YAML cannot read them as anything else, and
double-quoted (with escapes) otherwise.  ``yaml.safe_load`` of either output equals the
JSON document.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["dump_yaml", "emit_yaml"]

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_RESERVED = frozenset(
    {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf", "~"}
)


def dump_yaml(data: Any) -> str:
    """YAML text for JSON data, with PyYAML's C emitter when it is installed."""
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return emit_yaml(data)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(
        data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text


def emit_yaml(data: Any) -> str:
    """YAML text for JSON data, without any dependency."""
    lines: list[str] = []
    if isinstance(data, dict | list) and data:
        _block(data, 0, lines)
    else:
        lines.append(_scalar(data))
    return "\n".join(lines) + "\n"


def _block(value: dict[str, Any] | list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            label = f"{pad}{_string(str(key))}:"
            if isinstance(item, dict | list) and item:
                lines.append(label)
                # Sequences under a key sit at the key's indentation, as is usual.
                _block(item, indent if isinstance(item, list) else indent + 2, lines)
            else:
                lines.append(f"{label} {_scalar(item)}")
        return
    for item in value:
        if isinstance(item, dict | list) and item:
            nested: list[str] = []
            _block(item, indent + 2, nested)
            # The first line of the nested block goes after the dash.
            lines.append(f"{pad}- {nested[0][indent + 2 :]}")
            lines.extend(nested[1:])
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text:
            # YAML 1.1 readers (PyYAML) only see a float in ``1.0e+300``, not ``1e+300``.
            mantissa, _, exponent = text.partition("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _string(str(value))


def _string(text: str) -> str:
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    """A double-quoted scalar; JSON's escapes are valid YAML ones, and characters YAML
    does not allow in a stream are escaped as well."""
    out: list[str] = []
    for char in json.dumps(text, ensure_ascii=False)[1:-1]:
        code = ord(char)
        if _printable(code):
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _printable(code: int) -> bool:
    # YAML's printable set (what PyYAML's reader accepts), minus the BOM and the
    # characters YAML 1.1 folds as line breaks (NEL, LS, PS): those are escaped.
    return (
        code in (0x09, 0x0A, 0x0D)
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0x2027
        or 0x202A <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    )
