"""Routing: registration forms, path syntax and converters, priority, HEAD/OPTIONS/405,
trailing slashes, percent-encoding and path safety, url_for, mounts, method-agnostic
routes, routers and prefixes, freezing, route listing and auto-discovery (RTE-01..10,
RTE-13, RTE-15, RTE-17, GRP-08)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from routing_helpers import raw_request

from avian import App, ConfigurationError, Context, Response, Router, errors
from avian.routing.patterns import parse_pattern
from avian.routing.table import RouteTable
from avian.testing import LifespanError, TestClient


@pytest.fixture
def app() -> App:
    return App()


def serve(app: App) -> TestClient:
    """A started client that shows redirects instead of following them."""
    return TestClient(app, follow_redirects=False)


def start(app: App) -> None:
    """Run the app's startup (compiles routes; raises what the compilation raises)."""
    asyncio.run(app.startup())


async def echo_method(ctx: Context) -> str:
    return ctx.request.method


# --- registration forms (RTE-01, MW-03) -------------------------------------------------------

METHODS = ["get", "post", "put", "patch", "delete", "options"]


def _target(app: App, kind: str) -> Router:
    """Where routes are registered: the app itself, an included router, or a group."""
    if kind == "app":
        return app
    if kind == "router":
        router = Router()
        app.include(router)
        return router
    return app.group("")


@pytest.mark.parametrize("kind", ["app", "router", "group"])
@pytest.mark.parametrize("method", METHODS)
def test_each_method_decorator_registers_for_that_method_only(app, kind, method):
    target = _target(app, kind)
    getattr(target, method)("/thing")(echo_method)

    with serve(app) as client:
        ok = client.request(method.upper(), "/thing")
        other = client.request("PUT" if method != "put" else "POST", "/thing")
        assert ok.status_code == 200
        assert ok.text == method.upper()
        assert other.status_code == 405


@pytest.mark.parametrize("kind", ["app", "router", "group"])
def test_head_decorator_registers_a_head_route(app, kind):
    target = _target(app, kind)

    @target.head("/thing")
    async def thing(ctx: Context) -> Response:
        return Response(b"", 200, headers={"x-head": "yes"})

    with serve(app) as client:
        response = client.head("/thing")
        assert response.status_code == 200
        assert response.headers["x-head"] == "yes"
        assert client.get("/thing").status_code == 405


@pytest.mark.parametrize("kind", ["app", "router", "group"])
def test_route_with_a_method_list_and_all(app, kind):
    target = _target(app, kind)
    target.route("/some", methods=["get", "POST"])(echo_method)
    target.all("/every")(echo_method)

    with serve(app) as client:
        assert client.get("/some").text == "GET"
        assert client.post("/some").text == "POST"
        assert client.delete("/some").status_code == 405
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            assert client.request(method, "/every").text == method


def test_route_without_methods_is_method_agnostic(app):
    app.route("/x")(echo_method)
    with serve(app) as client:
        assert client.patch("/x").text == "PATCH"


def test_decorators_return_the_handler_unchanged(app):
    async def handler() -> str:
        return "hi"

    assert app.get("/a")(handler) is handler
    assert app.post("/b", handler) is handler


def test_direct_call_form_leading_callables_are_route_middleware(app):
    calls: list[str] = []

    def recorder(label: str) -> Callable[..., Any]:
        async def mw(ctx: Context, call_next: Any) -> Response:
            calls.append(f"{label}>")
            response = await call_next()
            calls.append(f"<{label}")
            return response

        return mw

    async def handler() -> str:
        calls.append("handler")
        return "done"

    app.get("/direct", recorder("mw1"), recorder("mw2"), handler)
    app.get("/plain", handler)

    with serve(app) as client:
        assert client.get("/direct").text == "done"
        assert calls == ["mw1>", "mw2>", "handler", "<mw2", "<mw1"]
        calls.clear()
        assert client.get("/plain").text == "done"
        assert calls == ["handler"]


def test_direct_call_middleware_come_before_middleware_option(app):
    calls: list[str] = []

    async def first(ctx: Context, call_next: Any) -> Response:
        calls.append("first")
        return await call_next()

    async def second(ctx: Context, call_next: Any) -> Response:
        calls.append("second")
        return await call_next()

    async def handler() -> str:
        return "ok"

    app.post("/x", first, handler, middleware=[second])
    with serve(app) as client:
        assert client.post("/x").text == "ok"
    assert calls == ["first", "second"]


def test_group_routes_take_bodies_through_the_fluent_builder(app):
    api = app.group("/api")

    @api.put("/notes/{id:int}")
    async def save(id: int, body: Any) -> dict[str, Any]:
        return {"id": id, "saved": body}

    with serve(app) as client:
        response = client.put("/api/notes/4").json({"text": "hi"}).execute()
        assert response.json() == {"id": 4, "saved": {"text": "hi"}}


def test_route_options_name_and_status(app):
    @app.post("/items", name="create-item", status=201)
    async def create() -> dict[str, bool]:
        return {"created": True}

    with serve(app) as client:
        response = client.post("/items")
        assert response.status_code == 201
        assert response.json() == {"created": True}
    assert app.url_for("create-item") == "/items"


def test_route_limits_override_the_app_limits(app):
    @app.post("/small", limits={"max_body_size": 8})
    async def small(body: Any) -> Any:
        return body

    @app.post("/big")
    async def big(body: Any) -> Any:
        return body

    with serve(app) as client:
        assert client.post("/small", json=[1, 2, 3, 4, 5]).status_code == 413
        assert client.post("/small", json=[1]).json() == [1]
        assert client.post("/big", json=[1, 2, 3, 4, 5]).json() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("register", "message"),
    [
        (lambda app: app.get("/x", cache_for=60)(echo_method), "unknown option"),
        (lambda app: app.get("/x", limits={"max_bodysize": 1})(echo_method), "unknown body limit"),
    ],
)
def test_unknown_route_options_fail_at_startup(app, register, message):
    register(app)
    with pytest.raises(ConfigurationError, match=message):
        start(app)


def test_return_value_becomes_the_response(app):
    @app.get("/obj")
    async def obj() -> dict[str, list[int]]:
        return {"values": [1, 2]}

    @app.get("/text")
    async def text() -> str:
        return "plain"

    @app.get("/nothing")
    async def nothing() -> None:
        return None

    with serve(app) as client:
        r = client.get("/obj")
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {"values": [1, 2]}
        r = client.get("/text")
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text == "plain"
        assert client.get("/nothing").status_code == 204


@pytest.mark.parametrize(
    ("register", "message"),
    [
        (lambda app: app.get("/x")("not callable"), "not callable"),
        (lambda app: app.get("/x", status=99)(echo_method), "invalid status"),
        (lambda app: app.route("/x", methods=["G E T"])(echo_method), "invalid method"),
        (lambda app: app.route("/x", methods=[])(echo_method), "empty method list"),
        (lambda app: app.get("x")(echo_method), "must start with '/'"),
    ],
)
def test_invalid_registrations_raise_configuration_error(app, register, message):
    with pytest.raises(ConfigurationError, match=message):
        register(app)


# --- path syntax and converters (RTE-02, RTE-03) ----------------------------------------------


def test_params_of_every_converter_and_the_colon_alias(app):
    @app.get("/s/{name}")
    async def s(name: Any) -> Any:
        return [name, type(name).__name__]

    @app.get("/i/{n:int}")
    async def i(n: Any) -> Any:
        return [n, type(n).__name__]

    @app.get("/f/{x:float}")
    async def f(x: Any) -> Any:
        return [x, type(x).__name__]

    @app.get("/u/{u:uuid}")
    async def u(u: Any) -> Any:
        return [str(u), type(u).__name__]

    @app.get("/p/{rest:path}")
    async def p(rest: Any) -> Any:
        return [rest, type(rest).__name__]

    @app.get("/c/:user/posts/:post")
    async def c(user: Any, post: Any) -> Any:
        return [user, post]

    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    with serve(app) as client:
        assert client.get("/s/ada").json() == ["ada", "str"]
        assert client.get("/i/42").json() == [42, "int"]
        assert client.get("/i/-7").json() == [-7, "int"]
        assert client.get("/f/1.5").json() == [1.5, "float"]
        assert client.get("/f/-2").json() == [-2.0, "float"]
        assert client.get("/f/1e3").json() == [1000.0, "float"]
        assert client.get(f"/u/{value}").json() == [str(value), "UUID"]
        assert client.get(f"/u/{value.hex}").json() == [str(value), "UUID"]
        assert client.get("/p/a/b/c.txt").json() == ["a/b/c.txt", "str"]
        assert client.get("/c/7/posts/9").json() == ["7", "9"]


@pytest.mark.parametrize(
    "path",
    [
        "/i/abc",
        "/i/1.5",
        "/i/+3",
        "/i/٣",  # an Arabic-Indic digit: isdigit() but not ASCII
        "/f/nan",
        "/f/inf",
        "/f/-Infinity",
        "/f/1e999",  # overflows to inf
        "/f/abc",
        "/u/not-a-uuid",
        "/u/{12345678-1234-5678-1234-567812345678}",
        "/s/",
    ],
)
def test_values_a_converter_rejects_are_404(app, path):
    app.get("/i/{n:int}")(echo_method)
    app.get("/f/{x:float}")(echo_method)
    app.get("/u/{u:uuid}")(echo_method)
    app.get("/s/{name}")(echo_method)
    with serve(app) as client:
        assert client.get(path).status_code == 404


def test_annotations_choose_the_converter_of_plain_params(app):
    @app.get("/users/{id}")
    async def user(id: int) -> dict[str, Any]:
        return {"id": id, "type": type(id).__name__}

    @app.get("/prices/{amount}")
    async def price(amount: float) -> float:
        return amount * 2

    @app.get("/tokens/{token}")
    async def token(token: uuid.UUID) -> str:
        return type(token).__name__

    with serve(app) as client:
        assert client.get("/users/12").json() == {"id": 12, "type": "int"}
        assert client.get("/users/abc").status_code == 404
        assert client.get("/prices/2.5").json() == 5.0
        assert client.get("/prices/nan").status_code == 404
        assert client.get(f"/tokens/{uuid.uuid4()}").text == "UUID"
        assert client.get("/tokens/xyz").status_code == 404


def test_the_path_converter_takes_the_rest_including_slashes(app):
    @app.get("/files/{rest:path}")
    async def files(rest: str) -> str:
        return rest

    with serve(app) as client:
        assert client.get("/files/a").text == "a"
        assert client.get("/files/dir/sub/file.tar.gz").text == "dir/sub/file.tar.gz"


def test_a_prefix_with_a_param_combines_with_route_params(app):
    tenant = app.group("/t/{tenant}")

    @tenant.get("/items/{id:int}")
    async def item(tenant: str, id: int) -> list[Any]:
        return [tenant, id]

    with serve(app) as client:
        assert client.get("/t/acme/items/3").json() == ["acme", 3]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/users/{id}/posts/{id}", "duplicate parameter name 'id'"),
        ("/users/:id/posts/{id:int}", "duplicate parameter name 'id'"),
        ("/files/{rest:path}/meta", "must be the last segment"),
        ("/x/{id:number}", "unknown converter 'number'"),
        ("/x/pre{id}", "must fill a whole segment"),
        ("/x/{id", "must fill a whole segment"),
        ("/x/../y", "dot segments"),
        ("/x/./y", "dot segments"),
        ("/x?y=1", "must not contain"),
        ("/x#frag", "must not contain"),
        ("/with space", "invalid character"),
        ("/x/{1abc}", "must fill a whole segment"),
        ("/a%20b", "percent-escapes are not allowed"),  # requests match decoded: unreachable
    ],
)
def test_invalid_paths_raise_at_registration(app, path, message):
    with pytest.raises(ConfigurationError, match=message):
        app.get(path)(echo_method)


def test_duplicate_names_across_a_group_prefix_and_route_raise_at_startup(app):
    group = app.group("/users/{id}")
    group.get("/posts/{id}")(echo_method)
    with pytest.raises(ConfigurationError, match="duplicate parameter name 'id'"):
        start(app)


# --- priority (RTE-07) -----------------------------------------------------------------------


@pytest.mark.parametrize("static_first", [True, False])
def test_static_segment_beats_a_parameter_whatever_the_order(app, static_first):
    async def me() -> str:
        return "me"

    async def user(id: str) -> str:
        return f"user {id}"

    if static_first:
        app.get("/users/me")(me)
        app.get("/users/{id}")(user)
    else:
        app.get("/users/{id}")(user)
        app.get("/users/me")(me)

    with serve(app) as client:
        assert client.get("/users/me").text == "me"
        assert client.get("/users/42").text == "user 42"


def test_static_segment_deep_in_the_path_beats_a_parameter(app):
    @app.get("/a/{x}/c")
    async def param(x: str) -> str:
        return f"param {x}"

    @app.get("/a/b/c")
    async def static() -> str:
        return "static"

    with serve(app) as client:
        assert client.get("/a/b/c").text == "static"
        assert client.get("/a/z/c").text == "param z"


def test_competing_params_are_tried_in_order_with_backtracking(app):
    @app.get("/a/{x:int}/b")
    async def first(x: int) -> list[Any]:
        return ["first", x]

    @app.get("/a/{y}/c")
    async def second(y: str) -> list[Any]:
        return ["second", y]

    with serve(app) as client:
        assert client.get("/a/1/b").json() == ["first", 1]
        # int matches "1" but the /b branch fails: the walk backs up and tries {y}.
        assert client.get("/a/1/c").json() == ["second", "1"]
        assert client.get("/a/z/c").json() == ["second", "z"]
        assert client.get("/a/z/b").status_code == 404


def test_competing_params_follow_registration_order_not_converter_type(app):
    @app.get("/p/{name}")
    async def by_name(name: str) -> str:
        return "str route"

    @app.get("/p/{n:int}")
    async def by_number(n: int) -> str:
        return "int route"

    with serve(app) as client:
        # Registered first, the str route wins even for digits.
        assert client.get("/p/5").text == "str route"


def test_a_parameter_route_beats_a_catch_all_at_the_same_depth(app):
    @app.get("/f/{rest:path}")
    async def rest(rest: str) -> str:
        return f"rest {rest}"

    @app.get("/f/{name}/meta")
    async def meta(name: str) -> str:
        return f"meta {name}"

    with serve(app) as client:
        assert client.get("/f/x/meta").text == "meta x"
        assert client.get("/f/x/other").text == "rest x/other"


def test_route_table_prefers_a_route_serving_the_method():
    """The table looks past a path match that does not serve the request method."""
    table: RouteTable[str] = RouteTable()
    table.add(parse_pattern("/items/{id:int}"), ["GET"], "get-by-id")
    table.add(parse_pattern("/items/{name}"), ["POST"], "post-by-name")
    table.add(parse_pattern("/users/me"), ["GET"], "me")
    table.add(parse_pattern("/users/{id}"), ["DELETE"], "delete-user")

    entry, values = table.match("/items/5", "POST")  # type: ignore[misc]
    assert (entry.lookup("POST"), values) == ("post-by-name", ["5"])
    entry, values = table.match("/items/5", "GET")  # type: ignore[misc]
    assert (entry.lookup("GET"), values) == ("get-by-id", [5])
    entry, values = table.match("/users/me", "DELETE")  # type: ignore[misc]
    assert (entry.lookup("DELETE"), values) == ("delete-user", ["me"])
    # No route serves PUT: the first path match comes back, for 405 and Allow.
    entry, values = table.match("/items/5", "PUT")  # type: ignore[misc]
    assert (entry.lookup("GET"), values) == ("get-by-id", [5])
    # Without a method the first path match wins, as before.
    entry, _ = table.match("/users/me")  # type: ignore[misc]
    assert entry.lookup("GET") == "me"


def test_a_route_serving_the_method_is_found_behind_another_path_match(app):
    @app.get("/items/{id:int}")
    async def by_id(id: int) -> str:
        return "by id"

    @app.post("/items/{name}")
    async def by_name(name: str) -> str:
        return f"posted {name}"

    with serve(app) as client:
        assert client.post("/items/5").text == "posted 5"


# --- HEAD, OPTIONS and 405 -------------------------------------------------------------------


def test_head_is_answered_by_the_get_route_without_a_body(app):
    @app.get("/doc")
    async def doc() -> dict[str, str]:
        return {"hello": "world"}

    get = raw_request(app, "GET", b"/doc")
    head = raw_request(app, "HEAD", b"/doc")
    assert get.body == b'{"hello":"world"}'
    assert head.status == 200
    assert head.body == b""
    assert head.headers == get.headers
    assert head.headers["content-length"] == str(len(get.body))


def test_an_explicit_head_route_wins_over_get(app):
    @app.get("/doc")
    async def doc() -> str:
        return "from get"

    @app.head("/doc")
    async def doc_head() -> Response:
        return Response(b"", 200, headers={"x-from": "head"})

    with serve(app) as client:
        assert "x-from" not in client.get("/doc").headers
        assert client.head("/doc").headers["x-from"] == "head"


def test_405_lists_the_allowed_methods_in_a_problem(app):
    app.get("/r")(echo_method)
    app.post("/r")(echo_method)
    app.delete("/r")(echo_method)

    with serve(app) as client:
        response = client.put("/r")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, POST, DELETE, OPTIONS"
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 405
        assert problem["code"] == "METHOD_NOT_ALLOWED"
        assert problem["instance"] == "/r"


def test_405_without_get_does_not_list_head(app):
    app.post("/only-post")(echo_method)
    with serve(app) as client:
        response = client.get("/only-post")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST, OPTIONS"


def test_automatic_options_answers_204_with_allow(app):
    app.get("/r")(echo_method)
    app.patch("/r")(echo_method)
    with serve(app) as client:
        response = client.options("/r")
        assert response.status_code == 204
        assert response.headers["allow"] == "GET, HEAD, PATCH, OPTIONS"
        assert response.content == b""
        # Unknown paths get no automatic OPTIONS answer.
        assert client.options("/nope").status_code == 404


def test_an_explicit_options_route_wins(app):
    app.get("/r")(echo_method)

    @app.options("/r")
    async def options() -> dict[str, str]:
        return {"custom": "options"}

    with serve(app) as client:
        response = client.options("/r")
        assert response.status_code == 200
        assert response.json() == {"custom": "options"}


# --- trailing slashes ------------------------------------------------------------------------


def _slash_app(**options: Any) -> App:
    app = App(**options)
    app.get("/with/")(echo_method)
    app.get("/without")(echo_method)
    app.post("/submit")(echo_method)
    return app


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_trailing_slash_redirects_308_both_ways_keeping_the_query(method):
    app = _slash_app()
    with serve(app) as client:
        r = client.request(method, "/with")
        assert (r.status_code, r.headers["location"]) == (308, "/with/")
        r = client.request(method, "/without/")
        assert (r.status_code, r.headers["location"]) == (308, "/without")
        r = client.request(method, "/with", params={"q": "1", "r": "a b"})
        assert (r.status_code, r.headers["location"]) == (308, "/with/?q=1&r=a+b")


def test_following_the_slash_redirect_reaches_the_route():
    app = _slash_app()
    with TestClient(app) as client:
        assert client.get("/with").text == "GET"


def test_no_slash_redirect_for_other_methods():
    app = _slash_app()
    with serve(app) as client:
        assert client.post("/submit/").status_code == 404


def test_no_slash_redirect_when_the_other_form_lacks_the_method():
    app = _slash_app()
    with serve(app) as client:
        # /submit exists, but only for POST: a GET to /submit/ is a plain 404.
        assert client.get("/submit/").status_code == 404


def test_redirect_slashes_false_gives_404():
    app = _slash_app(redirect_slashes=False)
    with serve(app) as client:
        assert client.get("/with").status_code == 404
        assert client.get("/without/").status_code == 404


def test_a_double_slash_path_never_redirects_off_site(app):
    # A route that "//evil.example/" would redirect to without the guard.
    app.get("//evil.example")(echo_method)
    response = raw_request(app, "GET", b"//evil.example/")
    assert response.status == 404
    assert "location" not in response.headers


def test_slash_redirect_keeps_percent_encoded_characters(app):
    @app.get("/q/{name}")
    async def q(name: str) -> str:
        return name

    with serve(app) as client:
        response = client.get("/q/a%3Fb/")
        assert response.status_code == 308
        assert response.headers["location"] == "/q/a%3Fb"


def test_routes_match_below_the_root_path(app):
    @app.get("/x")
    async def x(ctx: Context) -> str:
        return ctx.request.path

    # Like `uvicorn --root-path /api`: the app sees path="/api/x", root_path="/api".
    with TestClient(app, root_path="/api") as client:
        assert client.get("/x").status_code == 200


# --- percent-encoding and path safety (RTE-15) -----------------------------------------------


def test_an_encoded_slash_stays_inside_one_segment(app):
    @app.get("/files/{name}")
    async def one(name: str) -> list[str]:
        return ["one", name]

    @app.get("/files/{a}/{b}")
    async def two(a: str, b: str) -> list[str]:
        return ["two", a, b]

    with serve(app) as client:
        assert client.get("/files/a%2Fb").json() == ["one", "a/b"]
        assert client.get("/files/a/b").json() == ["two", "a", "b"]
        assert client.get("/files/caf%C3%A9%20au%20lait").json() == ["one", "café au lait"]


def test_an_encoded_slash_does_not_match_a_two_segment_route(app):
    app.get("/files/{a}/{b}")(echo_method)
    app.get("/static/a/b")(echo_method)
    with serve(app) as client:
        assert client.get("/files/a%2Fb").status_code == 404
        assert client.get("/static/a%2Fb").status_code == 404


@pytest.mark.parametrize(
    ("raw_path", "detail"),
    [
        (b"/files/%ff", "path is not valid UTF-8"),
        (b"/files/%C3", "path is not valid UTF-8"),
        (b"/files/a%00b", "path contains a NUL byte"),
        (b"/files/../secret", "path contains dot segments"),
        (b"/files/./x", "path contains dot segments"),
        (b"/files/%2e%2e/secret", "path contains dot segments"),
        (b"/files/%2E%2e", "path contains dot segments"),
        (b"/files/%2e", "path contains dot segments"),
    ],
)
def test_unsafe_paths_are_400_before_routing(app, raw_path, detail):
    app.get("/files/{rest:path}")(echo_method)
    app.get("/secret")(echo_method)
    response = raw_request(app, "GET", raw_path)
    assert response.status == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert detail.encode() in response.body


def test_unsafe_paths_are_400_through_the_client(app):
    app.get("/files/{name}")(echo_method)
    with serve(app) as client:
        assert client.get("/files/%ff").status_code == 400
        assert client.get("/files/%00").status_code == 400
        assert client.get("/files/%2e%2e").status_code == 400


def test_dots_inside_a_segment_are_fine(app):
    @app.get("/files/{name}")
    async def f(name: str) -> str:
        return name

    with serve(app) as client:
        assert client.get("/files/..hidden").text == "..hidden"
        assert client.get("/files/a..b").text == "a..b"


# --- url_for -----------------------------------------------------------------------------------


def test_url_for_fills_params(app):
    @app.get("/users/{id:int}/posts/{slug}")
    async def post(id: int, slug: str) -> list[Any]:
        return [id, slug]

    @app.get("/files/{rest:path}", name="file")
    async def file(rest: str) -> str:
        return rest

    assert app.url_for("post", id=7, slug="hello") == "/users/7/posts/hello"
    assert app.url_for("post", id=7, slug="a b/c") == "/users/7/posts/a%20b%2Fc"
    assert app.url_for("file", rest="dir/sub/x.txt") == "/files/dir/sub/x.txt"
    with serve(app) as client:
        url = app.url_for("post", id=7, slug="a b/c")
        assert client.get(url).json() == [7, "a b/c"]


def test_url_for_uses_the_annotation_converter(app):
    @app.get("/users/{id}")
    async def user(id: int) -> int:
        return id

    assert app.url_for("user", id=3) == "/users/3"
    with pytest.raises(ConfigurationError, match="not a valid int"):
        app.url_for("user", id="abc")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "missing \\['id'\\]"),
        ({"id": 1, "extra": 2}, "unexpected \\['extra'\\]"),
    ],
)
def test_url_for_rejects_missing_or_extra_params(app, params, message):
    app.get("/users/{id:int}", name="user")(echo_method)
    with pytest.raises(ConfigurationError, match=message):
        app.url_for("user", **params)


def test_url_for_unknown_and_ambiguous_names(app):
    app.get("/a", name="page")(echo_method)
    app.get("/b", name="page")(echo_method)
    app.get("/c", name="same-path")(echo_method)
    app.post("/c", name="same-path")(echo_method)
    with pytest.raises(ConfigurationError, match="no route named 'nope'"):
        app.url_for("nope")
    with pytest.raises(ConfigurationError, match="ambiguous"):
        app.url_for("page")
    # One path under several methods is not ambiguous.
    assert app.url_for("same-path") == "/c"


@pytest.mark.parametrize("value", ["..", ".", "a/../b"])
def test_url_for_refuses_dot_segments(app, value):
    app.get("/files/{rest:path}", name="file")(echo_method)
    app.get("/users/{name}", name="user")(echo_method)
    with pytest.raises(ConfigurationError, match="dot segment"):
        app.url_for("file", rest=value)
    if "/" not in value:
        with pytest.raises(ConfigurationError, match="dot segment"):
            app.url_for("user", name=value)


def test_url_for_includes_group_prefixes(app):
    api = app.group("/api")
    v1 = api.group("/v1")
    v1.get("/users/{id:int}", name="v1-user")(echo_method)
    assert app.url_for("v1-user", id=5) == "/api/v1/users/5"


# --- mounts --------------------------------------------------------------------------------------


async def show_scope(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = f"{scope['path']}|{scope['root_path']}|{scope['raw_path'].decode()}".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_a_mounted_asgi_app_sees_the_full_path_and_an_extended_root_path(app):
    # ASGI (and uvicorn >= 0.26): path and raw_path stay full; root_path gains the prefix.
    app.mount("/legacy", show_scope)

    @app.get("/legacy/info")
    async def info() -> str:
        return "avian route"

    with serve(app) as client:
        assert client.get("/legacy/a/b").text == "/legacy/a/b|/legacy|/legacy/a/b"
        assert client.get("/legacy").text == "/legacy|/legacy|/legacy"
        assert client.get("/legacy/").text == "/legacy/|/legacy|/legacy/"
        assert client.post("/legacy/x%20y").text == "/legacy/x y|/legacy|/legacy/x%20y"
        # A normal route under the mount prefix is not shadowed by the mount.
        assert client.get("/legacy/info").text == "avian route"
        # Only whole segments: /legacyx is not under /legacy.
        assert client.get("/legacyx").status_code == 404


def test_mount_in_a_group_and_mount_errors(app):
    api = app.group("/api")
    api.mount("/old/", show_scope)
    with pytest.raises(ConfigurationError, match="must not be '/'"):
        app.mount("/", show_scope)
    with pytest.raises(ConfigurationError, match="not an ASGI app"):
        app.mount("/x", "nope")  # type: ignore[arg-type]
    with serve(app) as client:
        assert client.get("/api/old/z").text == "/api/old/z|/api/old|/api/old/z"


def test_a_mount_reached_through_an_encoded_prefix_gets_a_valid_raw_path(app):
    app.mount("/static", show_scope)
    with serve(app) as client:
        assert client.get("/st%61tic/x%20y").text == "/static/x y|/static|/st%61tic/x%20y"
        # An encoded slash is data, not a separator: /legacy%2Fadmin is not under /legacy.
        assert client.get("/static%2Fx").status_code == 404


# --- method-agnostic routes (RTE-05, RTE-06) ---------------------------------------------------


def test_only_restricts_a_method_agnostic_route(app):
    @app.all("/things")
    async def things(ctx: Context) -> dict[str, Any]:
        ctx.only("GET", "POST")
        return {"method": ctx.request.method, "is_post": ctx.is_method("post")}

    with serve(app) as client:
        assert client.get("/things").json() == {"method": "GET", "is_post": False}
        assert client.post("/things").json() == {"method": "POST", "is_post": True}
        assert client.head("/things").status_code == 200
        response = client.put("/things")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, POST"
        assert response.headers["content-type"] == "application/problem+json"


def test_not_allowed_and_method_flags(app):
    @app.all("/flags")
    async def flags(ctx: Context) -> str:
        if ctx.is_method("GET", "HEAD"):
            return "read"
        if ctx.is_method("DELETE"):
            ctx.not_allowed("GET")
        return "write"

    with serve(app) as client:
        assert client.get("/flags").text == "read"
        assert client.patch("/flags").text == "write"
        response = client.delete("/flags")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET"


def test_a_method_agnostic_route_and_a_method_route_collide(app):
    app.all("/x")(echo_method)
    app.get("/x")(echo_method)
    with pytest.raises(ConfigurationError, match="route collision"):
        start(app)


def test_allowed_methods_filters_every_request():
    app = App(allowed_methods=["get", "POST"])
    app.route("/r", methods=["GET", "PUT"])(echo_method)
    with serve(app) as client:
        assert client.get("/r").text == "GET"
        response = client.put("/r")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, POST"
        # GET implies HEAD, as it does for routes.
        assert client.head("/r").status_code == 200
        # The filter runs before routing, so unknown paths get 405 too.
        assert client.delete("/nowhere").status_code == 405


# --- collisions (RTE-08) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "/x"), ("GET", "/x")),
        (("GET", "/u/{id}"), ("GET", "/u/{name}")),
        (("GET", "/u/{id}"), ("GET", "/u/:name")),
        (("GET", "/u/{id:int}"), ("GET", "/u/{n:int}")),
        (("POST", "/f/{a:path}"), ("POST", "/f/{b:path}")),
        (("GET", "/x"), ("GET", "/x/")),  # a group "/" route is its prefix: same path
    ],
)
def test_same_shape_and_method_collide_at_startup(app, first, second):
    app.route(first[1], methods=[first[0]])(echo_method)
    group = app.group("/x") if second[1] == "/x/" else app
    group.route("/" if second[1] == "/x/" else second[1], methods=[second[0]])(echo_method)
    with pytest.raises(ConfigurationError, match="route collision"):
        start(app)


def test_different_converters_are_different_shapes(app):
    @app.get("/u/{id:int}")
    async def by_id(id: int) -> str:
        return "int"

    @app.get("/u/{name}")
    async def by_name(name: str) -> str:
        return "str"

    with serve(app) as client:
        assert client.get("/u/1").text == "int"
        assert client.get("/u/ada").text == "str"


def test_same_shape_different_methods_share_the_path(app):
    @app.get("/u/{id}")
    async def read(id: str) -> str:
        return f"read {id}"

    @app.delete("/u/{key}")
    async def remove(key: str) -> str:
        return f"remove {key}"

    with serve(app) as client:
        assert client.get("/u/1").text == "read 1"
        assert client.delete("/u/2").text == "remove 2"


def test_collisions_across_routers_are_detected(app):
    books = Router("/books")
    books.get("/")(echo_method)
    app.get("/books")(echo_method)
    app.include(books)
    with pytest.raises(ConfigurationError, match="route collision: GET /books"):
        start(app)


def test_a_collision_fails_the_lifespan_startup(app):
    app.get("/x")(echo_method)
    app.get("/x")(echo_method)
    with pytest.raises((LifespanError, ConfigurationError)), TestClient(app):
        pass


# --- routers and prefixes (RTE-17, GRP-08) -------------------------------------------------------


@pytest.mark.parametrize("prefix", ["books", "/books", "/books/", " /books/ "])
def test_router_prefix_forms_are_equivalent(app, prefix):
    books = Router(prefix)

    @books.get("/")
    async def index() -> str:
        return "index"

    @books.get("/{id:int}")
    async def book(id: int) -> int:
        return id

    app.include(books)
    with serve(app) as client:
        assert client.get("/books").text == "index"
        assert client.get("/books/3").json() == 3


def test_include_with_an_extra_prefix_and_nesting(app):
    books = Router("books")
    books.get("/{id:int}")(echo_method)
    reviews = Router("/reviews")
    reviews.get("/latest")(echo_method)
    books.include(reviews)
    app.include(books, prefix="/v2")

    with serve(app) as client:
        assert client.get("/v2/books/1").text == "GET"
        assert client.get("/v2/books/reviews/latest").text == "GET"
        assert client.get("/books/1").status_code == 404


def test_routers_given_to_the_app_constructor_and_routes_from():
    first = Router("/first")
    first.get("/")(echo_method)
    second = Router("/second")
    second.get("/")(echo_method)
    app = App(routers=[first])
    app.routes_from(second)
    with serve(app) as client:
        assert client.get("/first").status_code == 200
        assert client.get("/second").status_code == 200


def test_a_router_cannot_be_included_twice_or_in_a_cycle(app):
    child = Router("/child")
    app.include(child)
    with pytest.raises(ConfigurationError, match="already included"):
        app.include(child)
    with pytest.raises(ConfigurationError, match="already included"):
        Router("/other").include(child)
    with pytest.raises(ConfigurationError, match="cannot include itself"):
        app.include(app)

    outer = Router("/outer")
    inner = Router("/inner")
    outer.include(inner)
    with pytest.raises(ConfigurationError, match="cycle"):
        inner.include(outer)


def test_group_prefixes_nest(app):
    api = app.group("api")
    v1 = api.group("/v1/")
    admin = v1.group("/admin")
    admin.get("/users")(echo_method)
    admin.get("/")(echo_method)
    with serve(app) as client:
        assert client.get("/api/v1/admin/users").text == "GET"
        assert client.get("/api/v1/admin").text == "GET"


# --- freezing --------------------------------------------------------------------------------


def test_registration_after_startup_raises(app):
    books = Router("/books")
    group = app.group("/g")
    app.include(books)
    app.get("/")(echo_method)
    late = Router("/late")

    async def hook(ctx: Context) -> None:
        return None

    async def mw(ctx: Context, call_next: Any) -> Response:
        return await call_next()

    with serve(app) as client:
        assert client.get("/").status_code == 200
        attempts: list[Callable[[], Any]] = [
            lambda: app.get("/new")(echo_method),
            lambda: app.post("/new", echo_method),
            lambda: books.get("/new")(echo_method),
            lambda: group.put("/new")(echo_method),
            lambda: app.group("/new"),
            lambda: group.group("/new"),
            lambda: app.include(late),
            lambda: app.mount("/m", show_scope),
            lambda: app.use(mw),
            lambda: group.use(mw),
            lambda: app.before_all(hook),
            lambda: app.after_all(hook),
            lambda: group.before(hook),
            lambda: books.after(hook),
            lambda: app.add_asgi_middleware(lambda inner: inner),
        ]
        for attempt in attempts:
            with pytest.raises(ConfigurationError, match="the app has started"):
                attempt()
        assert client.get("/new").status_code == 404


# --- route listing (RTE-09) ------------------------------------------------------------------


def test_describe_routes_and_list_endpoints(app):
    @app.get("/")
    async def home() -> str:
        return "home"

    users = Router("/users")

    @users.get("/")
    async def list_users() -> list[Any]:
        return []

    @users.route("/:id", methods=["GET", "PUT"], name="user")
    async def user(id: str) -> str:
        return id

    app.include(users)
    app.all("/any")(echo_method)
    app.mount("/legacy", show_scope)

    infos = app.describe_routes()
    # Tree order: the app's own routes, then each attached router's, then mounts.
    assert [(i.methods, i.path, i.name, i.kind) for i in infos] == [
        (("GET",), "/", "home", "http"),
        ((), "/any", "echo_method", "http"),
        (("GET",), "/users", "list_users", "http"),
        (("GET", "PUT"), "/users/{id}", "user", "http"),
        ((), "/legacy", None, "mount"),
    ]
    assert infos[0].handler.endswith("test_describe_routes_and_list_endpoints.<locals>.home")

    assert app.list_endpoints() == ["/", "/any", "/users", "/users/{id}", "/legacy"]
    assert app.list_endpoints(grouped=True) == {
        "/": ["/"],
        "any": ["/any"],
        "users": ["/users", "/users/{id}"],
        "legacy": ["/legacy"],
    }


# --- auto-discovery (RTE-10) -----------------------------------------------------------------

DISCOVER_PKG = "routing_discover_pkg"


@pytest.fixture
def fresh_discover_pkg() -> Iterator[str]:
    """The sample package, imported afresh so its module-level routers are not included yet."""

    def purge() -> None:
        for name in list(sys.modules):
            if name == DISCOVER_PKG or name.startswith(DISCOVER_PKG + "."):
                del sys.modules[name]

    purge()
    yield DISCOVER_PKG
    purge()


def test_autodiscover_includes_every_module_level_router(app, fresh_discover_pkg):
    found = app.autodiscover(fresh_discover_pkg)
    assert sorted(r.prefix for r in found) == ["/admin", "/books", "/helpers-router", "/users"]
    with serve(app) as client:
        assert client.get("/books").json() == ["dune"]
        assert client.get("/users/7").json() == {"user": 7}
        assert client.get("/admin/stats").json() == {"ok": True}
        # A router already included in another one is reached through it, not twice.
        assert client.get("/books/reviews").json() == ["great"]


def test_autodiscover_with_a_suffix_imports_only_matching_modules(app, fresh_discover_pkg):
    found = app.autodiscover(fresh_discover_pkg, suffix="_routes")
    assert sorted(r.prefix for r in found) == ["/admin", "/books", "/users"]
    with serve(app) as client:
        assert client.get("/helpers-router/x").status_code == 404


# --- scale ---------------------------------------------------------------------------------------


def test_two_thousand_routes_all_resolve_correctly(app):
    def make(tag: str) -> Callable[..., Any]:
        async def handler(ctx: Context) -> list[Any]:
            return [tag, ctx.params]

        return handler

    for i in range(1000):
        app.get(f"/static/{i}/page")(make(f"s{i}"))
        app.get(f"/dyn{i}/{{id:int}}/item/{{slug}}")(make(f"d{i}"))

    with serve(app) as client:
        for i in (0, 1, 2, 499, 500, 998, 999):
            assert client.get(f"/static/{i}/page").json() == [f"s{i}", {}]
            assert client.get(f"/dyn{i}/{i * 3}/item/x{i}").json() == [
                f"d{i}",
                {"id": i * 3, "slug": f"x{i}"},
            ]
        assert client.get("/static/1000/page").status_code == 404
        assert client.get("/dyn1000/1/item/x").status_code == 404
        assert client.get("/dyn5/abc/item/x").status_code == 404


# --- errors from routes --------------------------------------------------------------------------


def test_errors_raised_by_handlers_become_problems(app):
    @app.get("/missing/{id:int}")
    async def missing(id: int) -> None:
        raise errors.not_found(f"thing {id} not found")

    with serve(app) as client:
        response = client.get("/missing/4")
        assert response.status_code == 404
        assert response.json()["detail"] == "thing 4 not found"
