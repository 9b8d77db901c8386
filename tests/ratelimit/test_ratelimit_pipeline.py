"""The rate limiter in compiled pipelines.

A limiter on a route runs through its own runner (the pipeline's ``__avian_wrap__``
protocol) instead of the generic middleware wrapper.  These tests hold that runner to the
answers of the same limiter run as generic middleware (``when(always, limiter)`` goes
through ``__call__``): same statuses, same headers in every format, same behaviour around
errors, answered requests and other middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from avian import App, CallNext, Context, HTTPError, Response, when
from avian.ratelimit import MemoryRateLimitBackend, RateLimiter, rate_limit
from avian.testing import TestClient

T0 = 1_000_040.0  # 20 s into a minute window (which starts at 1_000_020 = 16_667 x 60)
MODES = ("compiled", "generic")
RATE_HEADERS = (
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
)


class Clock:
    """A clock the test moves by hand (Unix seconds)."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def always(ctx: Context) -> bool:
    return True


def limited_app(
    mode: str, clock: Clock, *, setup: Callable[[App], None] | None = None, **options: Any
) -> tuple[App, RateLimiter]:
    """An app whose routes sit behind one limiter with a private memory backend (the
    default), run compiled or as generic middleware, on ``clock``."""
    app = App(openapi=False)
    if setup is not None:
        setup(app)  # outer middleware goes first
    limiter = RateLimiter(**options)
    limiter.attach(app)
    if "store" not in options:
        limiter.backend.clock = clock  # type: ignore[attr-defined]
    app.use(limiter if mode == "compiled" else when(always, limiter))

    @app.get("/")
    async def home() -> str:
        return "hi"

    @app.get("/teapot")
    async def teapot() -> str:
        raise HTTPError(418, "No coffee here", code="TEAPOT")

    @app.get("/crash")
    async def crash() -> str:
        raise RuntimeError("boom")

    @app.get("/seen")
    async def seen(ctx: Context) -> dict[str, int]:
        return {"remaining": ctx.rate_limit.remaining, "limit": ctx.rate_limit.limit}

    return app, limiter


def rate_headers(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in RATE_HEADERS if name in response.headers}


def script(mode: str, **options: Any) -> list[tuple[int, dict[str, str]]]:
    """Status and rate-limit headers of a fixed sequence of requests at fixed moments."""
    clock = Clock()
    app, _ = limited_app(mode, clock, **options)
    moments = [0.0, 0.4, 1.7, 2.0, 2.5, 30.0, 41.0, 75.0, 200.0]
    seen = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for moment in moments:
            clock.now = T0 + moment
            response = client.get("/").execute()
            seen.append((response.status_code, rate_headers(response)))
    return seen


class TestSameAnswers:
    @pytest.mark.parametrize("header_format", ["standard", "legacy", "both", "draft7", "draft8"])
    def test_every_header_format(self, header_format: str) -> None:
        options = {"max_requests": 3, "window": "1m", "header_format": header_format}
        compiled = script("compiled", **options)
        assert compiled == script("generic", **options)
        # 41 s in, the full previous window still weighs 59/60 x 3: refused until 75 s.
        assert [status for status, _ in compiled] == [200, 200, 200, 429, 429, 429, 429, 200, 200]

    def test_standard_values_move_with_the_clock(self) -> None:
        seen = script("compiled", max_requests=3, window="1m")
        first, second, third, refused = seen[:4]
        assert first[1] == {
            "ratelimit-limit": "3",
            "ratelimit-remaining": "2",
            "ratelimit-reset": "40",  # the window ends 40 s after T0
        }
        assert second[1]["ratelimit-reset"] == "40"  # 39.6 s, rounded up
        assert third[1]["ratelimit-reset"] == "39"  # 38.3 s: the cached pair was renewed
        assert third[1]["ratelimit-remaining"] == "0"
        assert refused[1]["ratelimit-remaining"] == "0"
        assert refused[1]["retry-after"] == refused[1]["ratelimit-reset"]

    def test_legacy_reset_is_the_unix_time_of_the_window_end(self) -> None:
        seen = script("compiled", max_requests=3, window="1m", header_format="legacy")
        assert seen[0][1] == {
            "x-ratelimit-limit": "3",
            "x-ratelimit-remaining": "2",
            "x-ratelimit-reset": "1000080",
        }

    def test_no_headers_when_the_format_is_none(self) -> None:
        seen = script("compiled", max_requests=3, window="1m", header_format=None)
        assert seen == script("generic", max_requests=3, window="1m", header_format=None)
        assert seen[0] == (200, {})
        assert set(seen[3][1]) == {"retry-after"}  # a refusal still says when to retry

    def test_large_remaining_counts(self) -> None:
        seen = script("compiled", max_requests=1000, window="1m")
        assert seen == script("generic", max_requests=1000, window="1m")
        assert [h["ratelimit-remaining"] for _, h in seen[:3]] == ["999", "998", "997"]
        assert all(status == 200 for status, _ in seen)

    @pytest.mark.parametrize("mode", MODES)
    def test_the_general_path_with_a_shared_store_and_a_key_function(self, mode: str) -> None:
        clock = Clock()
        store = MemoryRateLimitBackend(clock=clock)

        def by_team(ctx: Context) -> str | None:
            return ctx.request.headers.get("x-team")  # no team: not limited

        app, limiter = limited_app(mode, clock, max_requests=2, store=store, key=by_team)
        with TestClient(app) as client:
            red = [client.get("/", headers={"x-team": "red"}).execute() for _ in range(3)]
            blue = client.get("/", headers={"x-team": "blue"}).execute()
            anonymous = [client.get("/").execute() for _ in range(3)]
        assert not limiter._hot
        assert [r.status_code for r in red] == [200, 200, 429]
        assert rate_headers(red[1])["ratelimit-remaining"] == "0"
        assert rate_headers(blue)["ratelimit-remaining"] == "1"
        assert [r.status_code for r in anonymous] == [200, 200, 200]
        assert rate_headers(anonymous[0]) == {}


class TestAroundTheHandler:
    @pytest.mark.parametrize("mode", MODES)
    def test_error_responses_carry_the_headers(self, mode: str) -> None:
        app, _ = limited_app(mode, Clock(), max_requests=5)
        with TestClient(app, raise_server_exceptions=False) as client:
            teapot = client.get("/teapot").execute()
            crash = client.get("/crash").execute()
        assert teapot.status_code == 418
        assert teapot.json()["code"] == "TEAPOT"
        assert rate_headers(teapot)["ratelimit-remaining"] == "4"
        assert crash.status_code == 500
        assert rate_headers(crash)["ratelimit-remaining"] == "3"

    @pytest.mark.parametrize("mode", MODES)
    def test_the_decision_is_on_the_context(self, mode: str) -> None:
        app, _ = limited_app(mode, Clock(), max_requests=5)
        with TestClient(app) as client:
            response = client.get("/seen").execute()
        assert response.json() == {"remaining": 4, "limit": 5}
        assert response.headers["ratelimit-remaining"] == "4"

    @pytest.mark.parametrize("mode", MODES)
    def test_a_response_chosen_outside_never_reaches_the_limiter(self, mode: str) -> None:
        calls: list[str] = []

        def setup(app: App) -> None:
            @app.use
            async def answer_early(ctx: Context, call_next: CallNext) -> Response:
                if ctx.request.query.get("early"):
                    ctx.fire(202, {"early": True})
                return await call_next()

            @app.after
            async def record(ctx: Context) -> None:
                calls.append("after")

        app, _ = limited_app(mode, Clock(), setup=setup, max_requests=2)

        with TestClient(app) as client:
            early = [client.get("/seen?early=1").execute() for _ in range(3)]
            counted = client.get("/seen").execute()
        assert [a.status_code for a in early] == [202, 202, 202]
        assert early[0].json() == {"early": True}
        assert rate_headers(early[0]) == {}
        assert calls == ["after"]  # only the request that went on ran the route's layer
        assert counted.json() == {"remaining": 1, "limit": 2}  # the early ones never counted

    @pytest.mark.parametrize("mode", MODES)
    def test_outer_middleware_sees_the_429_as_a_response(self, mode: str) -> None:
        statuses: list[int] = []

        def setup(app: App) -> None:
            @app.use
            async def observe(ctx: Context, call_next: CallNext) -> Response:
                response = await call_next()
                statuses.append(response.status)
                response.headers["x-observed"] = "1"
                return response

        app, _ = limited_app(mode, Clock(), setup=setup, max_requests=1)
        with TestClient(app) as client:
            first = client.get("/").execute()
            second = client.get("/").execute()
        assert statuses == [200, 429]
        assert second.status_code == 429
        assert second.headers["x-observed"] == "1"
        assert first.headers["ratelimit-remaining"] == "0"

    @pytest.mark.parametrize("mode", MODES)
    def test_the_strictest_of_two_limiters_writes_the_headers(self, mode: str) -> None:
        clock = Clock()
        app, _ = limited_app(mode, clock, max_requests=10)
        strict = rate_limit(max_requests=2)

        @app.get("/strict")
        @strict
        async def strict_route() -> str:
            return "ok"

        strict.limiter.attach(app)
        strict.limiter.backend.clock = clock  # type: ignore[attr-defined]
        with TestClient(app) as client:
            answers = [client.get("/strict").execute() for _ in range(3)]
            loose = client.get("/").execute()
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert rate_headers(answers[0])["ratelimit-limit"] == "2"
        assert rate_headers(answers[1])["ratelimit-remaining"] == "0"
        assert rate_headers(loose) == {
            "ratelimit-limit": "10",
            "ratelimit-remaining": "6",  # the app's limiter counted the three /strict calls
            "ratelimit-reset": "40",
        }


class TestBinding:
    def test_a_limiter_bound_by_its_first_request_counts_exactly(self) -> None:
        """``app.use(RateLimiter(...))`` binds on the first request (the general path),
        then decides inline: the count runs on across the switch."""
        app = App(openapi=False)
        limiter = RateLimiter(max_requests=3, window="1m")
        app.use(limiter)

        @app.get("/")
        async def home() -> str:
            return "hi"

        with TestClient(app) as client:
            answers = [client.get("/").execute() for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert [a.headers.get("ratelimit-remaining") for a in answers] == ["2", "1", "0", "0"]
        assert limiter._hot

    def test_a_replaced_clock_is_honoured(self) -> None:
        clock = Clock()
        app, limiter = limited_app("compiled", clock, max_requests=1)
        with TestClient(app) as client:
            assert client.get("/").status_code == 200
            assert client.get("/").status_code == 429
            clock.now += 120  # two windows later the count has no weight left
            assert client.get("/").status_code == 200
            limiter.backend.clock = Clock(T0 + 600)  # type: ignore[attr-defined]
            assert client.get("/").status_code == 200


class TestWrapProtocol:
    """The pipeline asks a middleware's type for ``__avian_wrap__``."""

    def test_a_type_with_the_hook_supplies_its_own_runner(self) -> None:
        wrapped: list[str] = []

        class Tagging:
            async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
                raise AssertionError("the compiled runner replaces __call__")

            def __avian_wrap__(self, inner: Any, on_error: Any) -> Any:
                wrapped.append("wrap")

                async def run(ctx: Context) -> Response:
                    try:
                        response: Response = await inner(ctx)
                    except Exception as exc:
                        response = await on_error(ctx, exc)
                    response.headers["x-tag"] = "on"
                    return response

                return run

        app = App(openapi=False)
        app.use(Tagging())

        @app.get("/")
        async def home() -> str:
            return "hi"

        with TestClient(app) as client:
            response = client.get("/").execute()
            missing = client.get("/nowhere").execute()
        assert wrapped  # asked once per compiled pipeline
        assert (response.status_code, response.headers["x-tag"]) == (200, "on")
        assert (missing.status_code, missing.headers["x-tag"]) == (404, "on")

    def test_an_attribute_on_a_plain_function_is_not_the_hook(self) -> None:
        async def plain(ctx: Context, call_next: CallNext) -> Response:
            response = await call_next()
            response.headers["x-plain"] = "yes"
            return response

        plain.__avian_wrap__ = None  # type: ignore[attr-defined]
        app = App(openapi=False)
        app.use(plain)

        @app.get("/")
        async def home() -> str:
            return "hi"

        with TestClient(app) as client:
            response = client.get("/").execute()
        assert response.headers["x-plain"] == "yes"
