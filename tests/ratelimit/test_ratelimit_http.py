"""Rate limiting over HTTP: the 429 answer, headers in every format, keys, skips, tiers,
and limiters on the app, a group, a route and as plain middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ratelimit_helpers import FakeClock

from avian import App, ConfigurationError, Context, JSONResponse, Router
from avian.ratelimit import (
    MemoryRateLimitBackend,
    RateLimiter,
    RateLimitResult,
    by_header,
    by_ip,
    client_ip,
    rate_limit,
    rate_limit_key,
)
from avian.testing import TestClient

T0 = 1_000_040.0  # 20 s into a minute window (which starts at 1_000_020 = 16_667 x 60)


def memory(clock: FakeClock) -> MemoryRateLimitBackend:
    return MemoryRateLimitBackend(clock=clock)


def app_with(clock: FakeClock | None = None, **options: Any) -> App:
    app = App(openapi=False)
    if clock is not None:
        options.setdefault("store", memory(clock))
    app.rate_limit(**options)

    @app.get("/")
    async def home() -> str:
        return "hi"

    return app


def statuses(client: TestClient, n: int, path: str = "/", **kwargs: Any) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


class TestRefusal:
    def test_429_is_problem_json_with_retry_after(self, clock: FakeClock) -> None:
        clock.now = T0
        with TestClient(app_with(clock, max_requests=2, window="1m")) as client:
            assert statuses(client, 2) == [200, 200]
            response = client.get("/")
        assert response.status_code == 429
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 429
        assert problem["code"] == "RATE_LIMITED"
        assert problem["title"] == "Too Many Requests"
        # The window is full: in the next one, 2 x weight + 1 <= 2 once half of it passed,
        # 40 s + 30 s from now.
        assert response.headers["retry-after"] == "70"
        assert problem["details"] == {"limit": 2, "retry_after": 70}
        assert response.headers["ratelimit-reset"] == "70"  # the same moment
        assert response.headers["ratelimit-remaining"] == "0"

    def test_refused_requests_never_reach_the_handler(self, clock: FakeClock) -> None:
        clock.now = T0
        calls = []
        app = App(openapi=False)
        app.rate_limit(max_requests=3, store=memory(clock))

        @app.post("/work")
        async def work() -> str:
            calls.append(1)
            return "done"

        with TestClient(app) as client:
            assert statuses_post(client, 5) == [200, 200, 200, 429, 429]
        assert len(calls) == 3

    def test_on_limited_answers_instead(self, clock: FakeClock) -> None:
        clock.now = T0
        seen: list[RateLimitResult] = []

        async def custom(ctx: Context, result: RateLimitResult) -> dict[str, Any]:
            seen.append(result)
            return {"slow down": result.retry_after > 0}

        with TestClient(app_with(clock, max_requests=1, on_limited=custom)) as client:
            assert client.get("/").status_code == 200
            response = client.get("/")
        assert response.status_code == 429
        assert response.json() == {"slow down": True}
        assert response.headers["retry-after"] == "100"  # 60 to the next window + 40
        assert response.headers["ratelimit-limit"] == "1"
        assert len(seen) == 1
        assert not seen[0].allowed

    def test_on_limited_may_choose_the_response(self, clock: FakeClock) -> None:
        clock.now = T0

        def teapot(ctx: Context, result: RateLimitResult) -> JSONResponse:
            response = JSONResponse({"busy": True}, status=503)
            response.headers.set("retry-after", "7")
            return response

        def default(ctx: Context, result: RateLimitResult) -> None:
            return None  # keep the 429

        with TestClient(app_with(clock, max_requests=1, on_limited=teapot)) as client:
            assert client.get("/").status_code == 200
            response = client.get("/")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "7"  # the handler's own value wins
        with TestClient(app_with(clock, max_requests=1, on_limited=default)) as client:
            assert client.get("/").status_code == 200
            assert client.get("/").json()["code"] == "RATE_LIMITED"


def statuses_post(client: TestClient, n: int) -> list[int]:
    return [client.post("/work").status_code for _ in range(n)]


class TestHeaders:
    def headers(self, clock: FakeClock, n: int, **options: Any) -> list[dict[str, str]]:
        clock.now = T0
        options.setdefault("window", "1m")
        with TestClient(app_with(clock, max_requests=3, **options)) as client:
            return [dict(client.get("/").headers) for _ in range(n)]

    @staticmethod
    def rate_headers(headers: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in headers.items() if "ratelimit" in k or k == "retry-after"}

    def test_standard(self, clock: FakeClock) -> None:
        first, *_, refused = self.headers(clock, 4)
        assert self.rate_headers(first) == {
            "ratelimit-limit": "3",
            "ratelimit-remaining": "2",
            "ratelimit-reset": "40",
        }
        assert self.rate_headers(refused) == {
            "ratelimit-limit": "3",
            "ratelimit-remaining": "0",
            "ratelimit-reset": "60",
            "retry-after": "60",
        }

    def test_legacy_reset_is_a_unix_time(self, clock: FakeClock) -> None:
        first, *_, refused = self.headers(clock, 4, header_format="legacy")
        assert self.rate_headers(first) == {
            "x-ratelimit-limit": "3",
            "x-ratelimit-remaining": "2",
            "x-ratelimit-reset": str(int(T0 + 40)),
        }
        assert refused["x-ratelimit-reset"] == str(int(T0 + 60))
        assert refused["retry-after"] == "60"

    def test_both(self, clock: FakeClock) -> None:
        (first,) = self.headers(clock, 1, header_format="both")
        assert first["ratelimit-remaining"] == first["x-ratelimit-remaining"] == "2"
        assert first["ratelimit-reset"] == "40"
        assert first["x-ratelimit-reset"] == str(int(T0 + 40))

    def test_draft7(self, clock: FakeClock) -> None:
        first, *_, refused = self.headers(clock, 4, header_format="draft7")
        assert self.rate_headers(first) == {
            "ratelimit": "limit=3, remaining=2, reset=40",
            "ratelimit-policy": "3;w=60",
        }
        assert refused["ratelimit"] == "limit=3, remaining=0, reset=60"

    def test_draft8(self, clock: FakeClock) -> None:
        first, *_, refused = self.headers(clock, 4, header_format="draft8")
        assert self.rate_headers(first) == {
            "ratelimit-policy": '"default";q=3;w=60',
            "ratelimit": '"default";r=2;t=40',
        }
        assert refused["ratelimit"] == '"default";r=0;t=60'
        (named,) = self.headers(clock, 1, header_format="draft8", name='per "ip"')
        assert named["ratelimit-policy"] == '"per \\"ip\\"";q=3;w=60'

    def test_none(self, clock: FakeClock) -> None:
        first, *_, refused = self.headers(clock, 4, header_format=None)
        assert self.rate_headers(first) == {}
        assert self.rate_headers(refused) == {"retry-after": "60"}

    def test_sub_second_windows_state_one_second(self, clock: FakeClock) -> None:
        (first,) = self.headers(clock, 1, header_format="draft7", window="100ms")
        assert first["ratelimit-policy"] == "3;w=1"
        assert first["ratelimit"] == "limit=3, remaining=2, reset=1"

    def test_headers_survive_handler_errors(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False)
        app.rate_limit(max_requests=3, store=memory(clock))

        @app.get("/boom")
        async def boom(ctx: Context) -> None:
            ctx.not_found("nothing here")

        with TestClient(app) as client:
            response = client.get("/boom")
            unrouted = client.get("/nowhere")
        assert response.status_code == 404
        assert response.headers["ratelimit-remaining"] == "2"
        assert unrouted.status_code == 404  # unmatched requests count too
        assert unrouted.headers["ratelimit-remaining"] == "1"


class TestKeys:
    def test_default_key_is_the_client_address(self, clock: FakeClock) -> None:
        clock.now = T0
        app = app_with(clock, max_requests=1)
        with TestClient(app, client=("203.0.113.1", 1)) as one:
            assert statuses(one, 2) == [200, 429]
        with TestClient(app, client=("203.0.113.2", 1)) as two:
            assert statuses(two, 2) == [200, 429]

    def test_forwarded_for_is_ignored_without_a_trusted_proxy(self, clock: FakeClock) -> None:
        clock.now = T0
        app = app_with(clock, max_requests=1)
        with TestClient(app, client=("127.0.0.1", 1)) as client:
            spoofed = [
                client.get("/", headers={"x-forwarded-for": f"198.51.100.{i}"}).status_code
                for i in range(3)
            ]
        assert spoofed == [200, 429, 429]

    def test_forwarded_for_counts_behind_a_trusted_proxy(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False, trust_proxy=True)
        app.rate_limit(max_requests=1, store=memory(clock))
        seen: list[str | None] = []

        @app.get("/")
        async def home(ctx: Context) -> str:
            seen.append(client_ip(ctx))
            return "hi"

        with TestClient(app, client=("127.0.0.1", 1)) as proxy:
            first = [
                proxy.get("/", headers={"x-forwarded-for": f"198.51.100.{i}"}).status_code
                for i in range(3)
            ]
            again = proxy.get("/", headers={"x-forwarded-for": "198.51.100.0"})
        assert first == [200, 200, 200]
        assert again.status_code == 429
        assert seen == ["198.51.100.0", "198.51.100.1", "198.51.100.2"]

    def test_custom_sync_and_async_keys(self, clock: FakeClock) -> None:
        clock.now = T0

        def by_user(ctx: Context) -> str:
            return ctx.request.headers.get("x-user", "anonymous")

        async def by_user_async(ctx: Context) -> str:
            await asyncio.sleep(0)
            return ctx.request.headers.get("x-user", "anonymous")

        for key in (by_user, by_user_async):
            with TestClient(app_with(clock, max_requests=1, key=key)) as client:
                assert statuses(client, 2, headers={"x-user": "ada"}) == [200, 429]
                assert statuses(client, 2, headers={"x-user": "bob"}) == [200, 429]
                assert statuses(client, 1) == [200]

    def test_a_key_of_none_is_not_limited(self, clock: FakeClock) -> None:
        clock.now = T0

        def only_api_keys(ctx: Context) -> str | None:
            return ctx.request.headers.get("x-api-key")

        with TestClient(app_with(clock, max_requests=1, key=only_api_keys)) as client:
            assert statuses(client, 5) == [200] * 5
            assert statuses(client, 2, headers={"x-api-key": "k1"}) == [200, 429]

    def test_a_key_must_be_a_string(self, clock: FakeClock) -> None:
        clock.now = T0
        app = app_with(clock, key=lambda ctx: 42)
        with TestClient(app) as client:
            assert client.get("/").status_code == 500

    def test_by_header(self, clock: FakeClock) -> None:
        clock.now = T0
        with TestClient(app_with(clock, max_requests=1, key=by_header("X-API-Key"))) as client:
            assert statuses(client, 2, headers={"x-api-key": "a"}) == [200, 429]
            assert statuses(client, 2, headers={"x-api-key": "b" * 500}) == [200, 429]
            assert statuses(client, 2) == [200, 429]  # no header: the address counts
        strict = app_with(clock, max_requests=1, key=by_header("X-API-Key", fallback_to_ip=False))
        with TestClient(strict) as client:
            assert statuses(client, 3) == [200, 200, 200]

    def test_rate_limit_key_joins_without_collisions(self) -> None:
        assert rate_limit_key("login", "203.0.113.9") == "login:203.0.113.9"
        assert rate_limit_key("a:b", "c") != rate_limit_key("a", "b:c")
        assert rate_limit_key("x", 42) == "x:42"

    def test_requests_without_an_address_share_one_quota(self, clock: FakeClock) -> None:
        clock.now = T0
        app = app_with(clock, max_requests=1)
        ctx = Context(app, {"type": "http", "headers": [], "client": None}, None, None)
        assert by_ip(ctx) == "unknown"


class TestSkipAndTiers:
    def test_skip(self, clock: FakeClock) -> None:
        clock.now = T0

        async def health_checks(ctx: Context) -> bool:
            return ctx.request.path == "/health"

        app = app_with(clock, max_requests=1, skip=health_checks)

        @app.get("/health")
        async def health() -> str:
            return "ok"

        with TestClient(app) as client:
            assert statuses(client, 3, "/health") == [200, 200, 200]
            assert "ratelimit-limit" not in client.get("/health").headers
            assert statuses(client, 2) == [200, 429]

    def test_tiered_limits_per_key(self, clock: FakeClock) -> None:
        clock.now = T0
        tiers = {"free": 2, "pro": 5, "banned": 0}

        async def limit(ctx: Context, key: str) -> int | None:
            plan = ctx.request.headers.get("x-plan", "free")
            return None if plan == "internal" else tiers[plan]

        def key(ctx: Context) -> str:
            return ctx.request.headers.get("x-plan", "free")

        with TestClient(app_with(clock, key=key, limit=limit)) as client:
            assert statuses(client, 3) == [200, 200, 429]
            pro = [client.get("/", headers={"x-plan": "pro"}) for _ in range(6)]
            assert [r.status_code for r in pro] == [200] * 5 + [429]
            assert pro[0].headers["ratelimit-limit"] == "5"
            assert statuses(client, 2, headers={"x-plan": "banned"}) == [429, 429]
            internal = statuses(client, 20, headers={"x-plan": "internal"})
            assert internal == [200] * 20

    def test_tier_function_must_return_an_int(self, clock: FakeClock) -> None:
        clock.now = T0
        with TestClient(app_with(clock, limit=lambda ctx, key: "lots")) as client:
            assert client.get("/").status_code == 500


class TestPlacement:
    def test_group_limits_only_its_routes_with_its_own_quota(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False)
        app.rate_limit(max_requests=10, store=memory(clock))
        api = app.group("/api")
        api.rate_limit(max_requests=2, store=memory(clock))

        @app.get("/page")
        async def page() -> str:
            return "page"

        @api.get("/data")
        async def data() -> str:
            return "data"

        with TestClient(app) as client:
            assert statuses(client, 3, "/api/data") == [200, 200, 429]
            pages = [client.get("/page") for _ in range(3)]
        assert [r.status_code for r in pages] == [200, 200, 200]
        # The app-wide quota also counted the three /api requests.
        assert pages[-1].headers["ratelimit-remaining"] == "4"

    def test_route_decorator(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False)
        login_limit = rate_limit(max_requests=2, window="1m", store=memory(clock))

        @app.post("/login")
        @login_limit
        async def login() -> str:
            return "welcome"

        @app.get("/free")
        async def free() -> str:
            return "free"

        with TestClient(app) as client:
            codes = [client.post("/login").status_code for _ in range(3)]
            assert statuses(client, 5, "/free") == [200] * 5
        assert codes == [200, 200, 429]
        assert login_limit.limiter.key_prefix.startswith("rl:test_ratelimit_http.")

    def test_strictest_limiter_speaks_in_headers(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False)
        app.rate_limit(max_requests=100, store=memory(clock))

        @app.get("/tight")
        @rate_limit(max_requests=3, store=memory(clock))
        async def tight(ctx: Context) -> dict[str, int]:
            return {"remaining": ctx.rate_limit.remaining}  # type: ignore[attr-defined]

        @app.get("/loose")
        async def loose(ctx: Context) -> dict[str, int]:
            return {"remaining": ctx.rate_limit.remaining}  # type: ignore[attr-defined]

        with TestClient(app) as client:
            tight_response = client.get("/tight")
            loose_response = client.get("/loose")
        assert tight_response.headers["ratelimit-limit"] == "3"
        assert tight_response.headers.get_list("ratelimit-remaining") == ["2"]
        assert tight_response.json() == {"remaining": 2}
        assert loose_response.headers["ratelimit-limit"] == "100"
        assert loose_response.json() == {"remaining": 98}

    def test_plain_middleware(self, clock: FakeClock) -> None:
        clock.now = T0
        limiter = RateLimiter(max_requests=1, store=memory(clock))
        app = App(openapi=False)

        @app.get("/a", middleware=[limiter])
        async def a() -> str:
            return "a"

        @app.get("/b")
        async def b() -> str:
            return "b"

        with TestClient(app) as client:
            assert statuses(client, 2, "/a") == [200, 429]
            assert statuses(client, 2, "/b") == [200, 200]

    def test_router_limiter_included_later(self, clock: FakeClock) -> None:
        clock.now = T0
        books = Router("/books")
        limiter = books.rate_limit(max_requests=1, store=memory(clock))

        @books.get("/")
        async def listing() -> str:
            return "books"

        app = App(openapi=False)
        app.include(books)
        with TestClient(app) as client:
            assert statuses(client, 2, "/books") == [200, 429]
        assert limiter.key_prefix == "rl:/books:sw60:"

    def test_core_rate_limiter_from_handlers(self, clock: FakeClock) -> None:
        clock.now = T0
        app = App(openapi=False)
        limiter = app.rate_limit(max_requests=3, store=memory(clock))
        app.group("/x").rate_limit(max_requests=1)  # not the app's: core keeps the first
        assert app.core.rate_limiter is limiter

        @app.post("/send-code")
        async def send_code(ctx: Context) -> dict[str, Any]:
            # One quota per phone number, consumed from code, on top of the route's.
            result = await ctx.core.rate_limiter.check(
                rate_limit_key("sms", ctx.request.query["phone"]), limit=1
            )
            if not result.allowed:
                ctx.throw(429, "one code per hour")
            return {"sent": True}

        with TestClient(app) as client:
            assert client.post("/send-code?phone=1").status_code == 200
            refused = client.post("/send-code?phone=1")  # the phone's quota (1/3 of the IP's)
            assert (refused.status_code, refused.json()["code"]) == (429, "TOO_MANY_REQUESTS")
            assert client.post("/send-code?phone=2").status_code == 200
            refused = client.post("/send-code?phone=3")  # the address's 3 are used
            assert (refused.status_code, refused.json()["code"]) == (429, "RATE_LIMITED")
            run_reset(limiter, "testclient")
            assert client.post("/send-code?phone=3").status_code == 200

    def test_limiters_with_the_same_key_prefix_do_not_collide(self, clock: FakeClock) -> None:
        clock.now = T0
        shared = memory(clock)
        app = App(openapi=False)
        per_minute = app.rate_limit(max_requests=3, window="1m", store=shared)
        per_hour = app.rate_limit(max_requests=5, window="1h", store=shared)
        assert per_minute.key_prefix == "rl:sw60:"
        assert per_hour.key_prefix == "rl:sw3600:"

        @app.get("/")
        async def home() -> str:
            return "hi"

        with TestClient(app) as client:
            assert statuses(client, 4) == [200, 200, 200, 429]
            clock.advance(120)
            assert statuses(client, 3) == [200, 200, 429]  # the hour's 5 are used


def run_reset(limiter: RateLimiter, key: str) -> None:
    asyncio.run(limiter.reset(key))


def test_registration_errors_point_at_the_mistake() -> None:
    with pytest.raises(ConfigurationError, match="unknown option"):
        App().rate_limit(maxRequests=5)
