"""The request as a handler sees it: method, URL parts, query, headers, client, the merged
payload, the body readers, and ``_method`` override (CTX-04, CTX-05, BDY-01, BDY-06, MO-01)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from avian import App, BodyLimits, Context
from avian.testing import TestClient


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    # Not entered with ``with``: the app freezes on its first request, so tests can still
    # register routes on ``app`` after asking for the client.
    c = TestClient(app)
    yield c
    c.close()


def describe(ctx: Context) -> dict[str, Any]:
    r = ctx.request
    return {
        "method": r.method,
        "path": r.path,
        "raw_path": r.raw_path.decode(),
        "path_with_query": r.path_with_query,
        "url": r.url,
        "full_url": r.full_url,
        "host": r.host,
        "hostname": r.hostname,
        "scheme": r.scheme,
        "is_secure": r.is_secure,
        "client": list(r.client) if r.client else None,
    }


# -- method and URL -------------------------------------------------------------------------


def test_method_path_and_url_parts(app: App, client: TestClient) -> None:
    app.route("/items/{name}", methods=["GET", "POST", "DELETE"])(describe)

    got = client.post("/items/a%20b?x=1&y=2").json()

    assert got == {
        "method": "POST",
        "path": "/items/a b",
        "raw_path": "/items/a%20b",
        "path_with_query": "/items/a b?x=1&y=2",
        "url": "http://testserver/items/a b?x=1&y=2",
        "full_url": "http://testserver/items/a b?x=1&y=2",
        "host": "testserver",
        "hostname": "testserver",
        "scheme": "http",
        "is_secure": False,
        "client": ["testclient", 50000],
    }
    assert client.delete("/items/x").json()["method"] == "DELETE"


def test_path_with_query_has_no_question_mark_without_a_query(app: App, client: TestClient) -> None:
    app.get("/plain")(describe)

    got = client.get("/plain").json()

    assert got["path_with_query"] == "/plain"
    assert got["url"] == "http://testserver/plain"


def test_https_host_with_port(app: App, client: TestClient) -> None:
    app.get("/where")(describe)

    got = client.get("https://api.example.com:8443/where?q=1").json()

    assert got["scheme"] == "https"
    assert got["is_secure"] is True
    assert got["host"] == "api.example.com:8443"
    assert got["hostname"] == "api.example.com"
    assert got["url"] == "https://api.example.com:8443/where?q=1"


def test_hostname_of_an_ipv6_host_keeps_the_brackets(app: App, client: TestClient) -> None:
    app.get("/where")(describe)

    got = client.get("/where", headers={"host": "[::1]:8080"}).json()

    assert got["host"] == "[::1]:8080"
    assert got["hostname"] == "[::1]"


def test_client_is_the_socket_peer() -> None:
    app = App()
    app.get("/who")(describe)

    with TestClient(app, client=("203.0.113.9", 4321)) as client:
        assert client.get("/who").json()["client"] == ["203.0.113.9", 4321]


def test_routes_match_below_the_root_path() -> None:
    app = App()
    app.get("/where")(describe)

    with TestClient(app, root_path="/api") as client:
        response = client.get("/where")

    assert response.status_code == 200


# -- query ----------------------------------------------------------------------------------


def test_query_first_value_wins_and_get_all_returns_every_value(
    app: App, client: TestClient
) -> None:
    @app.get("/q")
    async def q(ctx: Context) -> dict[str, Any]:
        query = ctx.request.query
        return {
            "first": query["tag"],
            "get": query.get("tag"),
            "all": query.get_all("tag"),
            "missing": query.get("nope"),
            "blank": query["blank"],
            "decoded": query["name"],
            "dict": query.to_dict(),
            "len": len(query),
        }

    got = client.get("/q?tag=a&tag=b&tag=c&blank=&name=caf%C3%A9+au+lait").json()

    assert got == {
        "first": "a",
        "get": "a",
        "all": ["a", "b", "c"],
        "missing": None,
        "blank": "",
        "decoded": "café au lait",
        "dict": {"tag": "a", "blank": "", "name": "café au lait"},
        "len": 3,
    }


def test_query_that_is_not_utf8_is_a_400(app: App, client: TestClient) -> None:
    @app.get("/q")
    async def q(ctx: Context) -> dict[str, str]:
        return dict(ctx.request.query)

    response = client.get("/q?name=%ff")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "query string is not valid UTF-8"


def test_query_field_count_is_limited_by_form_max_fields() -> None:
    app = App(limits=BodyLimits(form_max_fields=3))

    @app.get("/q")
    async def q(ctx: Context) -> int:
        return len(ctx.request.query.multi_items())

    with TestClient(app) as client:
        assert client.get("/q?a=1&b=2&a=3").json() == 3
        over = client.get("/q?a=1&b=2&a=3&c=4")

    assert over.status_code == 400
    assert "too many query parameters" in over.json()["detail"]


async def asgi_get(app: App, path: str, query_string: bytes) -> tuple[int, bytes]:
    """One GET straight through the ASGI interface, for bytes httpx cannot put in a URL."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize(
    ("raw", "status", "body"),
    [
        (b"name=caf\xc3\xa9", 200, {"name": "café"}),
        (b"name=caf\xc3\xa9+au%20lait&x=%C3%A9", 200, {"name": "café au lait", "x": "é"}),
        (b"name=\xff", 400, None),
        (b"\xe9=1", 400, None),
    ],
)
def test_unescaped_query_bytes_are_decoded_like_escapes(
    raw: bytes, status: int, body: dict[str, str] | None
) -> None:
    app = App()

    @app.get("/q")
    async def q(ctx: Context) -> dict[str, str]:
        return dict(ctx.request.query)

    got_status, got_body = asyncio.run(asgi_get(app, "/q", raw))

    assert got_status == status
    if body is not None:
        assert json.loads(got_body) == body


def test_query_is_only_parsed_when_read(app: App, client: TestClient) -> None:
    @app.get("/ignored")
    async def ignored() -> str:
        return "fine"

    assert client.get("/ignored?x=%ff").text == "fine"


# -- headers --------------------------------------------------------------------------------


def test_headers_are_case_insensitive_and_repeatable(app: App, client: TestClient) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> dict[str, Any]:
        headers = ctx.request.headers
        return {
            "upper": headers["X-Thing"],
            "lower": headers.get("x-thing"),
            "all": headers.get_all("X-THING"),
            "has": "x-Thing" in headers,
            "missing": headers.get("x-missing", "default"),
        }

    got = client.get("/h", headers=[("X-Thing", "one"), ("x-thing", "two")]).json()

    assert got == {
        "upper": "one",
        "lower": "one",
        "all": ["one", "two"],
        "has": True,
        "missing": "default",
    }


# -- payload: query < body < path params ------------------------------------------------------


@pytest.fixture
def payload_client(app: App, client: TestClient) -> TestClient:
    @app.post("/users/{id}")
    async def merged(ctx: Context, id: str) -> dict[str, Any]:
        return await ctx.payload()

    return client


def test_payload_merges_query_json_body_and_params(payload_client: TestClient) -> None:
    got = payload_client.post(
        "/users/7?id=query&role=query&page=2", json={"id": "body", "role": "body", "x": 1}
    ).json()

    assert got == {"id": "7", "role": "body", "page": "2", "x": 1}


def test_payload_merges_an_urlencoded_body(payload_client: TestClient) -> None:
    got = payload_client.post(
        "/users/7?id=query&role=query&page=2", data={"id": "body", "role": "body"}
    ).json()

    assert got == {"id": "7", "role": "body", "page": "2"}


def test_payload_without_a_body_is_query_and_params(payload_client: TestClient) -> None:
    assert payload_client.post("/users/7?id=q&page=2").json() == {"id": "7", "page": "2"}


def test_payload_ignores_a_json_body_that_is_not_an_object(payload_client: TestClient) -> None:
    assert payload_client.post("/users/7?page=2", json=[1, 2]).json() == {"id": "7", "page": "2"}


def test_payload_with_an_unsupported_body_type_is_a_415(payload_client: TestClient) -> None:
    response = payload_client.post(
        "/users/7", content=b"id=1", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415


def test_malformed_content_length_does_not_break_payload(payload_client: TestClient) -> None:
    # "²" passes str.isdigit() but not int(): it must not become a 500.
    response = payload_client.post("/users/7", headers={"content-length": b"\xb2"})

    assert response.status_code == 200
    assert response.json() == {"id": "7"}


# -- body readers ---------------------------------------------------------------------------


def test_body_and_raw_body_return_the_bytes(app: App, client: TestClient) -> None:
    @app.post("/raw")
    async def raw(ctx: Context) -> dict[str, Any]:
        body = await ctx.request.body()
        again = await ctx.request.raw_body()
        return {"body": body.decode(), "same": body == again, "type": ctx.request.content_type}

    got = client.post(
        "/raw", content=b"hello \xc3\xa9", headers={"content-type": "Text/Plain; charset=UTF-8"}
    ).json()

    assert got == {"body": "hello é", "same": True, "type": "text/plain"}


def test_empty_body_is_empty_bytes(app: App, client: TestClient) -> None:
    @app.post("/raw")
    async def raw(ctx: Context) -> int:
        return len(await ctx.request.body())

    assert client.post("/raw").json() == 0


def test_middleware_and_handler_both_read_the_body(app: App, client: TestClient) -> None:
    @app.use
    async def peek(ctx: Context, call_next: Any) -> Any:
        ctx.state.seen = await ctx.request.body()
        return await call_next()

    @app.post("/twice")
    async def twice(ctx: Context) -> dict[str, Any]:
        body = await ctx.request.body()
        return {"same": body == ctx.state.seen, "json": await ctx.request.json()}

    got = client.post("/twice", json={"a": 1}).json()

    assert got == {"same": True, "json": {"a": 1}}


def test_stream_yields_the_chunks_as_sent(app: App, client: TestClient) -> None:
    @app.post("/stream")
    async def stream(ctx: Context) -> list[str]:
        return [chunk.decode() async for chunk in ctx.request.stream()]

    def chunks() -> Iterator[bytes]:
        yield b"one"
        yield b"two"
        yield b"three"

    assert client.post("/stream", content=chunks()).json() == ["one", "two", "three"]


def test_stream_after_body_yields_the_cached_body(app: App, client: TestClient) -> None:
    @app.post("/stream")
    async def stream(ctx: Context) -> list[str]:
        await ctx.request.body()
        return [chunk.decode() async for chunk in ctx.request.stream()]

    assert client.post("/stream", content=b"whole").json() == ["whole"]


def test_body_after_stream_is_a_500(app: App, client: TestClient) -> None:
    errors: list[BaseException] = []
    app.on_error(lambda error, ctx: errors.append(error))

    @app.post("/stream")
    async def stream(ctx: Context) -> int:
        async for _ in ctx.request.stream():
            pass
        return len(await ctx.request.body())

    response = client.post("/stream", content=b"data")

    assert response.status_code == 500
    assert isinstance(errors[0], RuntimeError)
    assert "stream()" in str(errors[0])


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/problem+json",
        "application/vnd.api+json",
    ],
)
def test_json_accepts_json_media_types(app: App, client: TestClient, content_type: str) -> None:
    @app.post("/json")
    async def json_body(ctx: Context) -> Any:
        return await ctx.request.json()

    response = client.post("/json", content=b'{"a": [1]}', headers={"content-type": content_type})

    assert response.status_code == 200
    assert response.json() == {"a": [1]}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_json_refuses_other_types_even_when_the_text_is_json(
    app: App, client: TestClient, content_type: str | None
) -> None:
    # A cross-site form can send text/plain without a preflight: it must never be read as JSON.
    @app.post("/json")
    async def json_body(ctx: Context) -> Any:
        return await ctx.request.json()

    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/json", content=b'{"a": 1}', headers=headers)

    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture
def parse_client(app: App, client: TestClient) -> TestClient:
    @app.post("/parse")
    async def parse(ctx: Context) -> dict[str, Any]:
        value = await ctx.request.parse()
        if value is not None and hasattr(value, "to_dict"):
            return {"form": value.to_dict()}
        return {"value": value}

    return client


def test_parse_json(parse_client: TestClient) -> None:
    assert parse_client.post("/parse", json={"a": 1}).json() == {"value": {"a": 1}}


def test_parse_urlencoded(parse_client: TestClient) -> None:
    assert parse_client.post("/parse", data={"a": "1"}).json() == {"form": {"a": "1"}}


def test_parse_without_a_body_is_none(parse_client: TestClient) -> None:
    assert parse_client.post("/parse").json() == {"value": None}


def test_parse_of_a_body_without_content_type_is_a_415(parse_client: TestClient) -> None:
    assert parse_client.post("/parse", content=b"data").status_code == 415


def test_parse_of_an_unsupported_type_is_a_415(parse_client: TestClient) -> None:
    response = parse_client.post(
        "/parse", content=b"<a/>", headers={"content-type": "application/xml"}
    )

    assert response.status_code == 415
    assert "application/xml" in response.json()["detail"]


def test_body_parameter_without_annotation_is_the_parsed_body(app: App, client: TestClient) -> None:
    @app.post("/body")
    async def handler(body: Any) -> Any:
        return body

    assert client.post("/body", json={"a": 1}).json() == {"a": 1}


# -- method override (MO-01) ------------------------------------------------------------------


def override_app(**options: Any) -> App:
    app = App(**options)

    def handler(ctx: Context) -> dict[str, str]:
        r = ctx.request
        return {"method": r.method, "original": r.original_method}

    for method in ("POST", "PUT", "PATCH", "DELETE"):
        app.route("/thing", methods=[method], name=f"thing_{method.lower()}")(handler)
    return app


@pytest.mark.parametrize(
    ("field", "method"), [("PUT", "PUT"), ("patch", "PATCH"), ("Delete", "DELETE")]
)
def test_method_field_in_an_urlencoded_post_overrides(field: str, method: str) -> None:
    with TestClient(override_app()) as client:
        got = client.post("/thing", data={"_method": field, "name": "x"}).json()

    assert got == {"method": method, "original": "POST"}


@pytest.mark.parametrize("field", ["GET", "HEAD", "OPTIONS", "TRACE", "CONNECT", "", "PUTX"])
def test_other_method_values_are_ignored(field: str) -> None:
    with TestClient(override_app()) as client:
        got = client.post("/thing", data={"_method": field}).json()

    assert got == {"method": "POST", "original": "POST"}


def test_method_in_a_json_body_does_not_override() -> None:
    with TestClient(override_app()) as client:
        got = client.post("/thing", json={"_method": "PUT"}).json()

    assert got == {"method": "POST", "original": "POST"}


def test_method_in_the_query_does_not_override() -> None:
    with TestClient(override_app()) as client:
        got = client.post("/thing?_method=PUT").json()

    assert got == {"method": "POST", "original": "POST"}


def test_override_header_is_ignored_by_default() -> None:
    with TestClient(override_app()) as client:
        got = client.post("/thing", headers={"x-http-method-override": "DELETE"}).json()

    assert got["method"] == "POST"


def test_override_header_is_honoured_when_enabled() -> None:
    with TestClient(override_app(method_override_header=True)) as client:
        got = client.post("/thing", headers={"X-HTTP-Method-Override": "delete"}).json()
        ignored = client.post("/thing", headers={"x-http-method-override": "GET"}).json()

    assert got == {"method": "DELETE", "original": "POST"}
    assert ignored["method"] == "POST"


def test_method_override_can_be_disabled() -> None:
    with TestClient(override_app(method_override=False)) as client:
        got = client.post("/thing", data={"_method": "PUT"}).json()

    assert got == {"method": "POST", "original": "POST"}


def test_overridden_handler_still_reads_the_form() -> None:
    app = App()

    @app.put("/thing")
    async def put(ctx: Context) -> dict[str, str]:
        return (await ctx.request.form()).to_dict()

    with TestClient(app) as client:
        got = client.post("/thing", data={"_method": "PUT", "name": "x"}).json()

    assert got == {"_method": "PUT", "name": "x"}


def test_overridden_request_obeys_the_target_routes_body_limit() -> None:
    app = App()

    @app.put("/small", limits={"max_body_size": 10})
    async def put(ctx: Context) -> dict[str, str]:
        return (await ctx.request.form()).to_dict()

    with TestClient(app) as client:
        assert client.put("/small", data={"name": "x" * 50}).status_code == 413
        response = client.post("/small", data={"_method": "PUT", "name": "x" * 50})

    assert response.status_code == 413
