"""LLM-worded errors (ERR-04) against a real local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_openai

from avian import App, ConfigurationError, HTTPError
from avian.testing import TestClient


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LLM_BASE_URL", "LLM_API_KEY", "LLM_MODEL", "OPENAI_API_KEY", "AVIAN_ENV"):
        monkeypatch.delenv(name, raising=False)


def answer(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": 400,
        "message": "That quantity is not a number; please enter digits only.",
        "kind": "bug",
        "fix": "Validate the quantity before converting it.",
    }


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with fake_openai(answer) as server:
        yield server


def parse_quantity(raw: str) -> int:
    return int(raw)


def make_app(**llm: Any) -> App:
    app = App(log_exceptions=False)
    if llm:
        app.with_llm_errors(**llm)

    @app.get("/order/{qty}")
    async def order(qty: str) -> dict[str, int]:
        return {"qty": parse_quantity(qty)}

    @app.get("/explicit")
    async def explicit() -> None:
        raise HTTPError(404, "No such order")

    @app.get("/bare")
    async def bare() -> None:
        raise HTTPError(503)

    return app


def test_unhandled_error_gets_inferred_status_message_and_dev_insight(fake: FakeOpenAI) -> None:
    with TestClient(make_app(base_url=fake.base_url, production=False)) as client:
        r = client.get("/order/abc")
    assert r.status_code == 400
    body = r.json()
    assert body["detail"] == "That quantity is not a number; please enter digits only."
    assert body["details"]["_dev"]["kind"] == "bug"
    assert body["details"]["_dev"]["fix"] == "Validate the quantity before converting it."
    assert body["details"]["_dev"]["exception"].startswith("ValueError")
    # The model saw the failing application code with line numbers, not avian's frames.
    question = fake.user_messages()[0]
    assert "return int(raw)" in question
    assert "parse_quantity" in question
    assert "GET /order/abc" in question
    assert "site-packages" not in question
    assert "end user" in fake.system_messages()[0]


def test_production_answers_have_no_dev_insight(fake: FakeOpenAI) -> None:
    with TestClient(make_app(base_url=fake.base_url, production=True)) as client:
        r = client.get("/order/abc")
    assert r.status_code == 400
    assert "details" not in r.json()


def test_production_follows_avian_env(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVIAN_ENV", "production")
    with TestClient(make_app(base_url=fake.base_url)) as client:
        assert "details" not in client.get("/order/abc").json()


def test_explicit_message_always_wins(fake: FakeOpenAI) -> None:
    with TestClient(make_app(base_url=fake.base_url)) as client:
        r = client.get("/explicit")
    assert r.status_code == 404
    assert r.json()["detail"] == "No such order"
    assert fake.requests == []


def test_explicit_status_wins_but_message_is_inferred(fake: FakeOpenAI) -> None:
    with TestClient(make_app(base_url=fake.base_url)) as client:
        r = client.get("/bare")
    assert r.status_code == 503  # not the model's 400
    assert r.json()["detail"].startswith("That quantity")
    assert len(fake.requests) == 1


def test_developer_tone_and_model_reach_the_endpoint(fake: FakeOpenAI) -> None:
    app = make_app(base_url=fake.base_url, message_type="developer", model="tiny", api_key="k1")
    with TestClient(app) as client:
        assert client.get("/order/x").status_code == 400
    assert "developer" in fake.system_messages()[0]
    assert fake.requests[0]["model"] == "tiny"
    assert fake.headers[0]["authorization"] == "Bearer k1"


def test_a_recurring_error_is_asked_once(fake: FakeOpenAI) -> None:
    with TestClient(make_app(base_url=fake.base_url)) as client:
        first = client.get("/order/abc").json()
        second = client.get("/order/abc").json()
    assert first == second
    assert len(fake.requests) == 1


def test_failing_endpoint_falls_back_to_the_default_500() -> None:
    with fake_openai(lambda body: 500) as fake:
        with TestClient(make_app(base_url=fake.base_url)) as client:
            r = client.get("/order/abc")
            assert r.status_code == 500
        assert len(fake.requests) == 1
    assert r.json()["detail"] == "Internal Server Error"


@pytest.mark.parametrize(
    "reply",
    [
        "not json at all",
        '{"status": 999, "message": ""}',
        '["a list"]',
    ],
)
def test_unusable_answers_fall_back(reply: str) -> None:
    with fake_openai(lambda body: reply) as fake:
        with TestClient(make_app(base_url=fake.base_url)) as client:
            r = client.get("/order/abc")
            assert r.status_code == 500
        assert len(fake.requests) == 1
    assert r.json()["detail"] == "Internal Server Error"


def test_out_of_range_status_is_ignored_but_message_kept() -> None:
    reply = {"status": 200, "message": "Try again later."}
    with fake_openai(lambda body: reply) as fake, TestClient(make_app(base_url=fake.base_url)) as c:
        r = c.get("/order/abc")
        assert r.status_code == 500
    assert r.json()["detail"] == "Try again later."


def test_unreachable_endpoint_falls_back(fake: FakeOpenAI) -> None:
    port = fake.server.server_address[1]
    app = make_app(base_url=f"http://127.0.0.1:{port}/v1", timeout=2.0)
    fake.server.shutdown()
    fake.server.server_close()
    with TestClient(app) as client:
        r = client.get("/order/abc")
    assert r.status_code == 500


def test_not_configured_calls_nothing(fake: FakeOpenAI) -> None:
    with TestClient(make_app(message_type="developer")) as client:
        r = client.get("/order/abc")
    assert r.status_code == 500
    assert fake.requests == []


def test_env_fallbacks(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_BASE_URL", fake.base_url)
    monkeypatch.setenv("LLM_MODEL", "from-env")
    with TestClient(make_app(message_type="end_user")) as client:
        assert client.get("/order/abc").status_code == 400
    assert fake.requests[0]["model"] == "from-env"


def test_without_llm_errors_nothing_changes(fake: FakeOpenAI) -> None:
    with TestClient(make_app()) as client:
        r = client.get("/order/abc")
    assert r.status_code == 500
    assert fake.requests == []


@pytest.mark.parametrize(
    "options",
    [
        {"message_type": "friendly"},
        {"timeout": 0},
        {"base_url": "ftp://example"},
    ],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        make_app(**options)
