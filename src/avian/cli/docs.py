"""``avian docs``: (being built)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("docs", help="(being built)")
    parser.set_defaults(handler=lambda args: 2)
