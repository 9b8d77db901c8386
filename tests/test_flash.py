"""Flash messages: set on one request, shown on the next, then gone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from avian import App, Context
from avian.flash import FLASH_KEY, flash, get_flashed_messages
from avian.sessions import CookieSession, Session, SessionBackend, SessionMiddleware
from avian.stores import MemoryStore
from avian.testing import TestClient

KEY = "a-session-signing-key-long-enough"


class CountingStore(MemoryStore):
    """A real MemoryStore that counts how often it is read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> Any | None:
        self.reads += 1
        return await super().get(key)


def flash_app(backend: SessionBackend | None) -> App:
    app = App()
    if backend is not None:
        app.use(SessionMiddleware(backend))

    @app.post("/items")
    async def create_item(ctx: Context) -> Any:
        form = await ctx.request.json()
        for category, message in form:
            await flash(ctx, message, category)
        return ctx.redirect("/items", 303)

    @app.post("/note")
    async def note(ctx: Context) -> str:
        await flash(ctx, "Saved")  # default category
        return "ok"

    @app.get("/items")
    async def list_items(ctx: Context) -> dict[str, Any]:
        return {"messages": await get_flashed_messages(ctx)}

    @app.get("/with-categories")
    async def with_categories(ctx: Context) -> list[Any]:
        return await get_flashed_messages(ctx, with_categories=True)

    @app.get("/errors")
    async def errors_only(ctx: Context) -> dict[str, Any]:
        errors = await get_flashed_messages(ctx, category_filter=["error"])
        warnings = await get_flashed_messages(ctx, True, "warning")
        everything = await get_flashed_messages(ctx)
        return {"errors": errors, "warnings": warnings, "all": everything}

    @app.get("/read-then-flash")
    async def read_then_flash(ctx: Context) -> list[str]:
        shown = await get_flashed_messages(ctx)
        await flash(ctx, "for next time")
        return shown

    @app.post("/logout")
    async def logout(ctx: Context) -> Any:
        await ctx.session.invalidate()
        await flash(ctx, "You are logged out")
        return ctx.redirect("/items", 303)

    @app.get("/plain")
    async def plain(ctx: Context) -> str:
        return "no flashes read"

    return app


@pytest.fixture(params=["server", "cookie"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    backend = Session() if request.param == "server" else CookieSession(KEY)
    with TestClient(flash_app(backend)) as c:
        yield c


def test_flash_survives_a_redirect_once(client: TestClient) -> None:
    response = client.post("/items", json=[["success", "Item saved"]])

    assert response.status_code == 200  # followed the 303
    assert response.json() == {"messages": ["Item saved"]}
    assert [r.status_code for r in response.history] == [303]
    assert client.get("/items").json() == {"messages": []}


def test_categories_and_default(client: TestClient) -> None:
    client.post("/note").execute()
    client.post(
        "/items", json=[["error", "Name missing"], ["warning", "Slow"]], follow_redirects=False
    ).execute()

    assert client.get("/with-categories").json() == [
        ["info", "Saved"],
        ["error", "Name missing"],
        ["warning", "Slow"],
    ]


def test_category_filter_and_repeated_reads_in_one_request(client: TestClient) -> None:
    client.post(
        "/items",
        json=[["error", "Bad email"], ["warning", "Old browser"], ["info", "Hi"]],
        follow_redirects=False,
    ).execute()

    assert client.get("/errors").json() == {
        "errors": ["Bad email"],
        "warnings": [["warning", "Old browser"]],
        "all": ["Bad email", "Old browser", "Hi"],  # one request sees them all, every time
    }
    assert client.get("/items").json() == {"messages": []}  # consumed, filter or not


def test_flash_after_reading_waits_for_the_next_request(client: TestClient) -> None:
    client.post("/note").execute()
    assert client.get("/read-then-flash").json() == ["Saved"]
    assert client.get("/items").json() == {"messages": ["for next time"]}


def test_flash_after_logout_reaches_the_next_page(client: TestClient) -> None:
    client.post("/note").execute()
    response = client.post("/logout")
    assert response.json() == {"messages": ["You are logged out"]}


def test_reading_without_flashes_writes_nothing() -> None:
    with TestClient(flash_app(Session())) as client:
        client.post("/note").execute()
        client.get("/items").execute()  # consumes: the session is rewritten once
        response = client.get("/items").execute()
    assert response.json() == {"messages": []}
    assert response.headers.get_list("set-cookie") == []


def test_reading_without_a_cookie_touches_no_store() -> None:
    store = CountingStore()
    with TestClient(flash_app(Session(store))) as client:
        assert client.get("/items").json() == {"messages": []}
        assert client.get("/plain").text == "no flashes read"
    assert store.reads == 0


def test_pages_that_do_not_read_flashes_keep_them() -> None:
    store = CountingStore()
    with TestClient(flash_app(Session(store))) as client:
        client.post("/note").execute()
        store.reads = 0
        client.get("/plain").execute()
        assert store.reads == 0
        assert client.get("/items").json() == {"messages": ["Saved"]}


def test_without_sessions_reading_is_empty_and_flashing_is_an_error() -> None:
    with TestClient(flash_app(None), raise_server_exceptions=False) as client:
        assert client.get("/items").json() == {"messages": []}
        assert client.post("/note").status_code == 500


def test_corrupt_flash_data_is_ignored() -> None:
    store = MemoryStore()
    backend = Session(store)

    async def plant() -> str:
        return await backend.create({FLASH_KEY: [["info", "ok"], "junk", [1, 2], ["a"]]})

    sid = asyncio.run(plant())
    with TestClient(flash_app(backend)) as client:
        client.cookies.set("sid", sid)
        assert client.get("/items").json() == {"messages": ["ok"]}

    async def plant_scalar() -> str:
        return await backend.create({FLASH_KEY: "not a list"})

    sid = asyncio.run(plant_scalar())
    with TestClient(flash_app(backend)) as client:
        client.cookies.set("sid", sid)
        assert client.get("/items").json() == {"messages": []}


def test_flash_rejects_non_string_messages() -> None:
    app = App()
    app.use(SessionMiddleware(Session()))

    @app.get("/")
    async def home(ctx: Context) -> str:
        with pytest.raises(TypeError):
            await flash(ctx, 42)  # type: ignore[arg-type]
        return "checked"

    with TestClient(app) as client:
        assert client.get("/").text == "checked"
