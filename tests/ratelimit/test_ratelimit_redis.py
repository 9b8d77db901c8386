"""Rate limits in Redis: every algorithm as one atomic script, the same decisions as in
memory, and the ways to point a limiter at Redis (the app's one setting, a RedisStore, a
client, a URL)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
import redis.asyncio
from ratelimit_helpers import run

from avian import App, ConfigurationError
from avian.ratelimit import RateLimiter, RateLimitResult
from avian.ratelimit.lua import SCRIPTS
from avian.ratelimit.memory import MemoryRateLimitBackend
from avian.ratelimit.redis_backend import RedisRateLimitBackend
from avian.stores import RedisStore
from avian.testing import AsyncTestClient, TestClient

ALGORITHMS = ["sliding_window", "sliding_log", "token_bucket", "fixed_window"]


def options_for(algorithm: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"algorithm": algorithm}
    if algorithm == "fixed_window":
        extra["strict_window"] = True
    return extra


async def decisions(limiter: RateLimiter, n: int, key: str = "k") -> list[RateLimitResult]:
    try:
        return [await limiter.check(key) for _ in range(n)]
    finally:
        backend = limiter.backend
        if isinstance(backend, RedisRateLimitBackend):
            await backend.close()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_quota_and_reset(algorithm: str, redis_url: str, prefix: str) -> None:
    limiter = RateLimiter(
        max_requests=5, window="1h", redis=redis_url, key_prefix=prefix, **options_for(algorithm)
    )

    async def scenario() -> tuple[list[RateLimitResult], list[RateLimitResult]]:
        first = await decisions(limiter, 7)
        await limiter.reset("k")
        return first, await decisions(limiter, 2)

    first, after_reset = run(scenario())
    assert [r.allowed for r in first] == [True] * 5 + [False, False]
    assert [r.remaining for r in first] == [4, 3, 2, 1, 0, 0, 0]
    assert all(r.limit == 5 for r in first)
    assert all(r.retry_after > 0 for r in first[5:])
    assert all(0 < r.reset_after <= 3600 for r in first[:5])
    # A refusal names when a retry can succeed: for the sliding window that can be in the
    # next window (up to 1.2 windows away here), depending on where in the hour the test runs.
    assert all(0 < r.reset_after <= 1.2 * 3600 + 1 for r in first[5:])
    assert abs(first[0].reset_at - (time.time() + first[0].reset_after)) < 60  # Redis's clock
    assert [r.allowed for r in after_reset] == [True, True]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_decisions_as_memory(algorithm: str, redis_url: str, prefix: str) -> None:
    options = {"max_requests": 4, "window": "1h", **options_for(algorithm)}
    in_redis = RateLimiter(redis=redis_url, key_prefix=prefix, **options)
    in_memory = RateLimiter(store=MemoryRateLimitBackend(), **options)
    redis_results = run(decisions(in_redis, 6))
    memory_results = run(decisions(in_memory, 6))
    assert [(r.allowed, r.remaining) for r in redis_results] == [
        (r.allowed, r.remaining) for r in memory_results
    ]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_quota_comes_back(algorithm: str, redis_url: str, prefix: str) -> None:
    """After the promised ``retry_after``, a request gets through again (Redis's own clock)."""
    limiter = RateLimiter(
        max_requests=2, window="400ms", redis=redis_url, key_prefix=prefix, **options_for(algorithm)
    )

    async def scenario() -> tuple[RateLimitResult, RateLimitResult]:
        try:
            refused = None
            for _ in range(5):
                result = await limiter.check("k")
                if not result.allowed:
                    refused = result
                    break
            assert refused is not None
            assert 0 < refused.retry_after <= 0.8
            await asyncio.sleep(refused.retry_after + 0.05)
            return refused, await limiter.check("k")
        finally:
            await limiter.backend.close()  # type: ignore[attr-defined]

    refused, later = run(scenario())
    assert not refused.allowed
    assert later.allowed


def test_token_bucket_refills_in_redis(redis_url: str, prefix: str) -> None:
    limiter = RateLimiter(
        algorithm="token_bucket",
        burst_size=3,
        refill_rate=2.0,  # a token per 500 ms: each burst below takes a few ms
        redis=redis_url,
        key_prefix=prefix,
    )

    async def scenario() -> tuple[int, float, int]:
        try:
            burst = [await limiter.check("k") for _ in range(5)]
            await asyncio.sleep(1.6)  # 3.2 tokens' worth, capped at the burst of 3
            later = sum([(await limiter.check("k")).allowed for _ in range(5)])
            return sum(r.allowed for r in burst), burst[-1].retry_after, later
        finally:
            await limiter.backend.close()  # type: ignore[attr-defined]

    burst, retry_after, later = run(scenario())
    assert burst == 3
    assert 0 < retry_after <= 0.5
    assert later == 3


def test_app_redis_url_makes_redis_the_default(redis_url: str, prefix: str) -> None:
    app = App(openapi=False, redis_url=f"{redis_url}?prefix={prefix}")
    limiter = app.rate_limit(max_requests=2, window="1m")
    assert isinstance(limiter.backend, RedisRateLimitBackend)

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        codes = [client.get("/").status_code for _ in range(3)]
        assert client.get("/").headers["ratelimit-limit"] == "2"
    assert codes == [200, 200, 429]
    with redis.Redis.from_url(redis_url) as raw:
        assert list(raw.scan_iter(match=prefix + "*")) == [f"{prefix}rl:sw60:testclient".encode()]


def test_memory_store_can_still_be_asked_for(redis_url: str) -> None:
    app = App(openapi=False, redis_url=redis_url)
    limiter = app.rate_limit(store="memory")
    assert isinstance(limiter.backend, MemoryRateLimitBackend)


def test_limiters_of_one_app_share_one_redis_client(redis_url: str, prefix: str) -> None:
    app = App(openapi=False, redis_url=redis_url)
    first = app.rate_limit(key_prefix=prefix)
    second = app.group("/api").rate_limit(key_prefix=prefix)
    assert first.backend is second.backend
    assert first.key_prefix == f"{prefix}sw60:"
    assert second.key_prefix == f"{prefix}/api:sw60:"


def test_a_redis_store_lends_its_client_and_prefix(redis_url: str, prefix: str) -> None:
    store = RedisStore(redis_url, prefix=prefix)
    app = App(openapi=False)
    app.rate_limit(max_requests=1, store=store, name="per-ip")
    app.on_shutdown(store.close)  # the store's client is the store's to close

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        assert [client.get("/").status_code for _ in range(2)] == [200, 429]
    with redis.Redis.from_url(redis_url) as raw:
        assert raw.exists(f"{prefix}rl:per-ip:testclient") == 1


def test_a_client_of_your_own(redis_url: str, prefix: str) -> None:
    async def scenario() -> list[int]:
        client = redis.asyncio.Redis.from_url(redis_url)
        app = App(openapi=False)
        app.rate_limit(max_requests=2, redis=client, key_prefix=prefix)

        @app.get("/")
        async def home() -> str:
            return "hi"

        try:
            async with AsyncTestClient(app) as test_client:
                return [(await test_client.get("/")).status_code for _ in range(3)]
        finally:
            await client.aclose()

    assert run(scenario()) == [200, 200, 429]


def test_keys_expire_with_their_window(redis_url: str, prefix: str) -> None:
    limiter = RateLimiter(max_requests=5, window="1m", redis=redis_url, key_prefix=prefix)
    run(decisions(limiter, 1))
    with redis.Redis.from_url(redis_url) as raw:
        (key,) = raw.scan_iter(match=prefix + "*")
        assert 60_000 < raw.pttl(key) <= 120_000  # this window and the next


def test_every_script_is_cached_by_its_sha(redis_url: str, prefix: str) -> None:
    for algorithm in ALGORITHMS:
        run(decisions(RateLimiter(redis=redis_url, key_prefix=prefix, **options_for(algorithm)), 1))
    with redis.Redis.from_url(redis_url) as raw:
        assert raw.script_exists(*(script.sha for script in SCRIPTS.values())) == [True] * 4


def test_backend_options_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="one of client=, store= or url="):
        RedisRateLimitBackend(redis.asyncio.Redis(), url="redis://localhost")
    with pytest.raises(ConfigurationError, match="max_in_flight"):
        RedisRateLimitBackend(url="redis://localhost", max_in_flight=0)
    with pytest.raises(ConfigurationError, match=r"is not a redis\.asyncio client"):
        RedisRateLimitBackend(object())  # type: ignore[arg-type]
    assert RedisRateLimitBackend(url="redis://localhost", max_in_flight=1).max_in_flight == 1
