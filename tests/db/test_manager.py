"""The manager API (DB-03/04/06): when connections open and close, ``get_connection``,
``has_connection``, ``active_connections``, ``close_connection``, registration rules,
required and optional connections, the startup timeout, and events."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from tests.db.servers import SilentServer
from tests.support.processes import free_port

from avian import App, ConfigurationError, Context
from avian.db.errors import ConnectionNotOpenError, UnknownConnectionError
from avian.db.events import ConnectionEvent
from avian.db.manager import ActiveConnection
from avian.testing import LifespanError, TestClient


def sqlite(tmp_path: Path, file: str = "app.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / file}"


def test_connections_open_at_startup_and_close_at_shutdown(tmp_path: Path, redis_url: str) -> None:
    app = App().with_sql(url=sqlite(tmp_path)).with_redis(url=redis_url)
    seen: dict[str, Any] = {}

    @app.on_ready
    async def ready(app: App) -> None:
        seen["at_ready"] = {n: app.db.has_connection(n)["exists"] for n in app.db.names}

    @app.get("/kinds")
    async def kinds(ctx: Context) -> Any:
        return {name: c.kind for name, c in ctx.db.active_connections().items()}

    assert app.db.has_connection("sql") == {"exists": False, "initializing": False}
    with pytest.raises(ConnectionNotOpenError, match="'sql' is not open: the app has not started"):
        app.db.get_connection("sql")

    with TestClient(app) as client:
        assert seen["at_ready"] == {"sql": True, "redis": True}
        assert client.get("/kinds").json() == {"sql": "sql", "redis": "redis"}

    assert app.db.active_connections() == {}
    assert app.db.has_connection("redis") == {"exists": False, "initializing": False}


def test_each_startup_builds_new_clients(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))
    engines = []
    for _ in range(2):
        with TestClient(app):
            engines.append(app.db.sql)
    assert engines[0] is not engines[1]


def test_initializing_while_the_connection_opens(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))
    states: list[Any] = []

    @app.db.add_listener
    def record(event: ConnectionEvent) -> None:
        states.append((event.event, app.db.has_connection(event.name)))

    with TestClient(app):
        pass
    assert states == [
        ("connect", {"exists": False, "initializing": True}),  # the startup ping's socket
        ("open", {"exists": True, "initializing": False}),
        ("close", {"exists": False, "initializing": False}),
    ]


def test_access_by_attribute_item_and_get_connection(tmp_path: Path) -> None:
    app = App().with_sql(name="reports", url=sqlite(tmp_path))

    @app.get("/same")
    async def same(ctx: Context) -> Any:
        return {"same": ctx.db.reports is ctx.db["reports"] is ctx.db.get_connection("reports")}

    with TestClient(app) as client:
        assert client.get("/same").json() == {"same": True}
        assert "reports" in app.db
        assert list(app.db) == ["reports"]

    with pytest.raises(
        UnknownConnectionError,
        match=r"no database connection named 'nope' \(registered: 'reports'\)",
    ):
        app.db.get_connection("nope")
    with pytest.raises(AttributeError, match="no database connection named 'nope'"):
        _ = app.db.nope
    with pytest.raises(LookupError):  # UnknownConnectionError is a LookupError
        _ = app.db["nope"]
    assert app.db.has_connection("nope") == {"exists": False, "initializing": False}


def test_active_connections_describe_without_secrets(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path), pool_pre_ping=True)
    with TestClient(app):
        active = app.db.active_connections()
        assert list(active) == ["sql"]
        entry = active["sql"]
        assert isinstance(entry, ActiveConnection)
        assert entry.kind == "sql"
        assert entry.client is app.db.sql
        assert entry.config["url"] == sqlite(tmp_path)
        assert entry.config["pool_pre_ping"] is True
    secret = App().with_sql(url="postgresql://app:hunter2@db.example/prod")
    assert "hunter2" not in repr(secret.db.spec("sql").describe())


def test_close_connection_close_all_and_reopen(tmp_path: Path, redis_url: str) -> None:
    app = App().with_sql(url=sqlite(tmp_path)).with_redis(url=redis_url)
    closed: list[str] = []
    app.db.add_listener(lambda e: closed.append(e.name) if e.event == "close" else None)

    @app.post("/close/{name}")
    async def close(ctx: Context, name: str) -> Any:
        await ctx.db.close_connection(name)
        await ctx.db.close_connection(name)  # closing twice is harmless
        return {"active": list(ctx.db.active_connections())}

    @app.post("/close-all")
    async def close_all(ctx: Context) -> Any:
        await ctx.db.close_all_connections()
        return {"active": list(ctx.db.active_connections())}

    @app.post("/open/{name}")
    async def reopen(ctx: Context, name: str) -> Any:
        await ctx.db.open_connection(name)
        return {"active": list(ctx.db.active_connections())}

    with TestClient(app) as client:
        assert client.post("/close/redis").json() == {"active": ["sql"]}
        assert closed == ["redis"]
        assert client.post("/open/redis").json() == {"active": ["sql", "redis"]}
        assert client.post("/close-all").json() == {"active": []}
        assert closed == ["redis", "redis", "sql"]  # last registered first
    assert closed == ["redis", "redis", "sql"]  # shutdown had nothing left to close


def test_registration_rules(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))
    with pytest.raises(ConfigurationError, match="'sql' is already registered"):
        app.with_sql(url=sqlite(tmp_path, "other.db"))
    for bad in ("health", "session", "names", "app", "_private"):
        with pytest.raises(ConfigurationError, match="cannot name a connection"):
            app.with_sql(name=bad, url=sqlite(tmp_path, "x.db"))
    with pytest.raises(ConfigurationError, match="non-empty string"):
        app.with_sql(name="", url=sqlite(tmp_path, "x.db"))

    @app.post("/late")
    async def late(ctx: Context) -> Any:
        try:
            ctx.app.with_sql(name="late", url=sqlite(tmp_path, "late.db"))
        except ConfigurationError as exc:
            return {"refused": str(exc)}
        return {"refused": None}

    with TestClient(app) as client:
        refused = client.post("/late").json()["refused"]
    assert "cannot add database connection 'late': the app has started" in refused
    assert "late" not in app.db


def test_a_required_connection_that_is_down_fails_startup(tmp_path: Path) -> None:
    port = free_port()
    app = App().with_sql(url=sqlite(tmp_path))
    app.with_sql(name="pg", url=f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    events: list[tuple[str, str]] = []
    app.db.add_listener(lambda e: events.append((e.name, e.event)))

    with pytest.raises(LifespanError) as info, TestClient(app):
        pass  # pragma: no cover - startup fails first

    message = str(info.value)
    assert (
        f"cannot open sql connection 'pg' (postgresql+asyncpg://nobody@127.0.0.1:{port}/none)"
        in message
    )
    # The connection opened before the failing one was closed again.
    assert ("sql", "open") in events
    assert events[-1] == ("sql", "close")
    assert app.db.active_connections() == {}


def test_an_optional_connection_that_is_down_lets_the_app_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    app = App().with_sql(url=sqlite(tmp_path))
    app.with_sql(name="pg", url=f"postgresql://nobody@127.0.0.1:{port}/none", required=False)

    @app.get("/report")
    async def report(ctx: Context) -> Any:
        return await ctx.db.health()

    with caplog.at_level(logging.INFO, logger="avian.db"), TestClient(app) as client:
        assert app.db.has_connection("pg") == {"exists": True, "initializing": False}
        for _ in range(3):
            body = client.get("/report").json()
            assert body["status"] == "down"
            assert body["connections"]["sql"]["status"] == "up"
            assert body["connections"]["pg"]["status"] == "down"
            assert body["connections"]["pg"]["latency_ms"] is None
            assert body["connections"]["pg"]["error"]
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "avian.db" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1  # reported when it failed, not on every check
    assert warnings[0].startswith("sql connection 'pg': error")


def test_startup_timeout_on_both_sides(redis_url: str) -> None:
    with SilentServer() as silent:
        hung = App().with_redis(url=f"redis://127.0.0.1:{silent.port}/0", startup_timeout=0.3)
        with (
            pytest.raises(LifespanError, match=r"TimeoutError: no answer within 0.3s"),
            TestClient(hung),
        ):
            pass  # pragma: no cover - startup fails first

    answering = App().with_redis(url=redis_url, startup_timeout=0.3)
    with TestClient(answering):
        assert answering.db.has_connection("redis")["exists"] is True


def test_default_startup_timeout() -> None:
    from avian.db.connection import DEFAULT_STARTUP_TIMEOUT

    app = App().with_redis(url="redis://127.0.0.1:6379/0")
    assert app.db.spec("redis").startup_timeout == DEFAULT_STARTUP_TIMEOUT == 10.0


def test_a_failing_listener_does_not_break_the_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = App().with_sql(url=sqlite(tmp_path))

    def broken(event: ConnectionEvent) -> None:
        raise RuntimeError("listener bug")

    app.db.add_listener(broken)
    with caplog.at_level(logging.ERROR, logger="avian.db"), TestClient(app):
        assert app.db.has_connection("sql")["exists"] is True
    assert any("database event listener" in r.getMessage() for r in caplog.records)
    app.db.remove_listener(broken)


def test_the_manager_is_the_same_object_everywhere(tmp_path: Path) -> None:
    app = App().with_sql(url=sqlite(tmp_path))

    @app.get("/is")
    async def same(ctx: Context) -> Any:
        return {"same": ctx.db is ctx.app.db is app.db}

    with TestClient(app) as client:
        assert client.get("/is").json() == {"same": True}
    assert repr(app.db) == "<DatabaseManager sql=sql (closed)>"


def test_importing_avian_loads_no_driver() -> None:
    import subprocess
    import sys

    code = (
        "import sys, avian\n"
        "app = avian.App()\n"
        "app.db\n"
        "loaded = [m for m in ('redis', 'pymongo', 'sqlalchemy', 'alembic') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
