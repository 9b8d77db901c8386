"""The examples of docs/rate-limiting.md run, and do what the page says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from avian.ratelimit import RateLimiter
from avian.ratelimit.memory import MemoryRateLimitBackend
from avian.ratelimit.redis_backend import RedisRateLimitBackend
from avian.testing import TestClient

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rate-limiting.md"


def examples() -> list[dict[str, Any]]:
    """Run each python example of the page in its own namespace."""
    text = PAGE.read_text(encoding="utf-8")
    out = []
    for n, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.DOTALL)):
        namespace: dict[str, Any] = {"__name__": f"docs_example_{n}"}
        exec(compile(code, f"rate-limiting.md example {n}", "exec"), namespace)
        out.append(namespace)
    return out


def test_examples_behave_as_described() -> None:
    (
        quick,
        placement,
        buckets,
        keys,
        tiers,
        fake_clock,
        redis_mode,
        from_code,
        durations,
    ) = examples()

    with TestClient(quick["app"]) as client:
        response = client.get("/hello")
        assert response.headers["ratelimit-limit"] == "100"
        assert response.headers["ratelimit-remaining"] == "99"

    with TestClient(placement["app"]) as client:
        logins = [client.post("/login").status_code for _ in range(6)]
        searches = [client.get("/search").status_code for _ in range(11)]
    assert logins == [200] * 5 + [429]
    assert searches == [200] * 10 + [429]
    assert isinstance(placement["searches"], RateLimiter)

    bucket_rules = [
        mw.rule
        for router in buckets["app"].iter_routers()
        for _, mw in router._middleware
        if isinstance(mw, RateLimiter)
    ]
    assert [(r.limit, r.rate) for r in bucket_rules] == [(20, 5.0), (10, 1.0)]

    assert keys["by_user"] is not None

    with TestClient(tiers["app"]) as client:
        assert all(client.get("/health").status_code == 404 for _ in range(3))
        internal = [client.get("/x", headers={"x-plan": "internal"}) for _ in range(3)]
        assert all("ratelimit-limit" not in r.headers for r in internal)
        assert client.get("/x").headers["ratelimit-limit"] == "100"
        assert client.get("/x", headers={"x-plan": "pro"}).headers["ratelimit-limit"] == "5000"

    assert isinstance(fake_clock["limiter"].backend, MemoryRateLimitBackend)

    limiters = [mw for router in redis_mode["app"].iter_routers() for _, mw in router._middleware]
    assert all(isinstance(limiter.backend, RedisRateLimitBackend) for limiter in limiters)
    assert limiters[0].backend is not limiters[1].backend  # another Redis, another pool

    with TestClient(from_code["app"]) as client:
        codes = [client.post("/send-code?phone=555").status_code for _ in range(4)]
        other = client.post("/send-code?phone=556").status_code
    assert codes == [200, 200, 200, 429]
    assert other == 200

    assert durations["parse_duration"]("2h") == 7200.0
