"""``build_app``: an App whose behaviour over HTTP follows the settings (CFG-01, CFG-03)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.support.real_servers import shared_redis_url, unique_prefix

from avian import App, Context
from avian.config import (
    Settings,
    SettingsBlock,
    SettingsError,
    build_app,
    load_settings,
)
from avian.errors import ConfigurationError
from avian.testing import TestClient

KEY = "a-long-enough-signing-key-for-tests"


def app_from(env: dict[str, str], **overrides: Any) -> App:
    """An app built from ``env`` with a few routes to observe it."""
    app = build_app(load_settings(env=env, env_file=None), **overrides)

    @app.get("/")
    async def home(ctx: Context) -> str:
        return "home"

    @app.post("/echo")
    async def echo(ctx: Context) -> int:
        return len(await ctx.request.body())

    @app.get("/boom")
    async def boom(ctx: Context) -> None:
        raise RuntimeError("kaboom")

    @app.get("/ip")
    async def ip(ctx: Context) -> str | None:
        return ctx.request.ip

    return app


@pytest.fixture
def quiet_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The 500 tests log the error on purpose."""
    with caplog.at_level(logging.CRITICAL, "avian"):
        yield


def test_body_limit_from_the_environment_413_just_above_200_at() -> None:
    with TestClient(app_from({"AVIAN_LIMITS_MAX_BODY_SIZE": "1KiB"})) as client:
        assert client.post("/echo", content=b"x" * 1024).json() == 1024
        response = client.post("/echo", content=b"x" * 1025)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"


def test_body_limit_from_the_env_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("AVIAN_LIMITS_MAX_BODY_SIZE=100\n")
    app = build_app(load_settings(env={"AVIAN_LIMITS_MAX_BODY_SIZE": "1MB"}, env_file=path))

    @app.post("/echo")
    async def echo(ctx: Context) -> int:
        return len(await ctx.request.body())

    with TestClient(app) as client:
        assert client.post("/echo", content=b"x" * 100).status_code == 200
        assert client.post("/echo", content=b"x" * 101).status_code == 413


def test_header_limits() -> None:
    with TestClient(app_from({"AVIAN_LIMITS_MAX_HEADER_VALUE_LENGTH": "64"})) as client:
        assert client.get("/", headers={"x-data": "v" * 64}).status_code == 200
        assert client.get("/", headers={"x-data": "v" * 65}).status_code == 431


@pytest.mark.usefixtures("quiet_errors")
def test_debug_shows_tracebacks_and_is_off_by_default() -> None:
    with TestClient(app_from({"AVIAN_DEBUG": "1"}), raise_server_exceptions=False) as client:
        assert "kaboom" in client.get("/boom").json()["traceback"]
    with TestClient(app_from({}), raise_server_exceptions=False) as client:
        response = client.get("/boom")
        assert response.status_code == 500
        assert "traceback" not in response.json()


@pytest.mark.usefixtures("quiet_errors")
def test_overrides_win_over_settings() -> None:
    app = app_from({"AVIAN_DEBUG": "1"}, debug=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert "traceback" not in client.get("/boom").json()


def test_docs_follow_the_openapi_block() -> None:
    env = {
        "AVIAN_OPENAPI_TITLE": "Shop",
        "AVIAN_OPENAPI_VERSION": "2.1",
        "AVIAN_OPENAPI_DOCS_URL": "/reference",
    }
    with TestClient(app_from(env)) as client:
        info = client.get("/openapi.json").json()["info"]
        assert (info["title"], info["version"]) == ("Shop", "2.1")
        assert client.get("/reference").status_code == 200
        assert client.get("/docs").status_code == 404
    with TestClient(app_from({"AVIAN_OPENAPI_ENABLED": "false"})) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404


def test_http_switches() -> None:
    env = {"AVIAN_HTTP_ALLOWED_METHODS": "GET", "AVIAN_HTTP_REDIRECT_SLASHES": "0"}
    with TestClient(app_from(env)) as client:
        assert client.get("/").text == "home"
        assert client.post("/echo", content=b"").status_code == 405
    with TestClient(app_from({})) as client:
        assert client.post("/echo", content=b"").status_code == 200


def test_trusted_proxy_gives_the_forwarded_address() -> None:
    forwarded = {"x-forwarded-for": "203.0.113.9"}
    env = {"AVIAN_SERVER_TRUST_PROXY": "1", "AVIAN_SERVER_TRUSTED_PROXIES": "10.0.0.0/8"}
    with TestClient(app_from(env), client=("10.1.2.3", 5000)) as client:
        assert client.get("/ip", headers=forwarded).text == "203.0.113.9"
    with TestClient(app_from(env), client=("192.0.2.1", 5000)) as client:
        assert client.get("/ip", headers=forwarded).text == "192.0.2.1"
    with TestClient(app_from({}), client=("10.1.2.3", 5000)) as client:
        assert client.get("/ip", headers=forwarded).text == "10.1.2.3"


def session_app(env: dict[str, str], **overrides: Any) -> App:
    app = build_app(load_settings(env=env, env_file=None), **overrides)

    @app.post("/count")
    async def count(ctx: Context) -> int:
        session = await ctx.session.load()
        session["n"] = session.get("n", 0) + 1
        return int(session["n"])

    return app


@pytest.mark.parametrize(
    ("env", "cookie"),
    [
        ({"AVIAN_SESSIONS_ENABLED": "1"}, "sid"),
        (
            {
                "AVIAN_SESSIONS_ENABLED": "1",
                "AVIAN_SESSIONS_BACKEND": "cookie",
                "AVIAN_SESSIONS_SECRET_KEY": KEY,
                "AVIAN_SESSIONS_COOKIE_NAME": "app_session",
            },
            "app_session",
        ),
    ],
)
def test_sessions(env: dict[str, str], cookie: str) -> None:
    with TestClient(session_app(env)) as client:
        assert client.post("/count").json() == 1
        assert client.post("/count").json() == 2
        assert cookie in client.cookies


def test_middleware_given_to_build_app_sees_the_session() -> None:
    seen: list[bool] = []

    async def spy(ctx: Context, call_next: Any) -> Any:
        seen.append("session" in ctx.__dict__)
        return await call_next()

    with TestClient(session_app({"AVIAN_SESSIONS_ENABLED": "1"}, middleware=[spy])) as client:
        assert client.post("/count").json() == 1
    assert seen == [True]


def test_csrf_refuses_an_unsafe_request_without_a_token() -> None:
    env = {"AVIAN_SESSIONS_ENABLED": "1", "AVIAN_CSRF_ENABLED": "1"}
    with TestClient(session_app(env)) as client:
        client.cookies.set("sid", "x" * 43)
        response = client.post("/count")
        assert response.status_code == 403
        assert response.json()["code"] == "CSRF_FAILED"
    with TestClient(session_app({"AVIAN_SESSIONS_ENABLED": "1"})) as client:
        client.cookies.set("sid", "x" * 43)
        assert client.post("/count").status_code == 200


def test_cors() -> None:
    env = {
        "AVIAN_CORS_ENABLED": "1",
        "AVIAN_CORS_ORIGINS": "https://shop.example",
        "AVIAN_CORS_CREDENTIALS": "1",
    }
    with TestClient(app_from(env)) as client:
        allowed = client.get("/", headers={"origin": "https://shop.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = client.get("/", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_only_under_paths() -> None:
    env = {"AVIAN_CORS_ENABLED": "1", "AVIAN_CORS_PATHS": "/api"}
    app = app_from(env)

    @app.get("/api/items")
    async def items(ctx: Context) -> list[int]:
        return [1]

    with TestClient(app) as client:
        origin = {"origin": "https://any.example"}
        assert (
            client.get("/api/items", headers=origin).headers["access-control-allow-origin"] == "*"
        )
        assert "access-control-allow-origin" not in client.get("/", headers=origin).headers


def test_security_headers() -> None:
    env = {
        "AVIAN_SECURITY_HEADERS_ENABLED": "1",
        "AVIAN_SECURITY_HEADERS_FRAME_OPTIONS": "deny",
        "AVIAN_SECURITY_HEADERS_CSP_DIRECTIVES": '{"img-src": ["\'self\'", "data:"]}',
        "AVIAN_SECURITY_HEADERS_REFERRER_POLICY": "",
    }
    with TestClient(app_from(env)) as client:
        headers = client.get("/").headers
        assert headers["x-frame-options"] == "DENY"
        assert "img-src 'self' data:" in headers["content-security-policy"]
        assert "referrer-policy" not in headers
    with TestClient(app_from({})) as client:
        assert "content-security-policy" not in client.get("/").headers


def test_allowed_hosts_and_https_redirect() -> None:
    env = {"AVIAN_HOSTS_ALLOWED": "shop.example", "AVIAN_HOSTS_HTTPS_REDIRECT": "1"}
    with TestClient(app_from(env), base_url="https://shop.example") as client:
        assert client.get("/").text == "home"
    with TestClient(app_from(env), base_url="https://evil.example") as client:
        assert client.get("/").status_code == 400
    with TestClient(
        app_from(env), base_url="http://shop.example", follow_redirects=False
    ) as client:
        response = client.get("/")
        assert response.status_code == 308
        assert response.headers["location"] == "https://shop.example/"


def test_rate_limit() -> None:
    env = {
        "AVIAN_RATE_LIMIT_ENABLED": "1",
        "AVIAN_RATE_LIMIT_MAX_REQUESTS": "2",
        "AVIAN_RATE_LIMIT_WINDOW": "1h",
    }
    app = app_from(env)
    with TestClient(app) as client:
        assert [client.get("/").status_code for _ in range(3)] == [200, 200, 429]
    assert app.core.rate_limiter.rule.limit == 2
    with TestClient(app_from({})) as client:
        assert {client.get("/").status_code for _ in range(5)} == {200}


def test_cache_service() -> None:
    app = app_from({"AVIAN_CACHE_ENABLED": "1", "AVIAN_CACHE_PREFIX": "c:"})

    @app.post("/remember/{value}")
    async def remember(ctx: Context, value: str) -> None:
        await ctx.core.cache.set("last", value)

    @app.get("/last")
    async def last(ctx: Context) -> Any:
        return await ctx.core.cache.get("last")

    with TestClient(app) as client:
        assert client.post("/remember/blue").status_code == 204
        assert client.get("/last").text == "blue"
    assert app.core.cache.prefix == "c:"
    assert "cache" not in app_from({}).core


def test_sql_database_connection(tmp_path: Path) -> None:
    app = app_from({"AVIAN_DATABASE_SQL_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"})

    @app.get("/answer")
    async def answer(ctx: Context) -> Any:
        from sqlalchemy import text

        async with ctx.db.sql.connect() as conn:
            return (await conn.execute(text("select 40 + 2"))).scalar()

    with TestClient(app) as client:
        assert client.get("/answer").json() == 42


def test_redis_url_moves_the_cache_to_the_real_redis() -> None:
    redis = pytest.importorskip("redis")
    redis_url = shared_redis_url()
    probe = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    prefix = unique_prefix("avian-test-config")
    env = {"AVIAN_REDIS_URL": redis_url, "AVIAN_CACHE_ENABLED": "1", "AVIAN_CACHE_PREFIX": prefix}
    app = app_from(env)

    @app.post("/remember/{value}")
    async def remember(ctx: Context, value: str) -> None:
        await ctx.core.cache.set("last", value)

    try:
        with TestClient(app) as client:
            assert client.post("/remember/red").status_code == 204
        assert app.redis_url == redis_url
        assert [key.decode() for key in probe.scan_iter(match=f"*{prefix}*")] != []
    finally:
        for key in probe.scan_iter(match=f"*{prefix}*"):
            probe.delete(key)
        probe.close()
        asyncio.run(app.store.close())  # type: ignore[attr-defined]


def test_logging_level_and_app_settings() -> None:
    logger = logging.getLogger("avian")
    before = logger.level
    try:
        settings = load_settings(env={"AVIAN_LOGGING_LEVEL": "ERROR"}, env_file=None)
        app = build_app(settings)
        assert logger.level == logging.ERROR
        assert app.core.settings is settings
    finally:
        logger.setLevel(before)


def test_websocket_and_server_options_reach_their_components() -> None:
    from avian.server import ServerConfig
    from avian.server.config import uvicorn_config

    settings = load_settings(
        env={
            "AVIAN_WEBSOCKETS_MAX_MESSAGE_SIZE": "64KiB",
            "AVIAN_SERVER_PORT": "8123",
            "AVIAN_SERVER_ROOT_PATH": "/api",
            "AVIAN_SERVER_KEEP_ALIVE_TIMEOUT": "1m",
            "AVIAN_SERVER_SSL_KEYFILE_PASSWORD": "pw",
        },
        env_file=None,
    )
    app = build_app(settings)
    assert app.ws_max_message_size == 65536
    options = settings.server.serve_options()
    config = ServerConfig(**options)
    assert (config.port, config.keep_alive_timeout, config.ssl_keyfile_password) == (
        8123,
        60.0,
        "pw",
    )
    assert uvicorn_config(app, config, "info").root_path == "/api"


# --- extending --------------------------------------------------------------------------------


class Greeting(SettingsBlock, frozen=True, kw_only=True):
    text: str = "hello"

    def install(self, app: App, settings: Any) -> None:
        @app.get("/greet")
        async def greet(ctx: Context) -> str:
            return self.text


class Greeted(Settings, frozen=True, kw_only=True):
    greeting: Greeting = msgspec.field(default_factory=Greeting)


def test_user_blocks_install_themselves() -> None:
    settings = load_settings(Greeted, env={"AVIAN_GREETING_TEXT": "bonjour"}, env_file=None)
    with TestClient(build_app(settings)) as client:
        assert client.get("/greet").text == "bonjour"


class Titled(SettingsBlock, frozen=True, kw_only=True):
    def app_options(self) -> dict[str, Any]:
        return {"title": "mine"}


class Clashing(Settings, frozen=True, kw_only=True):
    titled: Titled = msgspec.field(default_factory=Titled)


def test_two_blocks_setting_one_app_option_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="'title' is set by both openapi and titled"):
        build_app(load_settings(Clashing, env={}, env_file=None))


def test_build_app_validates_settings_made_in_code() -> None:
    from avian.config import CSRFSettings

    with pytest.raises(SettingsError, match="CSRF tokens are kept per session"):
        build_app(Settings(csrf=CSRFSettings(enabled=True)))


def test_loaded_settings_are_not_checked_twice(caplog: pytest.LogCaptureFixture) -> None:
    env = {"AVIAN_DEBUG": "1", "AVIAN_SERVER_HOST": "0.0.0.0"}
    with caplog.at_level(logging.WARNING, "avian.config"):
        settings = load_settings(env=env, env_file=None)
        assert len(caplog.records) == 1
        build_app(settings)
        assert len(caplog.records) == 1
        build_app(Settings(debug=True, server=settings.server))  # made in code: checked
        assert len(caplog.records) == 2


def test_app_from_settings_exposes_ctx_config() -> None:
    from avian.config import Settings, load_settings

    settings = load_settings(Settings, env={}, env_file=None, overrides={"debug": True})
    app = App.from_settings(settings)

    @app.get("/cfg")
    async def cfg(ctx: Context) -> dict[str, bool]:
        return {"debug": ctx.config.debug, "same": ctx.config is settings}

    with TestClient(app) as client:
        assert client.get("/cfg").json() == {"debug": True, "same": True}
