"""Exact counts under concurrency: 200 simultaneous requests against a limit of 50 let
exactly 50 through, in memory and in Redis."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
import redis
from ratelimit_helpers import run

from avian import App
from avian.testing import AsyncTestClient

LIMIT = 50
REQUESTS = 200


def build(**options: Any) -> App:
    app = App(openapi=False)
    app.rate_limit(max_requests=LIMIT, window="1h", **options)

    @app.get("/work")
    async def work() -> str:
        for _ in range(3):
            await asyncio.sleep(0)  # let the other requests run in between
        return "done"

    return app


async def burst(app: App) -> Counter[int]:
    async with AsyncTestClient(app) as client:
        responses = await asyncio.gather(*(client.get("/work") for _ in range(REQUESTS)))
    return Counter(response.status_code for response in responses)


@pytest.mark.parametrize(
    "algorithm", ["sliding_window", "sliding_log", "token_bucket", "fixed_window"]
)
def test_memory(algorithm: str) -> None:
    counts = run(burst(build(algorithm=algorithm, store="memory")))
    assert counts == {200: LIMIT, 429: REQUESTS - LIMIT}


@pytest.mark.parametrize(
    "algorithm", ["sliding_window", "sliding_log", "token_bucket", "fixed_window"]
)
def test_redis(algorithm: str, redis_url: str, prefix: str) -> None:
    app = build(algorithm=algorithm, redis=redis_url, key_prefix=prefix)
    counts = run(burst(app))
    assert counts == {200: LIMIT, 429: REQUESTS - LIMIT}
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=prefix + "*"))
    assert len(keys) == 1  # one key for the one client, under this test's prefix
