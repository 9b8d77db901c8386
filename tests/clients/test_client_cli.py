"""``avian client generate``: from an app or a saved document, to a file, a directory or
stdout, with ``--check`` for CI, and one-line errors (exit 2) for bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from client_tools import ROOT, SPEC_PATH, load_spec
from tests.support.processes import run_avian

from avian.cli.main import main
from avian.clients import generate_client


def test_spec_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sdk" / "zoo.py"  # missing directories are created
    assert (
        main(["client", "generate", "--spec", str(SPEC_PATH), "--lang", "python", "-o", str(out)])
        == 0
    )
    assert out.read_text() == generate_client(load_spec(), "python")
    assert f"wrote python client to {out}" in capsys.readouterr().err
    assert out.stat().st_mode & 0o777 == 0o644


def test_spec_to_a_directory_and_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["client", "generate", "--spec", str(SPEC_PATH), "-l", "ts", "-o", str(tmp_path)]) == 0
    )
    assert (tmp_path / "client.ts").read_text() == generate_client(load_spec(), "typescript")
    capsys.readouterr()
    assert main(["client", "generate", "--spec", str(SPEC_PATH), "--lang", "TypeScript"]) == 0
    assert capsys.readouterr().out == generate_client(load_spec(), "typescript")


def test_yaml_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(yaml.safe_dump(load_spec(), sort_keys=False))
    assert main(["client", "generate", "--spec", str(spec), "--lang", "py"]) == 0
    assert capsys.readouterr().out == generate_client(load_spec(), "python")


def test_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "client.py"
    args = ["client", "generate", "--spec", str(SPEC_PATH), "--lang", "python", "--out", str(out)]
    assert main([*args, "--check"]) == 1  # nothing there yet
    assert "out of date" in capsys.readouterr().err
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    assert "is up to date" in capsys.readouterr().err
    out.write_text(out.read_text() + "# edited\n")
    assert main([*args, "--check"]) == 1
    assert out.read_text().endswith("# edited\n")  # --check never writes
    no_out = ["client", "generate", "--spec", str(SPEC_PATH), "--lang", "python", "--check"]
    assert main(no_out) == 2
    assert "--check needs --out" in capsys.readouterr().err


def test_from_an_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.clients.zoo_app import app

    from avian.openapi import build_openapi

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the loader may add the app directory
    out = tmp_path / "client.ts"
    assert (
        main(["client", "generate", "tests.clients.zoo_app:app", "--lang", "ts", "-o", str(out)])
        == 0
    )
    assert out.read_text() == generate_client(build_openapi(app), "typescript")
    assert "export class ApiClient" in out.read_text()


def test_console_script_runs_it(tmp_path: Path) -> None:
    out = tmp_path / "client.py"
    done = run_avian(
        "client", "generate", "--spec", str(SPEC_PATH), "--lang", "python", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == generate_client(load_spec(), "python")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "does not hold an OpenAPI document"),
        (json.dumps({"swagger": "2.0"}), "expected an OpenAPI 3.x document"),
    ],
)
def test_bad_documents_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(content)
    assert main(["client", "generate", "--spec", str(spec), "--lang", "python"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("avian: error:")
    assert message in err
    assert err.count("\n") == 1


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["client", "generate", "--spec", str(missing), "--lang", "python"]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err
    both = ["client", "generate", "tests.clients.zoo_app:app", "--spec", str(SPEC_PATH), "-l", "py"]
    assert main(both) == 2
    assert "either MODULE:APP or --spec" in capsys.readouterr().err
    with pytest.raises(SystemExit) as unknown:
        main(["client", "generate", "--spec", str(SPEC_PATH), "--lang", "go"])
    assert unknown.value.code == 2
    assert "invalid choice: 'go'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["client", "generate", "--spec", str(SPEC_PATH)])  # --lang is required
    assert "--lang" in capsys.readouterr().err
    assert main(["client"]) == 2
    assert "generate" in capsys.readouterr().err


def test_something_that_is_not_an_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other_asgi.py").write_text("async def app(scope, receive, send):\n    pass\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    args = ["client", "generate", "other_asgi:app", "--app-dir", str(tmp_path), "-l", "py"]
    assert main(args) == 2
    assert "other_asgi:app is not an avian App; use --spec" in capsys.readouterr().err
