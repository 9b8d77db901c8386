"""The Store protocol, MemoryStore and PrefixedStore (STORE-01, STORE-02).

Stores have no HTTP surface of their own, so these tests call them directly; every
expiry test drives an injected clock instead of sleeping.  Routes using a store over HTTP
are in tests/test_cache.py.
"""

from __future__ import annotations

import asyncio
import fnmatch
import math
from collections.abc import Coroutine
from typing import Any, TypeVar

import msgspec
import pytest
from tests.support.clock import FakeClock

from avian import App, ConfigurationError, Context
from avian.stores import MemoryStore, PrefixedStore, Store, escape_glob
from avian.testing import TestClient

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


# --- the protocol -----------------------------------------------------------------------------


def test_memory_and_prefixed_stores_satisfy_the_protocol():
    store = MemoryStore()
    assert isinstance(store, Store)
    assert isinstance(PrefixedStore(store, "p:"), Store)
    assert not isinstance(object(), Store)


def test_every_method_round_trip():
    async def scenario() -> None:
        store = MemoryStore()
        assert await store.get("missing") is None
        assert await store.has("missing") is False
        assert await store.delete("missing") is False
        await store.set("user:1", {"name": "Ada", "tags": ["x"]})
        assert await store.get("user:1") == {"name": "Ada", "tags": ["x"]}
        assert await store.has("user:1") is True
        await store.set("user:1", "replaced")
        assert await store.get("user:1") == "replaced"
        await store.set_ex("token", "abc", 5)
        assert await store.get("token") == "abc"
        assert sorted(await store.keys()) == ["token", "user:1"]
        assert await store.delete("user:1") is True
        assert await store.delete("user:1") is False
        assert await store.ready() is True
        await store.clear()
        assert await store.keys() == []
        assert len(store) == 0

    run(scenario())


@pytest.mark.parametrize(
    "value",
    [0, -1, 2**63 - 1, 3.5, True, False, "", "text", b"\x00\xff", [1, [2, 3]], {"a": {"b": None}}],
)
def test_values_round_trip(value):
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("k", value)
        assert await store.get("k") == value
        assert type(await store.get("k")) is type(value)

    run(scenario())


def test_a_stored_none_reads_as_missing_but_has_sees_it():
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("k", None)
        assert await store.get("k") is None
        assert await store.has("k") is True

    run(scenario())


# --- copies, never references -----------------------------------------------------------------


def test_reads_return_copies_not_references():
    async def scenario() -> None:
        store = MemoryStore()
        original = {"items": [1, 2]}
        await store.set("k", original)
        original["items"].append(3)  # mutating what was stored changes nothing
        first = await store.get("k")
        assert first == {"items": [1, 2]}
        first["items"].append(99)  # nor does mutating what was read
        assert await store.get("k") == {"items": [1, 2]}
        assert await store.get("k") is not await store.get("k")

    run(scenario())


class Point(msgspec.Struct):
    x: int
    y: int


def test_serialisation_is_msgpack_like_a_network_store():
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("tuple", (1, 2))
        await store.set("struct", Point(1, 2))
        assert await store.get("tuple") == [1, 2]
        assert await store.get("struct") == {"x": 1, "y": 2}

    run(scenario())


def test_an_unencodable_value_raises_and_changes_nothing():
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("k", "kept")
        with pytest.raises(TypeError):
            await store.set("k", object())
        assert await store.get("k") == "kept"

    run(scenario())


# --- TTL ----------------------------------------------------------------------------------------


def test_a_key_expires_exactly_at_its_ttl():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set("k", "v", ttl=10)
        clock.advance(9.999)
        assert await store.get("k") == "v"
        assert await store.has("k") is True
        clock.advance(0.001)  # exactly 10 s after set
        assert await store.get("k") is None
        assert await store.has("k") is False
        assert await store.keys() == []

    run(scenario())


def test_set_ex_is_set_with_a_mandatory_ttl():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set_ex("k", "v", 2.5)
        clock.advance(2.4)
        assert await store.has("k")
        clock.advance(0.1)
        assert not await store.has("k")
        with pytest.raises(ValueError, match="set_ex needs a ttl"):
            await store.set_ex("k", "v", None)  # type: ignore[arg-type]

    run(scenario())


def test_default_ttl_applies_unless_a_ttl_is_given():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(default_ttl=5, clock=clock)
        await store.set("default", 1)
        await store.set("longer", 2, ttl=60)
        clock.advance(5)
        assert await store.get("default") is None
        assert await store.get("longer") == 2

    run(scenario())


def test_without_ttl_a_key_never_expires():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set("k", "v")
        clock.advance(10**9)
        assert await store.get("k") == "v"

    run(scenario())


def test_setting_again_restarts_the_ttl():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set("k", 1, ttl=10)
        clock.advance(8)
        await store.set("k", 2, ttl=10)
        clock.advance(8)
        assert await store.get("k") == 2

    run(scenario())


@pytest.mark.parametrize("ttl", [0, -1, -0.5])
def test_a_ttl_of_zero_or_less_removes_the_key(ttl):
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("k", "old")
        await store.set("k", "new", ttl=ttl)
        assert await store.has("k") is False
        assert await store.get("k") is None

    run(scenario())


@pytest.mark.parametrize("ttl", [math.nan, math.inf, -math.inf, True, "10"])
def test_a_ttl_that_is_not_a_finite_number_is_refused(ttl):
    async def scenario() -> None:
        store = MemoryStore()
        await store.set("k", "kept")
        with pytest.raises(ValueError, match="finite number"):
            await store.set("k", "v", ttl=ttl)
        with pytest.raises(ValueError, match="finite number"):
            await store.set_ex("k", "v", ttl)
        assert await store.get("k") == "kept"

    run(scenario())


def test_deleting_an_expired_key_reports_false():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set("k", "v", ttl=1)
        clock.advance(1)
        assert await store.delete("k") is False

    run(scenario())


def test_len_and_keys_count_only_live_keys():
    async def scenario() -> None:
        clock = FakeClock()
        store = MemoryStore(clock=clock)
        await store.set("short", 1, ttl=1)
        await store.set("long", 2, ttl=100)
        assert len(store) == 2
        clock.advance(1)
        assert len(store) == 1
        assert await store.keys() == ["long"]
        assert "keys=1" in repr(store)

    run(scenario())


# --- LRU and max_size -----------------------------------------------------------------------------


def test_max_size_evicts_the_least_recently_used_key():
    async def scenario() -> None:
        store = MemoryStore(max_size=3)
        for k in "abc":
            await store.set(k, k)
        await store.set("d", "d")
        assert sorted(await store.keys()) == ["b", "c", "d"]
        assert len(store) == 3

    run(scenario())


def test_get_and_has_refresh_a_key_in_lru_order():
    async def scenario() -> None:
        store = MemoryStore(max_size=3)
        for k in "abc":
            await store.set(k, k)
        assert await store.get("a") == "a"  # a is now the most recently used
        await store.set("d", "d")  # evicts b
        assert await store.has("b") is False
        assert await store.has("c") is True  # c refreshed; a is now the oldest
        await store.set("e", "e")
        assert sorted(await store.keys()) == ["c", "d", "e"]

    run(scenario())


def test_overwriting_a_key_refreshes_it_and_evicts_nothing():
    async def scenario() -> None:
        store = MemoryStore(max_size=2)
        await store.set("a", 1)
        await store.set("b", 2)
        await store.set("a", 3)  # no new key: nothing evicted, a becomes the newest
        assert sorted(await store.keys()) == ["a", "b"]
        await store.set("c", 4)
        assert sorted(await store.keys()) == ["a", "c"]

    run(scenario())


def test_max_size_one_keeps_only_the_latest_key():
    async def scenario() -> None:
        store = MemoryStore(max_size=1)
        await store.set("a", 1)
        await store.set("b", 2)
        assert await store.keys() == ["b"]

    run(scenario())


def test_max_size_default_is_ten_thousand():
    async def scenario() -> None:
        store = MemoryStore()
        assert store.max_size == 10_000
        for i in range(10_001):
            await store.set(f"k{i}", i)
        assert len(store) == 10_000
        assert await store.has("k0") is False
        assert await store.has("k10000") is True

    run(scenario())


# --- keys and clear with patterns -------------------------------------------------------------------


def test_keys_with_glob_patterns():
    async def scenario() -> None:
        store = MemoryStore()
        for k in ["user:1", "user:22", "user:x", "session:1", "a*b", "aXb"]:
            await store.set(k, 1)
        assert sorted(await store.keys("user:*")) == ["user:1", "user:22", "user:x"]
        assert sorted(await store.keys("user:?")) == ["user:1", "user:x"]
        assert sorted(await store.keys("user:[0-9]*")) == ["user:1", "user:22"]
        assert sorted(await store.keys("*:1")) == ["session:1", "user:1"]
        assert await store.keys("nothing*") == []
        assert sorted(await store.keys("a*b")) == ["a*b", "aXb"]
        assert await store.keys(escape_glob("a*b")) == ["a*b"]
        assert await store.keys("USER:*") == []  # case-sensitive, like Redis

    run(scenario())


@pytest.mark.parametrize("text", ["plain", "a*b", "a?b", "[x]", "back\\slash", "*?[\\]"])
def test_escape_glob_matches_only_the_text_itself(text):
    pattern = escape_glob(text)
    assert fnmatch.fnmatchcase(text, pattern)
    for other in ["", "ab", "aXb", "x", text + "!", "a\\b"]:
        if other != text:
            assert not fnmatch.fnmatchcase(other, pattern)


# --- invalid options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("max_size", [0, -1, True, 1.5, "10", None])
def test_invalid_max_size(max_size):
    with pytest.raises(ConfigurationError, match="max_size"):
        MemoryStore(max_size=max_size)


@pytest.mark.parametrize("default_ttl", [0, -1, math.nan, math.inf, True, "5"])
def test_invalid_default_ttl(default_ttl):
    with pytest.raises(ConfigurationError, match="default_ttl"):
        MemoryStore(default_ttl=default_ttl)


def test_invalid_clock():
    with pytest.raises(ConfigurationError, match="clock"):
        MemoryStore(clock=123)  # type: ignore[arg-type]


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        MemoryStore(10)  # type: ignore[misc]


# --- PrefixedStore -----------------------------------------------------------------------------------


def test_prefixed_store_namespaces_every_method():
    async def scenario() -> None:
        clock = FakeClock()
        shared = MemoryStore(clock=clock)
        sessions = PrefixedStore(shared, "session:")
        cache = PrefixedStore(shared, "cache:")
        await sessions.set("abc", {"user": 1})
        await cache.set("abc", "cached", ttl=5)
        await cache.set_ex("tmp", 1, 1)
        assert await shared.get("session:abc") == {"user": 1}
        assert await sessions.get("abc") == {"user": 1}
        assert await cache.get("abc") == "cached"
        assert await cache.has("abc")
        assert not await cache.has("zzz")
        assert sorted(await cache.keys()) == ["abc", "tmp"]
        assert await sessions.keys("a*") == ["abc"]
        clock.advance(1)
        assert await cache.keys() == ["abc"]
        assert await cache.delete("abc") is True
        assert await cache.delete("abc") is False
        assert await sessions.has("abc")  # the other namespace is untouched
        assert await cache.ready() is True

    run(scenario())


def test_prefixed_clear_only_touches_its_prefix():
    async def scenario() -> None:
        shared = MemoryStore()
        await shared.set("cache:a", 1)
        await shared.set("cache:b", 2)
        await shared.set("cachet", 3)  # shares the letters, not the prefix
        await shared.set("session:a", 4)
        await PrefixedStore(shared, "cache:").clear()
        assert sorted(await shared.keys()) == ["cachet", "session:a"]

    run(scenario())


def test_a_prefix_with_glob_characters_is_matched_literally():
    async def scenario() -> None:
        shared = MemoryStore()
        starred = PrefixedStore(shared, "a*:")
        await shared.set("ab:x", "not mine")
        await starred.set("x", "mine")
        assert await starred.keys() == ["x"]
        await starred.clear()
        assert await shared.keys() == ["ab:x"]

    run(scenario())


def test_prefixed_stores_nest():
    async def scenario() -> None:
        shared = MemoryStore()
        inner = PrefixedStore(PrefixedStore(shared, "app:"), "cache:")
        await inner.set("k", 1)
        assert await shared.keys() == ["app:cache:k"]
        assert await inner.keys() == ["k"]
        assert "cache:" in repr(inner)

    run(scenario())


@pytest.mark.parametrize("prefix", ["", None, 5])
def test_prefixed_store_needs_a_prefix(prefix):
    with pytest.raises(ConfigurationError, match="prefix"):
        PrefixedStore(MemoryStore(), prefix)


def test_prefixed_store_needs_a_store():
    with pytest.raises(ConfigurationError, match="needs a Store"):
        PrefixedStore({}, "p:")  # type: ignore[arg-type]


# --- a store in an app, over HTTP ----------------------------------------------------------------------


def test_a_store_shared_through_app_state_copies_values_between_requests():
    app = App()
    app.state.store = MemoryStore()

    @app.post("/profile")
    async def save(ctx: Context) -> dict[str, Any]:
        profile = await ctx.request.json()
        await ctx.app.state.store.set("profile", profile, ttl=60)
        profile["mutated"] = True  # the stored copy is not affected
        return {"saved": True}

    @app.get("/profile")
    async def load(ctx: Context) -> Any:
        return await ctx.app.state.store.get("profile") or {"missing": True}

    with TestClient(app) as client:
        assert client.get("/profile").execute().json() == {"missing": True}
        assert client.post("/profile", json={"name": "Ada"}).execute().json() == {"saved": True}
        assert client.get("/profile").execute().json() == {"name": "Ada"}
