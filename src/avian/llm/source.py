"""Source code an LLM is shown: a handler, what it calls, and the frames of an error.

Only the application's own code is collected (never the standard library, installed
packages or avian itself), and every piece is capped so prompts stay small.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import sysconfig
import textwrap
import types
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["called_sources", "error_context", "handler_source", "is_user_code"]

MAX_SOURCE_CHARS = 4000
"""One function's source is cut beyond this (a huge handler still costs a bounded prompt)."""


@functools.cache
def _library_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    roots.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # avian itself
    return tuple(os.path.abspath(r) + os.sep for r in roots)


def is_user_code(filename: str | None) -> bool:
    """True for the application's files (not the stdlib, site-packages or avian)."""
    if not filename or filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    # A project inside a virtualenv lives outside the venv's prefix; site-packages does not.
    if os.sep + "site-packages" + os.sep in path or os.sep + "dist-packages" + os.sep in path:
        return False
    return not path.startswith(_library_roots())


def _target(fn: Any) -> Any:
    fn = inspect.unwrap(fn)
    while isinstance(fn, functools.partial):
        fn = fn.func
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    return fn


def handler_source(fn: Callable[..., Any]) -> str:
    """The handler's source, dedented and capped; ``""`` when it cannot be read."""
    try:
        source = textwrap.dedent(inspect.getsource(_target(fn)))
    except (OSError, TypeError):
        return ""
    return source[:MAX_SOURCE_CHARS]


def _referenced(fn: Any) -> Iterator[Any]:
    """Objects a function's code names, looked up in its globals and closure."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    names: list[str] = []
    stack = [code]
    while stack:
        current = stack.pop()
        names.extend(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    scope = dict(getattr(fn, "__globals__", {}))
    for cell_name, cell in zip(code.co_freevars, fn.__closure__ or (), strict=False):
        try:
            scope[cell_name] = cell.cell_contents
        except ValueError:
            continue
    seen: set[str] = set()
    for name in names:
        if name in seen or name not in scope:
            continue
        seen.add(name)
        yield scope[name]


def called_sources(
    fn: Callable[..., Any], *, depth: int = 2, limit: int = 6
) -> list[tuple[str, str]]:
    """``(qualified name, source)`` of the user functions and classes ``fn`` refers to,
    following calls ``depth`` levels deep, at most ``limit`` of them."""
    found: list[tuple[str, str]] = []
    visited: set[int] = {id(_target(fn))}
    frontier = [_target(fn)]
    for _ in range(depth):
        next_frontier: list[Any] = []
        for current in frontier:
            for obj in _referenced(current):
                obj = _target(obj)
                if id(obj) in visited or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                    continue
                visited.add(id(obj))
                try:
                    filename = inspect.getsourcefile(obj)
                except TypeError:
                    continue
                if not is_user_code(filename):
                    continue
                try:
                    source = textwrap.dedent(inspect.getsource(obj))[:MAX_SOURCE_CHARS]
                except (OSError, TypeError):
                    continue
                found.append((f"{obj.__module__}.{obj.__qualname__}", source))
                if len(found) >= limit:
                    return found
                if inspect.isfunction(obj):
                    next_frontier.append(obj)
        frontier = next_frontier
    return found


def error_context(exc: BaseException, *, radius: int = 4, max_frames: int = 4) -> str:
    """The application frames of a traceback, innermost last: each with its location and
    numbered source lines around the failing line (``>`` marks it)."""
    frames = [
        (frame, lineno)
        for frame, lineno in _walk_tb(exc.__traceback__)
        if is_user_code(frame.f_code.co_filename)
    ][-max_frames:]
    parts: list[str] = []
    for frame, lineno in frames:
        code = frame.f_code
        parts.append(f"File {os.path.basename(code.co_filename)}, line {lineno}, in {code.co_name}")
        try:
            lines, start = inspect.getsourcelines(code)
        except (OSError, TypeError):
            continue
        lo = max(lineno - radius, start)
        hi = min(lineno + radius, start + len(lines) - 1)
        for n in range(lo, hi + 1):
            mark = ">" if n == lineno else " "
            parts.append(f"{mark}{n:5d} | {lines[n - start].rstrip()}")
    return "\n".join(parts)[: MAX_SOURCE_CHARS * 2]


def _walk_tb(tb: types.TracebackType | None) -> Iterator[tuple[types.FrameType, int]]:
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
