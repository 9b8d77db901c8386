"""Serving an exported (for example LLM-enhanced) document instead of generating one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from avian import App, ConfigurationError
from avian.openapi import OpenAPIConfig, build_openapi
from avian.testing import TestClient


def make_app(document_file: str | None) -> App:
    app = App(openapi=OpenAPIConfig(document_file=document_file))

    @app.get("/items/{id}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    return app


def test_the_exported_file_is_served(tmp_path: Path) -> None:
    exported = tmp_path / "openapi.json"
    document = build_openapi(make_app(None))
    document = json.loads(json.dumps(document))
    document["paths"]["/items/{id}"]["get"]["summary"] = "Fetch an item by id"
    exported.write_text(json.dumps(document))
    with TestClient(make_app(str(exported))) as client:
        served = client.get("/openapi.json").json()
        assert served["paths"]["/items/{id}"]["get"]["summary"] == "Fetch an item by id"
        assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("content", ["not json", '{"no": "openapi key"}'])
def test_a_bad_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    app = make_app(str(bad))
    with pytest.raises(ConfigurationError, match="document_file"):
        app._freeze()
