"""``avian client generate``: write a typed Python or TypeScript client for an app's API.

The API comes from the app's OpenAPI document (built by :mod:`avian.openapi`) or from a
saved document (``--spec openapi.json``).  ``--check`` turns it into a CI gate that fails
when the committed client no longer matches the API.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .loader import DEFAULT_APP_HELP, add_app_arguments, load_app

__all__ = ["add_parser", "load_document", "run_generate"]

_DEFAULT_FILES = {"python": "client.py", "typescript": "client.ts"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``avian client`` and its ``generate`` subcommand."""
    parser = subparsers.add_parser(
        "client",
        help="generate typed API clients",
        description="Generate typed API clients from an app's OpenAPI document.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="client_action")
    generate = actions.add_parser(
        "generate",
        help="write a Python or TypeScript client",
        description=(
            "Write a typed client for an app's API: Python (httpx, sync and async) or "
            "TypeScript (fetch, no dependencies)."
        ),
    )
    add_app_arguments(generate, help=f"{DEFAULT_APP_HELP}; not needed with --spec")
    generate.add_argument(
        "--lang",
        "-l",
        required=True,
        type=str.lower,
        choices=("python", "py", "typescript", "ts"),
        help="the client's language",
    )
    generate.add_argument(
        "--out",
        "-o",
        default="-",
        help="file to write (a directory gets client.py / client.ts; default: stdout)",
    )
    generate.add_argument(
        "--spec",
        default=None,
        metavar="FILE",
        help="read the OpenAPI document from FILE (JSON, or YAML with PyYAML) instead of an app",
    )
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if --out differs from what would be generated",
    )
    generate.set_defaults(handler=run_generate)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def run_generate(args: argparse.Namespace) -> int:
    """Generate the client and write it (or compare it, with ``--check``)."""
    from ..clients import LANGUAGES, generate_client

    language = LANGUAGES[args.lang]
    document = load_document(args.app, args.spec, Path(args.app_dir))
    source = generate_client(document, language)
    target = _target(args.out, language)
    if args.check:
        if target is None:
            raise ConfigurationError("--check needs --out: the file to compare with")
        current = target.read_text("utf-8") if target.is_file() else None
        if current != source:
            print(f"avian: {target} is out of date; run `avian client generate`", file=sys.stderr)
            return 1
        print(f"{target} is up to date", file=sys.stderr)
        return 0
    if target is None:
        sys.stdout.write(source)
        return 0
    _write_atomically(target, source)
    print(f"wrote {language} client to {target}", file=sys.stderr)
    return 0


def load_document(app_spec: str | None, spec_file: str | None, app_dir: Path) -> dict[str, Any]:
    """The OpenAPI document: read from ``spec_file``, or built from the app."""
    if spec_file is not None:
        if app_spec is not None:
            raise ConfigurationError("give either MODULE:APP or --spec, not both")
        return _read_spec(Path(spec_file))
    from ..openapi import build_openapi

    spec, app = load_app(app_spec, app_dir)
    if not callable(getattr(app, "describe_routes", None)):
        raise ConfigurationError(f"{spec} is not an avian App; use --spec for other apps")
    document = build_openapi(app)
    if not isinstance(document, dict):
        raise ConfigurationError("the app's OpenAPI document is not a JSON object")
    return document


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror or exc}") from None
    data: Any
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped,unused-ignore]
        except ImportError:
            raise ConfigurationError(
                f"reading {path.name} needs PyYAML: pip install 'avian[yaml]'"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path} is not valid YAML: {exc}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path} does not hold an OpenAPI document (a JSON object)")
    return data


def _target(out: str, language: str) -> Path | None:
    if out == "-":
        return None
    path = Path(out)
    if path.is_dir() or out.endswith(("/", os.sep)):
        path = path / _DEFAULT_FILES[language]
    return path


def _write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; a client is ordinary source
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
