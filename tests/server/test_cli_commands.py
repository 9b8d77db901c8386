"""The `avian` command: help, version, `avian routes` and entry resolution (CFG-02)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from server_helpers import APPS
from tests.support.processes import run_avian

import avian

pytestmark = pytest.mark.e2e


def avian_cli(
    *args: str, cwd: Path = APPS, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_avian(*args, cwd=cwd, env=env, timeout=30)


def test_version_and_help() -> None:
    version = avian_cli("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"avian {avian.__version__}")
    top = avian_cli("--help")
    assert top.returncode == 0
    assert "run" in top.stdout
    assert "routes" in top.stdout
    run_help = avian_cli("run", "--help")
    for flag in (
        "--port",
        "--uds",
        "--ssl-certfile",
        "--workers",
        "--reload",
        "--dev",
        "--graceful-timeout",
    ):
        assert flag in run_help.stdout
    bare = avian_cli()
    assert bare.returncode == 2
    assert "usage: avian" in bare.stderr


EXPECTED_TABLE = """\
METHOD  PATH       NAME      HANDLER
GET     /          home      avian_app.home
GET     /debug     debug     avian_app.debug
GET     /slow      slow      avian_app.slow
POST    /shutdown  shutdown  avian_app.shutdown
*       /anything  anything  avian_app.anything
WS      /echo      echo      avian_app.echo
MOUNT   /legacy    -         basic.app
"""


def test_routes_prints_an_aligned_table() -> None:
    result = avian_cli("routes", "avian_app:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == EXPECTED_TABLE


def test_routes_json() -> None:
    result = avian_cli("routes", "avian_app", "--json")  # a bare module means module:app
    assert result.returncode == 0, result.stderr
    routes = json.loads(result.stdout)
    assert routes[0] == {
        "methods": ["GET"],
        "path": "/",
        "name": "home",
        "handler": "avian_app.home",
        "kind": "http",
    }
    assert [(r["methods"], r["kind"]) for r in routes[4:]] == [
        ([], "http"),
        ([], "websocket"),
        ([], "mount"),
    ]


def test_routes_of_something_that_is_not_an_app() -> None:
    result = avian_cli("routes", "basic:app")
    assert result.returncode == 2
    assert (
        result.stderr
        == "avian: error: basic:app is not an avian App: it has no describe_routes()\n"
    )


def write_app(directory: Path, module: str, path: str, attr: str = "app") -> None:
    """A module whose App has a single route named after where it was found."""
    (directory / f"{module}.py").write_text(
        textwrap.dedent(f"""
            from avian import App

            {attr} = App()

            @{attr}.get("{path}")
            async def handler(ctx):
                return "ok"
        """)
    )


def routes_in(directory: Path, env: dict[str, str] | None = None) -> list[str]:
    result = avian_cli("routes", "--json", cwd=directory, env=env)
    assert result.returncode == 0, result.stderr
    return [route["path"] for route in json.loads(result.stdout)]


def test_entry_resolution_order(tmp_path: Path) -> None:
    write_app(tmp_path, "server", "/from-server-py")
    write_app(tmp_path, "main", "/from-main-py")
    (tmp_path / "app.py").write_text("application = None  # no `app` here, so it is skipped\n")
    assert routes_in(tmp_path) == ["/from-main-py"]

    write_app(tmp_path, "envapp", "/from-env", attr="api")
    assert routes_in(tmp_path, env={"AVIAN_APP": "envapp:api"}) == ["/from-env"]

    write_app(tmp_path, "service", "/from-pyproject", attr="api")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.avian]\napp = "service:api"\n'
    )
    assert routes_in(tmp_path, env={"AVIAN_APP": "envapp:api"}) == ["/from-pyproject"]

    # the argument beats everything
    explicit = avian_cli("routes", "server", "--json", cwd=tmp_path)
    assert [r["path"] for r in json.loads(explicit.stdout)] == ["/from-server-py"]


def test_app_dir_and_file_paths(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_app(project, "app", "/in-project")
    result = avian_cli("routes", "--app-dir", str(project), "--json", cwd=tmp_path)
    assert [r["path"] for r in json.loads(result.stdout)] == ["/in-project"]
    by_path = avian_cli("routes", "project/app.py", "--json", cwd=tmp_path)
    assert [r["path"] for r in json.loads(by_path.stdout)] == ["/in-project"]


@pytest.mark.parametrize(
    ("files", "spec", "message"),
    [
        (
            {},
            None,
            "avian: error: no app to load: pass MODULE:APP, set [tool.avian] app in pyproject.toml",
        ),
        (
            {},
            "missing:app",
            "avian: error: could not import module 'missing' (not found on sys.path)",
        ),
        ({"mod.py": "x = 1\n"}, "mod:app", "avian: error: module 'mod' has no attribute 'app'"),
        (
            {"mod.py": "def broken(:\n"},
            "mod",
            "avian: error: error while importing 'mod': SyntaxError:",
        ),
        (
            {"mod.py": "import not_installed_pkg\n"},
            "mod",
            "avian: error: error while importing 'mod': ModuleNotFoundError",
        ),
        ({"pyproject.toml": "[tool.avian]\napp = 3\n"}, None, "avian: error: [tool.avian] app in"),
    ],
)
def test_loading_errors_are_one_line_and_exit_2(
    tmp_path: Path, files: dict[str, str], spec: str | None, message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for command in ("routes", "run"):
        result = avian_cli(command, *([spec] if spec else []), cwd=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith(message)
        assert result.stderr.count("\n") == 1
