"""The application lifecycle: ``on_ready``/``on_shutdown``/``on_error`` hooks, startup and
shutdown through the ASGI lifespan, ``app.state``, freezing, and the chainable builder
(LIFE-01..08).

``with TestClient(app)`` runs the lifespan startup on entry and the shutdown on exit, as a
server does; the end-to-end run under a real uvicorn is in ``tests/e2e``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from avian import App, ConfigurationError, Context, Response, Router
from avian.testing import LifespanError, TestClient


def test_on_ready_hooks_run_at_startup_in_registration_order():
    calls: list[Any] = []
    app = App()

    @app.on_ready
    async def first(app_arg: App) -> None:
        calls.append(("first", app_arg))

    @app.on_ready
    def second() -> None:
        calls.append("second")

    app.on_startup(lambda app_arg: calls.append(("third", app_arg)))

    async def fourth() -> None:
        await asyncio.sleep(0)
        calls.append("fourth")

    app.on_ready(fourth)

    assert calls == []
    with TestClient(app):
        assert calls == [("first", app), "second", ("third", app), "fourth"]
    assert len(calls) == 4  # shutdown does not run them again


def test_on_ready_returns_the_hook_so_it_works_as_a_decorator():
    app = App()

    def hook() -> None:
        pass

    assert app.on_ready(hook) is hook
    assert app.on_shutdown(hook) is hook
    assert app.on_error(hook) is hook


def test_on_ready_runs_after_routes_are_compiled():
    seen: list[Any] = []
    app = App()

    @app.get("/users/{id:int}", name="user")
    async def user(id: int) -> dict[str, int]:
        return {"id": id}

    @app.on_ready
    def check(app_arg: App) -> None:
        seen.append(app_arg.url_for("user", id=7))
        with pytest.raises(ConfigurationError, match="has started"):
            app_arg.get("/late")(lambda: "late")
        seen.append("closed")

    with TestClient(app) as client:
        assert client.get("/users/7").json() == {"id": 7}
    assert seen == ["/users/7", "closed"]


def test_on_shutdown_hooks_run_on_exit_in_order():
    calls: list[Any] = []
    app = App()

    @app.on_shutdown
    async def close_db(app_arg: App) -> None:
        calls.append(("close_db", app_arg))

    @app.on_shutdown
    def flush() -> None:
        calls.append("flush")

    with TestClient(app) as client:
        assert client.get("/").status_code == 404
        assert calls == []
    assert calls == [("close_db", app), "flush"]


def test_every_on_shutdown_hook_runs_even_if_one_fails():
    calls: list[str] = []
    reported: list[tuple[str, Any]] = []
    app = App(log_exceptions=False)
    app.on_error(lambda error, ctx: reported.append((str(error), ctx)))

    @app.on_shutdown
    def first() -> None:
        calls.append("first")

    @app.on_shutdown
    async def broken() -> None:
        calls.append("broken")
        raise RuntimeError("cache flush failed")

    @app.on_shutdown
    def last() -> None:
        calls.append("last")

    client = TestClient(app)
    client.__enter__()
    with pytest.raises(LifespanError, match=r"shutdown failed: RuntimeError: cache flush failed"):
        client.__exit__(None, None, None)

    assert calls == ["first", "broken", "last"]
    assert reported == [("cache flush failed", None)]  # background errors have no ctx


def test_constructor_lists():
    calls: list[str] = []
    reported: list[str] = []
    users = Router("/users")

    @users.get("/{id}")
    async def user(ctx: Context, id: str) -> str:
        if id == "0":
            raise ValueError("no user 0")
        return f"user {id} via {ctx.state.get('via')}"

    async def tag(ctx: Context, call_next: Any) -> Response:
        ctx.state.via = "middleware"
        response: Response = await call_next()
        response.headers.set("x-tagged", "1")
        return response

    app = App(
        log_exceptions=False,
        routers=[users],
        middleware=[tag],
        on_ready=[lambda: calls.append("ready-1"), lambda app: calls.append("ready-2")],
        on_shutdown=[lambda: calls.append("shutdown")],
        on_error=[lambda error, ctx: reported.append(str(error))],
    )
    app.on_ready(lambda: calls.append("ready-3"))

    with TestClient(app) as client:
        ok = client.get("/users/7")
        failed = client.get("/users/0")
        assert calls == ["ready-1", "ready-2", "ready-3"]

    assert (ok.text, ok.headers["x-tagged"]) == ("user 7 via middleware", "1")
    assert (failed.status_code, failed.headers["x-tagged"]) == (500, "1")
    assert reported == ["no user 0"]
    assert calls == ["ready-1", "ready-2", "ready-3", "shutdown"]


def test_startup_failure_fails_the_lifespan_and_names_the_error(
    caplog: pytest.LogCaptureFixture,
):
    calls: list[str] = []
    app = App()

    @app.on_ready
    def connect() -> None:
        calls.append("connect")
        raise ConnectionError("database at db:5432 refused the connection")

    @app.on_ready
    def never() -> None:
        calls.append("never")

    app.on_shutdown(lambda: calls.append("shutdown"))

    with (
        caplog.at_level(logging.ERROR, logger="avian"),
        pytest.raises(LifespanError) as info,
        TestClient(app),
    ):
        pass  # pragma: no cover - startup fails before the block runs

    message = str(info.value)
    assert "lifespan startup failed" in message
    assert "ConnectionError: database at db:5432 refused the connection" in message
    assert calls == ["connect"]  # later hooks and shutdown hooks do not run
    assert any(r.getMessage() == "startup failed" for r in caplog.records)


def test_app_state_is_shared_between_on_ready_and_handlers():
    app = App()

    @app.on_ready
    async def connect(app: App) -> None:
        app.state.db = {"users": ["ada", "linus"]}
        app.state["greeting"] = "hello"

    @app.get("/users")
    async def users(ctx: Context) -> dict[str, Any]:
        return {"users": ctx.app.state.db["users"], "greeting": ctx.app.state.greeting}

    @app.on_shutdown
    def disconnect(app: App) -> None:
        del app.state.db

    with TestClient(app) as client:
        assert client.get("/users").json() == {"users": ["ada", "linus"], "greeting": "hello"}
        assert client.lifespan_state["app"] is app
    assert "db" not in app.state


def test_request_state_is_not_app_state():
    app = App()

    @app.get("/count")
    async def count(ctx: Context) -> dict[str, int]:
        ctx.state.hits = ctx.state.get("hits", 0) + 1
        app.state.total = app.state.get("total", 0) + 1
        return {"request": ctx.state.hits, "app": app.state.total}

    with TestClient(app) as client:
        assert client.get("/count").json() == {"request": 1, "app": 1}
        assert client.get("/count").json() == {"request": 1, "app": 2}


def _late_registrations(app: App, router: Router) -> dict[str, Any]:
    """Each registration a running app must refuse."""

    def handler() -> str:
        return "late"

    async def middleware(ctx: Context, call_next: Any) -> Any:
        return await call_next()

    return {
        "get": lambda: app.get("/late")(handler),
        "route": lambda: app.route("/late", handler, methods=["POST"]),
        "ws": lambda: app.ws("/late-ws", handler),
        "group": lambda: app.group("/late"),
        "use": lambda: app.use(middleware),
        "before_all": lambda: app.before_all(handler),
        "after_all": lambda: app.after_all(handler),
        "exception_handler": lambda: app.exception_handler(404)(handler),
        "not_found": lambda: app.not_found(handler),
        "include": lambda: app.include(Router("/late")),
        "mount": lambda: app.mount("/late", handler),
        "add_asgi_middleware": lambda: app.add_asgi_middleware(lambda inner: inner),
        "included router": lambda: router.get("/late")(handler),
    }


@pytest.mark.parametrize("what", list(_late_registrations(App(), Router()).keys()))
def test_registration_after_startup_is_an_error(what: str):
    router = Router("/api")

    @router.get("/ping")
    async def ping() -> str:
        return "pong"

    app = App(routers=[router])
    with TestClient(app) as client:
        with pytest.raises(ConfigurationError, match="has started"):
            _late_registrations(app, router)[what]()
        assert client.get("/api/ping").text == "pong"
        assert client.get("/late").status_code == 404


def test_app_compiles_lazily_on_first_request_without_lifespan():
    calls: list[str] = []
    app = App(on_ready=[lambda: calls.append("ready")])

    @app.get("/")
    async def home() -> str:
        return "home"

    app.get("/added-before-first-request")(lambda: "fine")  # still open

    client = TestClient(app)  # no `with`: no lifespan
    try:
        assert client.get("/").text == "home"
        assert client.get("/added-before-first-request").text == "fine"
    finally:
        client.close()

    assert calls == []  # no lifespan, no on_ready
    with pytest.raises(ConfigurationError, match="has started"):
        app.get("/too-late")(lambda: "no")


def test_startup_and_shutdown_can_be_driven_directly():
    # Servers or adapters without a lifespan call these themselves (LIFE-07).
    calls: list[str] = []
    app = App(on_ready=[lambda: calls.append("ready")], on_shutdown=[lambda: calls.append("bye")])

    @app.get("/")
    async def home() -> str:
        return "home"

    async def run() -> None:
        await app.startup()
        calls.append("serving")
        await app.shutdown()

    asyncio.run(run())
    assert calls == ["ready", "serving", "bye"]
    with pytest.raises(ConfigurationError):
        app.get("/late")(lambda: "no")


class HeaderMiddleware:
    """A pure ASGI middleware appending its name to ``x-chain`` on every response."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name.encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def tagging_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                chain = [v for k, v in headers if k == b"x-chain"]
                headers = [(k, v) for k, v in headers if k != b"x-chain"]
                value = chain[0] + b"," + self.name if chain else self.name
                message = {**message, "headers": [*headers, (b"x-chain", value)]}
            await send(message)

        await self.app(scope, receive, tagging_send)


async def mounted_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = f"mounted at {scope['root_path']} for {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_builder_calls_chain_and_return_the_app():
    users, books = Router("/users"), Router("/books")
    users.get("/")(lambda: "users")
    books.get("/")(lambda: "books")
    app = App()

    result = (
        app.include(users)
        .include(books)
        .mount("/legacy", mounted_app)
        .add_asgi_middleware(HeaderMiddleware, name="outer")
        .add_asgi_middleware(HeaderMiddleware, name="inner")
    )

    assert result is app
    with TestClient(app) as client:
        assert client.get("/users").text == "users"
        assert client.get("/books").text == "books"
        legacy = client.get("/legacy/page")
    assert legacy.text == "mounted at /legacy for /legacy/page"
    # The first added is the outermost, so it sees the response last.
    assert legacy.headers["x-chain"] == "inner,outer"


def test_asgi_middleware_wraps_the_lifespan_too():
    scopes: list[str] = []

    def recording(inner: Any) -> Any:
        async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
            scopes.append(scope["type"])
            await inner(scope, receive, send)

        return middleware

    calls: list[str] = []
    app = App(on_ready=[lambda: calls.append("ready")]).add_asgi_middleware(recording)
    with TestClient(app) as client:
        assert client.get("/").status_code == 404
    assert scopes == ["lifespan", "http"]
    assert calls == ["ready"]


def test_hooks_with_only_optional_keyword_parameters_are_called_without_arguments():
    calls: list[bool] = []
    app = App()

    @app.on_ready
    async def warm(*, force: bool = False) -> None:
        calls.append(force)

    with TestClient(app):
        pass
    assert calls == [False]


def test_a_route_that_cannot_compile_fails_startup():
    app = App()

    @app.get("/users/{id}")
    async def user(id: int, body: UndefinedType) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(LifespanError, match="UndefinedType"), TestClient(app):
        pass  # pragma: no cover - startup fails before the block runs


def test_on_ready_after_startup_is_an_error():
    app = App()
    with TestClient(app), pytest.raises(ConfigurationError, match="has started"):
        app.on_ready(lambda: None)
