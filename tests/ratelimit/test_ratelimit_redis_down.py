"""Redis going down mid-test (our own redis-server, stopped and restarted): ``fail_open``
lets requests through, ``fail_open=False`` answers 503, neither ever answers 500, and
limiting resumes once Redis is back."""

from __future__ import annotations

import logging

import pytest
import redis
from ratelimit_helpers import PrivateRedis

from avian import App
from avian.ratelimit.lua import SCRIPTS
from avian.testing import TestClient


def build(url: str, *, fail_open: bool) -> App:
    app = App(openapi=False)
    app.rate_limit(max_requests=2, window="1h", redis=url, fail_open=fail_open)

    @app.get("/")
    async def home() -> str:
        return "hi"

    return app


def codes(client: TestClient, n: int) -> list[int]:
    return [client.get("/").status_code for _ in range(n)]


def test_fail_open(private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(build(private_redis.url, fail_open=True)) as client:
        assert codes(client, 3) == [200, 200, 429]
        private_redis.stop()
        with caplog.at_level(logging.WARNING, logger="avian.ratelimit"):
            down = [client.get("/") for _ in range(4)]
        assert [r.status_code for r in down] == [200] * 4
        assert all("ratelimit-limit" not in r.headers for r in down)  # nothing to tell
        warnings = [r for r in caplog.records if r.name == "avian.ratelimit"]
        assert len(warnings) == 1  # one warning, not one per request
        assert "letting requests through" in warnings[0].getMessage()
        private_redis.start()  # an empty Redis: counting starts afresh
        assert codes(client, 3) == [200, 200, 429]


def test_fail_closed(private_redis: PrivateRedis) -> None:
    with TestClient(build(private_redis.url, fail_open=False)) as client:
        assert codes(client, 1) == [200]
        private_redis.stop()
        down = client.get("/")
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["code"] == "RATE_LIMIT_UNAVAILABLE"
        assert down.headers["retry-after"] == "5"
        assert codes(client, 3) == [503] * 3
        private_redis.start()
        assert codes(client, 3) == [200, 200, 429]


def test_scripts_are_reloaded_after_a_flush(private_redis: PrivateRedis) -> None:
    """``EVALSHA`` of a script Redis forgot falls back to ``EVAL``, which caches it again."""
    sha = SCRIPTS["sliding_window"].sha
    with TestClient(build(private_redis.url, fail_open=False)) as client:
        assert codes(client, 1) == [200]
        with redis.Redis(port=private_redis.port) as raw:
            assert raw.script_exists(sha) == [True]
            raw.script_flush()
            assert raw.script_exists(sha) == [False]
            assert codes(client, 2) == [200, 429]  # the count survived; only the script went
            assert raw.script_exists(sha) == [True]
