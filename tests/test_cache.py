"""The Cache service (CACHE-01, CACHE-02) and response caching (CACHE-03).

Response caching is tested over HTTP with a counter in each handler, so a hit is proven by
the handler not running; expiry moves an injected clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tests.support.clock import FakeClock

from avian import App, ConfigurationError, Context, Response, StreamingResponse
from avian.cache import Cache, ResponseCache, cache_response
from avian.stores import MemoryStore, Store
from avian.testing import AsyncTestClient, TestClient, TestResponse

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def get(client: TestClient, url: str, **kwargs: Any) -> TestResponse:
    return client.get(url, **kwargs).execute()


def x_cache(client: TestClient, url: str, **kwargs: Any) -> str | None:
    return get(client, url, **kwargs).headers.get("x-cache")


# =================================================================================================
# The Cache service
# =================================================================================================


def test_cache_defaults_to_its_own_memory_store():
    cache = Cache()
    assert isinstance(cache.store, MemoryStore)
    assert cache.default_ttl == 300.0
    assert cache.prefix == "cache:"
    assert Cache().store is not cache.store
    assert (
        repr(cache)
        == "Cache(MemoryStore(keys=0, max_size=10000), prefix='cache:', default_ttl=300.0)"
    )


def test_get_set_has_delete():
    async def scenario() -> None:
        cache = Cache()
        assert await cache.get("k") is None
        assert await cache.get("k", "fallback") == "fallback"
        assert await cache.has("k") is False
        await cache.set("k", {"v": 1})
        assert await cache.get("k", "fallback") == {"v": 1}
        assert await cache.has("k") is True
        assert await cache.delete("k") is True
        assert await cache.delete("k") is False
        assert await cache.ready() is True

    run(scenario())


def test_keys_are_namespaced_in_a_shared_store_and_listed_without_the_prefix():
    async def scenario() -> None:
        shared = MemoryStore()
        await shared.set("session:abc", {"user": 1})
        cache = Cache(shared)  # Harpia's `new Cache(store)`
        await cache.set("user:1", "Ada")
        await cache.set("user:2", "Grace")
        await cache.set("config", {})
        assert sorted(await shared.keys()) == [
            "cache:config",
            "cache:user:1",
            "cache:user:2",
            "session:abc",
        ]
        assert sorted(await cache.keys()) == ["config", "user:1", "user:2"]
        assert sorted(await cache.keys("user:*")) == ["user:1", "user:2"]
        await cache.clear()  # only its own keys
        assert await shared.keys() == ["session:abc"]

    run(scenario())


def test_two_caches_with_different_prefixes_share_a_store_safely():
    async def scenario() -> None:
        shared = MemoryStore()
        pages = Cache(shared, prefix="pages:")
        users = Cache(shared, prefix="users:")
        await pages.set("home", "<h1>")
        await users.set("home", {"id": 1})
        assert await pages.get("home") == "<h1>"
        await users.clear()
        assert await pages.get("home") == "<h1>"
        assert await users.get("home") is None

    run(scenario())


def test_an_empty_prefix_lets_the_cache_own_the_whole_store():
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("other", 1)
        cache = Cache(store, prefix="")
        await cache.set("k", 2)
        assert sorted(await cache.keys()) == ["k", "other"]
        await cache.clear()
        assert await store.keys() == []

    run(scenario())


def test_default_ttl_expires_values_and_an_explicit_ttl_wins():
    async def scenario() -> None:
        clock = FakeClock()
        cache = Cache(MemoryStore(clock=clock), default_ttl=10)
        await cache.set("default", 1)
        await cache.set("explicit", 2, ttl=100)
        clock.advance(9.99)
        assert await cache.get("default") == 1
        clock.advance(0.01)
        assert await cache.get("default") is None
        assert await cache.get("explicit") == 2

    run(scenario())


def test_default_ttl_of_three_hundred_seconds():
    async def scenario() -> None:
        clock = FakeClock()
        cache = Cache(MemoryStore(clock=clock))
        await cache.set("k", 1)
        clock.advance(299)
        assert await cache.has("k")
        clock.advance(1)
        assert not await cache.has("k")

    run(scenario())


def test_default_ttl_none_keeps_values_until_deleted():
    async def scenario() -> None:
        clock = FakeClock()
        cache = Cache(MemoryStore(clock=clock), default_ttl=None)
        await cache.set("k", 1)
        clock.advance(10**9)
        assert await cache.get("k") == 1

    run(scenario())


def test_a_ttl_of_zero_removes_and_a_non_finite_ttl_is_refused():
    async def scenario() -> None:
        cache = Cache()
        await cache.set("k", 1)
        await cache.set("k", 2, ttl=0)
        assert await cache.has("k") is False
        with pytest.raises(ValueError, match="finite"):
            await cache.set("k", 3, ttl=math.inf)

    run(scenario())


def test_values_read_back_are_copies():
    async def scenario() -> None:
        cache = Cache()
        value = {"list": [1]}
        await cache.set("k", value)
        value["list"].append(2)
        read = await cache.get("k")
        read["list"].append(3)
        assert await cache.get("k") == {"list": [1]}

    run(scenario())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"store": {}}, "Store protocol"),
        ({"store": "redis://"}, "Store protocol"),
        ({"default_ttl": 0}, "default_ttl"),
        ({"default_ttl": -5}, "default_ttl"),
        ({"default_ttl": math.nan}, "default_ttl"),
        ({"default_ttl": math.inf}, "default_ttl"),
        ({"default_ttl": True}, "default_ttl"),
        ({"default_ttl": "300"}, "default_ttl"),
        ({"prefix": None}, "prefix"),
        ({"prefix": b"cache:"}, "prefix"),
    ],
)
def test_invalid_cache_options(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        Cache(**kwargs)


# --- get_or_set ---------------------------------------------------------------------------------


def test_get_or_set_with_a_sync_factory_runs_it_once():
    async def scenario() -> None:
        cache = Cache()
        calls: list[int] = []

        def factory() -> dict[str, int]:
            calls.append(1)
            return {"answer": 42}

        assert await cache.get_or_set("k", factory) == {"answer": 42}
        assert await cache.get_or_set("k", factory) == {"answer": 42}
        assert len(calls) == 1

    run(scenario())


def test_get_or_set_with_an_async_factory_and_a_ttl():
    async def scenario() -> None:
        clock = FakeClock()
        cache = Cache(MemoryStore(clock=clock))
        calls: list[int] = []

        async def factory() -> int:
            calls.append(1)
            return len(calls)

        assert await cache.get_or_set("k", factory, ttl=5) == 1
        clock.advance(4.9)
        assert await cache.get_or_set("k", factory, ttl=5) == 1
        clock.advance(0.1)
        assert await cache.get_or_set("k", factory, ttl=5) == 2

    run(scenario())


def test_get_or_set_uses_the_default_ttl():
    async def scenario() -> None:
        clock = FakeClock()
        cache = Cache(MemoryStore(clock=clock), default_ttl=2)
        await cache.get_or_set("k", lambda: "v")
        clock.advance(2)
        assert await cache.has("k") is False

    run(scenario())


def test_get_or_set_does_not_cache_none():
    async def scenario() -> None:
        cache = Cache()
        calls: list[int] = []

        def factory() -> None:
            calls.append(1)

        assert await cache.get_or_set("k", factory) is None
        assert await cache.get_or_set("k", factory) is None
        assert len(calls) == 2
        assert await cache.has("k") is False

    run(scenario())


def test_get_or_set_propagates_factory_errors_and_caches_nothing():
    async def scenario() -> None:
        cache = Cache()

        async def broken() -> int:
            raise RuntimeError("database down")

        with pytest.raises(RuntimeError, match="database down"):
            await cache.get_or_set("k", broken)
        assert await cache.has("k") is False
        assert cache._locks == {}
        assert await cache.get_or_set("k", lambda: 7) == 7

    run(scenario())


def test_concurrent_get_or_set_for_one_missing_key_runs_the_factory_once():
    async def scenario() -> None:
        cache = Cache()
        release = asyncio.Event()
        started = asyncio.Event()
        calls: list[int] = []

        async def slow_factory() -> str:
            calls.append(1)
            started.set()
            await release.wait()
            return "computed"

        tasks = [asyncio.ensure_future(cache.get_or_set("k", slow_factory)) for _ in range(5)]
        await asyncio.wait_for(started.wait(), 5)
        await asyncio.sleep(0)  # let every task reach the lock
        assert len(calls) == 1
        release.set()
        assert await asyncio.gather(*tasks) == ["computed"] * 5
        assert len(calls) == 1
        assert cache._locks == {}  # no lock outlives its callers

    run(scenario())


def test_concurrent_get_or_set_for_different_keys_do_not_wait_for_each_other():
    async def scenario() -> None:
        cache = Cache()
        release = asyncio.Event()
        started: list[str] = []
        both_started = asyncio.Event()

        def factory_for(key: str) -> Callable[[], Coroutine[Any, Any, str]]:
            async def factory() -> str:
                started.append(key)
                if len(started) == 2:
                    both_started.set()
                await release.wait()
                return key

            return factory

        a = asyncio.ensure_future(cache.get_or_set("a", factory_for("a")))
        b = asyncio.ensure_future(cache.get_or_set("b", factory_for("b")))
        await asyncio.wait_for(both_started.wait(), 5)  # both ran before either finished
        release.set()
        assert await asyncio.gather(a, b) == ["a", "b"]

    run(scenario())


def test_concurrent_requests_over_http_share_one_factory_call():
    app = App()
    app.state.cache = Cache()
    release = asyncio.Event()
    started = asyncio.Event()
    calls: list[int] = []

    async def expensive() -> dict[str, str]:
        calls.append(1)
        started.set()
        await release.wait()
        return {"report": "ready"}

    @app.get("/report")
    async def report(ctx: Context) -> Any:
        return await ctx.app.state.cache.get_or_set("report", expensive, ttl=60)

    async def scenario() -> None:
        async with AsyncTestClient(app) as client:
            requests = [asyncio.ensure_future(client.get("/report").execute()) for _ in range(4)]
            await asyncio.wait_for(started.wait(), 5)
            release.set()
            responses = await asyncio.gather(*requests)
        assert [r.json() for r in responses] == [{"report": "ready"}] * 4
        assert len(calls) == 1

    run(scenario())


def test_harpia_style_routes_set_get_and_delete_through_app_state():
    app = App()
    app.state.cache = Cache()

    @app.get("/set-cache")
    async def set_cache(ctx: Context) -> dict[str, str]:
        await ctx.app.state.cache.set("userProfile", {"name": "Ada"})
        return {"message": "User profile cached!"}

    @app.get("/get-cache")
    async def get_cache(ctx: Context) -> dict[str, Any]:
        profile = await ctx.app.state.cache.get("userProfile")
        if profile is None:
            return {"status": "not found"}
        return {"status": "success", "data": profile}

    @app.get("/delete-cache")
    async def delete_cache(ctx: Context) -> dict[str, bool]:
        return {"deleted": await ctx.app.state.cache.delete("userProfile")}

    with TestClient(app) as client:
        assert get(client, "/get-cache").json() == {"status": "not found"}
        get(client, "/set-cache")
        assert get(client, "/get-cache").json() == {"status": "success", "data": {"name": "Ada"}}
        assert get(client, "/delete-cache").json() == {"deleted": True}
        assert get(client, "/delete-cache").json() == {"deleted": False}
        assert get(client, "/get-cache").json() == {"status": "not found"}


# =================================================================================================
# Response caching
# =================================================================================================


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def cached_app(counter: Counter, **options: Any) -> tuple[App, ResponseCache]:
    """An app with GET /items/{id} and GET /search behind one response cache."""
    app = App()
    middleware = cache_response(**options)

    @app.get("/items/{id}", middleware=[middleware])
    async def item(ctx: Context, id: str) -> dict[str, Any]:
        return {"id": id, "call": counter()}

    @app.get("/search", middleware=[middleware])
    async def search(ctx: Context) -> dict[str, Any]:
        return {"q": ctx.request.query_string, "call": counter()}

    return app, middleware


def test_a_hit_skips_the_handler_and_replays_status_headers_and_body():
    counter = Counter()
    app = App()

    @app.get("/page", middleware=[cache_response(ttl=60)])
    async def page(ctx: Context) -> Response:
        counter()
        ctx.response.headers.set("x-built-by", "handler")
        return Response("<p>hi</p>", media_type="text/html")

    with TestClient(app) as client:
        first = get(client, "/page")
        second = get(client, "/page")
    assert counter.calls == 1
    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert second.status_code == 200
    assert second.text == first.text == "<p>hi</p>"
    assert second.headers["content-type"] == "text/html; charset=utf-8"
    assert second.headers["x-built-by"] == "handler"
    assert second.headers["content-length"] == str(len(b"<p>hi</p>"))
    assert second.headers.get_list("x-cache") == ["HIT"]


def test_the_key_varies_by_path():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        assert get(client, "/items/1").json() == {"id": "1", "call": 1}
        assert get(client, "/items/2").json() == {"id": "2", "call": 2}
        assert get(client, "/items/1").json() == {"id": "1", "call": 1}
    assert counter.calls == 2


def test_the_key_uses_the_raw_path_so_encoded_slashes_are_a_different_entry():
    counter = Counter()
    app = App()

    @app.get("/files/{name:path}", middleware=[cache_response()])
    async def files(ctx: Context, name: str) -> dict[str, Any]:
        return {"raw": ctx.request.raw_path.decode(), "call": counter()}

    with TestClient(app) as client:
        assert get(client, "/files/a%2Fb").json() == {"raw": "/files/a%2Fb", "call": 1}
        assert get(client, "/files/a/b").json() == {"raw": "/files/a/b", "call": 2}
        assert get(client, "/files/a%2Fb").headers["x-cache"] == "HIT"


def test_the_key_varies_by_query_string_in_any_order():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        assert get(client, "/search?a=1&b=2").headers["x-cache"] == "MISS"
        assert get(client, "/search?b=2&a=1").headers["x-cache"] == "HIT"
        assert get(client, "/search?a=1&&b=2&").headers["x-cache"] == "HIT"
        assert get(client, "/search?a=1&b=3").headers["x-cache"] == "MISS"
        assert get(client, "/search").headers["x-cache"] == "MISS"
        assert get(client, "/search?").headers["x-cache"] == "HIT"
    assert counter.calls == 3


def test_repeated_query_names_keep_their_order_in_the_key():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        first = get(client, "/search?tag=a&tag=b")
        second = get(client, "/search?tag=b&tag=a")  # a handler sees a different list
    assert second.headers["x-cache"] == "MISS"
    assert second.json()["q"] == "tag=b&tag=a"
    assert first.json()["q"] == "tag=a&tag=b"


def test_differently_encoded_queries_never_collide():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        get(client, "/search?q=%ff")
        response = get(client, "/search?q=%fe")
    assert response.headers["x-cache"] == "MISS"
    assert response.json()["q"] == "q=%fe"


def test_the_key_varies_by_accept_by_default():
    counter = Counter()
    app, _ = cached_app(counter)
    json_, html = {"accept": "application/json"}, {"accept": "text/html"}
    with TestClient(app) as client:
        assert x_cache(client, "/items/1", headers=json_) == "MISS"
        assert x_cache(client, "/items/1", headers=html) == "MISS"
        assert x_cache(client, "/items/1", headers=json_) == "HIT"
        assert x_cache(client, "/items/1", headers={**html, "x-other": "ignored"}) == "HIT"
    assert counter.calls == 2


def test_vary_chooses_the_request_headers_in_the_key():
    counter = Counter()
    app, _ = cached_app(counter, vary=("X-Tenant", "accept-language"))
    with TestClient(app) as client:
        assert get(client, "/items/1", headers={"x-tenant": "a"}).json()["call"] == 1
        assert get(client, "/items/1", headers={"x-tenant": "b"}).json()["call"] == 2
        tenant_a_pt = {"x-tenant": "a", "accept-language": "pt"}
        assert get(client, "/items/1", headers=tenant_a_pt).json()["call"] == 3
        # Accept is no longer part of the key.
        hit = get(client, "/items/1", headers={"x-tenant": "a", "accept": "text/html"})
    assert hit.headers["x-cache"] == "HIT"
    assert hit.json()["call"] == 1


def test_empty_vary_ignores_every_header():
    counter = Counter()
    app, _ = cached_app(counter, vary=())
    with TestClient(app) as client:
        get(client, "/items/1", headers={"accept": "a/b"})
        assert get(client, "/items/1", headers={"accept": "c/d"}).headers["x-cache"] == "HIT"


def test_vary_given_as_a_single_string_is_one_header_name():
    middleware = cache_response(vary="Accept-Language")
    assert middleware.vary == ("accept-language",)


def test_the_key_varies_by_host():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        get(client, "http://one.example/items/1")
        response = get(client, "http://two.example/items/1")
    assert response.headers["x-cache"] == "MISS"


def test_head_is_answered_from_the_get_entry():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        body = get(client, "/items/1").content
        head = client.head("/items/1").execute()
    assert head.headers["x-cache"] == "HIT"
    assert head.content == b""
    assert head.headers["content-length"] == str(len(body))
    assert counter.calls == 1


def test_a_head_miss_does_not_store_an_entry_for_get():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        assert client.head("/items/1").execute().headers["x-cache"] == "MISS"
        assert client.head("/items/1").execute().headers["x-cache"] == "MISS"
        assert get(client, "/items/1").headers["x-cache"] == "MISS"
        assert client.head("/items/1").execute().headers["x-cache"] == "HIT"
    assert counter.calls == 3


def test_methods_outside_the_list_pass_through_untouched():
    counter = Counter()
    app = App()
    middleware = cache_response(methods=("GET",))

    @app.route("/any", methods=["GET", "POST"], middleware=[middleware])
    async def anything(ctx: Context) -> dict[str, int]:
        return {"call": counter()}

    with TestClient(app) as client:
        get(client, "/any")
        head = client.head("/any").execute()
        post = client.post("/any").execute()
        again = client.post("/any").execute()
    assert "x-cache" not in head.headers
    assert "x-cache" not in post.headers
    assert again.json() == {"call": 4}


def test_methods_can_include_post_with_its_own_entries():
    counter = Counter()
    app = App()
    middleware = cache_response(methods="POST")

    @app.route("/rpc", methods=["GET", "POST"], middleware=[middleware])
    async def rpc(ctx: Context) -> dict[str, Any]:
        return {"method": ctx.request.method, "call": counter()}

    with TestClient(app) as client:
        assert client.post("/rpc").execute().json() == {"method": "POST", "call": 1}
        hit = client.post("/rpc").execute()
        plain_get = get(client, "/rpc")
    assert hit.headers["x-cache"] == "HIT"
    assert hit.json() == {"method": "POST", "call": 1}
    assert "x-cache" not in plain_get.headers
    assert plain_get.json() == {"method": "GET", "call": 2}


def test_only_the_listed_statuses_are_cached():
    counter = Counter()
    app = App()

    @app.get("/created", status=201, middleware=[cache_response()])
    async def created() -> dict[str, int]:
        return {"call": counter()}

    @app.get("/missing", middleware=[cache_response(statuses=(200, 404))])
    async def missing(ctx: Context) -> Response:
        return Response(f"gone {counter()}", status=404)

    with TestClient(app) as client:
        get(client, "/created")
        assert get(client, "/created").headers["x-cache"] == "MISS"
        assert get(client, "/missing").text == "gone 3"
        hit = get(client, "/missing")
    assert hit.status_code == 404
    assert hit.text == "gone 3"
    assert hit.headers["x-cache"] == "HIT"


def test_errors_are_not_cached():
    counter = Counter()
    app = App()

    @app.get("/flaky", middleware=[cache_response()])
    async def flaky() -> dict[str, int]:
        if counter() == 1:
            raise RuntimeError("boom")
        return {"ok": 1}

    with TestClient(app, raise_server_exceptions=False) as client:
        assert get(client, "/flaky").status_code == 500
        assert get(client, "/flaky").json() == {"ok": 1}
        assert get(client, "/flaky").headers["x-cache"] == "HIT"


# --- what a request can bypass --------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"cache-control": "no-cache"},
        {"cache-control": "no-store"},
        {"cache-control": "max-age=0, No-Cache"},
        {"pragma": "no-cache"},
    ],
)
def test_a_request_asking_for_no_cache_bypasses_and_stores_nothing(headers):
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        get(client, "/items/1")  # stored
        bypassed = get(client, "/items/1", headers=headers)
        assert bypassed.headers["x-cache"] == "BYPASS"
        assert bypassed.json()["call"] == 2  # fresh from the handler
        # The bypass did not replace the stored entry.
        assert get(client, "/items/1").json()["call"] == 1
        # Nor does a bypass on an empty cache store one.
        get(client, "/items/2", headers=headers)
        assert get(client, "/items/2").headers["x-cache"] == "MISS"


def test_cache_control_without_no_cache_does_not_bypass_and_pragma_yields_to_it():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        get(client, "/items/1")
        same = get(
            client, "/items/1", headers={"cache-control": "max-age=60", "pragma": "no-cache"}
        )
    assert same.headers["x-cache"] == "HIT"


def test_requests_with_authorization_are_not_shared():
    counter = Counter()
    app, _ = cached_app(counter)
    with TestClient(app) as client:
        get(client, "/items/1")
        private = get(client, "/items/1", headers={"authorization": "Bearer alice"})
        again = get(client, "/items/1", headers={"authorization": "Bearer alice"})
    assert private.headers["x-cache"] == again.headers["x-cache"] == "BYPASS"
    assert again.json()["call"] == 3


def test_varying_on_authorization_caches_per_credential():
    counter = Counter()
    app, _ = cached_app(counter, vary=("authorization",))
    with TestClient(app) as client:
        alice = get(client, "/items/1", headers={"authorization": "Bearer alice"})
        bob = get(client, "/items/1", headers={"authorization": "Bearer bob"})
        alice_again = get(client, "/items/1", headers={"authorization": "Bearer alice"})
    assert (alice.json()["call"], bob.json()["call"]) == (1, 2)
    assert alice_again.headers["x-cache"] == "HIT"
    assert alice_again.json()["call"] == 1


# --- what is never stored ------------------------------------------------------------------------


def never_cached(handler: Callable[..., Any]) -> list[TestResponse]:
    app = App()
    app.get("/r", middleware=[cache_response()])(handler)
    with TestClient(app) as client:
        return [get(client, "/r") for _ in range(3)]


def test_streaming_responses_are_never_cached():
    counter = Counter()

    async def stream(ctx: Context) -> StreamingResponse:
        counter()

        async def chunks() -> Any:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks(), media_type="text/plain")

    responses = never_cached(stream)
    assert [r.headers["x-cache"] for r in responses] == ["MISS"] * 3
    assert responses[-1].text == "ab"
    assert counter.calls == 3


def test_file_responses_are_never_cached(tmp_path):
    counter = Counter()
    path = tmp_path / "data.txt"
    path.write_text("file body")

    async def send_file(ctx: Context) -> Response:
        counter()
        return ctx.file(str(path))

    responses = never_cached(send_file)
    assert responses[-1].text == "file body"
    assert counter.calls == 3


def test_responses_setting_a_cookie_are_never_cached():
    counter = Counter()

    async def login(ctx: Context) -> dict[str, int]:
        ctx.response.cookies.set("sid", f"secret-{counter()}")
        return {"ok": 1}

    responses = never_cached(login)
    assert [r.cookies["sid"] for r in responses] == ["secret-1", "secret-2", "secret-3"]


@pytest.mark.parametrize(
    "cache_control", ["no-store", "private", "no-cache", "private, max-age=60", 'no-cache="x"']
)
def test_responses_marked_no_store_private_or_no_cache_are_never_cached(cache_control):
    counter = Counter()

    async def personal(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("cache-control", cache_control)
        return {"call": counter()}

    responses = never_cached(personal)
    assert [r.json()["call"] for r in responses] == [1, 2, 3]


@pytest.mark.parametrize("vary", ["*", "Cookie", "accept, Accept-Encoding"])
def test_responses_varying_on_headers_the_key_ignores_are_never_cached(vary):
    counter = Counter()

    async def negotiated(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("vary", vary)
        return {"call": counter()}

    responses = never_cached(negotiated)
    assert [r.json()["call"] for r in responses] == [1, 2, 3]


def test_a_response_varying_only_on_keyed_headers_is_cached():
    counter = Counter()
    app = App()

    @app.get("/r", middleware=[cache_response(vary=("accept", "accept-language"))])
    async def negotiated(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("vary", "Accept, Accept-Language")
        return {"call": counter()}

    with TestClient(app) as client:
        get(client, "/r")
        hit = get(client, "/r")
    assert hit.headers["x-cache"] == "HIT"
    assert hit.headers["vary"] == "Accept, Accept-Language"


def test_hop_by_hop_headers_are_not_replayed():
    counter = Counter()
    app = App()

    @app.get("/r", middleware=[cache_response()])
    async def page(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("keep-alive", "timeout=5")
        ctx.response.headers.set("x-kept", "yes")
        return {"call": counter()}

    with TestClient(app) as client:
        assert get(client, "/r").headers["keep-alive"] == "timeout=5"
        hit = get(client, "/r")
    assert hit.headers["x-cache"] == "HIT"
    assert "keep-alive" not in hit.headers
    assert hit.headers["x-kept"] == "yes"


# --- the rest of the pipeline still runs on a hit ---------------------------------------------------


def test_outer_middleware_and_after_hooks_still_run_on_a_hit():
    counter = Counter()
    seen: list[str] = []
    app = App()

    @app.use
    async def stamp(ctx: Context, call_next: Any) -> Response:
        response = await call_next()
        response.headers.set("x-outer", "stamped")
        return response

    @app.after_all
    async def record(ctx: Context) -> None:
        seen.append(ctx.response.headers.get("x-cache") or "")

    @app.get("/r", middleware=[cache_response()])
    async def page() -> dict[str, int]:
        return {"call": counter()}

    with TestClient(app) as client:
        get(client, "/r")
        hit = get(client, "/r")
    assert hit.headers["x-cache"] == "HIT"
    assert hit.headers["x-outer"] == "stamped"
    assert seen == ["MISS", "HIT"]
    assert counter.calls == 1


def test_headers_and_cookies_set_by_outer_layers_are_fresh_on_every_hit():
    counter = Counter()
    requests = Counter()
    app = App()

    @app.use
    async def tag_request(ctx: Context, call_next: Any) -> Response:
        n = requests()
        ctx.response.headers.set("x-request-number", str(n))  # before the cache runs
        ctx.response.cookies.set("visit", str(n))
        return await call_next()

    @app.get("/r", middleware=[cache_response()])
    async def page() -> dict[str, int]:
        return {"call": counter()}

    with TestClient(app) as client:
        first = get(client, "/r")
        second = get(client, "/r")
        third = get(client, "/r")
    assert [r.headers["x-cache"] for r in (first, second, third)] == ["MISS", "HIT", "HIT"]
    assert [r.headers["x-request-number"] for r in (first, second, third)] == ["1", "2", "3"]
    assert third.headers.get_list("x-request-number") == ["3"]
    (cookie,) = third.headers.get_list("set-cookie")  # the outer cookie, once, not a stale one
    assert cookie.startswith("visit=3;")
    assert counter.calls == 1


def test_hooks_inside_the_cache_are_skipped_on_a_hit():
    seen: list[str] = []
    app = App()

    async def inner_hook(ctx: Context) -> None:
        seen.append("route before")

    @app.get("/r", before=[inner_hook], middleware=[cache_response()])
    async def page() -> str:
        return "page"

    with TestClient(app) as client:
        get(client, "/r")
        get(client, "/r")
    assert seen == ["route before"]


def test_group_middleware_caches_every_route_of_the_group():
    counter = Counter()
    app = App()
    api = app.group("/api", middleware=[cache_response(ttl=30)])

    @api.get("/a")
    async def a() -> dict[str, int]:
        return {"call": counter()}

    @api.get("/b")
    async def b() -> dict[str, int]:
        return {"call": counter()}

    @app.get("/outside")
    async def outside() -> dict[str, int]:
        return {"call": counter()}

    with TestClient(app) as client:
        assert [get(client, p).json()["call"] for p in ["/api/a", "/api/b", "/api/a"]] == [1, 2, 1]
        assert "x-cache" not in get(client, "/outside").headers


def test_global_middleware_and_the_direct_route_form():
    counter = Counter()
    app = App()
    app.use(cache_response(ttl=30))

    async def page() -> dict[str, int]:
        return {"call": counter()}

    app.get("/direct", page)  # Harpia's get(path, handler) form

    with TestClient(app) as client:
        get(client, "/direct")
        assert get(client, "/direct").headers["x-cache"] == "HIT"
        assert get(client, "/nowhere").status_code == 404
        assert get(client, "/nowhere").headers["x-cache"] == "MISS"  # 404 is not stored


# --- expiry, keys, invalidation --------------------------------------------------------------------


def test_entries_expire_after_ttl_on_the_store_clock():
    counter = Counter()
    clock = FakeClock()
    app, _ = cached_app(counter, ttl=30, cache=Cache(MemoryStore(clock=clock)))
    with TestClient(app) as client:
        get(client, "/items/1")
        clock.advance(29.9)
        assert get(client, "/items/1").headers["x-cache"] == "HIT"
        clock.advance(0.1)  # exactly 30 s after it was stored
        expired = get(client, "/items/1")
        assert expired.headers["x-cache"] == "MISS"
        assert expired.json()["call"] == 2
        assert get(client, "/items/1").headers["x-cache"] == "HIT"


def test_the_default_ttl_is_sixty_seconds():
    counter = Counter()
    clock = FakeClock()
    app, middleware = cached_app(counter, cache=Cache(MemoryStore(clock=clock)))
    assert middleware.ttl == 60
    with TestClient(app) as client:
        get(client, "/items/1")
        clock.advance(59)
        assert get(client, "/items/1").headers["x-cache"] == "HIT"
        clock.advance(1)
        assert get(client, "/items/1").headers["x-cache"] == "MISS"


def test_entries_live_in_the_given_cache_under_response_keys():
    counter = Counter()
    cache = Cache(MemoryStore())
    app, _ = cached_app(counter, cache=cache)
    with TestClient(app) as client:
        get(client, "/items/1")
        get(client, "/search?q=x")
        keys = sorted(run(cache.keys()))
        assert len(keys) == 2
        assert all(re.fullmatch(r"response:GET /(items/1|search) [0-9a-f]{32}", k) for k in keys)
        run(cache.clear())
        assert get(client, "/items/1").headers["x-cache"] == "MISS"


def test_invalidate_removes_one_path_in_every_variant():
    counter = Counter()
    app, middleware = cached_app(counter)
    with TestClient(app) as client:
        get(client, "/items/1", headers={"accept": "a/b"})
        get(client, "/items/1", headers={"accept": "c/d"})
        get(client, "/items/2")
        get(client, "/search?q=1")
        assert run(middleware.invalidate("/items/1")) == 2
        assert get(client, "/items/1", headers={"accept": "a/b"}).headers["x-cache"] == "MISS"
        assert get(client, "/items/2").headers["x-cache"] == "HIT"
        assert get(client, "/search?q=1").headers["x-cache"] == "HIT"
        assert run(middleware.invalidate("/nothing")) == 0
        assert run(middleware.clear()) == 3
        assert get(client, "/items/2").headers["x-cache"] == "MISS"


def test_invalidate_matches_paths_with_glob_characters_literally():
    counter = Counter()
    app = App()
    middleware = cache_response()

    @app.get("/{name}", middleware=[middleware])
    async def page(name: str) -> dict[str, int]:
        return {"call": counter()}

    with TestClient(app) as client:
        get(client, "/a*")
        get(client, "/abc")
        get(client, "/a%5B1%5D")
        assert run(middleware.invalidate("/a*")) == 1
        assert get(client, "/abc").headers["x-cache"] == "HIT"
        assert run(middleware.invalidate("/a%5B1%5D")) == 1


def test_long_paths_are_hashed_in_the_key_and_can_still_be_invalidated():
    counter = Counter()
    cache = Cache()
    app = App()
    middleware = cache_response(cache=cache)

    @app.get("/{name}", middleware=[middleware])
    async def page(name: str) -> dict[str, int]:
        return {"call": counter()}

    long_path = "/" + "x" * 5000
    with TestClient(app) as client:
        get(client, long_path)
        assert get(client, long_path).headers["x-cache"] == "HIT"
        (key,) = run(cache.keys())
        assert len(key) < 200
        assert run(middleware.invalidate(long_path)) == 1


def test_hostile_query_strings_are_bounded_by_the_store():
    counter = Counter()
    store = MemoryStore(max_size=5)
    app, _ = cached_app(counter, cache=Cache(store))
    with TestClient(app) as client:
        for i in range(20):
            get(client, "/search", params={"junk": str(i) * 1000})
    assert len(store) == 5
    assert all(len(k) < 100 for k in run(store.keys()))


# --- custom keys ------------------------------------------------------------------------------------


def test_a_key_function_replaces_the_default_key():
    counter = Counter()
    app, _ = cached_app(counter, key=lambda ctx: ctx.request.path)  # ignores the query
    with TestClient(app) as client:
        get(client, "/search?page=1")
        hit = get(client, "/search?page=2")
    assert hit.headers["x-cache"] == "HIT"
    assert hit.json()["q"] == "page=1"


def test_an_async_key_function_and_none_to_bypass():
    counter = Counter()

    async def key(ctx: Context) -> str | None:
        if ctx.request.query.get("fresh"):
            return None
        return "shared"

    app, _ = cached_app(counter, key=key)
    with TestClient(app) as client:
        get(client, "/items/1")
        assert get(client, "/items/2").json() == {"id": "1", "call": 1}  # same custom key
        bypass = get(client, "/items/2?fresh=1")
    assert bypass.headers["x-cache"] == "BYPASS"
    assert bypass.json() == {"id": "2", "call": 2}


def test_a_key_function_returning_a_non_string_is_a_server_error():
    app = App()

    @app.get("/r", middleware=[cache_response(key=lambda ctx: 42)])  # type: ignore[arg-type,return-value]
    async def page() -> str:
        return "x"

    with TestClient(app, raise_server_exceptions=False) as client:
        assert get(client, "/r").status_code == 500


# --- robustness --------------------------------------------------------------------------------------


class BrokenStore:
    """A store whose backend is down: every call fails."""

    async def get(self, key: str) -> Any:
        raise ConnectionError("store down")

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        raise ConnectionError("store down")

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        raise ConnectionError("store down")

    async def delete(self, key: str) -> bool:
        raise ConnectionError("store down")

    async def has(self, key: str) -> bool:
        raise ConnectionError("store down")

    async def clear(self) -> None:
        raise ConnectionError("store down")

    async def keys(self, pattern: str = "*") -> list[str]:
        raise ConnectionError("store down")

    async def ready(self) -> bool:
        return False


def test_a_failing_store_degrades_to_uncached_responses(caplog):
    assert isinstance(BrokenStore(), Store)
    counter = Counter()
    app, _ = cached_app(counter, cache=Cache(BrokenStore()))
    with caplog.at_level(logging.WARNING, logger="avian.cache"), TestClient(app) as client:
        responses = [get(client, "/items/1") for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    assert [r.headers["x-cache"] for r in responses] == ["MISS", "MISS"]
    assert counter.calls == 2
    messages = [r.getMessage() for r in caplog.records]
    assert any("reading" in m for m in messages)
    assert any("storing" in m for m in messages)


@pytest.mark.parametrize(
    "junk",
    [
        "not an entry",
        {"v": 1},
        {"v": 2, "status": 200, "media_type": None, "headers": [], "body": b"x"},
        {"v": 1, "status": 99, "media_type": None, "headers": [], "body": b"x"},
        {"v": 1, "status": 200, "media_type": None, "headers": [["a"]], "body": b"x"},
    ],
)
def test_an_entry_that_is_not_a_valid_cached_response_is_a_miss(junk):
    counter = Counter()
    cache = Cache()
    app, _ = cached_app(counter, cache=cache)
    with TestClient(app) as client:
        get(client, "/items/1")
        (key,) = run(cache.keys())
        run(cache.set(key, junk))
        replaced = get(client, "/items/1")
        assert replaced.headers["x-cache"] == "MISS"
        assert replaced.json()["call"] == 2
        assert get(client, "/items/1").headers["x-cache"] == "HIT"


# --- options ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ttl": 0}, "ttl"),
        ({"ttl": -1}, "ttl"),
        ({"ttl": math.nan}, "ttl"),
        ({"ttl": math.inf}, "ttl"),
        ({"ttl": True}, "ttl"),
        ({"ttl": "60"}, "ttl"),
        ({"key": "path"}, "key"),
        ({"cache": MemoryStore()}, "must be a Cache"),
        ({"vary": ("bad header",)}, "vary"),
        ({"vary": ("",)}, "vary"),
        ({"vary": (1,)}, "vary"),
        ({"vary": ("x\r\ny",)}, "vary"),
        ({"vary": ("accept\n",)}, "vary"),
        ({"methods": ()}, "methods"),
        ({"methods": ("G ET",)}, "methods"),
        ({"methods": ("GET", 1)}, "methods"),
        ({"methods": ("GÉT",)}, "methods"),
        ({"statuses": ()}, "statuses"),
        ({"statuses": (100,)}, "statuses"),
        ({"statuses": (600,)}, "statuses"),
        ({"statuses": (True,)}, "statuses"),
        ({"statuses": ("200",)}, "statuses"),
    ],
)
def test_invalid_response_cache_options(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        cache_response(**kwargs)


def test_options_are_normalised():
    middleware = cache_response(
        ttl=1.5, vary=("Accept", "accept", "X-Tenant"), methods=["get", "head"], statuses=[200, 203]
    )
    assert isinstance(middleware, ResponseCache)
    assert middleware.ttl == 1.5
    assert middleware.vary == ("accept", "x-tenant")
    assert middleware.methods == {"GET", "HEAD"}
    assert middleware.statuses == {200, 203}
    assert isinstance(middleware.cache, Cache)
    assert cache_response().cache is not middleware.cache  # each gets its own by default
    assert "ttl=1.5" in repr(middleware)
    single = cache_response(methods=(m for m in ["GET"]), statuses=203)
    assert single.methods == {"GET"}
    assert single.statuses == {203}


# --- the docs examples ---------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs"
_BLOCK = re.compile(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", ["stores.md", "cache.md"])
def test_docs_examples_run(page):
    blocks = [code for skip, code in _BLOCK.findall((DOCS / page).read_text()) if not skip]
    assert blocks
    namespace: dict[str, Any] = {"__name__": f"docs_{page[:-3]}"}
    apps: list[App] = []
    for code in blocks:
        exec(compile(code, f"{page} example", "exec"), namespace)
        apps.extend(v for v in namespace.values() if isinstance(v, App) and v not in apps)
    for app in apps:  # every example app starts (its routes and middleware compile)
        with TestClient(app):
            pass
    check = namespace.get("check")
    assert callable(check), f"{page} ends with a check() block"
    check()


def test_cache_decorator_under_the_route_decorator() -> None:
    from avian.cache import cache

    calls: list[str] = []
    app = App()

    @app.get("/report", middleware=[header_mw_for_decorator_test(calls)])
    @cache(ttl=60)
    async def report() -> dict[str, int]:
        calls.append("handler")
        return {"n": len(calls)}

    with TestClient(app) as client:
        first = client.get("/report")
        second = client.get("/report")

    assert first.headers["x-cache"] == "MISS"
    assert second.headers["x-cache"] == "HIT"
    assert first.json() == second.json()
    # The route's own middleware runs outside the attached cache, on hits too.
    assert calls == ["outer", "handler", "outer"]


def header_mw_for_decorator_test(calls: list[str]) -> Any:
    async def outer(ctx: Context, call_next: Any) -> Response:
        calls.append("outer")
        return await call_next()

    return outer
