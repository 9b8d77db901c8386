"""Dependency injection: providers of every kind, teardown, caching, scopes and overrides."""

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest

from avian import App, Context, HTTPError, Router, errors
from avian.params import Depends, Header, Query
from avian.testing import TestClient


class Recorder:
    """Events in the order they happened, shared by the providers of one test."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __call__(self, event: str) -> None:
        self.events.append(event)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


# --- provider kinds --------------------------------------------------------------------------


def test_every_provider_kind_is_injected(rec: Recorder) -> None:
    app = App()

    async def async_provider() -> str:
        rec("async")
        return "a"

    def sync_provider() -> str:
        rec("sync")
        return "s"

    def generator_provider() -> Iterator[str]:
        rec("gen setup")
        yield "g"
        rec("gen teardown")

    async def async_generator_provider() -> AsyncIterator[str]:
        rec("agen setup")
        yield "ag"
        rec("agen teardown")

    @app.get("/")
    async def handler(
        a: Annotated[str, Depends(async_provider)],
        s: Annotated[str, Depends(sync_provider)],
        g: Annotated[str, Depends(generator_provider)],
        ag: str = Depends(async_generator_provider),
    ) -> list[str]:
        rec("handler")
        return [a, s, g, ag]

    with TestClient(app) as client:
        assert client.get("/").json() == ["a", "s", "g", "ag"]

    assert rec.events == [
        "async",
        "sync",
        "gen setup",
        "agen setup",
        "handler",
        "agen teardown",
        "gen teardown",
    ]


def test_teardown_runs_after_the_response_is_produced(rec: Recorder) -> None:
    """An ORM-style object is serialised (its attributes read) before its session closes."""
    import msgspec

    class Out(msgspec.Struct):
        name: str

    class Row:
        @property
        def name(self) -> str:
            rec("read")
            return "row"

    async def session() -> AsyncIterator[str]:
        rec("open")
        yield "session"
        rec("close")

    app = App()

    @app.get("/")
    async def handler(db: Annotated[str, Depends(session)]) -> Out:
        return Row()  # type: ignore[return-value]

    @app.after_all
    def after(ctx: Context) -> None:
        rec("after hook")

    with TestClient(app) as client:
        assert client.get("/").json() == {"name": "row"}

    assert rec.events == ["open", "read", "close", "after hook"]


def test_handler_errors_are_thrown_into_generators_in_reverse_order(rec: Recorder) -> None:
    async def outer() -> AsyncIterator[str]:
        try:
            yield "outer"
        except HTTPError as exc:
            rec(f"outer rollback {exc.status}")
            raise
        finally:
            rec("outer closed")

    def inner(o: Annotated[str, Depends(outer)]) -> Iterator[str]:
        try:
            yield "inner"
        except HTTPError as exc:
            rec(f"inner rollback {exc.status}")
            raise

    app = App()

    @app.post("/")
    async def handler(i: Annotated[str, Depends(inner)]) -> None:
        raise errors.conflict("taken")

    with TestClient(app) as client:
        response = client.post("/")

    assert response.status_code == 409
    assert rec.events == ["inner rollback 409", "outer rollback 409", "outer closed"]


def test_a_generator_cannot_swallow_the_error(rec: Recorder) -> None:
    def swallowing() -> Iterator[None]:
        try:
            yield
        except Exception:
            rec("swallowed")

    app = App()

    @app.get("/", dependencies=[Depends(swallowing)])
    async def handler() -> None:
        raise errors.not_found("gone")

    with TestClient(app) as client:
        assert client.get("/").status_code == 404
    assert rec.events == ["swallowed"]


def test_a_teardown_may_replace_the_error() -> None:
    async def translating() -> AsyncIterator[None]:
        try:
            yield
        except KeyError:
            raise errors.service_unavailable("backend lost") from None

    app = App()

    @app.get("/", dependencies=[Depends(translating)])
    async def handler() -> None:
        raise KeyError("x")

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 503
    assert response.json()["detail"] == "backend lost"


def test_a_failing_teardown_is_a_500_and_later_teardowns_still_run(rec: Recorder) -> None:
    def first() -> Iterator[None]:
        try:
            yield
        finally:
            rec("first closed")

    def second() -> Iterator[None]:
        yield
        raise RuntimeError("teardown failed")

    app = App(log_exceptions=False)

    @app.get("/", dependencies=[Depends(first), Depends(second)])
    async def handler() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
    assert rec.events == ["first closed"]


def test_generators_must_yield_exactly_once() -> None:
    def never() -> Iterator[None]:
        if False:
            yield

    async def twice() -> AsyncIterator[None]:
        yield
        yield

    app = App(log_exceptions=False)
    seen: list[BaseException] = []
    app.on_error(lambda error, ctx: seen.append(error))

    @app.get("/never", dependencies=[Depends(never)])
    async def h1() -> str:
        return "x"

    @app.get("/twice", dependencies=[Depends(twice)])
    async def h2() -> str:
        return "x"

    with TestClient(app) as client:
        assert client.get("/never").status_code == 500
        assert client.get("/twice").status_code == 500
    assert ["did not yield" in str(e) or "more than once" in str(e) for e in seen] == [True, True]


def test_dependency_raising_http_error_answers_with_its_status(rec: Recorder) -> None:
    async def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
        if x_token != "secret":
            raise errors.unauthorized("bad token", headers={"www-authenticate": "Token"})
        return x_token

    app = App()

    @app.get("/")
    async def handler(token: Annotated[str, Depends(require_token)]) -> str:
        rec("handler")
        return token

    with TestClient(app) as client:
        denied = client.get("/")
        allowed = client.get("/", headers={"x-token": "secret"})

    assert denied.status_code == 401
    assert denied.headers["www-authenticate"] == "Token"
    assert allowed.text == "secret"
    assert rec.events == ["handler"]


# --- sub-dependencies, inputs and caching ----------------------------------------------------


def test_sub_dependencies_take_every_kind_of_input(rec: Recorder) -> None:
    def settings(ctx: Context) -> dict[str, Any]:
        return {"path": ctx.request.path}

    async def paging(
        page: Annotated[int, Query(ge=1)] = 1,
        size: Annotated[int, Query(le=50)] = 10,
        conf: dict[str, Any] = Depends(settings),
    ) -> dict[str, Any]:
        return {"page": page, "size": size, **conf}

    def caller(
        user_agent: Annotated[str, Header()],
        p: dict[str, Any] = Depends(paging),
    ) -> str:
        return f"{user_agent} on page {p['page']} of {p['path']}"

    app = App()

    @app.get("/items")
    async def items(who: Annotated[str, Depends(caller)], q: str = "") -> dict[str, Any]:
        return {"who": who, "q": q}

    with TestClient(app) as client:
        ok = client.get("/items?page=2&q=x", headers={"user-agent": "probe"})
        bad = client.get("/items?page=0&size=99", headers={"user-agent": "probe"})

    assert ok.json() == {"who": "probe on page 2 of /items", "q": "x"}
    assert bad.status_code == 422
    assert [i["loc"] for i in bad.json()["details"]["issues"]] == [
        ["query", "page"],
        ["query", "size"],
    ]


def test_invalid_input_runs_no_provider(rec: Recorder) -> None:
    def provider() -> Iterator[None]:
        rec("provider")
        yield

    app = App()

    @app.get("/", dependencies=[Depends(provider)])
    async def handler(n: Annotated[int, Query()]) -> int:
        return n

    with TestClient(app) as client:
        assert client.get("/?n=x").status_code == 422
    assert rec.events == []


def test_a_provider_runs_once_per_request_unless_told_otherwise(rec: Recorder) -> None:
    counter = iter(range(100))

    def ticket() -> int:
        rec("ticket")
        return next(counter)

    def first(t: Annotated[int, Depends(ticket)]) -> int:
        return t

    def second(t: Annotated[int, Depends(ticket)]) -> int:
        return t

    app = App()

    @app.get("/cached")
    async def cached(
        a: Annotated[int, Depends(first)],
        b: Annotated[int, Depends(second)],
        c: Annotated[int, Depends(ticket)],
    ) -> list[int]:
        return [a, b, c]

    @app.get("/fresh")
    async def fresh(
        a: Annotated[int, Depends(ticket)],
        b: Annotated[int, Depends(ticket, use_cache=False)],
    ) -> list[int]:
        return [a, b]

    with TestClient(app) as client:
        assert client.get("/cached").json() == [0, 0, 0]
        assert client.get("/cached").json() == [1, 1, 1]  # per request, not forever
        assert client.get("/fresh").json() == [2, 3]
    assert rec.events == ["ticket"] * 4


def test_class_and_callable_instance_providers() -> None:
    class Pagination:
        def __init__(self, page: int = 1, size: int = 20) -> None:
            self.page = page
            self.size = size

    class Bearer:
        """Like a security scheme object: an instance with an async ``__call__``."""

        async def __call__(self, authorization: Annotated[str, Header()]) -> str:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise errors.unauthorized("bearer token required")
            return token

    bearer = Bearer()
    app = App()

    @app.get("/")
    async def handler(
        p: Annotated[Pagination, Depends()],
        token: Annotated[str, Depends(bearer)],
    ) -> dict[str, Any]:
        return {"page": p.page, "size": p.size, "token": token}

    with TestClient(app) as client:
        ok = client.get("/?page=3", headers={"authorization": "Bearer abc"})
        assert ok.json() == {"page": 3, "size": 20, "token": "abc"}
        assert client.get("/", headers={"authorization": "Basic x"}).status_code == 401
        assert client.get("/?size=x", headers={"authorization": "Bearer a"}).status_code == 422


def test_an_inherited_async_call_is_awaited_for_providers_and_handlers(rec: Recorder) -> None:
    class TokenReader:
        async def __call__(self, authorization: Annotated[str, Header()]) -> str:
            return authorization.removeprefix("Bearer ")

    class BearerTokenReader(TokenReader):
        """Inherits ``async def __call__`` from its base."""

    class Session:
        async def __call__(self) -> AsyncIterator[str]:
            rec("open")
            yield "session"
            rec("close")

    class NamedSession(Session):
        pass

    class Endpoint:
        async def __call__(self, token: Annotated[str, Depends(BearerTokenReader())]) -> str:
            rec("endpoint")
            return token

    class ChildEndpoint(Endpoint):
        pass

    app = App()
    app.get("/endpoint")(ChildEndpoint())

    @app.get("/session")
    async def session(value: Annotated[str, Depends(NamedSession())]) -> str:
        rec("handler")
        return value

    with TestClient(app) as client:
        # Called as sync, the handler and the provider would hand back coroutine objects.
        reply = client.get("/endpoint", headers={"authorization": "Bearer t1"})
        assert (reply.status_code, reply.text) == (200, "t1")
        assert client.get("/endpoint").json()["details"]["issues"][0]["loc"] == [
            "header",
            "authorization",
        ]
        assert client.get("/session").text == "session"
    assert rec.events == ["endpoint", "open", "handler", "close"]


def test_is_async_callable_sees_through_wrappers_and_inheritance() -> None:
    import functools

    from avian.params import is_async_callable

    class Base:
        async def __call__(self) -> None: ...

    class Child(Base):
        pass

    class SyncCall:
        def __call__(self) -> None: ...

    class Binding(Child):
        """Binds like a method (has ``__get__``), as handler-kind wrappers do."""

        def __get__(self, instance: object, owner: type | None = None) -> "Binding":
            return self

    async def coroutine_function(x: int) -> None: ...

    @functools.wraps(coroutine_function)
    def decorated(x: int) -> Any:
        return coroutine_function(x)

    assert is_async_callable(Child())
    assert is_async_callable(functools.partial(Child()))
    assert is_async_callable(functools.partial(coroutine_function, 1))
    assert is_async_callable(decorated)
    assert is_async_callable(Binding())
    assert not is_async_callable(SyncCall())
    assert not is_async_callable(str.upper)
    assert not is_async_callable(Child)  # calling the class builds an instance
    assert not is_async_callable(len)
    assert not is_async_callable(lambda: None)


def test_sync_providers_run_inline_unless_blocking() -> None:
    threads: dict[str, int] = {}

    def inline() -> None:
        threads["inline"] = threading.get_ident()

    def blocking() -> None:
        threads["blocking"] = threading.get_ident()

    def blocking_gen() -> Iterator[None]:
        threads["blocking_gen"] = threading.get_ident()
        yield

    async def loop_thread() -> None:
        threads["loop"] = threading.get_ident()

    app = App()

    @app.get(
        "/",
        dependencies=[
            Depends(inline),
            Depends(blocking, blocking=True),
            Depends(blocking_gen, blocking=True),
            Depends(loop_thread),
        ],
    )
    async def handler() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").text == "ok"
    assert threads["inline"] == threads["loop"]
    assert threads["blocking"] != threads["loop"]
    assert threads["blocking_gen"] != threads["loop"]


def test_sync_handlers_get_dependencies_too() -> None:
    async def name() -> str:
        return "ada"

    app = App()

    @app.get("/")
    def handler(n: Annotated[str, Depends(name)]) -> str:
        return n.upper()

    with TestClient(app) as client:
        assert client.get("/").text == "ADA"


# --- scopes ----------------------------------------------------------------------------------


def test_app_group_and_route_dependencies_run_in_order(rec: Recorder) -> None:
    def step(name: str) -> Any:
        def record() -> None:
            rec(name)

        record.__name__ = name
        return record

    app = App(dependencies=[Depends(step("app"))])
    api = app.group("/api", dependencies=[Depends(step("group"))])
    admin = api.group("/admin", dependencies=[step("inner group")])  # a bare callable works
    books = Router("/books", dependencies=[Depends(step("router"))])
    api.include(books)

    @admin.get("/", dependencies=[Depends(step("route"))])
    async def handler(x: Annotated[None, Depends(step("param"))]) -> str:
        rec("handler")
        return "ok"

    @books.get("/")
    async def list_books() -> str:
        return "books"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    with TestClient(app) as client:
        assert client.get("/api/admin/").text == "ok"
        assert rec.events == ["app", "group", "inner group", "route", "param", "handler"]
        rec.events.clear()
        assert client.get("/api/books/").text == "books"
        assert rec.events == ["app", "group", "router"]
        rec.events.clear()
        assert client.get("/plain").text == "plain"
        assert rec.events == ["app"]


def test_group_dependency_can_reject_every_route_below() -> None:
    def admin_only(x_role: Annotated[str, Header()] = "") -> None:
        if x_role != "admin":
            raise errors.forbidden("admins only")

    app = App()
    admin = app.group("/admin", dependencies=[Depends(admin_only)])

    @admin.get("/stats")
    async def stats() -> dict[str, int]:
        return {"users": 1}

    @app.get("/public")
    async def public() -> str:
        return "hi"

    with TestClient(app) as client:
        assert client.get("/admin/stats").status_code == 403
        assert client.get("/admin/stats", headers={"x-role": "admin"}).json() == {"users": 1}
        assert client.get("/public").text == "hi"


# --- overrides -------------------------------------------------------------------------------


def get_db() -> Iterator[str]:
    yield "real db"


def test_overrides_set_before_startup() -> None:
    app = App()

    @app.get("/")
    async def handler(db: Annotated[str, Depends(get_db)]) -> str:
        return db

    app.dependency_overrides[get_db] = lambda: "fake db"
    with TestClient(app) as client:
        assert client.get("/").text == "fake db"


def test_overrides_changed_while_running(rec: Recorder) -> None:
    app = App()

    @app.get("/")
    async def handler(db: Annotated[str, Depends(get_db)]) -> str:
        return db

    async def other_fake(x_db: Annotated[str, Header()]) -> AsyncIterator[str]:
        yield f"header db {x_db}"
        rec("fake closed")

    with TestClient(app) as client:
        assert client.get("/").text == "real db"
        app.dependency_overrides[get_db] = lambda: "fake db"
        assert client.get("/").text == "fake db"
        app.dependency_overrides[get_db] = other_fake
        assert client.get("/", headers={"x-db": "7"}).text == "header db 7"
        assert client.get("/").status_code == 422  # the override's own inputs are checked
        app.dependency_overrides.clear()
        assert client.get("/").text == "real db"
    assert rec.events == ["fake closed"]


def test_overrides_apply_to_scoped_and_nested_dependencies() -> None:
    def current_user(db: Annotated[str, Depends(get_db)]) -> str:
        return f"user from {db}"

    app = App(dependencies=[Depends(get_db)])

    @app.get("/")
    async def handler(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    app.dependency_overrides[get_db] = lambda: "test db"
    with TestClient(app) as client:
        assert client.get("/").text == "user from test db"


def test_unhashable_callable_objects_are_providers() -> None:
    import dataclasses

    @dataclasses.dataclass  # eq=True makes instances unhashable
    class Greeting:
        word: str

        def __call__(self, name: str = "world") -> str:
            return f"{self.word} {name}"

    hello = Greeting("hello")
    app = App()

    @app.get("/")
    async def handler(a: Annotated[str, Depends(hello)], b: Annotated[str, Depends(hello)]) -> str:
        return f"{a} / {b}"

    with TestClient(app) as client:
        assert client.get("/?name=ada").text == "hello ada / hello ada"


def test_the_plan_lists_every_provider() -> None:
    def base() -> None: ...

    def scoped() -> None: ...

    def nested(b: Annotated[None, Depends(base)]) -> None: ...

    app = App(openapi=False, dependencies=[Depends(scoped)])

    @app.get("/")
    async def handler(n: Annotated[None, Depends(nested)]) -> None: ...

    app._freeze()
    plan = app._routes_by_name["handler"][0].plan
    assert plan is not None
    assert plan.dependencies == (scoped, nested, base)
