"""The examples in docs/clients.md work: the Python blocks run against the sample app
(served by uvicorn) with its generated client importable as ``zoo_client``, and the
TypeScript blocks type-check against its generated TypeScript client.

A block preceded by ``<!-- not run by the docs test ... -->`` is skipped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client_tools import ROOT, TSC_FLAGS, run_tool, serve_zoo, tsc, write_client
from tests.clients.zoo_app import app as zoo_app

from avian.openapi import build_openapi

pytestmark = pytest.mark.e2e

PAGE = ROOT / "docs" / "clients.md"
EXAMPLE_URLS = ("https://api.example.com", "http://127.0.0.1:8000")
TS_HELPERS = """
declare function getToken(): Promise<string>;
declare function showIssues(issues: unknown[]): void;
declare function showTaken(): void;
"""


def blocks(language: str) -> list[str]:
    pattern = re.compile(rf"(<!-- not run[^>]*-->\n)?```{language}\n(.*?)```", re.DOTALL)
    return [code for skip, code in pattern.findall(PAGE.read_text("utf-8")) if not skip]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serve_zoo(tmp_path / "server.log") as url:
        yield url


def test_python_examples_run(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_client(tmp_path, "python", build_openapi(zoo_app), "zoo_client.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "zoo_client", raising=False)
    examples = blocks("python")
    assert len(examples) >= 4
    for code in examples:
        for url in EXAMPLE_URLS:
            code = code.replace(url, served)
        namespace: dict[str, Any] = {"token": "t0ken", "app": zoo_app, "__name__": "docs"}
        exec(compile(code, str(PAGE), "exec"), namespace)
    printed = capsys.readouterr().out
    assert "Health(status='ok', version='1.2.0')" in printed
    assert "body.name" in printed  # the ValidationError example listed the issue
    monkeypatch.delitem(sys.modules, "zoo_client", raising=False)


def test_typescript_examples_type_check(tmp_path: Path) -> None:
    write_client(tmp_path, "typescript", build_openapi(zoo_app), "client.ts")
    (tmp_path / "package.json").write_text('{"type": "module"}\n')
    names = []
    for index, code in enumerate(blocks("ts")):
        code = code.replace('"$lib/api"', '"./client.js"').replace('"./api"', '"./client.js"')
        name = f"example_{index}.ts"
        (tmp_path / name).write_text(TS_HELPERS + code + "\nexport {};\n")
        names.append(name)
    assert len(names) >= 3
    lenient = [f for f in TSC_FLAGS if f not in ("--noUnusedLocals", "--noUnusedParameters")]
    run_tool([str(tsc()), "--noEmit", *lenient, *names], tmp_path)
