"""Identifiers for generated code: turning operation ids, tags and schema names into names.

The same input always gives the same name, and every name is a valid identifier in the
target language that does not shadow a keyword; clashes are settled by numbered suffixes
handed out in a stable order, so regenerating a client never renames things at random.
"""

from __future__ import annotations

import keyword
import re

__all__ = [
    "PYTHON_RESERVED",
    "TYPESCRIPT_RESERVED",
    "UniqueNames",
    "camel_case",
    "operation_name",
    "pascal_case",
    "python_identifier",
    "snake_case",
    "split_words",
    "typescript_identifier",
]

PYTHON_RESERVED: frozenset[str] = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
"""Names a Python identifier must not take (``class``, ``from``, ``match``...)."""

_TS_WORDS = """break case catch class const continue debugger default delete do else enum export
    extends false finally for function if import in instanceof new null return super switch
    this throw true try typeof var void while with as implements interface let package
    private protected public static yield any boolean number string symbol type from of
    await async constructor declare get set module namespace require undefined never
    unknown object bigint keyof readonly infer is asserts"""
TYPESCRIPT_RESERVED: frozenset[str] = frozenset(_TS_WORDS.split())
"""Reserved words and built-in type names a TypeScript identifier must not take."""

_BOUNDARY = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?=[A-Z][a-z]|[0-9]|\b|_|$)|[A-Z]+|[0-9]+")
_NON_WORD = re.compile(r"[^A-Za-z0-9]+")


def split_words(text: str) -> list[str]:
    """``"getUserByID"``, ``"get_user-by id"`` -> ``["get", "user", "by", "id"]``."""
    words: list[str] = []
    for chunk in _NON_WORD.split(text):
        words.extend(match.group(0).lower() for match in _BOUNDARY.finditer(chunk))
    return [word for word in words if word]


def snake_case(text: str) -> str:
    """``"listUsers"`` -> ``"list_users"``; empty when ``text`` has no letters or digits."""
    return "_".join(split_words(text))


def pascal_case(text: str) -> str:
    """``"user address"`` -> ``"UserAddress"``."""
    return "".join(word[:1].upper() + word[1:] for word in split_words(text))


def camel_case(text: str) -> str:
    """``"list_users"`` -> ``"listUsers"``."""
    name = pascal_case(text)
    return name[:1].lower() + name[1:]


def operation_name(operation_id: str, tag: str | None) -> str:
    """The snake_case method name of an operation inside its tag's namespace.

    The tag is dropped from the front when the id repeats it (``users_get`` in ``users``
    becomes ``get``), so calls read ``client.users.get(...)``.
    """
    name = snake_case(operation_id) or "call"
    prefix = snake_case(tag or "")
    if prefix and name.startswith(f"{prefix}_") and len(name) > len(prefix) + 1:
        name = name[len(prefix) + 1 :]
    return name


def python_identifier(name: str, fallback: str = "value") -> str:
    """``name`` made a usable Python identifier: leading digits and keywords get ``_``."""
    return _identifier(name, fallback, PYTHON_RESERVED)


def typescript_identifier(name: str, fallback: str = "value") -> str:
    """``name`` made a usable TypeScript identifier (reserved words get a ``_`` suffix)."""
    return _identifier(name, fallback, TYPESCRIPT_RESERVED)


def _identifier(name: str, fallback: str, reserved: frozenset[str]) -> str:
    """``name`` (``fallback`` when empty), ``_``-prefixed before a leading digit and
    ``_``-suffixed when it is one of the ``reserved`` words."""
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"_{name}"
    if name in reserved:
        name = f"{name}_"
    return name


class UniqueNames:
    """Hands out names that have not been taken yet: ``User``, then ``User2``, ``User3``."""

    def __init__(self, taken: frozenset[str] | set[str] = frozenset()) -> None:
        self._taken: set[str] = set(taken)

    def claim(self, name: str, *, underscore: bool = False) -> str:
        """``name``, or ``name`` with the smallest numeric suffix still free.

        With ``underscore``, ``name_`` is tried first (PEP 8's way to dodge a clash).
        """
        candidate = name
        if underscore and candidate in self._taken:
            candidate = f"{name}_"
        counter = 2
        while candidate in self._taken:
            candidate = f"{name}{counter}"
            counter += 1
        self._taken.add(candidate)
        return candidate

    def __contains__(self, name: object) -> bool:
        return name in self._taken
