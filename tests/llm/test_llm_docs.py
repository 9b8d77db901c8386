"""LLM-enhanced OpenAPI documentation (DOC-02/03/04) against a real local fake endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_openai

from avian import App, ConfigurationError
from avian.llm import LLMConfig
from avian.llm.docs import enhance_openapi
from avian.openapi import build_openapi


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def reply(body: dict[str, Any]) -> dict[str, Any]:
    question = body["messages"][-1]["content"]
    if '"tags"' in question:  # the level-3 overview question
        return {
            "tag_order": ["orders", "ghost", "users"],
            "tag_descriptions": {"orders": "Placing and tracking orders."},
            "overview": "# Shop API\n\nOrders first.",
        }
    endpoint = question.splitlines()[0].removeprefix("Endpoint: ")
    return {"summary": f"Handle {endpoint}", "description": f"Generated for {endpoint}."}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai(reply) as server:
        yield server


def compute_total(items: list[int]) -> int:
    """Sums the order lines (shown to the model at level 2)."""
    return sum(items)


def make_app() -> App:
    app = App()
    users = app.group("/users", tags=["users"])
    orders = app.group("/orders", tags=["orders"])

    @users.get("/{id}")
    async def get_user(id: int) -> dict[str, int]:
        return {"id": id}

    @users.get("", summary="List users")
    async def list_users() -> list[str]:
        return []

    @orders.post("/total")
    async def order_total() -> dict[str, int]:
        return {"total": compute_total([1, 2])}

    @orders.get("/{id}")
    async def get_order(id: int) -> dict[str, int]:
        """Fetch one order.

        Returns the order with its lines.
        """
        return {"id": id}

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> str:
        return "x"

    return app


def enhance(app: App, fake: FakeOpenAI | None, tmp_path: Path, level: int = 1) -> Any:
    config = LLMConfig(base_url=fake.base_url, model="m1") if fake else LLMConfig()
    document = build_openapi(app)
    return document, asyncio.run(
        enhance_openapi(
            app, document, level=level, config=config, cache_path=tmp_path / "cache.json"
        )
    )


def test_level_1_fills_only_what_is_empty(fake: FakeOpenAI, tmp_path: Path) -> None:
    app = make_app()
    original, result = enhance(app, fake, tmp_path)
    paths = result.document["paths"]
    user = paths["/users/{id}"]["get"]
    assert user["summary"] == "Handle GET /users/{id}"
    assert user["description"] == "Generated for GET /users/{id}."
    # An explicit summary is kept; only the missing description was asked for.
    listing = paths["/users"]["get"]
    assert listing["summary"] == "List users"
    assert listing["description"] == "Generated for GET /users."
    # A docstring is explicit metadata: nothing asked, nothing changed.
    assert paths["/orders/{id}"]["get"]["summary"] == "Fetch one order."
    asked = [q.splitlines()[0] for q in fake.user_messages()]
    assert "Endpoint: GET /orders/{id}" not in asked
    assert not any("/hidden" in q for q in asked)
    # The model saw the handler's source, and at level 1 nothing else.
    question = next(q for q in fake.user_messages() if "POST /orders/total" in q)
    assert "async def order_total" in question
    assert "def compute_total" not in question
    assert result.asked == len(fake.requests) == 3
    assert original["paths"]["/users/{id}"]["get"].get("description") is None  # a copy


def test_level_2_adds_the_source_of_called_code(fake: FakeOpenAI, tmp_path: Path) -> None:
    enhance(make_app(), fake, tmp_path, level=2)
    question = next(q for q in fake.user_messages() if "POST /orders/total" in q)
    assert "def compute_total" in question
    assert "Sums the order lines" in question


def test_level_3_orders_tags_and_writes_an_overview(fake: FakeOpenAI, tmp_path: Path) -> None:
    _, result = enhance(make_app(), fake, tmp_path, level=3)
    names = [t["name"] for t in result.document["tags"]]
    assert names[:2] == ["orders", "users"]  # the unknown "ghost" tag is dropped
    orders = result.document["tags"][0]
    assert orders["description"] == "Placing and tracking orders."
    assert result.overview == "# Shop API\n\nOrders first."


def test_answers_are_cached_by_source(fake: FakeOpenAI, tmp_path: Path) -> None:
    _, first = enhance(make_app(), fake, tmp_path)
    calls = len(fake.requests)
    _, second = enhance(make_app(), fake, tmp_path)
    assert len(fake.requests) == calls  # nothing asked again
    assert second.cached == first.asked
    assert second.document == first.document
    assert json.loads((tmp_path / "cache.json").read_text())


def test_changed_source_is_asked_again(fake: FakeOpenAI, tmp_path: Path) -> None:
    enhance(make_app(), fake, tmp_path)
    calls = len(fake.requests)
    app = make_app()

    @app.get("/new")
    async def brand_new() -> str:
        return "new"

    _, result = enhance(app, fake, tmp_path)
    assert result.asked == 1
    assert len(fake.requests) == calls + 1


def test_without_configuration_nothing_is_called(fake: FakeOpenAI, tmp_path: Path) -> None:
    original, result = enhance(make_app(), None, tmp_path)
    assert result.document == original
    assert fake.requests == []
    assert not (tmp_path / "cache.json").exists()


def test_a_failing_endpoint_leaves_operations_alone(tmp_path: Path) -> None:
    with fake_openai(lambda body: 503) as fake:
        original, result = enhance(make_app(), fake, tmp_path)
    assert result.document == original
    assert "GET /users/{id}" in result.failed


def test_bad_level_is_refused(fake: FakeOpenAI, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        enhance(make_app(), fake, tmp_path, level=4)


def test_config_resolves_env_and_hides_the_key() -> None:
    config = LLMConfig.resolve(env={"LLM_API_KEY": "secret-key", "LLM_MODEL": "m9"})
    assert config.configured
    assert config.model == "m9"
    assert config.endpoint == "https://api.openai.com/v1/chat/completions"
    assert "secret-key" not in repr(config)
    fallback = LLMConfig.resolve(env={"OPENAI_API_KEY": "k2"})
    assert fallback.api_key == "k2"
    assert not LLMConfig.resolve(env={}).configured


def test_offline_uses_only_cached_answers(fake: FakeOpenAI, tmp_path: Path) -> None:
    _, online = enhance(make_app(), fake, tmp_path)
    calls = len(fake.requests)
    app = make_app()

    @app.get("/new")
    async def brand_new() -> str:
        return "new"

    config = LLMConfig(base_url=fake.base_url, model="m1")
    result = asyncio.run(
        enhance_openapi(
            app,
            build_openapi(app),
            config=config,
            cache_path=tmp_path / "cache.json",
            offline=True,
        )
    )
    assert len(fake.requests) == calls  # nothing asked, even for the new route
    paths = result.document["paths"]
    assert paths["/users/{id}"]["get"] == online.document["paths"]["/users/{id}"]["get"]
    assert "Handle" not in paths["/new"]["get"].get("summary", "")
    assert "GET /new" in result.failed


def test_cli_export_with_llm_level_and_ci_mode(
    fake: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from avian.cli.main import main

    app_file = tmp_path / "shop.py"
    app_file.write_text(
        "from avian import App\n"
        "app = App()\n"
        "@app.get('/items/{id}')\n"
        "async def item(id: int) -> dict[str, int]:\n"
        "    return {'id': id}\n"
    )
    monkeypatch.setenv("LLM_BASE_URL", fake.base_url)
    out, cache = tmp_path / "openapi.json", tmp_path / "cache.json"
    common = ["shop:app", "--app-dir", str(tmp_path), "--out", str(out)]
    common += ["--llm-level", "3", "--llm-cache", str(cache)]
    overview = tmp_path / "API_OVERVIEW.md"
    assert main(["docs", "export", *common, "--overview", str(overview)]) == 0
    exported = json.loads(out.read_text())
    assert exported["paths"]["/items/{id}"]["get"]["summary"] == "Handle GET /items/{id}"
    assert overview.read_text().startswith("# Shop API")
    calls = len(fake.requests)
    # CI: the committed document and cache are checked without calling the endpoint.
    monkeypatch.delenv("LLM_BASE_URL")
    assert main(["docs", "export", *common, "--check", "--ci"]) == 0
    assert len(fake.requests) == calls


def test_on_push_regenerates_only_for_the_production_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from avian.cli.main import main

    (tmp_path / "hooked.py").write_text(
        "from avian import App\napp = App()\n@app.get('/a')\nasync def a() -> str:\n"
        "    return 'a'\n"
    )
    out = tmp_path / "openapi.json"
    args = ["docs", "on-push", "hooked:app", "--app-dir", str(tmp_path), "--out", str(out)]
    feature = "refs/heads/feature 1111 refs/heads/feature 2222\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(feature))
    assert main(args) == 0
    assert not out.exists()
    production = "refs/heads/main 1111 refs/heads/main 2222\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(production))
    assert main(args) == 1  # regenerated: commit it, then push again
    assert "/a" in json.loads(out.read_text())["paths"]
    monkeypatch.setattr("sys.stdin", io.StringIO(production))
    assert main(args) == 0  # up to date now
