"""Health checks and the readiness endpoint: 200 when every connection answers, 503
problem+json when one is down, the timeout on both sides, choosing connections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.db.servers import SilentServer
from tests.support.processes import free_port

from avian import App, ConfigurationError, Context
from avian.db.health import DEFAULT_HEALTH_TIMEOUT
from avian.testing import TestClient


def sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"


def test_ready_when_every_kind_is_up(
    tmp_path: Path, redis_url: str, mongo_url: str, postgres_url: str
) -> None:
    app = App()
    app.with_sql(url=sqlite(tmp_path))
    app.with_sql(name="pg", url=postgres_url)
    app.with_redis(url=redis_url)
    app.with_mongo(uri=mongo_url)
    app.db.readiness()

    with TestClient(app) as client:
        ready = client.get("/health/ready").execute()
    assert ready.status_code == 200, ready.text
    assert ready.headers["cache-control"] == "no-store"
    body = ready.json()
    assert body["status"] == "up"
    assert {n: (c["kind"], c["status"], c["error"]) for n, c in body["connections"].items()} == {
        "sql": ("sql", "up", None),
        "pg": ("sql", "up", None),
        "redis": ("redis", "up", None),
        "mongo": ("mongo", "up", None),
    }
    assert all(c["latency_ms"] >= 0 for c in body["connections"].values())


def down_app(tmp_path: Path, **readiness: Any) -> tuple[App, int]:
    port = free_port()  # nothing listens there: connection refused
    app = App()
    app.with_sql(url=sqlite(tmp_path))
    app.with_sql(name="pg", url=f"postgresql+asyncpg://app@127.0.0.1:{port}/app", required=False)
    app.db.readiness(**readiness)
    return app, port


def test_not_ready_when_a_connection_is_down(tmp_path: Path) -> None:
    app, _ = down_app(tmp_path)
    with TestClient(app) as client:
        answer = client.get("/health/ready").execute()
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["retry-after"] == "5"
    problem = answer.json()
    assert problem["code"] == "NOT_READY"
    assert problem["status"] == 503
    report = problem["details"]
    assert report["status"] == "down"
    assert report["connections"]["sql"]["status"] == "up"
    pg = report["connections"]["pg"]
    assert pg["status"] == "down"
    # Without show_errors only the exception's class is shown: no hosts or messages leak.
    assert pg["error"] == "ConnectionRefusedError"


def test_show_errors_includes_the_message(tmp_path: Path) -> None:
    app, _port = down_app(tmp_path, show_errors=True)
    with TestClient(app) as client:
        pg = client.get("/health/ready").json()["details"]["connections"]["pg"]
    assert ": " in pg["error"]


def test_readiness_can_check_chosen_connections(tmp_path: Path) -> None:
    app, _ = down_app(tmp_path, path="/ready/sql", names=["sql"])
    app.db.readiness("/ready/all")
    with TestClient(app) as client:
        only_sql = client.get("/ready/sql").execute()
        everything = client.get("/ready/all").execute()
    assert only_sql.status_code == 200
    assert list(only_sql.json()["connections"]) == ["sql"]
    assert everything.status_code == 503


def test_ready_again_once_the_server_is_back(tmp_path: Path, postgres_url: str) -> None:
    app = App()
    app.with_sql(url=sqlite(tmp_path))
    app.with_sql(name="pg", url=postgres_url, required=False)
    app.db.readiness()

    @app.post("/pg/close")
    async def close(ctx: Context) -> Any:
        await ctx.db.close_connection("pg")
        return ctx.fire()

    @app.post("/pg/open")
    async def reopen(ctx: Context) -> Any:
        await ctx.db.open_connection("pg")
        return ctx.fire()

    with TestClient(app) as client:
        assert client.get("/health/ready").status_code == 200
        assert client.post("/pg/close").status_code == 204
        closed = client.get("/health/ready")
        assert closed.status_code == 503
        assert closed.json()["details"]["connections"]["pg"]["error"] == "not open"
        assert client.post("/pg/open").status_code == 204
        assert client.get("/health/ready").status_code == 200


def test_health_timeout_on_both_sides(redis_url: str) -> None:
    with SilentServer() as silent:
        app = App()
        app.with_redis(url=redis_url)
        app.with_redis(
            name="hung",
            url=f"redis://127.0.0.1:{silent.port}/0",
            required=False,
            startup_timeout=0.2,
        )

        @app.get("/health")
        async def health(ctx: Context) -> Any:
            return await ctx.db.health(timeout=0.3)

        with TestClient(app) as client:
            report = client.get("/health").json()
    assert report["connections"]["redis"]["status"] == "up"  # answered within 0.3 s
    hung = report["connections"]["hung"]
    assert hung == {
        "kind": "redis",
        "status": "down",
        "latency_ms": None,
        "error": "TimeoutError: no answer within 0.3s",
    }
    assert DEFAULT_HEALTH_TIMEOUT == 2.0


def test_readiness_options_are_checked_at_registration(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))
    with pytest.raises(ConfigurationError, match="positive number of seconds"):
        app.db.readiness(timeout=0)
    with pytest.raises(ConfigurationError, match="'cache', which is not a registered"):
        app.db.readiness(names=["cache"])


def test_readiness_after_startup_is_refused(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))
    with TestClient(app), pytest.raises(ConfigurationError, match="has started"):
        app.db.readiness()


def test_health_of_unknown_names_is_an_error(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))

    @app.get("/health")
    async def health(ctx: Context) -> Any:
        try:
            await ctx.db.health(names=["nope"])
        except LookupError as exc:
            return {"error": str(exc)}
        return {"error": None}

    with TestClient(app) as client:
        assert "no database connection named 'nope'" in client.get("/health").json()["error"]
