"""A store outage is a 503, never a 500: ``StoreUnavailable`` over HTTP and in the log.

Every test that needs Redis to go down runs its own ``redis-server`` (free port, temporary
directory) and stops it; a store pointed at a port nobody listens on stands for a server
that is down from the start.  The shared Redis is never touched here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
import redis
from tests.support.processes import free_port
from tests.support.real_servers import PrivateRedis, prefixed_url

from avian import App, ConfigurationError, Context
from avian.cache import Cache, cache_response
from avian.csrf import CSRFMiddleware, csrf_token
from avian.errors import HTTPError
from avian.sessions import Session, SessionMiddleware, session_of
from avian.stores import RedisStore, StoreUnavailable
from avian.testing import TestClient


def dead_url(password: str | None = None) -> str:
    """A Redis URL where nothing listens (connection refused at once)."""
    auth = f":{password}@" if password else ""
    return f"redis://{auth}127.0.0.1:{free_port()}/0"


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "avian.stores" and r.levelno == logging.WARNING]


def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> bool:
    """Nothing was logged as an error (the error handler logs 500s as "unhandled error")."""
    return all(r.levelno < logging.ERROR for r in caplog.records)


def assert_store_unavailable(response: Any, retry_after: int = 5) -> dict[str, Any]:
    """A 503 problem+json with ``Retry-After``; returns the problem body."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == str(retry_after)
    problem: dict[str, Any] = response.json()
    assert problem["status"] == 503
    assert problem["code"] == "STORE_UNAVAILABLE"
    assert problem["details"] == {"retry_after": retry_after}
    assert "temporarily unavailable" in problem["detail"]
    return problem


# --- the exception -----------------------------------------------------------------------------


def test_store_unavailable_is_a_503_http_error_with_retry_after() -> None:
    error = StoreUnavailable()
    assert isinstance(error, HTTPError)
    assert (error.status, error.code, error.retry_after) == (503, "STORE_UNAVAILABLE", 5)
    assert error.headers == {"retry-after": "5"}
    assert StoreUnavailable(1).headers == {"retry-after": "1"}


@pytest.mark.parametrize("retry_after", [0, -1, 2.5, True, "5"])
def test_store_unavailable_needs_a_whole_positive_retry_after(retry_after: Any) -> None:
    with pytest.raises(ValueError, match="retry_after"):
        StoreUnavailable(retry_after)


# --- RedisStore: every method, the log, the options ----------------------------------------------


def test_every_command_of_a_down_store_raises_store_unavailable() -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(), max_retries=0)
        calls = [
            store.get("k"),
            store.set("k", 1),
            store.set("k", 1, ttl=10),
            store.set("k", 1, ttl=0),
            store.set_ex("k", 1, 10),
            store.delete("k"),
            store.has("k"),
            store.clear(),
            store.keys("*"),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable) as raised:
                await call
            assert isinstance(raised.value.__cause__, redis.ConnectionError)
        assert await store.ready() is False  # readiness still answers, never raises

    asyncio.run(scenario())


def test_a_bad_value_or_ttl_is_still_a_plain_error_not_an_outage() -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(), max_retries=0)
        with pytest.raises(TypeError):
            await store.set("k", object())  # refused before Redis is asked
        with pytest.raises(ValueError, match="ttl"):
            await store.set("k", 1, ttl=float("nan"))

    asyncio.run(scenario())


def test_giving_up_logs_one_warning_that_names_no_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(password="s3cret-pw"), max_retries=1)
        with pytest.raises(StoreUnavailable) as raised:
            await store.get("k")
        assert "s3cret-pw" not in str(raised.value.detail)
        with pytest.raises(StoreUnavailable):
            await store.get("k")  # within warning_interval (10 s): debug only

    with caplog.at_level(logging.DEBUG, logger="avian"):
        asyncio.run(scenario())
    warnings = store_warnings(caplog)
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "unavailable" in message
    assert "ConnectionError" in message
    assert warnings[0].exc_info is None  # one line, no traceback
    assert "s3cret-pw" not in caplog.text
    debug = [r for r in caplog.records if r.name == "avian.stores" and r.levelno == logging.DEBUG]
    assert len(debug) == 1


def test_warnings_repeat_after_warning_interval_and_count_the_quiet_failures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(), max_retries=0, warning_interval=0.2)
        for _ in range(2):
            with pytest.raises(StoreUnavailable):
                await store.get("k")
        time.sleep(0.25)  # more than warning_interval has passed
        with pytest.raises(StoreUnavailable):
            await store.get("k")

    with caplog.at_level(logging.WARNING, logger="avian"):
        asyncio.run(scenario())
    warnings = store_warnings(caplog)
    assert len(warnings) == 2
    assert "more failures" not in warnings[0].getMessage()
    assert "(1 more failures since the last warning)" in warnings[1].getMessage()


def test_a_warning_interval_of_zero_logs_every_failure(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(), max_retries=0, warning_interval=0)
        for _ in range(3):
            with pytest.raises(StoreUnavailable):
                await store.has("k")

    with caplog.at_level(logging.WARNING, logger="avian"):
        asyncio.run(scenario())
    assert len(store_warnings(caplog)) == 3


def test_retry_after_is_an_option_of_the_store() -> None:
    async def scenario() -> None:
        store = RedisStore(dead_url(), max_retries=0, retry_after=30)
        with pytest.raises(StoreUnavailable) as raised:
            await store.get("k")
        assert raised.value.headers == {"retry-after": "30"}

    asyncio.run(scenario())
    assert RedisStore(dead_url(), retry_after=1).retry_after == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retry_after": 0}, "retry_after"),
        ({"retry_after": 1.5}, "retry_after"),
        ({"retry_after": True}, "retry_after"),
        ({"warning_interval": -1}, "warning_interval"),
        ({"warning_interval": float("inf")}, "warning_interval"),
        ({"warning_interval": "10"}, "warning_interval"),
    ],
)
def test_invalid_outage_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RedisStore(dead_url(), **options)


# --- over HTTP: sessions and CSRF answer 503, the response cache degrades, all recover ---------


def outage_app(url: str) -> tuple[App, dict[str, int]]:
    """Sessions and CSRF under /account; a cached page and a ``Cache`` service outside."""
    app = App(redis_url=prefixed_url(url, "outage:"))
    account = app.group("/account", middleware=[SessionMiddleware(Session()), CSRFMiddleware()])
    prices = Cache(app.store)
    calls = {"report": 0}

    @account.get("/me")
    async def me(ctx: Context) -> dict[str, Any]:
        session = await session_of(ctx).load()
        return {"user": session.get("user"), "csrf": await csrf_token(ctx)}

    @account.post("/login")
    async def login(ctx: Context) -> dict[str, bool]:
        session = await session_of(ctx).load()
        await session.rotate()
        session["user"] = (await ctx.request.json())["user"]
        return {"ok": True}

    @app.get("/report", middleware=[cache_response(60)])
    async def report() -> dict[str, int]:
        calls["report"] += 1
        return {"computed": calls["report"]}

    @app.get("/price")
    async def price() -> dict[str, int]:
        return {"price": await prices.get_or_set("tea", lambda: 3)}

    return app, calls


def log_in(client: TestClient, user: str) -> None:
    token = client.get("/account/me").execute().json()["csrf"]
    response = client.post("/account/login", json={"user": user}, headers={"x-csrf-token": token})
    assert response.execute().status_code == 200
    assert client.get("/account/me").execute().json()["user"] == user


def test_while_redis_is_down_sessions_and_csrf_answer_503_and_the_cache_degrades(
    own_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    app, calls = outage_app(own_redis.url)
    with TestClient(app) as client:
        log_in(client, "ada")
        token = client.get("/account/me").execute().json()["csrf"]
        assert client.get("/report").execute().headers["x-cache"] == "MISS"
        assert client.get("/report").execute().headers["x-cache"] == "HIT"
        assert client.get("/price").execute().json() == {"price": 3}

        own_redis.stop()
        with caplog.at_level(logging.DEBUG, logger="avian"):
            # A request that loads its session.
            problem = assert_store_unavailable(client.get("/account/me").execute())
            assert str(own_redis.port) not in problem["detail"]
            assert "127.0.0.1" not in problem["detail"]
            # An unsafe request the CSRF middleware must check against the stored token.
            posted = client.post(
                "/account/login", json={"user": "eve"}, headers={"x-csrf-token": token}
            )
            assert_store_unavailable(posted.execute())
            # A visitor without a session: the eager CSRF token needs the store too.
            with TestClient(app) as stranger:
                assert_store_unavailable(stranger.get("/account/me").execute())
            # The Cache service is a plain store user: 503 as well.
            assert_store_unavailable(client.get("/price").execute())
            # The response cache serves uncached instead.
            before = calls["report"]
            degraded = client.get("/report").execute()
            assert degraded.status_code == 200
            assert degraded.json() == {"computed": before + 1}  # the handler ran
            assert degraded.headers["x-cache"] == "MISS"
            assert "retry-after" not in degraded.headers

        warnings = store_warnings(caplog)
        assert len(warnings) == 1  # the first failure; the rest within 10 s at debug level
        assert "unavailable" in warnings[0].getMessage()
        assert no_unhandled_errors(caplog)
        assert not [r for r in caplog.records if "unhandled" in r.getMessage()]

        own_redis.start()  # same port, empty: the old session is gone, nothing else is
        assert client.get("/account/me").execute().json()["user"] is None
        log_in(client, "ada")
        assert client.get("/report").execute().headers["x-cache"] == "MISS"
        assert client.get("/report").execute().headers["x-cache"] == "HIT"
        assert client.get("/price").execute().json() == {"price": 3}


def test_redis_going_down_before_the_session_is_saved_is_a_503(own_redis: PrivateRedis) -> None:
    """The session middleware's commit (after the handler) fails: still a 503, not a 500."""
    app = App(redis_url=prefixed_url(own_redis.url, "commit:"))
    app.use(SessionMiddleware(Session()))

    @app.post("/visit")
    async def visit(ctx: Context) -> dict[str, bool]:
        session = await session_of(ctx).load()  # Redis still answers
        own_redis.stop()
        session["visited"] = True  # saved after the handler returns
        return {"ok": True}

    @app.get("/check")
    async def check(ctx: Context) -> dict[str, Any]:
        return {"visited": (await session_of(ctx).load()).get("visited")}

    with TestClient(app) as client:
        assert_store_unavailable(client.post("/visit").execute())
        own_redis.start()
        assert client.get("/check").execute().json() == {"visited": None}


def test_with_a_browser_accept_header_the_503_is_an_html_page(own_redis: PrivateRedis) -> None:
    app, _ = outage_app(own_redis.url)
    with TestClient(app) as client:
        own_redis.stop()
        response = client.get("/account/me", headers={"accept": "text/html"}).execute()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert "STORE_UNAVAILABLE" in response.text
