"""The four algorithms in memory, with a clock moved by hand: exact counts at the edges of
windows, refills and the ``retry_after`` each refusal promises."""

from __future__ import annotations

from typing import Any

import pytest
from ratelimit_helpers import FakeClock, run

from avian.ratelimit import MemoryRateLimitBackend, RateLimiter, RateLimitResult

T0 = 1_000_000.0  # a multiple of every window below, so windows start on it


def limiter(clock: FakeClock, **options: Any) -> RateLimiter:
    return RateLimiter(store=MemoryRateLimitBackend(clock=clock), **options)


def hits(limiter: RateLimiter, n: int, key: str = "k") -> list[RateLimitResult]:
    async def go() -> list[RateLimitResult]:
        return [await limiter.check(key) for _ in range(n)]

    return run(go())


def allowed(limiter: RateLimiter, n: int, key: str = "k") -> int:
    """How many of ``n`` requests made now get through."""
    return sum(r.allowed for r in hits(limiter, n, key))


def next_result(limiter: RateLimiter, key: str = "k") -> RateLimitResult:
    return hits(limiter, 1, key)[0]


class TestSlidingWindow:
    def test_quota_within_one_window(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=10, window="10s")
        results = hits(rl, 11)
        assert [r.allowed for r in results] == [True] * 10 + [False]
        assert [r.remaining for r in results[:10]] == list(range(9, -1, -1))
        assert results[0].reset_after == 10.0  # the end of the current window
        assert results[0].reset_at == T0 + 10

    def test_previous_window_weighs_in_proportion(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=10, window="10s")
        assert allowed(rl, 10) == 10
        # The next window starts: the previous one still covers the whole last 10 s.
        clock.now = T0 + 10
        refused = next_result(rl)
        assert not refused.allowed
        assert refused.retry_after == pytest.approx(1.0)  # 10 x 0.9 + 1 fits at +1 s
        clock.now = T0 + 10.999
        assert allowed(rl, 1) == 0
        clock.now = T0 + 11
        assert allowed(rl, 5) == 1  # 9 weighted + 1
        clock.now = T0 + 15
        assert allowed(rl, 10) == 4  # 5 weighted + 1 counted + 4 = 10
        # Two windows later the previous window is this one's 5 requests, fully weighted.
        clock.now = T0 + 20
        assert allowed(rl, 10) == 5
        # After an empty window nothing weighs in.
        clock.now = T0 + 40
        assert allowed(rl, 11) == 10

    def test_retry_after_a_full_window(self, clock: FakeClock) -> None:
        clock.now = T0 + 5
        rl = limiter(clock, max_requests=10, window="10s")
        assert allowed(rl, 10) == 10
        refused = next_result(rl)
        # The window is full; in the next one, 10 x weight + 1 <= 10 once weight <= 0.9.
        assert refused.retry_after == pytest.approx(6.0)
        assert refused.reset_at == pytest.approx(T0 + 11)
        clock.now = T0 + 11 - 0.001
        assert allowed(rl, 1) == 0
        clock.now = T0 + 11
        assert allowed(rl, 1) == 1

    def test_limit_of_one(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=1, window="10s")
        assert allowed(rl, 2) == 1
        refused = next_result(rl)
        assert refused.retry_after == pytest.approx(20.0)  # the previous window must empty
        clock.now = T0 + 20
        assert allowed(rl, 2) == 1

    def test_keys_are_independent(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=2, window="1m")
        assert allowed(rl, 3, "a") == 2
        assert allowed(rl, 3, "b") == 2


class TestSlidingLog:
    def test_each_request_leaves_exactly_one_window_later(self, clock: FakeClock) -> None:
        rl = limiter(clock, algorithm="sliding_log", max_requests=3, window="10s")
        for offset in (0, 1, 2):
            clock.now = T0 + offset
            assert next_result(rl).allowed
        clock.now = T0 + 9.5
        refused = next_result(rl)
        assert not refused.allowed
        assert refused.retry_after == pytest.approx(0.5)  # the request at T0 expires at T0+10
        clock.now = T0 + 10  # exactly one window after the first request: it has left
        result = next_result(rl)
        assert result.allowed
        assert result.remaining == 0
        assert result.reset_after == pytest.approx(1.0)  # the one from T0+1 leaves next
        clock.now = T0 + 10.5
        assert not next_result(rl).allowed
        clock.now = T0 + 11
        assert next_result(rl).allowed

    def test_refusals_are_not_logged(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, algorithm="sliding_log", max_requests=2, window="10s")
        assert allowed(rl, 50) == 2  # 48 refusals
        clock.now = T0 + 10
        assert allowed(rl, 3) == 2  # the refusals did not push the window


class TestTokenBucket:
    def test_burst_then_one_token_per_interval(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, algorithm="token_bucket", burst_size=5, refill_rate=1.0)
        results = hits(rl, 6)
        assert [r.allowed for r in results] == [True] * 5 + [False]
        assert [r.remaining for r in results[:5]] == [4, 3, 2, 1, 0]
        assert results[0].reset_after == pytest.approx(1.0)  # one token to refill
        assert results[4].reset_after == pytest.approx(5.0)  # five to be full again
        assert results[5].retry_after == pytest.approx(1.0)
        clock.now = T0 + 0.5
        refused = next_result(rl)
        assert refused.retry_after == pytest.approx(0.5)
        clock.now = T0 + 1
        assert allowed(rl, 2) == 1
        clock.now = T0 + 4  # three seconds, three tokens
        assert allowed(rl, 5) == 3

    def test_the_bucket_never_holds_more_than_its_burst(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, algorithm="token_bucket", burst_size=3, refill_rate=2.0)
        assert allowed(rl, 3) == 3
        clock.now = T0 + 3600
        assert allowed(rl, 10) == 3

    def test_fractional_refill(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, algorithm="token_bucket", burst_size=1, refill_rate=10.0)
        assert allowed(rl, 2) == 1
        clock.now = T0 + 0.1  # 0.1 s x 10 tokens/s: exactly one token despite float noise
        assert allowed(rl, 2) == 1

    def test_default_rate_is_max_requests_per_window(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, algorithm="token_bucket", max_requests=6, window="1m")
        assert allowed(rl, 10) == 6  # the bucket starts full
        clock.now = T0 + 10  # one token per 10 s
        assert allowed(rl, 3) == 1


class TestFixedWindow:
    def test_strict_windows_follow_the_clock(self, clock: FakeClock) -> None:
        clock.now = T0 + 5
        rl = limiter(
            clock, algorithm="fixed_window", strict_window=True, max_requests=3, window="10s"
        )
        results = hits(rl, 4)
        assert [r.allowed for r in results] == [True, True, True, False]
        assert results[0].reset_at == T0 + 10
        assert results[3].retry_after == pytest.approx(5.0)
        clock.now = T0 + 9.999
        assert allowed(rl, 1) == 0
        clock.now = T0 + 10
        assert allowed(rl, 4) == 3

    def test_unaligned_windows_start_at_the_first_request(self, clock: FakeClock) -> None:
        clock.now = T0 + 5
        rl = limiter(clock, algorithm="fixed_window", max_requests=3, window="10s")
        assert allowed(rl, 4) == 3
        clock.now = T0 + 10  # a clock-aligned window would have started here
        assert allowed(rl, 1) == 0
        clock.now = T0 + 14.999
        refused = next_result(rl)
        assert refused.retry_after == pytest.approx(0.001)
        clock.now = T0 + 15
        assert allowed(rl, 4) == 3

    def test_sub_second_windows(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(
            clock, algorithm="fixed_window", strict_window=True, max_requests=2, window="100ms"
        )
        assert allowed(rl, 3) == 2
        clock.now = T0 + 0.1
        assert allowed(rl, 3) == 2


class TestProgrammaticApi:
    def test_reset_forgets_a_key(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=2, window="1h")
        assert allowed(rl, 3) == 2
        run(rl.reset("k"))
        assert allowed(rl, 3) == 2

    def test_per_call_limit_and_window(self, clock: FakeClock) -> None:
        clock.now = T0
        rl = limiter(clock, max_requests=100, window="1h")

        async def go() -> list[bool]:
            return [(await rl.check("k", limit=2, window="1m")).allowed for _ in range(3)]

        assert run(go()) == [True, True, False]
        assert allowed(rl, 1) == 1  # another window: another quota
        zero = run(rl.check("k", limit=0))
        assert not zero.allowed
        assert zero.limit == 0

    def test_bad_calls(self, clock: FakeClock) -> None:
        rl = limiter(clock)
        with pytest.raises(ValueError, match="limit must be an int >= 0"):
            run(rl.check("k", limit=-1))
        with pytest.raises(ValueError, match="window must be positive"):
            run(rl.check("k", window=0))
        with pytest.raises(TypeError, match="strings"):
            run(rl.check(42))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="strings"):
            run(rl.reset(None))  # type: ignore[arg-type]

    def test_result_shape(self, clock: FakeClock) -> None:
        clock.now = T0
        result = next_result(limiter(clock, max_requests=5, window="10s"))
        assert result.to_dict() == {
            "allowed": True,
            "remaining": 4,
            "limit": 5,
            "reset_at": T0 + 10,
            "reset_after": 10.0,
            "retry_after": 0.0,
            "degraded": False,
        }
        assert "allowed remaining=4/5" in repr(result)


class TestBoundedMemory:
    def test_max_keys_drops_the_oldest_key(self, clock: FakeClock) -> None:
        clock.now = T0
        backend = MemoryRateLimitBackend(clock=clock, max_keys=3)
        rl = RateLimiter(store=backend, max_requests=1, window="1h")
        for key in ("a", "b", "c"):
            assert allowed(rl, 2, key) == 1
        assert len(backend) == 3  # at the cap: every key is kept
        assert allowed(rl, 1, "a") == 0
        assert allowed(rl, 1, "d") == 1  # a fourth key: the oldest ("a") is dropped
        assert len(backend) == 3
        assert allowed(rl, 1, "a") == 1  # "a" starts afresh...
        assert allowed(rl, 1, "c") == 0  # ...while a key still held keeps its count

    def test_expired_state_is_swept(self, clock: FakeClock) -> None:
        clock.now = T0
        backend = MemoryRateLimitBackend(clock=clock, purge_interval=10)
        rl = RateLimiter(store=backend, max_requests=5, window="1m")
        for i in range(100):
            assert allowed(rl, 1, f"client-{i}") == 1
        assert len(backend) == 100
        clock.now = T0 + 120  # two windows later, every counter is irrelevant
        assert allowed(rl, 1, "newcomer") == 1
        assert len(backend) == 1

    def test_live_state_survives_a_sweep(self, clock: FakeClock) -> None:
        clock.now = T0
        backend = MemoryRateLimitBackend(clock=clock, purge_interval=1)
        rl = RateLimiter(store=backend, max_requests=2, window="1m")
        assert allowed(rl, 2, "steady") == 2
        clock.now = T0 + 30
        assert allowed(rl, 1, "newcomer") == 1  # sweeps, but "steady" is still counted
        assert allowed(rl, 1, "steady") == 0
