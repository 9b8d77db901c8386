"""``avian docs``: the app's OpenAPI document from the command line.

``avian docs export [MODULE:APP] [--format json|yaml] [--out FILE] [--check]`` writes the
document (to standard output without ``--out``).  ``--check`` writes nothing: it exits 1,
with a summary of what changed, when ``FILE`` is missing or differs from what the app
generates now, so CI can fail on a stale committed document.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from .loader import add_app_arguments, load_app

__all__ = ["add_parser", "export", "summarise_changes"]

DEFAULT_OUT = "openapi.json"
_DIFF_LINES = 40


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``avian docs`` and its ``export`` subcommand."""
    parser = subparsers.add_parser(
        "docs",
        help="export or check the OpenAPI document",
        description="Work with the app's OpenAPI 3.1 document.",
    )
    commands = parser.add_subparsers(title="docs commands", metavar="COMMAND", dest="docs_command")
    exporter = commands.add_parser(
        "export",
        help="write the OpenAPI document (JSON or YAML)",
        description=(
            "Write the app's OpenAPI document.  With --check, write nothing and exit 1 when "
            "the file is missing or stale."
        ),
    )
    add_app_arguments(exporter)
    exporter.add_argument(
        "--format",
        choices=("json", "yaml"),
        default=None,
        help="output format (default: from --out's extension, else json)",
    )
    exporter.add_argument(
        "--out", default=None, metavar="FILE", help="write to FILE instead of standard output"
    )
    exporter.add_argument(
        "--check",
        action="store_true",
        help=f"compare with FILE (default {DEFAULT_OUT}) instead of writing; exit 1 if stale",
    )
    _add_llm_arguments(exporter)
    exporter.set_defaults(handler=export)

    on_push = commands.add_parser(
        "on-push",
        help="regenerate the document from a git pre-push hook",
        description=(
            "For a git pre-push hook: reads the refs being pushed on standard input and "
            "regenerates --out only when the production branch is pushed (te.js "
            "docs:on-push).  Exits 1 when the regenerated file differs from the committed "
            "one, so the push stops until it is committed."
        ),
    )
    add_app_arguments(on_push)
    on_push.add_argument("--out", default=DEFAULT_OUT, metavar="FILE")
    on_push.add_argument("--format", choices=("json", "yaml"), default=None)
    on_push.add_argument(
        "--branch",
        default=os.environ.get("AVIAN_DOCS_BRANCH", "main"),
        help="the production branch (default: main, or AVIAN_DOCS_BRANCH)",
    )
    _add_llm_arguments(on_push)
    on_push.set_defaults(handler=on_push_hook)

    preview = commands.add_parser(
        "preview",
        help="serve the app's docs UI locally",
        description="Serve the app (and its docs pages) on 127.0.0.1 to preview the docs.",
    )
    add_app_arguments(preview)
    preview.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("DOCS_PORT", "3333")),
        help="port (default: 3333, or DOCS_PORT)",
    )
    _add_llm_arguments(preview)
    preview.set_defaults(handler=preview_docs)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm-level",
        type=int,
        choices=(0, 1, 2, 3),
        default=0,
        help="fill undocumented operations with an LLM: 1 handler source, 2 plus what it "
        "calls, 3 plus tag order and an overview (default 0: off; endpoint from LLM_BASE_URL"
        "/LLM_API_KEY/LLM_MODEL)",
    )
    parser.add_argument(
        "--llm-cache",
        default=None,
        metavar="FILE",
        help="answers cache (default .avian/llm-docs-cache.json)",
    )
    parser.add_argument(
        "--overview",
        default="API_OVERVIEW.md",
        metavar="FILE",
        help="where level 3 writes its overview (default API_OVERVIEW.md)",
    )
    parser.add_argument(
        "--ci",
        action="store_true",
        help="never call the LLM: use only cached answers (deterministic in CI)",
    )


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _format_for(args: argparse.Namespace, out: str | None) -> str:
    if args.format:
        return str(args.format)
    if out and Path(out).suffix.lower() in (".yaml", ".yml"):
        return "yaml"
    return "json"


def export(args: argparse.Namespace) -> int:
    """Run ``avian docs export``."""
    from ..openapi import build_openapi
    from ..openapi.serialise import document_text

    out: str | None = args.out or (DEFAULT_OUT if args.check else None)
    fmt = _format_for(args, out)
    spec, app = load_app(args.app, Path(args.app_dir))
    if not hasattr(app, "openapi_options"):
        raise ConfigurationError(f"{spec} is not an avian App")
    document = _enhanced(app, build_openapi(app), args, write_overview=not args.check)
    text = document_text(document, fmt)
    if args.check:
        assert out is not None
        return _check(Path(out), text, document, fmt)
    if out is None:
        sys.stdout.write(text)
        return 0
    Path(out).write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(document.get('paths', {}))} paths)", file=sys.stderr)
    return 0


def _enhanced(
    app: Any, document: dict[str, Any], args: argparse.Namespace, *, write_overview: bool
) -> dict[str, Any]:
    """The document, with LLM-written gaps when ``--llm-level`` asks for them."""
    level = getattr(args, "llm_level", 0)
    if not level:
        return document
    import asyncio

    from ..llm.config import LLMConfig
    from ..llm.docs import DEFAULT_CACHE_PATH, enhance_openapi

    config = LLMConfig.resolve()
    result = asyncio.run(
        enhance_openapi(
            app,
            document,
            level=level,
            config=config,
            cache_path=args.llm_cache or DEFAULT_CACHE_PATH,
            offline=args.ci or not config.configured,
        )
    )
    if result.failed:
        print(
            f"LLM: left {len(result.failed)} operation(s) as they were: "
            + ", ".join(result.failed[:5]),
            file=sys.stderr,
        )
    print(f"LLM: asked {result.asked}, from cache {result.cached}", file=sys.stderr)
    if result.overview is not None and write_overview and args.overview:
        Path(args.overview).write_text(result.overview.rstrip() + "\n", encoding="utf-8")
        print(f"wrote {args.overview}", file=sys.stderr)
    return result.document


def pushed_branches(lines: list[str]) -> set[str]:
    """Branch names a git pre-push hook's standard input pushes to
    (``<local ref> <local sha> <remote ref> <remote sha>`` per line)."""
    branches: set[str] = set()
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and parts[2].startswith("refs/heads/"):
            branches.add(parts[2].removeprefix("refs/heads/"))
    return branches


def on_push_hook(args: argparse.Namespace) -> int:
    """Run ``avian docs on-push`` (git pre-push hook)."""
    from ..openapi import build_openapi
    from ..openapi.serialise import document_text

    if args.branch not in pushed_branches(sys.stdin.read().splitlines()):
        return 0
    out = Path(args.out)
    fmt = _format_for(args, args.out)
    _spec, app = load_app(args.app, Path(args.app_dir))
    document = _enhanced(app, build_openapi(app), args, write_overview=True)
    text = document_text(document, fmt)
    if out.is_file() and out.read_text(encoding="utf-8") == text:
        return 0
    out.write_text(text, encoding="utf-8")
    print(
        f"{out} was regenerated for {args.branch}: commit it, then push again",
        file=sys.stderr,
    )
    return 1


def preview_docs(args: argparse.Namespace) -> int:
    """Run ``avian docs preview``: serve the app, with the (enhanced) document, locally."""
    from ..openapi import build_openapi
    from ..openapi.document import prime_document
    from ..server import serve

    _spec, app = load_app(args.app, Path(args.app_dir))
    if not hasattr(app, "openapi_options"):
        raise ConfigurationError(f"{_spec} is not an avian App")
    prime_document(app, _enhanced(app, build_openapi(app), args, write_overview=True))
    print(f"docs preview on http://127.0.0.1:{args.port}/docs", file=sys.stderr)
    serve(app, host="127.0.0.1", port=args.port)
    return 0


def _check(path: Path, text: str, document: dict[str, Any], fmt: str) -> int:
    if not path.is_file():
        print(f"{path} does not exist: run `avian docs export --out {path}`", file=sys.stderr)
        return 1
    committed_text = path.read_text(encoding="utf-8")
    if committed_text == text:
        print(f"{path} is up to date", file=sys.stderr)
        return 0
    committed = _parse(committed_text, fmt)
    lines = [f"{path} is stale: run `avian docs export --out {path}` and commit it"]
    if committed is None:
        lines.append(f"  (the file is not valid {fmt.upper()})")
    else:
        lines.extend(f"  {line}" for line in summarise_changes(committed, document))
    diff = list(
        difflib.unified_diff(
            committed_text.splitlines(),
            text.splitlines(),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (generated)",
            lineterm="",
        )
    )
    lines.extend(diff[:_DIFF_LINES])
    if len(diff) > _DIFF_LINES:
        lines.append(f"... {len(diff) - _DIFF_LINES} more diff lines")
    print("\n".join(lines), file=sys.stderr)
    return 1


def _parse(text: str, fmt: str) -> Any:
    try:
        if fmt == "yaml":
            try:
                import yaml  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                return None
            return yaml.safe_load(text)
        return json.loads(text)
    except Exception:
        return None


def summarise_changes(old: Any, new: Mapping[str, Any]) -> list[str]:
    """One line per added, removed or changed operation, schema and top-level section."""
    if not isinstance(old, Mapping):
        return ["the committed file is not an OpenAPI document"]
    changes = _entry_changes("operation", _operations(old), _operations(new))
    changes += _entry_changes("schema", _section(old, "schemas"), _section(new, "schemas"))
    for key in sorted((old.keys() | new.keys()) - {"paths", "components"}):
        if old.get(key) != new.get(key):
            changes.append(f"changed {key}")
    if _section(old, "securitySchemes") != _section(new, "securitySchemes"):
        changes.append("changed securitySchemes")
    return changes or ["formatting differs (same content)"]


def _entry_changes(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``added/removed/changed <kind> <key>`` lines, each group in key order."""
    changes = [f"added {kind} {key}" for key in sorted(new.keys() - old.keys())]
    changes += [f"removed {kind} {key}" for key in sorted(old.keys() - new.keys())]
    changes += [
        f"changed {kind} {key}" for key in sorted(old.keys() & new.keys()) if old[key] != new[key]
    ]
    return changes


def _operations(document: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return found
    for path, item in paths.items():
        if isinstance(item, Mapping):
            for method, operation in item.items():
                found[f"{str(method).upper()} {path}"] = operation
    return found


def _section(document: Mapping[str, Any], name: str) -> dict[str, Any]:
    components = document.get("components")
    if not isinstance(components, Mapping):
        return {}
    section = components.get(name)
    return dict(section) if isinstance(section, Mapping) else {}
