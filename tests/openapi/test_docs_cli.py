"""``avian docs export``: JSON and YAML files, standard output, and ``--check``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.openapi.apps import sample
from tests.support.processes import run_avian

from avian.openapi import build_openapi
from avian.openapi.serialise import document_text

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "tests.openapi.apps.sample:app"


def avian_docs(*args: str) -> subprocess.CompletedProcess[str]:
    return run_avian("docs", *args)


def test_export_writes_json_and_yaml(tmp_path: Path) -> None:
    expected = json.loads(json.dumps(build_openapi(sample.app)))
    out = tmp_path / "openapi.json"
    result = avian_docs("export", SAMPLE, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stderr
    assert json.loads(out.read_text()) == expected
    assert out.read_text() == document_text(build_openapi(sample.app), "json")

    as_yaml = tmp_path / "api.yml"
    assert avian_docs("export", SAMPLE, "--out", str(as_yaml)).returncode == 0
    assert yaml.safe_load(as_yaml.read_text()) == expected

    printed = avian_docs("export", SAMPLE, "--format", "yaml")
    assert printed.returncode == 0
    assert yaml.safe_load(printed.stdout) == expected
    assert json.loads(avian_docs("export", SAMPLE).stdout) == expected


def test_check_passes_on_a_fresh_file_and_fails_on_a_stale_one(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    missing = avian_docs("export", SAMPLE, "--out", str(out), "--check")
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr

    assert avian_docs("export", SAMPLE, "--out", str(out)).returncode == 0
    fresh = avian_docs("export", SAMPLE, "--out", str(out), "--check")
    assert (fresh.returncode, fresh.stderr.strip()) == (0, f"{out} is up to date")

    stale = json.loads(out.read_text())
    del stale["paths"]["/plain"]
    stale["paths"]["/old"] = {"get": {"responses": {"200": {"description": "x"}}}}
    stale["paths"]["/items"]["get"]["summary"] = "Old summary"
    del stale["components"]["schemas"]["Item"]
    stale["info"]["version"] = "0.0.1"
    out.write_text(json.dumps(stale, indent=2) + "\n")
    result = avian_docs("export", SAMPLE, "--out", str(out), "--check")
    assert result.returncode == 1
    for line in (
        "is stale",
        "added operation GET /plain",
        "removed operation GET /old",
        "changed operation GET /items",
        "added schema Item",
        "changed info",
        "--- ",
    ):
        assert line in result.stderr
    assert out.read_text() == json.dumps(stale, indent=2) + "\n"  # --check writes nothing


def test_check_reads_yaml_and_reports_unparsable_files(tmp_path: Path) -> None:
    out = tmp_path / "openapi.yaml"
    assert avian_docs("export", SAMPLE, "--out", str(out)).returncode == 0
    assert avian_docs("export", SAMPLE, "--out", str(out), "--check").returncode == 0
    out.write_text("openapi: [unclosed\n")
    broken = avian_docs("export", SAMPLE, "--out", str(out), "--check")
    assert broken.returncode == 1
    assert "not valid YAML" in broken.stderr


def test_check_defaults_to_openapi_json_and_formatting_only_changes(tmp_path: Path) -> None:
    document = build_openapi(sample.app)
    default = ROOT / "openapi.json"
    assert not default.exists()
    result = avian_docs("export", SAMPLE, "--check")
    assert result.returncode == 1
    assert "openapi.json does not exist" in result.stderr
    out = tmp_path / "compact.json"
    out.write_text(json.dumps(document))
    compact = avian_docs("export", SAMPLE, "--out", str(out), "--check")
    assert compact.returncode == 1
    assert "formatting differs (same content)" in compact.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("export", "nope_module:app"), 2, "avian: error:"),
        (("export", "tests.openapi.apps.clash_a:Thing"), 2, "is not an avian App"),
        ((), 2, "usage:"),
    ],
)
def test_usage_and_loading_errors(args: tuple[str, ...], status: int, message: str) -> None:
    result = avian_docs(*args)
    assert result.returncode == status
    assert message in result.stderr
