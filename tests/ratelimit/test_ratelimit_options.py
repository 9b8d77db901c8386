"""Every option is checked when the limiter is created: a wrong one stops the app at
startup with a ConfigurationError, and the nearest valid value is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from avian import App, ConfigurationError
from avian.ratelimit import MemoryRateLimitBackend, RateLimiter, rate_limit
from avian.ratelimit.options import MAX_SLIDING_LOG_REQUESTS
from avian.stores import MemoryStore
from avian.testing import TestClient


def accepted(**options: Any) -> RateLimiter:
    return RateLimiter(**options)


def refused(match: str, **options: Any) -> None:
    with pytest.raises(ConfigurationError, match=match):
        RateLimiter(**options)


def test_defaults() -> None:
    limiter = accepted()
    assert limiter.rule.algorithm == "sliding_window"
    assert limiter.rule.limit == 60
    assert limiter.rule.window == 60.0
    assert limiter.settings.key_prefix == "rl:"
    assert limiter.settings.header_format == "standard"
    assert limiter.fail_open is True


def test_max_requests_at_least_one() -> None:
    assert accepted(max_requests=1).rule.limit == 1
    refused("max_requests must be an int >= 1", max_requests=0)
    refused("max_requests must be an int >= 1", max_requests=-5)
    refused("max_requests must be an int >= 1", max_requests=2.5)
    refused("max_requests must be an int >= 1", max_requests=True)


def test_limit_as_an_int_is_max_requests() -> None:
    assert accepted(limit=7).rule.limit == 7
    refused("limit must be an int >= 1", limit=0)
    refused("not both", max_requests=5, limit=7)


def test_window_at_least_a_millisecond() -> None:
    assert accepted(window="1ms").rule.window == pytest.approx(0.001)
    assert accepted(window=90).rule.window == 90.0
    assert accepted(window="1h").rule.window == 3600.0
    refused("window must be at least 1 ms", window="0.5ms")
    refused("window must be at least 1 ms", window=0)
    refused("window: cannot read duration", window="a minute")
    refused("window: a duration must be finite and not negative", window=-1)


def test_algorithms() -> None:
    for name in ("sliding_window", "sliding_log", "token_bucket", "fixed_window"):
        assert accepted(algorithm=name).rule.algorithm == name
    assert accepted(algorithm="token-bucket").rule.algorithm == "token_bucket"  # te.js spelling
    refused("algorithm must be one of", algorithm="leaky_bucket")


def test_token_bucket_options_only_for_the_token_bucket() -> None:
    bucket = accepted(algorithm="token_bucket", refill_rate=2.5, burst_size=10)
    assert (bucket.rule.limit, bucket.rule.rate) == (10, 2.5)
    refused("refill_rate applies to algorithm='token_bucket' only", refill_rate=1.0)
    refused("burst_size applies to algorithm='token_bucket' only", burst_size=5)
    refused("refill_rate must be a positive number", algorithm="token_bucket", refill_rate=0)
    refused("refill_rate must be a positive number", algorithm="token_bucket", refill_rate=-1)
    refused("burst_size must be an int >= 1", algorithm="token_bucket", burst_size=0)


def test_burst_size_keeps_the_sustained_rate() -> None:
    # 60 per minute sustained, bursts of 10: one token a second, ten in the bucket.
    bucket = accepted(algorithm="token_bucket", max_requests=60, window="1m", burst_size=10)
    assert bucket.rule.limit == 10
    assert bucket.rule.rate == pytest.approx(1.0)


def test_strict_window_only_for_the_fixed_window() -> None:
    assert accepted(algorithm="fixed_window", strict_window=True).rule.strict is True
    assert accepted(algorithm="fixed_window").rule.strict is False
    refused("strict_window applies to algorithm='fixed_window' only", strict_window=True)
    refused("strict_window must be True or False", algorithm="fixed_window", strict_window=1)


def test_sliding_log_quota_is_bounded() -> None:
    assert accepted(algorithm="sliding_log", max_requests=MAX_SLIDING_LOG_REQUESTS)
    refused(
        "use algorithm='sliding_window'",
        algorithm="sliding_log",
        max_requests=MAX_SLIDING_LOG_REQUESTS + 1,
    )
    # The sliding window has no such bound: it keeps two counters whatever the quota.
    assert accepted(max_requests=10**9).rule.limit == 10**9


def test_callables() -> None:
    assert accepted(key=lambda ctx: "k", skip=lambda ctx: False, on_limited=lambda c, r: None)
    refused("key must be a callable", key="ip")
    refused("skip must be a callable", skip=True)
    refused("on_limited must be a callable", on_limited="429")


def test_header_formats() -> None:
    for name in ("standard", "legacy", "both", "draft7", "draft8", None):
        assert accepted(header_format=name).settings.header_format == name
    refused("header_format must be one of", header_format="draft9")


def test_fail_open_is_a_bool() -> None:
    assert accepted(fail_open=False).fail_open is False
    refused("fail_open must be True or False", fail_open="no")


def test_names_and_prefixes() -> None:
    assert accepted(name="login", key_prefix="").settings.name == "login"
    refused("name must be printable ASCII", name="")
    refused("name must be printable ASCII", name="caf\u00e9")
    refused("name must be printable ASCII", name="a\nb")
    refused("name must be printable ASCII", name="x" * 101)
    assert accepted(name="x" * 100)
    refused("key_prefix must be a str", key_prefix=5)


def test_stores() -> None:
    assert accepted(store="memory")
    assert accepted(store="redis")
    assert accepted(store=MemoryStore())
    assert accepted(store=MemoryRateLimitBackend())
    refused("store must be 'memory', 'redis'", store="mongo")
    refused("store must be 'memory', 'redis'", store=42)
    refused("give store= or redis=, not both", store="memory", redis="redis://localhost")
    refused("redis must be a redis.asyncio client or a URL", redis=42)


def test_unknown_options_name_the_closest_one() -> None:
    refused("unknown option.*'max_request' \\(did you mean 'max_requests'\\?\\)", max_request=5)
    refused("unknown option.*'time_window_seconds'", time_window_seconds=60)


def test_memory_backend_options() -> None:
    assert MemoryRateLimitBackend(max_keys=1).max_keys == 1
    with pytest.raises(ConfigurationError, match="max_keys must be an int >= 1"):
        MemoryRateLimitBackend(max_keys=0)
    with pytest.raises(ConfigurationError, match="purge_interval"):
        MemoryRateLimitBackend(purge_interval=0)
    with pytest.raises(ConfigurationError, match="clock"):
        MemoryRateLimitBackend(clock=5)  # type: ignore[arg-type]


def test_bad_options_fail_where_they_are_written() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="max_requests"):
        app.rate_limit(max_requests=0)
    with pytest.raises(ConfigurationError, match="window"):
        app.group("/api").rate_limit(window="forever")
    with pytest.raises(ConfigurationError, match="algorithm"):
        rate_limit(algorithm="nope")


def test_no_limiter_after_startup() -> None:
    app = App()

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        assert client.get("/").status_code == 200
        with pytest.raises(ConfigurationError, match="the app has started"):
            app.rate_limit(max_requests=5)
