"""``avian`` console script: a registry of subcommands sharing one argparse parser.

A subcommand is a module in :data:`COMMANDS` with an ``add_parser(subparsers)`` function;
that function adds the command's parser and sets ``handler=`` to a function taking the
parsed arguments and returning the exit status.  Adding ``docs``, ``client``, ``db`` or
``worker`` later means writing that module and listing it here.

Exit statuses: 0 success, 1 runtime failure (e.g. no free port), 2 usage or loading
error, 3 the app's startup hooks failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

from .. import __version__
from ..errors import AvianError, ConfigurationError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS: tuple[str, ...] = (
    "avian.cli.run",
    "avian.cli.routes",
    "avian.cli.docs",
    "avian.cli.client",
    "avian.cli.db",
)
"""Modules providing subcommands, in the order ``avian --help`` lists them."""

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The ``avian`` parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="avian",
        description="avian: a batteries-included async web framework.",
    )
    parser.add_argument("--version", action="version", version=f"avian {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for module_name in COMMANDS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``avian`` command with ``argv`` (default ``sys.argv[1:]``); return the status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = cast("Handler | None", getattr(args, "handler", None))
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except ConfigurationError as exc:
        return _fail(exc, 2)
    except AvianError as exc:  # e.g. BindError: the port range is taken
        return _fail(exc, 1)
    except KeyboardInterrupt:
        return 130


def _fail(exc: Exception, status: int) -> int:
    print(f"avian: error: {exc}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
