"""Sessions (SES-01..04): Harpia's Session API, the middleware behind ``ctx.session``, and
signed-cookie sessions.

Everything runs over HTTP through the test client.  Time is a fake clock, never a sleep;
store traffic is observed through a small recording store that wraps a real MemoryStore.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from tests.support.clock import FakeClock

from avian import App, ConfigurationError, Context
from avian.sessions import (
    CookieSession,
    Session,
    SessionBackend,
    SessionData,
    SessionManager,
    SessionMiddleware,
    SessionNotLoaded,
    SessionRecord,
    session_of,
    sessions,
)
from avian.stores import MemoryStore, Store
from avian.testing import AsyncTestClient, TestClient, TestResponse

HOUR = 3600.0
DAY = 24 * HOUR
KEY = "a-session-signing-key-long-enough"
OLD_KEY = "the-previous-signing-key-rotated"


class RecordingStore:
    """A real store (MemoryStore underneath) that logs every call, to see store traffic."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.calls: list[tuple[str, str]] = []
        self.ttls: dict[str, float | None] = {}

    async def get(self, key: str) -> Any | None:
        self.calls.append(("get", key))
        return await self.inner.get(key)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        self.calls.append(("set", key))
        self.ttls[key] = ttl
        await self.inner.set(key, value, ttl)

    async def set_ex(self, key: str, value: Any, ttl: float) -> None:
        await self.set(key, value, ttl)

    async def delete(self, key: str) -> bool:
        self.calls.append(("delete", key))
        return await self.inner.delete(key)

    async def has(self, key: str) -> bool:
        self.calls.append(("has", key))
        return await self.inner.has(key)

    async def clear(self) -> None:
        await self.inner.clear()

    async def keys(self, pattern: str = "*") -> list[str]:
        return await self.inner.keys(pattern)

    async def ready(self) -> bool:
        return True

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]

    def raw(self, key: str) -> Any:
        return asyncio.run(self.inner.get(key))


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


def set_cookies(response: TestResponse) -> list[str]:
    return response.headers.get_list("set-cookie")


def cookie_value(response: TestResponse, name: str = "sid") -> str:
    (header,) = [h for h in set_cookies(response) if h.startswith(name + "=")]
    return header.split(";", 1)[0].split("=", 1)[1]


def session_app(backend: SessionBackend) -> App:
    """Routes that exercise ``ctx.session`` the way applications do."""
    app = App()
    app.use(SessionMiddleware(backend))

    @app.get("/untouched")
    async def untouched(ctx: Context) -> str:
        return "no session here"

    @app.get("/info")
    async def info(ctx: Context) -> dict[str, Any]:
        session = await ctx.session.load()
        return {"id": session.id, "is_new": session.is_new, "data": session.to_dict()}

    @app.post("/set")
    async def set_values(ctx: Context) -> dict[str, Any]:
        session = await ctx.session.load()
        for key, value in (await ctx.request.json()).items():
            session[key] = value
        return {"id": session.id, "modified": session.modified}

    @app.post("/delete/{key}")
    async def delete_key(ctx: Context, key: str) -> dict[str, Any]:
        session = await ctx.session.load()
        del session[key]
        return session.to_dict()

    @app.post("/login")
    async def login(ctx: Context) -> dict[str, Any]:
        session = await ctx.session.load()
        old = session.id
        new = await session.rotate()
        session["user"] = "alice"
        return {"old": old, "new": new, "id": session.id}

    @app.post("/logout")
    async def logout(ctx: Context) -> str:
        await ctx.session.invalidate()
        return "bye"

    @app.post("/logout-then-write")
    async def logout_then_write(ctx: Context) -> str:
        await ctx.session.invalidate()
        ctx.session["note"] = "logged out"
        return "bye"

    @app.post("/clear")
    async def clear(ctx: Context) -> dict[str, Any]:
        session = await ctx.session.load()
        session.clear()
        return {"id": session.id, "len": len(session)}

    @app.get("/ensure")
    async def ensure(ctx: Context) -> dict[str, Any]:
        sid = await ctx.session.ensure()
        return {"ensured": sid, "id": ctx.session.id}

    @app.post("/append")
    async def append(ctx: Context) -> list[Any]:
        session = await ctx.session.load()
        session.setdefault("items", [])
        session["items"].append(len(session["items"]))
        session.modified = True  # a nested change is invisible to the mapping
        return list(session["items"])

    @app.get("/unloaded")
    async def unloaded(ctx: Context) -> dict[str, Any]:
        try:
            ctx.session["x"]
        except SessionNotLoaded as exc:
            return {"error": str(exc), "loaded": ctx.session.loaded}
        raise AssertionError("reading an unloaded session must fail")

    @app.post("/bad-value")
    async def bad_value(ctx: Context) -> str:
        session = await ctx.session.load()
        session["when"] = {1, 2}
        return "stored?"

    @app.post("/big")
    async def big(ctx: Context) -> str:
        session = await ctx.session.load()
        session["blob"] = secrets.token_urlsafe(4000)
        return "stored?"

    return app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


@pytest.fixture
def client(store: RecordingStore, clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(session_app(Session(store, clock=clock))) as c:
        yield c


# --- Harpia's Session API (SES-01..03) ----------------------------------------------------------


def harpia_app(session: Session) -> App:
    """The routes of Harpia's session documentation, in Python."""
    app = App()

    @app.get("/login")
    async def login(ctx: Context) -> dict[str, str]:
        session_id = await session.create({"username": "john_doe", "role": "admin"})
        session.set_cookie(ctx, session_id, http_only=True, secure=True)
        return {"message": "User logged in successfully!"}

    @app.get("/profile")
    async def profile(ctx: Context) -> dict[str, Any]:
        record = await session.from_request(ctx)
        if record is None:
            return {"status": "not authenticated"}
        return {"status": "success", "id": record.id, "data": record.data}

    @app.get("/update-profile")
    async def update_profile(ctx: Context) -> dict[str, Any]:
        session_id = ctx.request.cookies.get("sid")
        ok = await session.update(session_id, {"role": "super_admin"}) if session_id else False
        return {"updated": ok}

    @app.get("/logout")
    async def logout(ctx: Context) -> dict[str, str]:
        session_id = ctx.request.cookies.get("sid")
        if session_id is None:
            return {"message": "No active session found."}
        await session.delete(session_id, ctx)
        return {"message": "User logged out successfully!"}

    @app.get("/set-cookie")
    async def set_cookie(ctx: Context) -> str:
        session.set_cookie(ctx.response, "example-session-id", max_age=3600, http_only=False)
        return "set"

    return app


def test_harpia_create_set_cookie_from_request_update_delete(
    store: RecordingStore, clock: FakeClock
) -> None:
    session = Session(store, clock=clock)
    with TestClient(harpia_app(session), base_url="https://testserver") as client:
        assert client.get("/profile").json() == {"status": "not authenticated"}

        login = client.get("/login").execute()
        (header,) = set_cookies(login)
        sid = cookie_value(login)
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", sid)  # secrets.token_urlsafe(32)
        assert header == (f"sid={sid}; Max-Age=1209600; Path=/; Secure; HttpOnly; SameSite=Lax")
        assert store.raw(f"session:{sid}")["data"] == {"username": "john_doe", "role": "admin"}

        assert client.get("/profile").json() == {
            "status": "success",
            "id": sid,
            "data": {"username": "john_doe", "role": "admin"},
        }
        assert client.get("/update-profile").json() == {"updated": True}
        assert client.get("/profile").json()["data"] == {
            "username": "john_doe",
            "role": "super_admin",  # merged, like Harpia's {...old, ...data}
        }

        logout = client.get("/logout").execute()
        assert logout.json() == {"message": "User logged out successfully!"}
        assert "Max-Age=0" in set_cookies(logout)[0]
        assert store.raw(f"session:{sid}") is None
        assert client.get("/profile").json() == {"status": "not authenticated"}
        assert client.get("/logout").json() == {"message": "No active session found."}


def test_from_request_reads_a_websocket_handshake() -> None:
    from avian.websockets import WebSocket

    backend = Session()
    app = harpia_app(backend)

    @app.ws("/ws")
    async def who(ws: WebSocket) -> None:
        record = await backend.from_request(ws)
        await ws.accept()
        await ws.send_json(None if record is None else record.data)
        await ws.close()

    with TestClient(app, base_url="https://testserver") as client:  # the cookie is Secure
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() is None
        client.get("/login").execute()
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_json() == {"username": "john_doe", "role": "admin"}


def test_harpia_set_cookie_options() -> None:
    with TestClient(harpia_app(Session())) as client:
        (header,) = set_cookies(client.get("/set-cookie"))
    assert header == "sid=example-session-id; Max-Age=3600; Path=/; SameSite=Lax"


def test_update_of_unknown_or_garbage_id_is_false(store: RecordingStore) -> None:
    session = Session(store)
    assert run(session.update(secrets.token_urlsafe(32), {"a": 1})) is False
    assert run(session.update("not an id", {"a": 1})) is False
    assert store.ops() == ["get"]  # the garbage id never reached the store


def test_session_manager_names(store: RecordingStore) -> None:
    manager = SessionManager(store=store)

    async def scenario() -> tuple[Any, Any, Any]:
        sid = await manager.create_session({"userId": 1, "username": "Alice"})
        got = await manager.get_session(sid)
        await manager.delete_session(sid)
        return sid, got, await manager.get_session(sid)

    sid, got, after = run(scenario())
    assert got == {"userId": 1, "username": "Alice"}
    assert after is None
    assert ("set", f"session:{sid}") in store.calls  # namespaced keys
    assert ("delete", f"session:{sid}") in store.calls


def test_harpia_api_enforces_timeouts(clock: FakeClock) -> None:
    session = Session(clock=clock, idle_timeout=60)
    sid = run(session.create({"a": 1}))
    clock.advance(61)
    assert run(session.get(sid)) is None
    assert run(session.update(sid, {"a": 2})) is False


def test_create_refuses_non_json_data() -> None:
    from avian.sessions import SessionError

    with pytest.raises(SessionError, match="JSON"):
        run(Session().create({"when": b"bytes"}))
    with pytest.raises(SessionError, match="keys must be strings"):
        run(Session().create({1: "one"}))  # type: ignore[dict-item]
    with pytest.raises(SessionError, match="not JSON"):
        run(Session().create({"scores": [float("nan"), 1.0]}))
    with pytest.raises(SessionError, match=r"\['when'\]\[1\] is a set"):
        run(Session().create({"when": ("ok", {1})}))


def test_corrupt_store_records_read_as_no_session(store: RecordingStore) -> None:
    backend = Session(store)
    good, bad_shape, not_dict = (secrets.token_urlsafe(32) for _ in range(3))

    async def plant() -> list[Any]:
        await store.inner.set(f"session:{bad_shape}", {"data": [], "created": 1, "seen": 1})
        await store.inner.set(f"session:{not_dict}", "just a string")
        sid = await backend.create({"ok": True})
        return [
            await backend.get(sid),
            await backend.get(bad_shape),
            await backend.get(not_dict),
            await backend.get(good),
            await backend.get(42),  # type: ignore[arg-type]
            await backend.from_request(object()),  # nothing with cookies
        ]

    assert run(plant()) == [{"ok": True}, None, None, None, None, None]


# --- ctx.session: lazy loading, saving only when modified ----------------------------------------


def test_untouched_session_never_hits_the_store(client: TestClient, store: RecordingStore) -> None:
    client.post("/set", json={"user": "bob"}).execute()
    store.calls.clear()

    response = client.get("/untouched").execute()

    assert response.text == "no session here"
    assert store.calls == []  # the cookie was sent, but nobody asked for the session
    assert set_cookies(response) == []
    assert "vary" not in response.headers


def test_first_write_creates_session_and_sets_cookie(
    client: TestClient, store: RecordingStore
) -> None:
    first = client.post("/set", json={"user": "bob"}).execute()
    assert first.json() == {"id": None, "modified": True}  # no id until saved
    sid = cookie_value(first)
    assert first.headers["vary"] == "Cookie"
    assert store.raw(f"session:{sid}")["data"] == {"user": "bob"}

    info = client.get("/info").json()
    assert info == {"id": sid, "is_new": False, "data": {"user": "bob"}}


def test_reading_does_not_write_or_resend_cookie(client: TestClient, store: RecordingStore) -> None:
    client.post("/set", json={"user": "bob"}).execute()
    store.calls.clear()

    response = client.get("/info").execute()

    assert store.ops() == ["get"]
    assert set_cookies(response) == []
    assert response.headers["vary"] == "Cookie"


def test_new_session_that_stays_empty_is_not_created(
    client: TestClient, store: RecordingStore
) -> None:
    response = client.get("/info").execute()
    assert response.json() == {"id": None, "is_new": True, "data": {}}
    assert store.calls == []  # no cookie: nothing to read, nothing written
    assert set_cookies(response) == []

    client.post("/set", json={"tmp": 1}).execute()
    client.post("/delete/tmp").execute()
    assert client.get("/info").json()["data"] == {}


def test_session_id_is_stable_across_writes(client: TestClient) -> None:
    sid = cookie_value(client.post("/set", json={"a": 1}))
    second = client.post("/set", json={"b": 2}).execute()
    assert second.json()["id"] == sid
    assert cookie_value(second) == sid  # re-sent because it was written
    assert client.get("/info").json()["data"] == {"a": 1, "b": 2}


def test_unloaded_session_access_is_a_clear_error(client: TestClient) -> None:
    body = client.get("/unloaded").json()
    assert body["loaded"] is False
    assert "await ctx.session.load()" in body["error"]


def test_nested_change_saved_when_marked_modified(client: TestClient) -> None:
    assert client.post("/append").json() == [0]
    assert client.post("/append").json() == [0, 1]
    assert client.get("/info").json()["data"] == {"items": [0, 1]}


def test_clear_keeps_the_id_and_empties_data(client: TestClient) -> None:
    sid = cookie_value(client.post("/set", json={"a": 1}))
    assert client.post("/clear").json() == {"id": sid, "len": 0}
    assert client.get("/info").json() == {"id": sid, "is_new": False, "data": {}}


def test_ensure_gives_a_saved_id_even_when_empty(client: TestClient, store: RecordingStore) -> None:
    response = client.get("/ensure").execute()
    body = response.json()
    assert body["ensured"] == body["id"] == cookie_value(response)
    assert store.raw(f"session:{body['id']}")["data"] == {}

    store.calls.clear()
    again = client.get("/ensure").execute()
    assert again.json()["ensured"] == body["id"]  # stable, and no rewrite needed
    assert store.ops() == ["get"]
    assert set_cookies(again) == []


def test_values_must_be_json(
    store: RecordingStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        TestClient(session_app(Session(store, clock=clock))) as client,
        caplog.at_level(logging.ERROR, logger="avian"),
    ):
        response = client.post("/bad-value").execute()
    assert response.status_code == 500
    assert set_cookies(response) == []
    assert any("JSON-serialisable" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert not [op for op in store.ops() if op == "set"]


# --- rotation, logout, fixation ---------------------------------------------------------------


def test_rotate_issues_new_id_and_kills_the_old_one(
    client: TestClient, store: RecordingStore
) -> None:
    old = cookie_value(client.post("/set", json={"cart": [1, 2]}))

    login = client.post("/login").execute()
    body = login.json()
    assert body["old"] == old
    assert body["new"] == body["id"] == cookie_value(login) != old
    assert store.raw(f"session:{old}") is None

    assert client.get("/info").json()["data"] == {"cart": [1, 2], "user": "alice"}
    with TestClient(client.app) as attacker:  # someone replaying the pre-login id
        replay = attacker.get("/info", headers={"cookie": f"sid={old}"}).json()
    assert replay == {"id": None, "is_new": True, "data": {}}


def test_logout_deletes_record_and_expires_cookie(
    client: TestClient, store: RecordingStore
) -> None:
    sid = cookie_value(client.post("/set", json={"user": "bob"}))

    response = client.post("/logout").execute()

    (header,) = set_cookies(response)
    assert header.startswith("sid=;")
    assert "Max-Age=0" in header
    assert store.raw(f"session:{sid}") is None
    assert client.get("/info").json() == {"id": None, "is_new": True, "data": {}}


def test_logout_then_write_starts_a_fresh_session(
    client: TestClient, store: RecordingStore
) -> None:
    old = cookie_value(client.post("/set", json={"user": "bob"}))

    response = client.post("/logout-then-write").execute()

    new = cookie_value(response)  # exactly one Set-Cookie: the new session
    assert new != old
    assert store.raw(f"session:{old}") is None
    assert client.get("/info").json()["data"] == {"note": "logged out"}


def test_logout_without_a_session_sends_nothing(client: TestClient) -> None:
    assert set_cookies(client.post("/logout")) == []


def test_client_chosen_id_is_never_adopted(store: RecordingStore, clock: FakeClock) -> None:
    planted = secrets.token_urlsafe(32)  # well-formed, but never issued by the server
    with TestClient(session_app(Session(store, clock=clock))) as client:
        client.cookies.set("sid", planted)
        first = client.post("/set", json={"user": "victim"}).execute()
    issued = cookie_value(first)
    assert issued != planted
    assert store.raw(f"session:{planted}") is None
    assert store.raw(f"session:{issued}")["data"] == {"user": "victim"}


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "../../etc/passwd",
        "x" * 8000,
        "%00%ff%0a",
        '"quoted"',
        "session:*",
        secrets.token_urlsafe(32) + "A",
    ],
)
def test_garbage_cookie_gives_empty_session_without_store_lookup(
    cookie: str, store: RecordingStore, clock: FakeClock
) -> None:
    with TestClient(session_app(Session(store, clock=clock))) as client:
        response = client.get("/info", headers={"cookie": f"sid={cookie}"}).execute()
        assert response.json() == {"id": None, "is_new": True, "data": {}}
        assert set_cookies(response) == []  # a stale cookie is only replaced on write
        assert store.calls == []
        written = client.post("/set", json={"a": 1}, headers={"cookie": f"sid={cookie}"}).execute()
    assert cookie_value(written) != cookie


def test_tampered_id_is_a_new_session(client: TestClient, store: RecordingStore) -> None:
    sid = cookie_value(client.post("/set", json={"user": "bob"}))
    tampered = sid[:-1] + ("A" if sid[-1] != "A" else "B")
    with TestClient(client.app) as other:
        body = other.get("/info", headers={"cookie": f"sid={tampered}"}).json()
    assert body == {"id": None, "is_new": True, "data": {}}


# --- timeouts (fake clock) ----------------------------------------------------------------------


def test_idle_timeout_expires_inactive_sessions(
    client: TestClient, store: RecordingStore, clock: FakeClock
) -> None:
    sid = cookie_value(client.post("/set", json={"user": "bob"}))
    clock.advance(2 * HOUR)  # the default idle timeout, to the second
    assert client.get("/info").json() == {"id": None, "is_new": True, "data": {}}
    assert store.raw(f"session:{sid}") is None  # cleaned up on the way


def test_activity_slides_the_idle_timeout(
    client: TestClient, store: RecordingStore, clock: FakeClock
) -> None:
    sid = cookie_value(client.post("/set", json={"user": "bob"}))
    for _ in range(5):  # 10 hours of reading, never 2 hours idle
        clock.advance(HOUR + 59 * 60)
        store.calls.clear()
        response = client.get("/info").execute()
        assert response.json()["id"] == sid
        assert store.ops() == ["get", "set"]  # last-seen refreshed in the store
        assert set_cookies(response) == []  # the id cookie itself does not change


def test_touch_is_rate_limited(client: TestClient, store: RecordingStore, clock: FakeClock) -> None:
    client.post("/set", json={"user": "bob"}).execute()
    clock.advance(59)  # under a minute: not worth a write
    store.calls.clear()
    client.get("/info").execute()
    assert store.ops() == ["get"]


def test_absolute_timeout_ends_even_active_sessions(
    store: RecordingStore, clock: FakeClock
) -> None:
    backend = Session(store, clock=clock, absolute_timeout=DAY, idle_timeout=HOUR)
    with TestClient(session_app(backend)) as client:
        sid = cookie_value(client.post("/set", json={"user": "bob"}))
        for _ in range(24):
            clock.advance(HOUR - 1)
            assert client.get("/info").json()["id"] == sid
        clock.advance(24)  # 24 h since creation, only 24 s idle
        assert client.get("/info").json()["is_new"] is True


def test_idle_timeout_none_disables_it(clock: FakeClock) -> None:
    with TestClient(session_app(Session(clock=clock, idle_timeout=None))) as client:
        sid = cookie_value(client.post("/set", json={"a": 1}))
        clock.advance(13 * DAY)
        assert client.get("/info").json()["id"] == sid


def test_store_ttl_matches_the_time_left(store: RecordingStore, clock: FakeClock) -> None:
    with TestClient(session_app(Session(store, clock=clock))) as client:
        sid = cookie_value(client.post("/set", json={"a": 1}))
    assert store.ttls[f"session:{sid}"] == 2 * HOUR  # a Redis store expires it too
    record = store.raw(f"session:{sid}")
    assert record == {"data": {"a": 1}, "created": clock.now, "seen": clock.now}


def test_cookie_max_age_never_outlives_the_session(store: RecordingStore, clock: FakeClock) -> None:
    backend = Session(store, clock=clock, absolute_timeout=DAY, idle_timeout=None)
    with TestClient(session_app(backend)) as client:
        first = client.post("/set", json={"a": 1}).execute()
        assert "Max-Age=86400;" in set_cookies(first)[0]
        clock.advance(20 * HOUR)
        later = client.post("/set", json={"a": 2}).execute()
        assert "Max-Age=14400;" in set_cookies(later)[0]


def test_ttl_none_makes_a_browser_session_cookie() -> None:
    with TestClient(session_app(Session(ttl=None))) as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
    assert "Max-Age" not in header


# --- cookie attributes ------------------------------------------------------------------------


def test_secure_is_automatic_on_https() -> None:
    with TestClient(session_app(Session()), base_url="https://testserver") as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
        assert "; Secure;" in header
        logout = client.post("/logout").execute()
        assert "; Secure;" in set_cookies(logout)[0]
    with TestClient(session_app(Session())) as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
        assert "Secure" not in header


@pytest.mark.parametrize(
    ("secure", "base_url", "expected"),
    [(True, "http://testserver", True), (False, "https://testserver", False)],
)
def test_secure_option_overrides_the_scheme(secure: bool, base_url: str, expected: bool) -> None:
    with TestClient(session_app(Session(secure=secure)), base_url=base_url) as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
    assert ("; Secure;" in header) is expected


def test_cookie_name_path_domain_same_site_http_only() -> None:
    backend = Session(
        cookie_name="app_session",
        path="/",
        domain="testserver.local",
        same_site="strict",
        http_only=False,
    )
    with TestClient(session_app(backend)) as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
    assert header.startswith("app_session=")
    assert "; Domain=testserver.local; Path=/;" in header
    assert header.endswith("; SameSite=Strict")
    assert "HttpOnly" not in header


def test_same_site_none_with_secure() -> None:
    with TestClient(session_app(Session(same_site="none", secure=True))) as client:
        (header,) = set_cookies(client.post("/set", json={"a": 1}))
    assert header.endswith("; Secure; HttpOnly; SameSite=None")


@pytest.mark.parametrize(
    "options",
    [
        {"same_site": "none"},
        {"same_site": "sometimes"},
        {"cookie_name": "bad name"},
        {"cookie_name": ""},
        {"path": "/x;y"},
        {"idle_timeout": 0},
        {"absolute_timeout": -1},
        {"absolute_timeout": None},
        {"ttl": "forever"},
    ],
)
def test_bad_options_fail_at_construction(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Session(**options)


def test_store_must_be_a_store() -> None:
    with pytest.raises(ConfigurationError):
        Session(store={})  # type: ignore[arg-type]
    assert isinstance(RecordingStore(), Store)


# --- installing ---------------------------------------------------------------------------------


def test_sessions_helper_installs_default_backend() -> None:
    app = App()
    backend = sessions(app)
    assert isinstance(backend, Session)
    assert isinstance(backend.store, MemoryStore)

    @app.get("/")
    async def home(ctx: Context) -> dict[str, Any]:
        before = repr(ctx.session)
        session = await session_of(ctx).load()
        session["visits"] = session.get("visits", 0) + 1
        return {
            "visits": session["visits"],
            "keys": list(session),
            "typed": isinstance(ctx.session, SessionData),
            "repr": [before, repr(session).split(" id=")[0]],
        }

    with TestClient(app) as client:
        first = client.get("/").json()
        assert first == {
            "visits": 1,
            "keys": ["visits"],
            "typed": True,
            "repr": ["<SessionData (not loaded)>", "<SessionData"],
        }
        assert client.get("/").json()["visits"] == 2


def test_vary_cookie_is_added_once() -> None:
    app = App()
    app.use(SessionMiddleware(Session()))

    @app.get("/")
    async def home(ctx: Context) -> str:
        await ctx.session.load()
        ctx.response.headers.set("vary", "Accept-Encoding, cookie")
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").headers.get_list("vary") == ["Accept-Encoding, cookie"]


def test_logout_then_an_undone_write_only_expires_the_cookie() -> None:
    app = session_app(Session())

    @app.post("/logout-undo")
    async def logout_undo(ctx: Context) -> str:
        await ctx.session.invalidate()
        ctx.session["tmp"] = 1
        del ctx.session["tmp"]
        return "bye"

    with TestClient(app) as client:
        client.post("/set", json={"a": 1}).execute()
        (header,) = set_cookies(client.post("/logout-undo").execute())
    assert "Max-Age=0" in header


def test_session_of_without_middleware_is_a_configuration_error() -> None:
    app = App()

    @app.get("/")
    async def home(ctx: Context) -> str:
        try:
            session_of(ctx)
        except ConfigurationError as exc:
            return str(exc)
        return "unexpected"

    with TestClient(app) as client:
        assert "SessionMiddleware" in client.get("/").text


def test_middleware_rejects_a_non_backend() -> None:
    with pytest.raises(ConfigurationError):
        SessionMiddleware(MemoryStore())  # type: ignore[arg-type]


# --- sessions in a header (te.js's X-Session-ID pattern, SES-04) --------------------------------


def test_header_mode_carries_the_id_in_x_session_id(store: RecordingStore) -> None:
    with TestClient(session_app(Session(store, header_name="X-Session-ID"))) as client:
        first = client.post("/set", json={"user": "api"}).execute()
        sid = first.headers["x-session-id"]
        assert set_cookies(first) == []
        assert first.headers["vary"] == "x-session-id"
        assert store.raw(f"session:{sid}")["data"] == {"user": "api"}

        as_header = client.get("/info", headers={"x-session-id": sid}).json()
        assert as_header == {"id": sid, "is_new": False, "data": {"user": "api"}}
        as_cookie = client.get("/info", headers={"cookie": f"sid={sid}"}).json()
        assert as_cookie["is_new"] is True  # only the header counts in this mode

        planted = secrets.token_urlsafe(32)
        forged = client.post("/set", json={"x": 1}, headers={"x-session-id": planted})
        assert forged.headers["x-session-id"] != planted

        logout = client.post("/logout", headers={"x-session-id": sid}).execute()
        assert logout.headers["x-session-id"] == ""
        assert store.raw(f"session:{sid}") is None


def test_header_name_must_be_a_token() -> None:
    with pytest.raises(ConfigurationError):
        Session(header_name="x session")


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_requests_keep_their_own_sessions() -> None:
    app = App()
    app.use(SessionMiddleware(Session()))
    both_loaded = asyncio.Barrier(2)

    @app.post("/name/{name}")
    async def set_name(ctx: Context, name: str) -> str:
        session = await ctx.session.load()
        session["name"] = name
        return name

    @app.get("/name")
    async def get_name(ctx: Context) -> dict[str, Any]:
        session = await ctx.session.load()
        await asyncio.wait_for(both_loaded.wait(), 5)  # both requests are in flight here
        return {"name": session["name"], "id": session.id}

    async def scenario() -> list[dict[str, Any]]:
        async with AsyncTestClient(app) as alice, AsyncTestClient(app) as bob:
            await alice.post("/name/alice")
            await bob.post("/name/bob")
            answers = await asyncio.gather(alice.get("/name"), bob.get("/name"))
            return [a.json() for a in answers]

    alice_view, bob_view = run(scenario())
    assert alice_view["name"] == "alice"
    assert bob_view["name"] == "bob"
    assert alice_view["id"] != bob_view["id"]


# --- signed-cookie sessions ---------------------------------------------------------------------


def cookie_client(backend: CookieSession, **kwargs: Any) -> TestClient:
    return TestClient(session_app(backend), **kwargs)


def test_cookie_session_round_trip_without_a_store(clock: FakeClock) -> None:
    with cookie_client(CookieSession(KEY, clock=clock)) as client:
        first = client.post("/set", json={"user": "bob", "n": 1}).execute()
        value = cookie_value(first, "session")
        assert "; HttpOnly; SameSite=Lax" in set_cookies(first)[0]
        info = client.get("/info").json()
        assert info["data"] == {"user": "bob", "n": 1}
        assert info["is_new"] is False
        assert isinstance(info["id"], str)
        assert set_cookies(client.get("/info")) == []  # unchanged: not re-sent
        second = client.post("/set", json={"n": 2}).execute()
    assert cookie_value(second, "session") != value


def test_cookie_session_is_signed_not_encrypted_and_tamper_proof(clock: FakeClock) -> None:
    with cookie_client(CookieSession(KEY, clock=clock)) as client:
        value = cookie_value(client.post("/set", json={"role": "user"}), "session")
    payload, stamp, signature = value.rsplit(".", 2)
    forged_sig = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    forged_payload = ("A" if payload[0] != "A" else "B") + payload[1:]
    for tampered in (
        f"{payload}.{stamp}.{forged_sig}",
        f"{forged_payload}.{stamp}.{signature}",
        f"{payload}.{stamp}",
        value + "x",
        "",
    ):
        with cookie_client(CookieSession(KEY, clock=clock)) as other:
            response = other.get("/info", headers={"cookie": f"session={tampered}"}).execute()
            assert response.status_code == 200
            assert response.json() == {"id": None, "is_new": True, "data": {}}


def test_cookie_forged_with_another_key_is_ignored(clock: FakeClock) -> None:
    attacker = URLSafeTimedSerializer(b"attacker-key-of-good-length", salt="avian.session")
    forged = attacker.dumps({"i": "x", "d": {"role": "admin"}, "c": clock.now})
    with cookie_client(CookieSession(KEY, clock=clock)) as client:
        body = client.get("/info", headers={"cookie": f"session={forged}"}).json()
    assert body["data"] == {}


def test_cookie_signed_by_us_but_malformed_is_ignored() -> None:
    # Both sides use the real clock here: the signature must be fresh and valid, so only
    # the payload's shape is wrong.
    ours = URLSafeTimedSerializer(KEY.encode(), salt="avian.session")
    for payload in (["a", "list"], {"i": 1, "d": {}, "c": 0}, {"i": "x", "d": [], "c": 0}):
        value = ours.dumps(payload)
        with cookie_client(CookieSession(KEY)) as client:
            body = client.get("/info", headers={"cookie": f"session={value}"}).json()
        assert body["data"] == {}


def test_cookie_key_rotation(clock: FakeClock) -> None:
    with cookie_client(CookieSession(OLD_KEY, clock=clock)) as client:
        old_cookie = cookie_value(client.post("/set", json={"user": "bob"}), "session")

    rotated = CookieSession([KEY, OLD_KEY], clock=clock)  # newest first
    with cookie_client(rotated) as client:
        client.cookies.set("session", old_cookie)
        assert client.get("/info").json()["data"] == {"user": "bob"}  # old key verifies
        new_cookie = cookie_value(client.post("/set", json={"n": 1}), "session")

    with cookie_client(CookieSession(KEY, clock=clock)) as client:  # old key retired
        assert client.get("/info", headers={"cookie": f"session={new_cookie}"}).json()["data"] == {
            "user": "bob",
            "n": 1,
        }  # re-signed with the newest key
        assert client.get("/info", headers={"cookie": f"session={old_cookie}"}).json()["data"] == {}


def test_cookie_session_timeouts_use_the_signature_time(clock: FakeClock) -> None:
    backend = CookieSession(KEY, clock=clock, idle_timeout=HOUR, absolute_timeout=DAY)
    with cookie_client(backend) as client:
        client.post("/set", json={"user": "bob"}).execute()
        clock.advance(HOUR)
        assert client.get("/info").json()["data"] == {}  # idle for an hour

        client.post("/set", json={"user": "bob"}).execute()
        for _ in range(23):  # active every 50 minutes: each touch re-signs the cookie
            clock.advance(50 * 60)
            response = client.get("/info").execute()
            assert response.json()["data"] == {"user": "bob"}
            assert cookie_value(response, "session")
        clock.advance(5 * HOUR)  # past 24 h since creation, even though re-signed
        assert client.get("/info").json()["data"] == {}


def test_cookie_session_rotate_and_logout(clock: FakeClock) -> None:
    with cookie_client(CookieSession(KEY, clock=clock)) as client:
        client.post("/set", json={"cart": [1]}).execute()
        before = client.get("/info").json()["id"]
        login = client.post("/login").json()
        assert login["old"] == before
        assert login["new"] != before
        assert client.get("/info").json()["data"] == {"cart": [1], "user": "alice"}
        logout = client.post("/logout").execute()
        assert "Max-Age=0" in set_cookies(logout)[0]
        assert client.get("/info").json()["is_new"] is True


def test_oversized_cookie_is_a_500_with_a_logged_reason(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        cookie_client(CookieSession(KEY, clock=clock)) as client,
        caplog.at_level(logging.ERROR, logger="avian"),
    ):
        response = client.post("/big").execute()
    assert response.status_code == 500
    assert set_cookies(response) == []
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert any("4096-byte limit" in m for m in messages)


def test_oversized_incoming_cookie_is_ignored(clock: FakeClock) -> None:
    with cookie_client(CookieSession(KEY, clock=clock)) as client:
        body = client.get("/info", headers={"cookie": "session=" + "a" * 8000}).json()
    assert body == {"id": None, "is_new": True, "data": {}}


def test_server_side_session_holds_what_a_cookie_cannot() -> None:
    with TestClient(session_app(Session())) as client:
        response = client.post("/big").execute()
    assert response.status_code == 200
    assert len(cookie_value(response)) == 43


def test_cookie_session_refuses_non_json(clock: FakeClock) -> None:
    with cookie_client(CookieSession(KEY, clock=clock), raise_server_exceptions=False) as c:
        assert c.post("/bad-value").status_code == 500


@pytest.mark.parametrize("keys", ["short", [], [KEY, "short"], [KEY, 42]])
def test_cookie_session_needs_real_keys(keys: Any) -> None:
    with pytest.raises(ConfigurationError):
        CookieSession(keys)


def test_backends_are_interchangeable() -> None:
    records: list[SessionRecord] = []

    class ListBackend(Session):
        """A subclass sees every record written: the extension point is small."""

        async def write(self, record: SessionRecord) -> str:
            records.append(record)
            return await super().write(record)

    with TestClient(session_app(ListBackend())) as client:
        client.post("/set", json={"a": 1}).execute()
    assert [r.data for r in records] == [{"a": 1}]


def test_repr_is_informative() -> None:
    backend = Session()
    assert "sid" in repr(backend)
    assert "MemoryStore" in repr(backend)
    assert "session" in repr(CookieSession(KEY))
    assert "SessionMiddleware(Session(" in repr(SessionMiddleware(backend))


# --- the documentation's examples ---------------------------------------------------------------


def test_docs_examples_run_and_behave_as_described() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "sessions.md").read_text("utf-8")
    namespace: dict[str, Any] = {"__name__": "docs_sessions"}
    for code in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        exec(compile(code, "sessions.md example", "exec"), namespace)

    with TestClient(namespace["app"]) as client:
        assert client.get("/me").json() == {"user": None}
        assert client.post("/login", json={"user": "ada"}).json() == {"logged_in": "ada"}
        assert client.get("/me").json() == {"user": "ada"}
        flashed = client.post("/items")
        assert flashed.json() == {"messages": [["success", "Item saved"]]}
        assert client.get("/items").json() == {"messages": []}
        client.post("/logout").execute()
        assert client.get("/me").json() == {"user": None}

    with TestClient(namespace["stateless"]) as client:
        response = client.post("/theme/dark").execute()
        assert response.headers["set-cookie"].startswith("session=")
        assert response.json() == {"theme": "dark"}

    with TestClient(namespace["harpia"], base_url="https://testserver") as client:
        assert client.get("/harpia/profile").json() == {"status": "not authenticated"}
        client.get("/harpia/login").execute()
        assert client.get("/harpia/promote").json() == {"updated": True}
        assert client.get("/harpia/profile").json()["data"]["role"] == "super_admin"
        assert client.get("/harpia/logout").json()["message"].startswith("User logged out")
        assert client.get("/harpia/profile").json() == {"status": "not authenticated"}

    clock = namespace["clock"]
    with TestClient(session_app(namespace["timed"])) as client:
        client.post("/set", json={"a": 1}).execute()
        clock.now += 31 * 60
        assert client.get("/info").json()["is_new"] is True

    assert isinstance(namespace["rotating"], CookieSession)

    with TestClient(namespace["api"]) as client:
        first = client.post("/api/cart/apple").execute()
        sid = first.headers["x-session-id"]
        second = client.post("/api/cart/pear", headers={"x-session-id": sid})
        assert second.json() == {"cart": ["apple", "pear"]}
