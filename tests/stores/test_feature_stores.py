"""Which store sessions, CSRF and the cache use, and how they stay out of each other's way.

Memory mode (no ``redis_url``, ``app.store`` never assigned): each feature keeps a private
``MemoryStore``, so filling the cache cannot evict sessions.  Redis mode, or an
``app.store`` the user assigned: the features share ``app.store``, each under its own key
prefix (``session:``, ``csrf:``, ``cache:``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from tests.support.real_servers import prefixed_url, unique_prefix

from avian import App, Context
from avian.cache import Cache, ResponseCache, cache_response
from avian.csrf import CSRF, CSRFMiddleware, csrf_token
from avian.sessions import Session, SessionMiddleware, session_of
from avian.stores import MemoryStore, RedisStore
from avian.stores.selection import shares_app_store
from avian.testing import TestClient


class Site:
    """An app with sessions, CSRF and a cached page, none given a store."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.session = Session()
        self.csrf = CSRF()
        self.pages = cache_response(60)
        app.use(SessionMiddleware(self.session), CSRFMiddleware(self.csrf))

        @app.post("/login")
        async def login(ctx: Context) -> dict[str, bool]:
            session = await session_of(ctx).load()
            session["user"] = (await ctx.request.json())["user"]
            return {"ok": True}

        @app.get("/me")
        async def me(ctx: Context) -> dict[str, Any]:
            session = await session_of(ctx).load()
            return {"user": session.get("user"), "csrf": await csrf_token(ctx)}

        @app.get("/page/{n}", middleware=[self.pages])
        async def page(n: int) -> dict[str, int]:
            return {"n": n}

    @property
    def cache(self) -> Cache:
        assert isinstance(self.pages, ResponseCache)
        return self.pages.cache

    def log_in(self, client: TestClient, user: str) -> None:
        token = client.get("/me").execute().json()["csrf"]
        response = client.post("/login", json={"user": user}, headers={"x-csrf-token": token})
        assert response.execute().status_code == 200


# --- memory mode -------------------------------------------------------------------------------


def test_in_memory_mode_each_feature_keeps_a_private_store() -> None:
    site = Site(App())
    with TestClient(site.app) as client:
        site.log_in(client, "ada")
        assert client.get("/page/1").execute().headers["x-cache"] == "MISS"
        assert client.get("/page/1").execute().headers["x-cache"] == "HIT"
    stores = [site.session.store, site.csrf.store, site.cache.store]
    assert all(isinstance(store, MemoryStore) for store in stores)
    assert len({id(store) for store in stores}) == 3  # three stores, none of them app.store
    assert all(store is not site.app.store for store in stores)
    assert not shares_app_store(site.app)
    assert [len(store) for store in stores] == [1, 1, 1]  # type: ignore[arg-type]
    assert len(site.app.store) == 0  # type: ignore[arg-type]


def test_in_memory_mode_filling_the_cache_does_not_evict_sessions() -> None:
    site = Site(App())
    with TestClient(site.app) as client:
        site.log_in(client, "ada")

        async def fill() -> None:  # more entries than a MemoryStore's default 10 000 keys
            for i in range(10_050):
                await site.cache.set(f"filler:{i}", i)

        asyncio.run(fill())
        assert len(site.cache.store) == 10_000  # type: ignore[arg-type]  # the cache evicted
        assert client.get("/me").execute().json()["user"] == "ada"  # the session did not go
        assert client.get("/page/2").execute().headers["x-cache"] == "MISS"
        assert client.get("/page/2").execute().headers["x-cache"] == "HIT"


def test_a_shared_store_the_user_assigns_is_shared_with_distinct_prefixes() -> None:
    app = App()
    shared = MemoryStore(max_size=50)
    app.store = shared  # explicit: the features follow it, even assigned after building them
    site = Site(app)
    with TestClient(app) as client:
        site.log_in(client, "ada")
        client.get("/page/1").execute()
        assert shares_app_store(app)
        assert site.session.store is shared
        assert site.csrf.store is shared
        assert site.cache.store is shared
        keys = asyncio.run(shared.keys())
        assert {key.split(":")[0] for key in keys} == {"session", "csrf", "cache"}
        assert asyncio.run(site.cache.keys()) == [
            k.removeprefix("cache:") for k in keys if k.startswith("cache:")
        ]

        # One store, one bound: the user chose it, so a full cache now evicts sessions.
        async def fill() -> None:
            for i in range(60):
                await site.cache.set(f"filler:{i}", i)

        asyncio.run(fill())
        assert client.get("/me").execute().json()["user"] is None


def test_assigning_app_store_later_moves_features_that_follow_the_app() -> None:
    site = Site(App())
    with TestClient(site.app) as client:
        client.get("/page/1").execute()
        private = site.cache.store
        site.app.store = MemoryStore()
        assert site.cache.store is site.app.store is not private
        assert client.get("/page/1").execute().headers["x-cache"] == "MISS"  # new, empty store


def test_an_explicit_feature_store_wins_in_both_modes() -> None:
    own = MemoryStore()
    session = Session(store=own)
    app = App()
    app.use(SessionMiddleware(session))
    app.store = MemoryStore()
    assert session.store is own


# --- Redis mode ------------------------------------------------------------------------------------


def test_in_redis_mode_the_features_share_app_store_under_distinct_prefixes(
    redis_url: str,
) -> None:
    prefix = unique_prefix()
    site = Site(App(redis_url=prefixed_url(redis_url, prefix)))
    assert shares_app_store(site.app)
    with TestClient(site.app) as client:
        site.log_in(client, "ada")
        client.get("/page/1").execute()
        assert isinstance(site.app.store, RedisStore)
        assert site.session.store is site.app.store
        assert site.csrf.store is site.app.store
        assert site.cache.store is site.app.store
        assert client.get("/me").execute().json()["user"] == "ada"

    with redis.Redis.from_url(redis_url) as raw:
        keys = [key.decode() for key in raw.scan_iter(prefix + "*")]
        for key in keys:
            raw.delete(key)
    kinds = {key[len(prefix) :].split(":")[0] for key in keys}
    assert kinds == {"session", "csrf", "cache"}
