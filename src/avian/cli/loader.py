"""Which app a command acts on: entry resolution (CFG-02) and loading.

Order: the ``module:attr`` argument -> ``[tool.avian] app`` in ``pyproject.toml`` ->
the ``AVIAN_APP`` environment variable -> the first of ``app.py``, ``main.py``,
``server.py`` in the app directory that defines ``app``.  A bare ``module`` means
``module:app``; a file path (``src/site.py``) imports that file's directory and stem.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..server import import_app

__all__ = ["ENTRY_FILES", "add_app_arguments", "load_app", "resolve_app_spec"]

ENTRY_FILES = ("app.py", "main.py", "server.py")
"""Files tried, in order, when no app is named anywhere."""
DEFAULT_APP_HELP = "the app (default: [tool.avian] app, $AVIAN_APP, then app.py/main.py/server.py)"


def add_app_arguments(
    parser: argparse._ActionsContainer,
    *,
    help: str = DEFAULT_APP_HELP,
    option: bool = False,
) -> None:
    """Add what every command that loads an app takes: ``MODULE:APP`` (an optional
    positional, or ``--app`` with ``option``) and ``--app-dir``; read them back with
    ``load_app(args.app, Path(args.app_dir))``."""
    if option:
        parser.add_argument("--app", default=None, metavar="MODULE:APP", help=help)
    else:
        parser.add_argument("app", nargs="?", default=None, metavar="MODULE:APP", help=help)
    parser.add_argument(
        "--app-dir", default=".", help="directory to import the app from (default: .)"
    )


def resolve_app_spec(spec: str | None, app_dir: Path) -> str:
    """The ``"module:attr"`` to load, with its directory put first on ``sys.path``."""
    app_dir = app_dir.resolve()
    if not app_dir.is_dir():
        raise ConfigurationError(f"app directory {str(app_dir)!r} does not exist")
    _add_to_sys_path(app_dir)
    for candidate in _named_entries(spec, app_dir):
        if candidate and candidate.strip():
            return _normalise(candidate.strip(), app_dir)
    for name in ENTRY_FILES:
        path = app_dir / name
        if path.is_file() and _defines_app(path):
            return f"{path.stem}:app"
    raise ConfigurationError(
        "no app to load: pass MODULE:APP, set [tool.avian] app in pyproject.toml, set AVIAN_APP, "
        f"or define `app` in one of {', '.join(ENTRY_FILES)} in {app_dir}"
    )


def _named_entries(spec: str | None, app_dir: Path) -> Iterator[str | None]:
    yield spec  # lazily, so a broken pyproject.toml only matters when it is consulted
    yield _from_pyproject(app_dir / "pyproject.toml")
    yield os.environ.get("AVIAN_APP")


def load_app(spec: str | None, app_dir: Path) -> tuple[str, Any]:
    """Resolve and import the app: ``(import string, app object)``."""
    resolved = resolve_app_spec(spec, app_dir)
    return resolved, import_app(resolved)


def _normalise(spec: str, app_dir: Path) -> str:
    module, _, attr = spec.partition(":")
    if module.endswith(".py") or os.sep in module or "/" in module:
        path = (app_dir / module).resolve()
        if not path.is_file():
            raise ConfigurationError(f"app file {module!r} does not exist")
        _add_to_sys_path(path.parent)
        module = path.stem
    return f"{module}:{attr or 'app'}"


def _from_pyproject(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    value = data.get("tool", {}).get("avian", {}).get("app")
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"[tool.avian] app in {path} must be a string like 'module:app'")
    return value


def _defines_app(path: Path) -> bool:
    """Whether a module binds the name ``app`` at top level, judged without running it."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError:
        return True  # importing it will report the error clearly
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "app" for t in targets):
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any((alias.asname or alias.name.split(".")[0]) == "app" for alias in node.names):
                return True
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == "app":
                return True
        elif isinstance(node, ast.If | ast.Try | ast.With):
            pending.extend(node.body)
            pending.extend(getattr(node, "orelse", []))
            pending.extend(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                pending.extend(handler.body)
    return False


def _add_to_sys_path(directory: Path) -> None:
    entry = str(directory)
    if entry not in sys.path:
        sys.path.insert(0, entry)
