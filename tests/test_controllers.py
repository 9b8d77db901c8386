"""Class-based controllers: routes from methods, shared hooks/middleware/options, one
instance per app, inheritance, and the mistakes refused at startup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from avian import App, ConfigurationError, Context, HTTPError, Response, Router, errors
from avian.controllers import (
    Controller,
    after_request,
    around_request,
    before_request,
    delete,
    get,
    post,
    put,
    route,
    websocket,
)
from avian.handler_kinds import html, raw, stream
from avian.params import Depends
from avian.testing import TestClient


class Book(msgspec.Struct):
    id: int
    title: str


class NewBook(msgspec.Struct):
    title: str


class BookStore:
    def __init__(self) -> None:
        self.books: dict[int, Book] = {1: Book(1, "Dune")}

    def add(self, title: str) -> Book:
        book = Book(max(self.books, default=0) + 1, title)
        self.books[book.id] = book
        return book


class Books(Controller):
    path = "/books"
    tags = ("books",)

    def __init__(self, store: BookStore) -> None:
        self.store = store

    @get("")
    async def index(self) -> list[Book]:
        return list(self.store.books.values())

    @get("/{id}", summary="One book")
    async def show(self, id: int) -> Book:
        book = self.store.books.get(id)
        if book is None:
            raise errors.not_found(f"no book {id}")
        return book

    @post("", status=201)
    async def create(self, body: NewBook) -> Book:
        return self.store.add(body.title)

    @delete("/{id}")
    def remove(self, id: int) -> None:  # a sync method: runs in the thread pool
        self.store.books.pop(id, None)


def serve(*controllers: Any, app: App | None = None) -> TestClient:
    app = app or App()
    for controller in controllers:
        app.include(controller)
    return TestClient(app)


# --- routes from methods ---------------------------------------------------------------------


def test_methods_become_routes_under_the_class_path() -> None:
    with serve(Books(BookStore())) as client:
        assert client.get("/books").json() == [{"id": 1, "title": "Dune"}]
        assert client.get("/books/1").json() == {"id": 1, "title": "Dune"}
        created = client.post("/books", json={"title": "Emma"})
        assert created.status_code == 201
        assert created.json() == {"id": 2, "title": "Emma"}
        assert client.delete("/books/1").status_code == 204
        assert [b["id"] for b in client.get("/books").json()] == [2]


def test_bad_input_gets_the_usual_client_errors() -> None:
    with serve(Books(BookStore())) as client:
        missing = client.get("/books/99")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["detail"] == "no book 99"
        assert client.get("/books/abc").status_code == 404  # {id} is an int: no match
        invalid = client.post("/books", json={"title": 5})
        assert invalid.status_code == 422
        assert invalid.json()["details"]["issues"][0]["loc"] == ["body", "title"]
        assert client.put("/books/1", json={}).status_code == 405
        assert (
            client.post(
                "/books", content=b"{", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )


def test_one_instance_serves_every_request_and_keeps_its_state() -> None:
    created: list[Counter] = []

    class Counter(Controller):
        path = "/count"

        def __init__(self) -> None:
            self.hits = 0
            created.append(self)

        @post("")
        async def hit(self) -> dict[str, int]:
            self.hits += 1
            return {"hits": self.hits}

    with serve(Counter) as client:  # the class: avian creates the one instance
        assert client.post("/count").json() == {"hits": 1}
        assert client.post("/count").json() == {"hits": 2}
    assert len(created) == 1


def test_a_class_whose_constructor_needs_arguments_must_be_included_as_an_instance() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match=r"include an instance.*Books\(\.\.\.\)"):
        app.include(Books)


def test_route_options_pass_through_and_names_default_to_controller_and_method() -> None:
    app = App()
    app.include(Books(BookStore()))
    with TestClient(app) as client:
        assert client.get("/books").status_code == 200
    assert app.url_for("books.show", id=7) == "/books/7"
    assert app.url_for("books.index") == "/books"
    defs = {d.name: d for _, d, _ in app.walk()}
    assert defs["books.show"].options["summary"] == "One book"
    assert defs["books.create"].status == 201
    assert defs["books.show"].handler.__self__.store is defs["books.index"].handler.__self__.store


def test_explicit_names_and_the_controller_name_attribute() -> None:
    class ReviewsController(Controller):
        path = "/reviews"

        @get("/{id}")
        async def show(self, id: int) -> dict[str, int]:
            return {"id": id}

        @get("/latest", name="latest-review")
        async def latest(self) -> dict[str, int]:
            return {"id": 0}

    class Renamed(Controller):
        name = "things"

        @get("/things")
        async def index(self) -> list[int]:
            return []

    app = App()
    app.include(ReviewsController).include(Renamed)
    with TestClient(app) as client:
        assert client.get("/reviews/latest").json() == {"id": 0}
    assert app.url_for("reviews.show", id=3) == "/reviews/3"
    assert app.url_for("latest-review") == "/reviews/latest"
    assert app.url_for("things.index") == "/things"


def test_route_with_several_methods_and_stacked_marks() -> None:
    class Echo(Controller):
        path = "/echo"

        @route("", methods=["get", "post"])
        async def echo(self, ctx: Context) -> str:
            return ctx.request.method

        @get("/a", name="first")
        @get("/b", name="second")
        async def both(self, ctx: Context) -> str:
            return ctx.request.path

    with serve(Echo) as client:
        assert client.get("/echo").text == "GET"
        assert client.post("/echo").text == "POST"
        assert client.get("/echo/a").text == "/echo/a"
        assert client.get("/echo/b").text == "/echo/b"


def test_controllers_nest_inside_groups_and_routers() -> None:
    app = App()
    api = app.group("/api")
    api.include(Books(BookStore()))
    v2 = Router("/v2")
    v2.include(Books(BookStore()), prefix="/shop")
    app.include(v2)
    with TestClient(app) as client:
        assert client.get("/api/books/1").json()["title"] == "Dune"
        assert client.get("/v2/shop/books/1").json()["title"] == "Dune"


# --- shared hooks, middleware, options -------------------------------------------------------


def test_hooks_and_middleware_wrap_every_route_in_the_documented_order() -> None:
    events: list[str] = []

    async def class_before(ctx: Context) -> None:
        events.append("class.before")

    async def class_after(ctx: Context) -> None:
        events.append("class.after")

    async def class_mw(ctx: Context, call_next: Any) -> Response:
        events.append("class.mw>")
        response = await call_next()
        events.append("<class.mw")
        return response

    async def route_before(ctx: Context) -> None:
        events.append("route.before")

    class Audited(Controller):
        path = "/audited"
        before = (class_before,)
        after = (class_after,)
        middleware = (class_mw,)

        def __init__(self) -> None:
            self.label = "self"

        @before_request
        async def method_before(self, ctx: Context) -> None:
            events.append(f"method.before({self.label})")

        @after_request
        def method_after(self, ctx: Context) -> None:  # sync hooks work too
            events.append("method.after")

        @around_request
        async def method_mw(self, ctx: Context, call_next: Any) -> Response:
            events.append("method.mw>")
            response = await call_next()
            response.headers.set("x-audited", self.label)
            events.append("<method.mw")
            return response

        @get("", before=[route_before])
        async def index(self) -> str:
            events.append("handler")
            return "ok"

        @get("/other")
        async def other(self) -> str:
            return "other"

    with serve(Audited) as client:
        response = client.get("/audited")
        assert response.text == "ok"
        assert response.headers["x-audited"] == "self"
        assert events == [
            "class.mw>",
            "method.mw>",
            "class.before",
            "method.before(self)",
            "route.before",
            "handler",
            "class.after",
            "method.after",
            "<method.mw",
            "<class.mw",
        ]
        events.clear()
        assert client.get("/other").status_code == 404  # hooks don't leak outside the class
        assert client.get("/audited/other").text == "other"
        assert "class.before" in events


def test_a_before_hook_method_can_answer_for_every_route() -> None:
    class Guarded(Controller):
        path = "/admin"

        @before_request
        async def require_key(self, ctx: Context) -> None:
            if ctx.request.headers.get("x-key") != "secret":
                raise errors.unauthorized("key required")

        @get("/stats")
        async def stats(self) -> dict[str, int]:
            return {"users": 3}

    with serve(Guarded) as client:
        denied = client.get("/admin/stats")
        assert denied.status_code == 401
        assert denied.json()["detail"] == "key required"
        assert client.get("/admin/stats", headers={"x-key": "secret"}).json() == {"users": 3}


def require_key(ctx: Context) -> None:
    """A controller-wide dependency: run for its effect on every route."""
    if ctx.request.headers.get("x-key") != "secret":
        raise errors.unauthorized("key required")


def current_user(ctx: Context) -> str:
    return ctx.request.headers.get("x-user", "anonymous")


class Secured(Controller):
    path = "/secured"
    tags = ("admin",)
    dependencies = (require_key,)
    security = ({"bearer": []},)
    include_in_schema = False

    @get("")
    async def index(self, user: str = Depends(current_user)) -> dict[str, str]:
        return {"user": user}


def test_tags_dependencies_and_security_become_the_routers_options() -> None:
    app = App()
    app.include(Secured)
    definitions = {d.name: d for _, d, _ in app.walk()}
    router = definitions["secured.index"].router
    assert router is not None
    assert router.tags == ["admin"]
    assert router.dependencies == [require_key]
    assert router.security == [{"bearer": []}]
    assert router.include_in_schema is False
    assert router.name == "secured"
    assert router._parent is app


def test_controller_dependencies_run_for_every_route_and_methods_inject_them() -> None:
    with serve(Secured) as client:
        denied = client.get("/secured")
        assert denied.status_code == 401
        assert denied.json()["detail"] == "key required"
        allowed = client.get("/secured", headers={"x-key": "secret", "x-user": "ada"})
        assert allowed.json() == {"user": "ada"}


# --- inheritance -----------------------------------------------------------------------------


class BaseResource(Controller):
    @get("/ping")
    async def ping(self) -> str:
        return f"pong from {type(self).__name__}"

    @get("/version")
    async def version(self) -> str:
        return "1"

    @get("/hidden")
    async def hidden(self) -> str:
        return "visible"


class Child(BaseResource):
    path = "/child"

    @get("/version")
    async def version(self) -> str:  # overridden with a route: the child's wins
        return "2"

    async def hidden(self) -> str:  # overridden without a route: no route any more
        return "gone"


def test_subclasses_inherit_override_and_remove_routes() -> None:
    with serve(Child) as client:
        assert client.get("/child/ping").text == "pong from Child"
        assert client.get("/child/version").text == "2"
        assert client.get("/child/hidden").status_code == 404


# --- handler kinds, websockets ---------------------------------------------------------------


def test_handler_kinds_work_on_methods() -> None:
    class Kinds(Controller):
        path = "/kinds"

        def __init__(self) -> None:
            self.prefix = "chunk"

        @get("/stream")
        @stream(media_type="text/csv")
        async def rows(self) -> AsyncIterator[str]:
            for i in range(3):
                yield f"{self.prefix},{i}\n"

        @get("/raw")
        @raw
        async def raw_view(self, request: Any) -> Response:
            return Response(f"{self.prefix}:{request.method}".encode(), media_type="text/plain")

        @get("/fragment")
        @html
        async def fragment(self) -> str:
            return f"<b>{self.prefix}</b>"

    with serve(Kinds) as client:
        rows = client.get("/kinds/stream")
        assert rows.headers["content-type"] == "text/csv; charset=utf-8"
        assert rows.text == "chunk,0\nchunk,1\nchunk,2\n"
        assert client.get("/kinds/raw").text == "chunk:GET"
        fragment = client.get("/kinds/fragment")
        assert fragment.headers["content-type"] == "text/html; charset=utf-8"
        assert fragment.text == "<b>chunk</b>"


def test_websocket_methods() -> None:
    class Chat(Controller):
        path = "/chat"

        def __init__(self) -> None:
            self.greeting = "hello"

        @websocket("")
        async def room(self, ws: Any) -> None:
            await ws.accept()
            message = await ws.receive_text()
            await ws.send_text(f"{self.greeting} {message}")
            await ws.close()

    with serve(Chat) as client, client.websocket_connect("/chat") as ws:
        ws.send_text("ada")
        assert ws.receive_text() == "hello ada"


# --- mistakes refused --------------------------------------------------------------------------


def _startup(app: App) -> None:
    with TestClient(app) as client:
        client.get("/")


def test_two_methods_on_the_same_route_are_refused_at_startup() -> None:
    class Clash(Controller):
        path = "/clash"

        @get("/{id}")
        async def one(self, id: int) -> int:
            return id

        @get("/{id}")
        async def two(self, id: int) -> int:
            return id

    app = App()
    app.include(Clash)
    with pytest.raises(Exception, match="route collision: GET /clash"):
        _startup(app)


def test_two_controllers_on_the_same_routes_are_refused_at_startup() -> None:
    app = App()
    app.include(Books(BookStore())).include(Books(BookStore()))
    with pytest.raises(Exception, match="route collision"):
        _startup(app)


def test_one_name_for_two_paths_is_refused_when_included() -> None:
    class Twice(Controller):
        @get("/a")
        @get("/b")
        async def both(self) -> str:
            return ""

    with pytest.raises(ConfigurationError, match=r"route name 'twice\.both' is used for both"):
        App().include(Twice)


def test_unknown_route_options_are_refused_at_startup() -> None:
    class Typo(Controller):
        @get("/typo", sumary="oops")
        async def typo(self) -> str:
            return ""

    app = App()
    app.include(Typo)
    with pytest.raises(Exception, match="unknown option"):
        _startup(app)


def test_methods_option_and_non_string_paths_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="route\\(path, methods"):
        get("/x", methods=["POST"])
    with pytest.raises(ConfigurationError, match="must be a string"):
        get(5)  # type: ignore[arg-type]


def test_include_refuses_what_is_neither_a_router_nor_a_controller() -> None:
    with pytest.raises(ConfigurationError, match="not a Router or a controller"):
        App().include(object())  # type: ignore[arg-type]


def test_a_controller_instance_can_be_included_in_two_apps() -> None:
    books = Books(BookStore())
    first, second = App(), App()
    first.include(books)
    second.include(books)
    with TestClient(first) as a, TestClient(second) as b:
        a.post("/books", json={"title": "Shared"})
        assert [x["title"] for x in b.get("/books").json()] == ["Dune", "Shared"]


def test_errors_raised_in_methods_become_problem_json() -> None:
    class Failing(Controller):
        @put("/fail")
        async def fail(self) -> None:
            raise HTTPError(409, "already there", code="CONFLICT_X")

    with serve(Failing) as client:
        response = client.put("/fail")
        assert response.status_code == 409
        assert response.json()["code"] == "CONFLICT_X"
