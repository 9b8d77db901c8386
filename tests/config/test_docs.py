"""docs/configuration.md names every setting, and its code examples run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from avian.config import Settings, describe_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_variable_is_documented() -> None:
    text = DOC.read_text()
    missing = [
        info.env_name
        for info in describe_settings(Settings)
        if not info.is_block and f"`{info.env_name}`" not in text
    ]
    assert missing == []


def test_the_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file here
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 2
    for block in blocks:
        namespace: dict[str, object] = {"__name__": "docs_example"}
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
        assert namespace["app"].core.settings is namespace["settings"]  # type: ignore[attr-defined]


def test_the_env_file_example_loads(tmp_path: Path) -> None:
    from avian.config import load_settings

    text = DOC.read_text()
    example = re.search(r"```sh\n# \.env\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / ".env"
    path.write_text(example.group(1))
    settings = load_settings(env={}, env_file=path)
    assert settings.env == "production"
    assert settings.limits.max_body_size == 10 * 1024 * 1024
    assert settings.rate_limit.window == 60.0
