"""A line buffer with indentation, and the bracket-fitting rule the generators format with.

Generated code must come out already formatted (``ruff format`` and ``prettier``-style
tools leave it alone), so long bracketed lists are laid out the way those formatters do:
on one line if it fits, else the items on one indented line, else one item per line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["SourceWriter", "fit_brackets"]


class SourceWriter:
    """Collects lines of source, indenting them by the current depth."""

    def __init__(self, indent: str = "    ") -> None:
        self._unit = indent
        self._depth = 0
        self._lines: list[str] = []

    @property
    def prefix(self) -> str:
        """The indentation of the next line."""
        return self._unit * self._depth

    def line(self, text: str = "") -> None:
        """Add a line (each line of a multi-line ``text`` indented alike); blank stays blank."""
        for part in text.split("\n"):
            self._lines.append(f"{self.prefix}{part}" if part else "")

    def lines(self, texts: Sequence[str]) -> None:
        for text in texts:
            self.line(text)

    def blank(self, count: int = 1) -> None:
        """Blank lines, never more than ``count`` in a row and none at the very start."""
        if not self._lines:
            return
        trailing = 0
        for existing in reversed(self._lines):
            if existing:
                break
            trailing += 1
        self._lines.extend([""] * max(0, count - trailing))

    @contextmanager
    def indented(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1

    def text(self) -> str:
        """The source, ending with exactly one newline."""
        while self._lines and not self._lines[-1]:
            self._lines.pop()
        return "\n".join(self._lines) + "\n"


def fit_brackets(
    head: str,
    items: Sequence[str],
    tail: str,
    *,
    indent: str,
    unit: str = "    ",
    width: int = 88,
    explode: bool = False,
    trailing_comma: bool = True,
) -> list[str]:
    """``head(item, item)tail`` laid out in at most ``width`` columns.

    ``head`` ends with the opening bracket and ``tail`` starts with the closing one. With
    ``explode`` the items always go one per line (a "magic trailing comma").
    """
    joined = ", ".join(items)
    if not explode and len(indent) + len(head) + len(joined) + len(tail) <= width:
        return [f"{head}{joined}{tail}"]
    inner = indent + unit
    closing = tail if not tail.startswith(" ") else tail.lstrip()
    if not explode and items and len(inner) + len(joined) <= width:
        return [head, f"{unit}{joined}", closing]
    comma = "," if trailing_comma else ""
    body: list[str] = []
    for position, item in enumerate(items):
        end = comma if position == len(items) - 1 else ","
        pieces = item.split("\n")  # a multi-line item (a nested call) is indented as a block
        body.extend(f"{unit}{piece}" if piece else "" for piece in pieces[:-1])
        body.append(f"{unit}{pieces[-1]}{end}")
    return [head, *body, closing]
