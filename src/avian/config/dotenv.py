"""Reading ``.env`` files without running anything: ``NAME=value`` lines, nothing more.

Accepted syntax: blank lines and ``#`` comments; an optional ``export`` before the name;
spaces around ``=``; values unquoted (an inline comment starts at whitespace followed by
``#``; surrounding spaces are dropped), in single quotes (taken literally) or in double
quotes (``\\n``, ``\\t``, ``\\r``, ``\\"``, ``\\\\`` and ``\\$`` are escapes); quoted values
may span lines.  There is no variable interpolation and no command substitution: a value
is exactly the text written.  A later line for the same name wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Final

from .problems import Problem, SettingsError

__all__ = ["MAX_ENV_FILE_SIZE", "EnvFileValue", "parse_env_text", "read_env_file"]

MAX_ENV_FILE_SIZE: Final = 1024 * 1024
"""A ``.env`` file larger than this (bytes) is refused: it is not a settings file."""

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPORT_RE = re.compile(r"export[ \t]+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass(frozen=True, slots=True)
class EnvFileValue:
    """One variable read from a ``.env`` file, with where it was written."""

    value: str
    line: int


def read_env_file(path: str | PathLike[str]) -> dict[str, EnvFileValue]:
    """The variables of the ``.env`` file at ``path`` (``{}`` when there is no such file).

    Raises :class:`~avian.config.SettingsError` listing every malformed line.
    """
    file = Path(path)
    source = str(file)
    if not file.exists():
        return {}
    if not file.is_file():
        raise SettingsError([Problem("", "is not a file", f".env file {source}")])
    if file.stat().st_size > MAX_ENV_FILE_SIZE:
        raise SettingsError(
            [Problem("", f"is larger than {MAX_ENV_FILE_SIZE} bytes", f".env file {source}")]
        )
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(
            [Problem("", f"is not UTF-8 text ({exc.reason})", f".env file {source}")]
        ) from None
    values, problems = parse_env_text(text, source)
    if problems:
        raise SettingsError(problems)
    return values


def parse_env_text(
    text: str, source: str = ".env"
) -> tuple[dict[str, EnvFileValue], list[Problem]]:
    """Variables and syntax problems of ``.env`` text; ``source`` names it in problems."""
    values: dict[str, EnvFileValue] = {}
    problems: list[Problem] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    pos, line, end = 0, 1, len(text)
    while pos < end:
        stop = text.find("\n", pos)
        stop = end if stop < 0 else stop
        where = f"{source} line {line}"
        i = _skip_blanks(text, pos, stop)
        if i == stop or text[i] == "#":
            pos, line = stop + 1, line + 1
            continue
        export = _EXPORT_RE.match(text, i, stop)
        if export:
            i = export.end()
        name = _NAME_RE.match(text, i, stop)
        i = _skip_blanks(text, name.end(), stop) if name else i
        if name is None or i == stop or text[i] != "=":
            problems.append(Problem("", "expected NAME=value", where))
            pos, line = stop + 1, line + 1
            continue
        i = _skip_blanks(text, i + 1, stop)
        if i < stop and text[i] in "'\"":
            value, after, error = _quoted(text, i)
            line_of_value = line
            line += text.count("\n", i, after)
            if error:
                problems.append(Problem("", error, where))
                break
            stop = text.find("\n", after)
            stop = end if stop < 0 else stop
            tail = text[after:stop].strip()
            if tail and not tail.startswith("#"):
                problems.append(Problem("", "unexpected text after the closing quote", where))
            else:
                values[name[0]] = EnvFileValue(value, line_of_value)
        else:
            values[name[0]] = EnvFileValue(_unquoted(text[i:stop]), line)
        pos, line = stop + 1, line + 1
    return values, problems


def _skip_blanks(text: str, i: int, stop: int) -> int:
    while i < stop and text[i] in " \t":
        i += 1
    return i


def _unquoted(rest: str) -> str:
    comment = re.search(r"[ \t]#", rest)
    if comment:
        rest = rest[: comment.start()]
    return rest.strip()


def _quoted(text: str, start: int) -> tuple[str, int, str | None]:
    """The value of the quoted string at ``text[start]``, the index after its closing
    quote, and an error message when it is not closed."""
    quote = text[start]
    if quote == "'":
        close = text.find("'", start + 1)
        if close < 0:
            return "", len(text), "single quote is never closed"
        return text[start + 1 : close], close + 1, None
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            out.append(char)  # unknown escapes stay as written
            i += 1
            continue
        if char == '"':
            return "".join(out), i + 1, None
        out.append(char)
        i += 1
    return "", len(text), "double quote is never closed"
