"""``avian routes``: print an app's route table (plain columns or JSON)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .loader import add_app_arguments, load_app

__all__ = ["add_parser", "format_table", "route_rows", "run"]

_COLUMNS = ("METHOD", "PATH", "NAME", "HANDLER")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``avian routes``."""
    parser = subparsers.add_parser(
        "routes",
        help="print the route table",
        description="Print every route of an avian App: method, path, name and handler.",
    )
    add_app_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the app, ask it for its routes (compiling them if needed) and print them."""
    spec, app = load_app(args.app, Path(args.app_dir))
    describe = getattr(app, "describe_routes", None)
    if not callable(describe):
        raise ConfigurationError(f"{spec} is not an avian App: it has no describe_routes()")
    routes = list(describe())
    if args.json:
        print(json.dumps([_as_json(route) for route in routes], indent=2))
    else:
        sys.stdout.write(format_table(route_rows(routes)))
    return 0


def method_label(route: Any) -> str:
    """``GET,HEAD``; ``*`` for any method, ``WS`` for websockets, ``MOUNT`` for mounts."""
    kind = getattr(route, "kind", "http")
    if kind == "websocket":
        return "WS"
    if kind == "mount":
        return "MOUNT"
    methods = tuple(getattr(route, "methods", ()) or ())
    return ",".join(methods) if methods else "*"


def route_rows(routes: Iterable[Any]) -> list[tuple[str, str, str, str]]:
    """One ``(METHOD, PATH, NAME, HANDLER)`` row per route; ``-`` for a missing name."""
    return [
        (
            method_label(r),
            str(r.path),
            getattr(r, "name", None) or "-",
            str(getattr(r, "handler", "")),
        )
        for r in routes
    ]


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    """Left-aligned columns separated by two spaces, with a header line."""
    table = [_COLUMNS, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in table
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _as_json(route: Any) -> dict[str, Any]:
    return {
        "methods": list(getattr(route, "methods", ()) or ()),
        "path": route.path,
        "name": getattr(route, "name", None),
        "handler": getattr(route, "handler", None),
        "kind": getattr(route, "kind", "http"),
    }
