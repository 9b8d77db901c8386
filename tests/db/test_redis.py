"""Redis connections (``app.with_redis``) over HTTP against the real server: commands through
``ctx.db.redis``, every te.js option the Python way, named connections, client events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis as sync_redis
from tests.db.servers import redis_url_for_db
from tests.support.real_servers import PrivateRedis

from avian import App, ConfigurationError, Context
from avian.db.events import ConnectionEvent
from avian.testing import TestClient


def cache_app(prefix: str, **options: Any) -> App:
    app = App()
    app.with_redis(**options)

    @app.put("/cache/{key}")
    async def put(ctx: Context, key: str) -> Any:
        data = await ctx.payload()
        await ctx.db.redis.set(prefix + key, data["value"], ex=data.get("ttl", 60))
        return ctx.json({"key": key}, 201)

    @app.get("/cache/{key}")
    async def get(ctx: Context, key: str) -> Any:
        value = await ctx.db.redis.get(prefix + key)
        if value is None:
            ctx.not_found(f"no key {key}")
        ttl = await ctx.db.redis.ttl(prefix + key)
        return {
            "key": key,
            "value": value if isinstance(value, str) else value.decode(),
            "ttl": ttl,
        }

    @app.delete("/cache/{key}")
    async def delete(ctx: Context, key: str) -> Any:
        if not await ctx.db.redis.delete(prefix + key):
            ctx.not_found(f"no key {key}")
        return ctx.fire()

    return app


def test_commands_over_http(redis_url: str, redis_prefix: str) -> None:
    with TestClient(cache_app(redis_prefix, url=redis_url)) as client:
        assert client.put("/cache/greeting", json={"value": "hello", "ttl": 30}).status_code == 201
        got = client.get("/cache/greeting").json()
        assert got["value"] == "hello"
        assert 0 < got["ttl"] <= 30
        assert client.delete("/cache/greeting").status_code == 204
        assert client.get("/cache/greeting").status_code == 404


def test_database_and_client_options(redis_url: str, redis_prefix: str) -> None:
    app = cache_app(redis_prefix, url=redis_url, database=1, decode_responses=True)

    @app.get("/info")
    async def info(ctx: Context) -> Any:
        kwargs = ctx.db.redis.connection_pool.connection_kwargs
        return {"db": kwargs["db"], "decode": kwargs["decode_responses"]}

    with TestClient(app) as client:
        assert client.get("/info").json() == {"db": 1, "decode": True}
        assert client.put("/cache/k", json={"value": "in db 1"}).status_code == 201
    other = sync_redis.Redis.from_url(redis_url_for_db(redis_url, 1))
    try:
        assert other.get(redis_prefix + "k") == b"in db 1"
    finally:
        other.close()


def test_host_and_port_instead_of_a_url(redis_url: str, redis_prefix: str) -> None:
    server = sync_redis.connection.parse_url(redis_url)
    app = cache_app(redis_prefix, host=server["host"], port=server["port"], socket_timeout=3)
    with TestClient(app) as client:
        assert client.put("/cache/hp", json={"value": "via host/port"}).status_code == 201
        assert client.get("/cache/hp").json()["value"] == "via host/port"
    assert app.db.spec("redis").target == f"{server['host']}:{server['port']}"


def test_redis_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    with TestClient(cache_app(redis_prefix)) as client:
        assert client.put("/cache/env", json={"value": "from REDIS_URL"}).status_code == 201
        assert client.get("/cache/env").json()["value"] == "from REDIS_URL"


def test_named_connections(redis_url: str, redis_prefix: str) -> None:
    app = App()
    app.with_redis(url=redis_url)
    app.with_redis(name="sessions", url=redis_url_for_db(redis_url, 1))

    @app.post("/both")
    async def both(ctx: Context) -> Any:
        await ctx.db.redis.set(redis_prefix + "where", "main", ex=60)
        await ctx.db["sessions"].set(redis_prefix + "where", "sessions", ex=60)
        return {
            "main": (await ctx.db.redis.get(redis_prefix + "where")).decode(),
            "sessions": (await ctx.db.sessions.get(redis_prefix + "where")).decode(),
        }

    with TestClient(app) as client:
        assert client.post("/both").json() == {"main": "main", "sessions": "sessions"}
        assert list(app.db.active_connections()) == ["redis", "sessions"]


def test_connect_open_and_close_events(redis_url: str) -> None:
    events: list[tuple[str, str]] = []
    app = App()
    app.with_redis(url=redis_url)
    app.db.add_listener(lambda e: events.append((e.name, e.event)))

    with TestClient(app):
        assert events == [("redis", "connect"), ("redis", "open")]
    assert events[-1] == ("redis", "close")


def test_error_and_reconnect_events_when_the_server_goes_away(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = PrivateRedis(tmp_path)
    server.start()
    events: list[ConnectionEvent] = []
    app = App()
    app.with_redis(url=server.url, max_retries=0, socket_timeout=2, socket_connect_timeout=2)
    app.db.add_listener(events.append)

    @app.get("/health")
    async def health(ctx: Context) -> Any:
        return {"status": (await ctx.db.health(timeout=3))["status"]}

    try:
        with caplog.at_level("INFO", logger="avian.db"), TestClient(app) as client:
            assert client.get("/health").json() == {"status": "up"}
            server.stop()
            assert client.get("/health").json() == {"status": "down"}
            assert client.get("/health").json() == {
                "status": "down"
            }  # reported once, not per check
            server.start()
            assert client.get("/health").json() == {"status": "up"}
    finally:
        server.stop()

    names = [e.event for e in events]
    assert names[:2] == ["connect", "open"]
    assert names.count("error") == 1
    after_error = names[names.index("error") + 1 :]
    assert "reconnect" in after_error
    assert names[-1] == "close"
    error = next(e for e in events if e.event == "error")
    assert error.error is not None
    warnings = [r for r in caplog.records if r.name == "avian.db" and r.levelname == "WARNING"]
    assert [r.getMessage().split(":")[0] for r in warnings] == ["redis connection 'redis'"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://cache.example"}, "invalid Redis url"),
        ({"url": "redis://h", "host": "h"}, "either url= or host="),
        ({"url": "redis://h", "socket_timout": 1}, "socket_timout"),
        ({"url": "redis://h", "database": -1}, "database must be an int"),
        ({"url": "redis://h", "max_retries": -1}, "max_retries"),
        ({"url": "redis://h", "startup_timeout": "soon"}, "number of seconds"),
    ],
)
def test_bad_options_fail_at_registration(options: dict[str, Any], message: str) -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=message):
        app.with_redis(**options)
    assert "redis" not in app.db


def test_password_is_hidden() -> None:
    app = App()
    app.with_redis(url="redis://user:hunter2@cache.example:6379/0")
    spec = app.db.spec("redis")
    assert spec.target == "redis://user:***@cache.example:6379/0"
    assert "hunter2" not in repr(spec.describe())
