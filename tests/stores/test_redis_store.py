"""RedisStore (STORE-03) against real Redis servers, and the one setting ``App(redis_url=)``.

The Store contract tests run over both the memory and the Redis store, so the two behave
alike.  Tests that stop Redis, or need TLS or cluster mode, start their own
``redis-server`` on a free port in a temporary directory; the shared server is only ever
touched under a unique key prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import pytest
import redis
import redis.asyncio
from tests.support.processes import free_port
from tests.support.real_servers import PrivateRedis, prefixed_url, unavailable, unique_prefix

from avian import App, ConfigurationError, Context
from avian.cache import Cache, cache_response
from avian.csrf import CSRFMiddleware, csrf_token
from avian.redis_connection import connect_redis, split_url_prefix
from avian.sessions import Session, SessionMiddleware, session_of
from avian.stores import (
    MemoryStore,
    PrefixedStore,
    RedisStore,
    Store,
    StoreUnavailable,
    escape_glob,
)
from avian.testing import TestClient

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@contextlib.asynccontextmanager
async def using(store: Store) -> AsyncIterator[Any]:
    """Yield ``store``; afterwards empty its namespace and close its connections."""
    try:
        yield store
    finally:
        if isinstance(store, RedisStore):
            await store.clear()
            await store.close()


StoreFactory = Callable[..., Store]


@pytest.fixture(params=["memory", "redis"])
def new_store(request: pytest.FixtureRequest) -> StoreFactory:
    """Builds a fresh memory store, or a Redis store in a namespace of its own."""
    if request.param == "memory":
        return MemoryStore
    url = request.getfixturevalue("redis_url")

    def factory(**options: Any) -> Store:
        return RedisStore(url, prefix=unique_prefix(), **options)

    return factory


# =================================================================================================
# The Store contract, on memory and Redis alike
# =================================================================================================


def test_both_stores_satisfy_the_protocol(new_store: StoreFactory) -> None:
    store = new_store()
    assert isinstance(store, Store)
    assert isinstance(PrefixedStore(store, "p:"), Store)


def test_every_method_round_trip(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
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

    run(scenario())


VALUES = [0, -1, 2**63 - 1, 3.5, True, False, "", "text", b"\x00\xff", [1, [2, 3]], {"a": None}]


def test_values_round_trip_with_their_types(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            for i, value in enumerate(VALUES):
                await store.set(f"k{i}", value)
            for i, value in enumerate(VALUES):
                got = await store.get(f"k{i}")
                assert got == value
                assert type(got) is type(value)

    run(scenario())


def test_a_stored_none_reads_as_missing_but_has_sees_it(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            await store.set("k", None)
            assert await store.get("k") is None
            assert await store.has("k") is True

    run(scenario())


class Point(msgspec.Struct):
    x: int
    y: int


def test_values_are_serialised_copies(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            original = {"items": [1, 2]}
            await store.set("k", original)
            original["items"].append(3)
            first = await store.get("k")
            first["items"].append(99)
            assert await store.get("k") == {"items": [1, 2]}
            await store.set("tuple", (1, 2))
            await store.set("struct", Point(1, 2))
            assert await store.get("tuple") == [1, 2]
            assert await store.get("struct") == {"x": 1, "y": 2}

    run(scenario())


def test_an_unencodable_value_raises_and_changes_nothing(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            await store.set("k", "kept")
            with pytest.raises(TypeError):
                await store.set("k", object())
            assert await store.get("k") == "kept"

    run(scenario())


@pytest.mark.parametrize("ttl", [0, -1, -0.5])
def test_a_ttl_of_zero_or_less_removes_the_key(new_store: StoreFactory, ttl: float) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            await store.set("k", "old")
            await store.set("k", "new", ttl=ttl)
            assert await store.has("k") is False
            assert await store.get("k") is None

    run(scenario())


@pytest.mark.parametrize("ttl", [math.nan, math.inf, -math.inf, True, "10"])
def test_a_ttl_that_is_not_a_finite_number_is_refused(new_store: StoreFactory, ttl: Any) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            await store.set("k", "kept")
            with pytest.raises(ValueError, match="finite number"):
                await store.set("k", "v", ttl=ttl)
            with pytest.raises(ValueError, match="finite number"):
                await store.set_ex("k", "v", ttl)
            with pytest.raises(ValueError, match="set_ex needs a ttl"):
                await store.set_ex("k", "v", None)  # type: ignore[arg-type]
            assert await store.get("k") == "kept"

    run(scenario())


async def wait_gone(store: Store, key: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while await store.has(key):
        assert time.monotonic() < deadline, f"{key!r} did not expire within {timeout}s"
        await asyncio.sleep(0.02)


def test_keys_expire_after_a_real_short_ttl(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            await store.set("long", "stays", ttl=60)
            await store.set("short", "goes", ttl=0.05)
            await store.set_ex("short-ex", "goes", 0.1)
            await wait_gone(store, "short")
            await wait_gone(store, "short-ex")
            assert await store.get("short") is None
            assert await store.keys() == ["long"]
            assert await store.delete("short") is False
            assert await store.get("long") == "stays"

    run(scenario())


def test_default_ttl_applies_unless_a_ttl_is_given(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store(default_ttl=0.05)) as store:
            await store.set("default", 1)
            await store.set("longer", 2, ttl=60)
            await wait_gone(store, "default")
            assert await store.get("longer") == 2

    run(scenario())


def test_keys_and_clear_with_glob_patterns(new_store: StoreFactory) -> None:
    async def scenario() -> None:
        async with using(new_store()) as store:
            for key in ["user:1", "user:22", "user:x", "session:1", "a*b", "aXb"]:
                await store.set(key, 1)
            assert sorted(await store.keys("user:*")) == ["user:1", "user:22", "user:x"]
            assert sorted(await store.keys("user:?")) == ["user:1", "user:x"]
            assert sorted(await store.keys("user:[0-9]*")) == ["user:1", "user:22"]
            assert sorted(await store.keys("*:1")) == ["session:1", "user:1"]
            assert await store.keys("nothing*") == []
            assert sorted(await store.keys("a*b")) == ["a*b", "aXb"]
            assert await store.keys(escape_glob("a*b")) == ["a*b"]
            assert await store.keys("USER:*") == []
            users = PrefixedStore(store, "user:")
            assert sorted(await users.keys()) == ["1", "22", "x"]
            await users.clear()
            assert sorted(await store.keys()) == ["a*b", "aXb", "session:1"]

    run(scenario())


# =================================================================================================
# Redis specifics
# =================================================================================================


def test_float_ttls_keep_millisecond_precision(redis_url: str) -> None:
    async def scenario() -> None:
        async with using(RedisStore(redis_url, prefix=unique_prefix())) as store:
            await store.set("k", "v", ttl=1.5)
            assert 1000 < await store.client.pttl(store.prefix + "k") <= 1500
            await store.set("tiny", "v", ttl=0.0001)  # rounds up to one millisecond, not zero
            await store.set("k", "again")  # setting without a TTL removes the old one
            assert await store.client.pttl(store.prefix + "k") == -1

    run(scenario())


def test_keys_are_stored_under_the_prefix_in_msgpack(redis_url: str) -> None:
    async def scenario() -> None:
        prefix = unique_prefix()
        async with using(RedisStore(redis_url, prefix=prefix)) as store:
            await store.set("k", {"a": [1, b"x"]})
            raw = await store.client.get(prefix + "k")
            assert msgspec.msgpack.decode(raw) == {"a": [1, b"x"]}
            memory = MemoryStore()  # the memory store keeps the very same bytes
            await memory.set("k", {"a": [1, b"x"]})
            assert memory._data["k"][0] == raw

    run(scenario())


def test_json_serializer_is_readable_by_other_tools(redis_url: str) -> None:
    async def scenario() -> None:
        async with using(RedisStore(redis_url, prefix=unique_prefix(), serializer="json")) as s:
            await s.set("k", {"name": "Ada", "n": [1, 2.5, None]})
            assert await s.client.get(s.prefix + "k") == b'{"name":"Ada","n":[1,2.5,null]}'
            assert await s.get("k") == {"name": "Ada", "n": [1, 2.5, None]}
            assert repr(s) == f"RedisStore(prefix={s.prefix!r}, serializer='json')"

    run(scenario())


def test_scan_walks_more_keys_than_one_page_and_clear_stays_in_its_namespace(
    redis_url: str,
) -> None:
    async def scenario() -> None:
        prefix = unique_prefix()
        mine = RedisStore(redis_url, prefix=prefix, scan_count=50)
        sibling = RedisStore(redis_url, prefix=prefix[:-1] + "-sibling:")
        async with using(mine), using(sibling):
            async with mine.client.pipeline(transaction=False) as pipe:
                for i in range(1234):
                    pipe.set(f"{prefix}k{i}", msgspec.msgpack.encode(i))
                await pipe.execute()
            await sibling.set("k1", "not mine")
            keys = await mine.keys()
            assert len(keys) == 1234
            assert set(keys) == {f"k{i}" for i in range(1234)}
            assert sorted(await mine.keys("k12?")) == [f"k12{i}" for i in range(10)]
            await mine.clear()
            assert await mine.keys() == []
            assert await sibling.get("k1") == "not mine"

    run(scenario())


def test_a_prefix_with_glob_characters_is_matched_literally(redis_url: str) -> None:
    async def scenario() -> None:
        base = unique_prefix()
        starred = RedisStore(redis_url, prefix=base + "a*:")
        other = RedisStore(redis_url, prefix=base + "ab:")
        async with using(starred), using(other):
            await other.set("x", "not mine")
            await starred.set("x", "mine")
            assert await starred.keys() == ["x"]
            await starred.clear()
            assert await other.get("x") == "not mine"

    run(scenario())


def test_the_url_can_carry_the_prefix(redis_url: str) -> None:
    async def scenario() -> None:
        prefix = unique_prefix()
        separator = "&" if "?" in redis_url else "?"
        async with using(RedisStore(f"{redis_url}{separator}prefix={prefix}")) as store:
            assert store.prefix == prefix
            await store.set("k", 1)
            assert await store.client.exists(prefix + "k") == 1
        assert RedisStore(redis_url).prefix == "avian:"
        explicit = RedisStore(f"{redis_url}{separator}prefix=ignored:", prefix="mine:")
        assert explicit.prefix == "mine:"

    run(scenario())


def test_an_existing_client_is_reused_and_left_open(redis_url: str) -> None:
    async def scenario() -> None:
        client = redis.asyncio.Redis.from_url(redis_url)
        store = RedisStore(client=client, prefix=unique_prefix())
        assert store.client is client
        await store.set("k", "v")
        await store.close()  # not the store's client: still usable
        assert await store.get("k") == "v"
        await store.clear()
        await client.aclose()

    run(scenario())


def test_a_closed_store_reconnects_on_next_use(redis_url: str) -> None:
    async def scenario() -> None:
        async with using(RedisStore(redis_url, prefix=unique_prefix())) as store:
            await store.set("k", 1)
            await store.close()
            assert await store.get("k") == 1

    run(scenario())


def test_a_store_survives_a_change_of_event_loop(redis_url: str) -> None:
    """A store built once (at import time) may serve one test client after another."""
    store = RedisStore(redis_url, prefix=unique_prefix())

    async def write() -> None:
        await store.set("k", "first loop")
        await store.close()

    async def read() -> Any:
        try:
            return await store.get("k")
        finally:
            await store.clear()
            await store.close()

    run(write())
    assert run(read()) == "first loop"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"prefix": ""}, "prefix must be a non-empty"),
        ({"default_ttl": 0}, "default_ttl"),
        ({"default_ttl": math.inf}, "default_ttl"),
        ({"serializer": "pickle"}, "serializer"),
        ({"scan_count": 0}, "scan_count"),
        ({"scan_count": True}, "scan_count"),
        ({"ready_timeout": 0}, "ready_timeout"),
        ({"ready_timeout": math.nan}, "ready_timeout"),
        ({"decode_responses": True}, "decode_responses"),
        ({"max_retries": -1}, "max_retries"),
        ({"host": "127.0.0.1"}, "either url= or host="),
    ],
)
def test_invalid_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RedisStore("redis://127.0.0.1:6379/0", **options)


def test_client_and_connection_options_are_exclusive() -> None:
    client = redis.asyncio.Redis()
    with pytest.raises(ConfigurationError, match="either client= or connection options"):
        RedisStore("redis://127.0.0.1:6379/0", client=client)
    decoding = redis.asyncio.Redis(decode_responses=True)
    with pytest.raises(ConfigurationError, match="decode_responses=False"):
        RedisStore(client=decoding)


# --- readiness and reconnection ---------------------------------------------------------------------


def test_ready_is_false_while_the_server_is_down_and_the_store_reconnects(
    own_redis: PrivateRedis,
) -> None:
    async def scenario() -> None:
        async with using(RedisStore(own_redis.url, max_retries=2)) as store:
            await store.set("before", 1)
            assert await store.ready() is True
            own_redis.stop()
            assert await store.ready() is False  # never raises
            with pytest.raises(StoreUnavailable) as raised:  # a 503, not a redis error
                await store.get("before")
            assert isinstance(raised.value.__cause__, redis.ConnectionError)
            own_redis.start()  # same port, empty (no persistence)
            assert await store.ready() is True
            assert await store.get("before") is None
            await store.set("after", 2)
            assert await store.get("after") == 2

    run(scenario())


def test_a_restart_between_commands_is_absorbed_by_the_retries(own_redis: PrivateRedis) -> None:
    """The pooled connection dies with the server; the next command reconnects by itself."""

    async def scenario() -> None:
        async with using(RedisStore(own_redis.url)) as store:
            await store.set("k", 1)
            own_redis.stop()
            own_redis.start()
            await store.set("k", 2)  # the stale connection fails, the retry reconnects
            assert await store.get("k") == 2

    run(scenario())


def test_ready_times_out_on_a_server_that_never_answers() -> None:
    async def scenario() -> None:
        with socket.socket() as silent:  # accepts connections (backlog), never replies
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            store = RedisStore(f"redis://127.0.0.1:{port}/0", ready_timeout=0.2, max_retries=0)
            assert await store.ready() is False
            await store.close()

    run(scenario())


# --- connect_redis ----------------------------------------------------------------------------------


def test_connect_redis_reads_redis_url_from_the_environment(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_HOST", "never-used.invalid")

    async def scenario() -> None:
        client = connect_redis()
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()

    run(scenario())


def test_connect_redis_falls_back_to_host_port_user_pass(
    own_redis: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    with redis.Redis(port=own_redis.port) as admin:
        admin.acl_setuser(
            "app", enabled=True, passwords=["+s3cret"], commands=["+@all"], keys=["*"]
        )
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_HOST", "127.0.0.1")
    monkeypatch.setenv("REDIS_PORT", str(own_redis.port))
    monkeypatch.setenv("REDIS_USER", "app")

    async def scenario() -> None:
        monkeypatch.setenv("REDIS_PASS", "wrong")
        refused = connect_redis(max_retries=0)
        with pytest.raises(redis.AuthenticationError):
            await refused.ping()
        await refused.aclose()
        monkeypatch.setenv("REDIS_PASS", "s3cret")
        client = connect_redis()
        try:
            assert await client.acl_whoami() == "app"
        finally:
            await client.aclose()
        # Explicit options beat the environment.
        explicit = connect_redis(host="127.0.0.1", port=own_redis.port, username="default")
        try:
            assert await explicit.acl_whoami() == "default"
        finally:
            await explicit.aclose()

    run(scenario())


def test_explicit_credentials_and_db_override_the_url(own_redis: PrivateRedis) -> None:
    with redis.Redis(port=own_redis.port) as admin:
        admin.acl_setuser("app", enabled=True, passwords=["+pw"], commands=["+@all"], keys=["*"])

    async def scenario() -> None:
        client = connect_redis(
            f"redis://nobody:nothing@127.0.0.1:{own_redis.port}/0",
            username="app",
            password="pw",
            db=3,
        )
        try:
            assert await client.acl_whoami() == "app"
            await client.set("k", "in db 3")
        finally:
            await client.aclose()
        with redis.Redis(port=own_redis.port, db=3) as admin:
            assert admin.get("k") == b"in db 3"

    run(scenario())


def test_the_url_prefix_is_avians_not_a_connection_option(redis_url: str) -> None:
    url = prefixed_url(redis_url, "shop:")
    assert split_url_prefix(url) == (redis_url, "shop:")
    assert split_url_prefix(redis_url) == (redis_url, None)
    assert split_url_prefix("redis://h/0?prefix=a%3Ab&socket_timeout=3") == (
        "redis://h/0?socket_timeout=3",
        "a:b",
    )

    async def scenario() -> None:
        client = connect_redis(url + "&socket_timeout=3")  # the rate limiter does this
        try:
            assert await client.ping() is True
            assert client.get_connection_kwargs()["socket_timeout"] == 3.0
        finally:
            await client.aclose()

    run(scenario())


def test_a_bad_redis_port_in_the_environment_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_PORT", "sixty")
    with pytest.raises(ConfigurationError, match="REDIS_PORT"):
        connect_redis()


def test_a_missing_redis_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)  # import now fails
    with pytest.raises(ConfigurationError, match=r"pip install 'avian\[redis\]'"):
        connect_redis("redis://127.0.0.1:6379/0")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        unavailable("openssl is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        [
            *["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
            *["-keyout", str(key), "-out", str(cert), *subject],
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_tls_with_a_rediss_url_or_tls_true(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    server = PrivateRedis(
        tmp_path,
        "--tls-cert-file", str(cert),
        "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(cert),
        "--tls-auth-clients", "no",
        tls=True,
    )  # fmt: skip
    server.start()

    async def scenario() -> None:
        async with using(RedisStore(server.url, ssl_ca_certs=str(cert))) as store:
            await store.set("k", "over tls")
            assert await store.get("k") == "over tls"
            assert await store.ready() is True
        by_host = connect_redis(
            host="127.0.0.1", port=server.port, tls=True, ssl_ca_certs=str(cert)
        )
        try:
            assert await by_host.ping() is True
        finally:
            await by_host.aclose()
        plain = RedisStore(f"redis://127.0.0.1:{server.port}/0", max_retries=0, ready_timeout=1)
        assert await plain.ready() is False  # a TLS-only server refuses plain text
        await plain.close()

    try:
        run(scenario())
    finally:
        server.stop()


def test_cluster_mode_on_a_one_node_cluster(tmp_path: Path) -> None:
    server = PrivateRedis(
        tmp_path,
        "--cluster-enabled", "yes",
        "--cluster-config-file", str(tmp_path / "nodes.conf"),
        "--cluster-port", str(free_port()),  # not port + 10000, which may be out of range
    )  # fmt: skip
    server.start()
    try:
        with redis.Redis(port=server.port) as admin:
            admin.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while admin.cluster("info")["cluster_state"] != "ok":
                assert time.monotonic() < deadline, "the one-node cluster did not come up"
                time.sleep(0.05)

        async def scenario() -> None:
            store = RedisStore(host="127.0.0.1", port=server.port, cluster=True, prefix="c:")
            assert isinstance(store.client, redis.asyncio.RedisCluster)
            async with using(store):
                for i in range(300):  # keys spread over many hash slots
                    await store.set(f"k{i}", i, ttl=60)
                assert len(await store.keys()) == 300
                assert await store.get("k7") == 7
                assert await store.ready() is True
                await store.clear()
                assert await store.keys() == []

        run(scenario())
    finally:
        server.stop()


def test_cluster_mode_cannot_use_a_unix_socket() -> None:
    with pytest.raises(ConfigurationError, match="unix socket"):
        connect_redis("unix:///tmp/redis.sock", cluster=True)


# =================================================================================================
# One setting: App(redis_url=...) over HTTP
# =================================================================================================


def redis_app(url: str) -> App:
    """Sessions, CSRF and a cached route, none of them given a store."""
    app = App(redis_url=url)
    app.use(SessionMiddleware(Session()), CSRFMiddleware())
    calls = {"report": 0}

    @app.post("/login")
    async def login(ctx: Context) -> dict[str, Any]:
        session = await session_of(ctx).load()
        await session.rotate()
        session["user"] = (await ctx.request.json())["user"]
        return {"ok": True}

    @app.get("/me")
    async def me(ctx: Context) -> dict[str, Any]:
        session = await session_of(ctx).load()
        return {"user": session.get("user"), "csrf": await csrf_token(ctx)}

    @app.get("/report", middleware=[cache_response(60)])
    async def report() -> dict[str, int]:
        calls["report"] += 1
        return {"computed": calls["report"]}

    return app


def test_app_redis_url_moves_sessions_csrf_and_cache_to_redis(redis_url: str) -> None:
    prefix = unique_prefix()
    app = redis_app(prefixed_url(redis_url, prefix))
    assert isinstance(app.store, RedisStore)
    assert app.store.prefix == prefix
    with TestClient(app) as client:
        token = client.get("/me").execute().json()["csrf"]
        refused = client.post("/login", json={"user": "ada"}).execute()
        assert refused.status_code == 403
        logged_in = client.post("/login", json={"user": "ada"}, headers={"x-csrf-token": token})
        assert logged_in.execute().status_code == 200
        me = client.get("/me").execute().json()
        assert me["user"] == "ada"
        first = client.get("/report").execute()
        second = client.get("/report").execute()
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
        assert second.json() == {"computed": 1}

    with redis.Redis.from_url(redis_url) as raw:
        names = sorted(k.decode()[len(prefix) :].split(":")[0] for k in raw.scan_iter(prefix + "*"))
        for key in raw.scan_iter(prefix + "*"):
            raw.delete(key)
    assert set(names) == {"cache", "csrf", "session"}


def test_two_apps_on_one_redis_share_sessions_and_cache(redis_url: str) -> None:
    """Two app instances stand in for two workers: what one stores, the other sees."""
    url = prefixed_url(redis_url, unique_prefix())
    worker_a, worker_b = redis_app(url), redis_app(url)
    with TestClient(worker_a) as a, TestClient(worker_b) as b:
        token = a.get("/me").execute().json()["csrf"]
        a.post("/login", json={"user": "ada"}, headers={"x-csrf-token": token}).execute()
        b.cookies.update(a.cookies)
        seen = b.get("/me").execute().json()
        assert seen["user"] == "ada"
        assert seen["csrf"] == a.get("/me").execute().json()["csrf"]  # the CSRF token too
        assert a.get("/report").execute().json() == {"computed": 1}
        from_b = b.get("/report").execute()
        assert from_b.headers["x-cache"] == "HIT"
        assert from_b.json() == {"computed": 1}

    async def cleanup() -> None:
        await worker_a.store.clear()
        await worker_a.store.close()

    run(cleanup())


def test_the_app_closes_its_store_at_shutdown_and_reconnects_next_time(redis_url: str) -> None:
    app = redis_app(prefixed_url(redis_url, unique_prefix()))
    with TestClient(app) as client:
        token = client.get("/me").execute().json()["csrf"]
        client.post("/login", json={"user": "ada"}, headers={"x-csrf-token": token}).execute()
        cookies = dict(client.cookies)
    with TestClient(app, cookies=cookies) as client:  # a new event loop, the same store
        assert client.get("/me").execute().json()["user"] == "ada"

    async def cleanup() -> None:
        await app.store.clear()
        await app.store.close()

    run(cleanup())


def test_an_explicit_store_wins_over_the_app_store(redis_url: str) -> None:
    own = MemoryStore()
    cache = Cache(own)
    app = App(redis_url=prefixed_url(redis_url, unique_prefix()))

    @app.get("/n", middleware=[cache_response(60, cache=cache)])
    async def n() -> dict[str, int]:
        return {"n": 1}

    with TestClient(app) as client:
        assert client.get("/n").execute().headers["x-cache"] == "MISS"
        assert client.get("/n").execute().headers["x-cache"] == "HIT"
    assert cache.store is own
    assert len(own) == 1


# --- the examples in docs/scaling.md ------------------------------------------------------------------

_BLOCK = re.compile(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", re.DOTALL)


def test_the_scaling_docs_example_runs_on_redis(redis_url: str) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "scaling.md"
    blocks = [code for skip, code in _BLOCK.findall(page.read_text("utf-8")) if not skip]
    assert len(blocks) == 2
    prefix = unique_prefix()
    namespace: dict[str, Any] = {"__name__": "docs_scaling"}
    for code in blocks:  # point the examples at the test server, in a namespace of our own
        code = code.replace(
            "redis://localhost:6379/0?prefix=shop:", prefixed_url(redis_url, prefix)
        )
        code = code.replace("redis://localhost:6379/0", prefixed_url(redis_url, prefix))
        exec(compile(code, "docs/scaling.md example", "exec"), namespace)

    app = namespace["app"]
    assert isinstance(app.store, RedisStore)
    assert namespace["prices"].store is app.store
    with TestClient(app) as client:
        assert client.get("/health").execute().json() == {"redis": True}
        assert client.get("/me").execute().json() == {"user": None}
        assert client.get("/catalogue").execute().headers["x-cache"] == "MISS"
        assert client.get("/catalogue").execute().headers["x-cache"] == "HIT"

    async def cleanup() -> list[str]:
        keys = await app.store.keys()
        await app.store.clear()
        await app.store.close()
        return keys

    kinds = {key.split(":")[0] for key in run(cleanup())}
    assert kinds == {"session", "csrf", "cache"}
