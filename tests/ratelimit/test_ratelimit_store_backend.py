"""Rate limits over any Store (te.js's custom storage): the state goes through get/set with
a TTL; RedisStore and MemoryStore (also behind a PrefixedStore) get their native backends."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from ratelimit_helpers import FakeClock, run

from avian import App
from avian.ratelimit import MemoryRateLimitBackend, RateLimiter
from avian.ratelimit.redis_backend import RedisRateLimitBackend
from avian.ratelimit.store_backend import StoreRateLimitBackend
from avian.stores import MemoryStore, PrefixedStore, RedisStore
from avian.testing import TestClient

T0 = 1_000_000.0
TAGS = {"sliding_window": "sw", "sliding_log": "sl", "token_bucket": "tb", "fixed_window": "fw"}


class DictStore:
    """A minimal custom store: a dict with expiry times (what an app might write for its
    own database)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.data: dict[str, tuple[Any, float | None]] = {}
        self.ttls: list[float] = []

    async def get(self, key: str) -> Any:
        value, expires = self.data.get(key, (None, None))
        if expires is not None and expires <= self.clock():
            self.data.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        if ttl is not None:
            self.ttls.append(ttl)
        self.data[key] = (value, None if ttl is None else self.clock() + ttl)

    async def delete(self, key: str) -> bool:
        return self.data.pop(key, None) is not None


class LostStore(DictStore):
    """A custom store whose server went away."""

    async def get(self, key: str) -> Any:
        raise ConnectionError("database unreachable")


@pytest.mark.parametrize(
    "algorithm", ["sliding_window", "sliding_log", "token_bucket", "fixed_window"]
)
def test_every_algorithm_over_a_custom_store(algorithm: str, clock: FakeClock) -> None:
    clock.now = T0
    store = DictStore(clock)
    limiter = RateLimiter(
        store=StoreRateLimitBackend(store, clock=clock),
        algorithm=algorithm,
        max_requests=3,
        window="10s",
    )

    async def burst() -> list[bool]:
        return [(await limiter.check("k")).allowed for _ in range(4)]

    assert run(burst()) == [True, True, True, False]
    assert list(store.data) == [f"rl:{TAGS[algorithm]}10:k"]
    assert all(0 < ttl <= 20 for ttl in store.ttls)  # state lives no longer than it matters
    clock.advance(30)
    assert run(burst())[0] is True
    run(limiter.reset("k"))
    assert store.data == {}


def test_a_custom_store_is_picked_by_store(clock: FakeClock) -> None:
    clock.now = T0
    limiter = RateLimiter(store=DictStore(clock), max_requests=1)
    assert isinstance(limiter.backend, StoreRateLimitBackend)


def test_a_lost_store_follows_the_fail_policy(clock: FakeClock) -> None:
    for fail_open, expected in ((True, [200, 200]), (False, [503, 503])):
        app = App(openapi=False)
        app.rate_limit(store=LostStore(clock), max_requests=1, fail_open=fail_open)

        @app.get("/")
        async def home() -> str:
            return "hi"

        with TestClient(app) as client:
            assert [client.get("/").status_code for _ in range(2)] == expected


def test_native_backends_for_known_stores(redis_url: str, prefix: str) -> None:
    assert isinstance(RateLimiter(store=MemoryStore()).backend, MemoryRateLimitBackend)
    wrapped = PrefixedStore(MemoryStore(), "app:")
    assert isinstance(RateLimiter(store=wrapped).backend, MemoryRateLimitBackend)
    redis_store = RedisStore(redis_url, prefix=prefix)
    backend = RateLimiter(store=PrefixedStore(redis_store, "tenant:")).backend
    assert isinstance(backend, RedisRateLimitBackend)
    assert backend.prefix == prefix + "tenant:"

    limiter = RateLimiter(store=PrefixedStore(redis_store, "tenant:"), max_requests=1)

    async def scenario() -> list[bool]:
        try:
            return [(await limiter.check("k")).allowed for _ in range(2)]
        finally:
            await redis_store.close()

    assert run(scenario()) == [True, False]
    with redis.Redis.from_url(redis_url) as raw:
        assert raw.exists(f"{prefix}tenant:rl:sw60:k") == 1
