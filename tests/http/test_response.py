"""What reaches the client: return-value conversion, response classes, ctx helpers, fire(),
the header API, status handling and response hardening (CTX-08..CTX-13, SRV-12)."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from avian import (
    App,
    ConfigurationError,
    Context,
    FileResponse,
    HeaderValueError,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from avian.testing import TestClient


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def errors(app: App) -> list[BaseException]:
    """Errors the app reported to its ``on_error`` hooks."""
    seen: list[BaseException] = []
    app.on_error(lambda error, ctx: seen.append(error))
    return seen


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    c = TestClient(app, follow_redirects=False)
    yield c
    c.close()


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("hello file")
    return path


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Size:
    w: int
    h: int


# -- return-value conversion (CTX-11) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "status", "content_type", "body"),
    [
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, "two"], 200, "application/json", b'[1,"two"]'),
        ("héllo", 200, "text/plain; charset=utf-8", "héllo".encode()),
        (b"\x00\xff", 200, "application/octet-stream", b"\x00\xff"),
        (bytearray(b"ab"), 200, "application/octet-stream", b"ab"),
        (None, 204, None, b""),
        (42, 200, "application/json", b"42"),
        (1.5, 200, "application/json", b"1.5"),
        (True, 200, "application/json", b"true"),
        (Point(1, 2), 200, "application/json", b'{"x":1,"y":2}'),
        (Size(3, 4), 200, "application/json", b'{"w":3,"h":4}'),
        ((1, 2), 200, "application/json", b"[1,2]"),
    ],
)
def test_return_values_are_converted(
    app: App, client: TestClient, value: Any, status: int, content_type: str | None, body: bytes
) -> None:
    app.get("/value")(lambda: value)

    response = client.get("/value")

    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    assert response.content == body


def test_route_status_applies_to_returned_values(app: App, client: TestClient) -> None:
    @app.post("/items", status=201)
    async def create() -> dict[str, int]:
        return {"id": 1}

    @app.post("/accepted", status=202)
    async def accepted() -> None:
        return None

    created = client.post("/items")
    empty = client.post("/accepted")

    assert (created.status_code, created.json()) == (201, {"id": 1})
    assert (empty.status_code, empty.content) == (202, b"")
    assert empty.headers["content-length"] == "0"


def test_async_generator_streams(app: App, client: TestClient) -> None:
    @app.get("/agen")
    async def agen() -> AsyncIterator[str | bytes]:
        async def chunks() -> AsyncIterator[str | bytes]:
            yield "a"
            yield b"b"
            yield ""
            yield "c"

        return chunks()

    response = client.get("/agen")

    assert response.content == b"abc"
    assert "content-length" not in response.headers


def test_sync_generator_streams(app: App, client: TestClient) -> None:
    @app.get("/gen")
    def gen() -> Iterator[str]:
        return iter(["x", "y"])

    assert client.get("/gen").content == b"xy"


def test_streamed_chunks_reach_the_client_as_they_are_produced(
    app: App, client: TestClient
) -> None:
    first_read = threading.Event()

    @app.get("/live")
    async def live() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            while not first_read.is_set():  # the client has the first chunk before the second
                await asyncio.sleep(0.005)
            yield b"second"

        return StreamingResponse(chunks(), media_type="text/plain")

    with client.stream("GET", "/live", timeout=5) as response:
        parts = response.iter_raw()
        assert next(parts) == b"first"
        first_read.set()
        assert list(parts) == [b"second"]
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_response_instance_is_sent_as_is(app: App, client: TestClient) -> None:
    @app.get("/r", status=201)
    async def r() -> Response:
        return Response(b"<x/>", 203, {"x-kind": "raw"}, media_type="application/xml")

    response = client.get("/r")

    assert response.status_code == 203
    assert response.headers["content-type"] == "application/xml"
    assert response.headers["x-kind"] == "raw"
    assert response.content == b"<x/>"


# -- explicit response classes ------------------------------------------------------------------


def test_response_classes(app: App, client: TestClient, text_file: Path) -> None:
    responses = {
        "json": JSONResponse({"a": [1]}, 201, {"x-a": "1"}),
        "text": PlainTextResponse("plain"),
        "html": HTMLResponse("<p>hi</p>"),
        "redirect": RedirectResponse("/elsewhere"),
        "redirect301": RedirectResponse("/moved", 301),
        "stream": StreamingResponse(iter([b"s1", b"s2"]), media_type="text/csv"),
        "file": FileResponse(text_file),
        "custom_type": JSONResponse({}, media_type="application/problem+json"),
    }
    for name, response in responses.items():
        app.get(f"/{name}")(lambda response=response: response)

    got = {name: client.get(f"/{name}") for name in responses}

    assert (got["json"].status_code, got["json"].json(), got["json"].headers["x-a"]) == (
        201,
        {"a": [1]},
        "1",
    )
    assert got["text"].headers["content-type"] == "text/plain; charset=utf-8"
    assert got["html"].headers["content-type"] == "text/html; charset=utf-8"
    assert got["html"].text == "<p>hi</p>"
    assert (got["redirect"].status_code, got["redirect"].headers["location"]) == (302, "/elsewhere")
    assert (got["redirect301"].status_code, got["redirect301"].headers["location"]) == (
        301,
        "/moved",
    )
    assert got["stream"].content == b"s1s2"
    assert got["stream"].headers["content-type"] == "text/csv; charset=utf-8"
    assert got["file"].text == "hello file"
    assert got["file"].headers["content-type"] == "text/plain; charset=utf-8"
    assert got["file"].headers["content-length"] == "10"
    assert "last-modified" in got["file"].headers
    assert got["custom_type"].headers["content-type"] == "application/problem+json"


def test_redirect_percent_encodes_non_ascii(app: App, client: TestClient) -> None:
    app.get("/go")(lambda: RedirectResponse("/café?q=a b&r=ü", 307))

    response = client.get("/go")

    assert response.status_code == 307
    assert response.headers["location"] == "/caf%C3%A9?q=a%20b&r=%C3%BC"


# -- ctx helpers (CTX-09, CTX-13) ---------------------------------------------------------------


def helper_calls(text_file: Path) -> dict[str, Any]:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"s1"
        yield b"s2"

    return {
        "json": lambda ctx: ctx.json({"a": 1}, 201, {"x-h": "json"}),
        "text": lambda ctx: ctx.text("plain", headers={"x-h": "text"}),
        "html": lambda ctx: ctx.html("<b>b</b>", 202),
        "binary": lambda ctx: ctx.binary(b"\x01\x02", media_type="image/png"),
        "redirect": lambda ctx: ctx.redirect("/there", 303),
        "stream": lambda ctx: ctx.stream(chunks(), media_type="text/plain"),
        "file": lambda ctx: ctx.file(str(text_file)),
    }


EXPECTED_HELPERS = {
    "json": (201, "application/json", b'{"a":1}'),
    "text": (200, "text/plain; charset=utf-8", b"plain"),
    "html": (202, "text/html; charset=utf-8", b"<b>b</b>"),
    "binary": (200, "image/png", b"\x01\x02"),
    "redirect": (303, None, b""),
    "stream": (200, "text/plain; charset=utf-8", b"s1s2"),
    "file": (200, "text/plain; charset=utf-8", b"hello file"),
}


@pytest.mark.parametrize("returned", [True, False], ids=["returned", "bare-call"])
@pytest.mark.parametrize("name", list(EXPECTED_HELPERS))
def test_ctx_helpers_work_returned_or_not(
    app: App, client: TestClient, text_file: Path, name: str, returned: bool
) -> None:
    call = helper_calls(text_file)[name]

    @app.get("/helper")
    async def helper(ctx: Context) -> Any:
        response = call(ctx)
        return response if returned else None

    response = client.get("/helper")

    status, content_type, body = EXPECTED_HELPERS[name]
    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    assert response.content == body


def test_ctx_helper_headers_and_redirect_location(app: App, client: TestClient) -> None:
    @app.get("/a")
    async def a(ctx: Context) -> None:
        ctx.json({}, headers={"x-h": "json"})

    @app.get("/b")
    async def b(ctx: Context) -> None:
        ctx.redirect("/there")

    assert client.get("/a").headers["x-h"] == "json"
    redirect = client.get("/b")
    assert (redirect.status_code, redirect.headers["location"]) == (302, "/there")


@pytest.mark.parametrize(
    ("filename", "disposition"),
    [
        (None, 'attachment; filename="notes.txt"'),
        ("report.txt", 'attachment; filename="report.txt"'),
        (
            "résumé €.txt",
            "attachment; filename=\"r?sum? ?.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt",
        ),
        (
            'say "hi".txt',
            "attachment; filename=\"say hi.txt\"; filename*=UTF-8''say%20%22hi%22.txt",
        ),
    ],
)
def test_file_download_sets_content_disposition(
    app: App, client: TestClient, text_file: Path, filename: str | None, disposition: str
) -> None:
    @app.get("/download")
    async def download(ctx: Context) -> Response:
        return ctx.file(str(text_file), download=True, filename=filename)

    response = client.get("/download")

    assert response.headers["content-disposition"] == disposition
    assert response.text == "hello file"


def test_file_without_download_has_no_disposition(
    app: App, client: TestClient, text_file: Path
) -> None:
    @app.get("/inline")
    async def inline(ctx: Context) -> None:
        ctx.file(str(text_file), media_type="text/markdown")

    response = client.get("/inline")

    assert "content-disposition" not in response.headers
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"


def test_file_response_for_a_missing_file_is_a_404(
    app: App, client: TestClient, tmp_path: Path
) -> None:
    @app.get("/missing")
    async def missing(ctx: Context) -> Response:
        ctx.response.cookies.set("visited", "yes")
        return ctx.file(str(tmp_path / "nope.txt"), download=True)

    @app.get("/directory")
    async def directory() -> FileResponse:
        return FileResponse(tmp_path)

    response = client.get("/missing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-disposition" not in response.headers
    assert response.headers["set-cookie"].startswith("visited=yes")
    assert client.get("/directory").status_code == 404


# -- HEAD -----------------------------------------------------------------------------------------


def test_head_on_a_file_route_sends_headers_only(
    app: App, client: TestClient, text_file: Path
) -> None:
    app.get("/file")(lambda: FileResponse(text_file))

    response = client.head("/file")

    assert response.status_code == 200
    assert response.headers["content-length"] == "10"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == b""


def test_head_on_a_streaming_route_does_not_run_the_stream(app: App, client: TestClient) -> None:
    started: list[bool] = []

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            started.append(True)
            yield b"body"

        return StreamingResponse(chunks(), media_type="text/csv")

    response = client.head("/stream")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content == b""
    assert started == []
    assert client.get("/stream").content == b"body"


# -- streaming stops on disconnect ----------------------------------------------------------------


def test_streaming_response_stops_when_the_client_disconnects() -> None:
    """Driven with a hand-written ASGI server loop: the test client cancels the app when the
    reader goes away, which would hide whether the response itself notices the disconnect."""
    app = App()
    stopped = asyncio.Event()

    @app.get("/forever")
    async def forever() -> StreamingResponse:
        async def ticks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"tick"
                    await asyncio.sleep(0.001)
            finally:
                stopped.set()

        return StreamingResponse(ticks())

    async def serve() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not sent:
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if len(sent) == 3:  # start + two chunks, then the client hangs up
                gone.set()

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/forever",
            "raw_path": b"/forever",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"test")],
            "client": ("127.0.0.1", 1),
            "server": ("test", 80),
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=5)
        await asyncio.wait_for(stopped.wait(), timeout=5)
        return sent

    sent = asyncio.run(serve())

    assert sent[0]["type"] == "http.response.start"
    assert all(m["body"] == b"tick" for m in sent[1:3])
    assert len(sent) < 50  # it stopped soon after the disconnect


# -- fire() (CTX-08) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "content_type", "body", "dispatched"),
    [
        ((), 204, None, b"", None),
        (("hello",), 200, "text/plain; charset=utf-8", b"hello", "hello"),
        (({},), 200, "application/json", b"{}", {}),
        (({"a": [1]},), 200, "application/json", b'{"a":[1]}', {"a": [1]}),
        (([1, 2],), 200, "application/json", b"[1,2]", [1, 2]),
        ((201,), 201, "text/plain; charset=utf-8", b"Created", "Created"),
        ((404,), 404, "text/plain; charset=utf-8", b"Not Found", "Not Found"),
        ((201, {"id": 1}), 201, "application/json", b'{"id":1}', {"id": 1}),
        ((202, "queued"), 202, "text/plain; charset=utf-8", b"queued", "queued"),
        ((201, None), 201, None, b"", None),
        ((200, "<b>x</b>", "text/html"), 200, "text/html; charset=utf-8", b"<b>x</b>", "<b>x</b>"),
        ((200, b"%PDF", "application/pdf"), 200, "application/pdf", b"%PDF", b"%PDF"),
        ((b"\x01\x02",), 200, "application/octet-stream", b"\x01\x02", b"\x01\x02"),
        ((True,), 200, "application/json", b"true", True),
    ],
)
def test_fire_forms(
    app: App,
    client: TestClient,
    args: tuple[Any, ...],
    status: int,
    content_type: str | None,
    body: bytes,
    dispatched: Any,
) -> None:
    seen: list[Any] = []

    @app.get("/fire")
    async def fire(ctx: Context) -> None:
        ctx.fire(*args)
        seen.append(ctx.dispatched_data)

    response = client.get("/fire")

    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    assert response.content == body
    assert seen == [dispatched]


def test_fire_keeps_headers_set_before_and_after(app: App, client: TestClient) -> None:
    @app.get("/fire")
    async def fire(ctx: Context) -> None:
        ctx.response.headers.set("x-before", "1")
        ctx.fire(201, {"ok": True})
        ctx.response.headers.set("x-after", "2")

    response = client.get("/fire")

    assert response.status_code == 201
    assert response.headers["x-before"] == "1"
    assert response.headers["x-after"] == "2"


def test_dispatched_data_is_none_before_fire(app: App, client: TestClient) -> None:
    @app.get("/x")
    async def x(ctx: Context) -> dict[str, Any]:
        return {"data": ctx.dispatched_data, "dispatched": ctx.dispatched}

    assert client.get("/x").json() == {"data": None, "dispatched": False}


@pytest.mark.parametrize("args", [(1, 2, 3, 4), ("a", "b")])
def test_fire_with_wrong_arguments_is_a_500(
    app: App, client: TestClient, errors: list[BaseException], args: tuple[Any, ...]
) -> None:
    @app.get("/fire")
    async def fire(ctx: Context) -> None:
        ctx.fire(*args)

    assert client.get("/fire").status_code == 500
    assert isinstance(errors[0], TypeError)


# -- status --------------------------------------------------------------------------------------


def test_status_set_on_ctx_response_applies_to_the_returned_value(
    app: App, client: TestClient
) -> None:
    @app.post("/x")
    async def x(ctx: Context) -> dict[str, bool]:
        ctx.response.status = 201
        return {"created": True}

    @app.post("/y")
    async def y(ctx: Context) -> str:
        ctx.response.set_status(202)
        return "later"

    assert (client.post("/x").status_code, client.post("/x").json()) == (201, {"created": True})
    assert client.post("/y").status_code == 202


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda ctx: setattr(ctx.response, "status", 999), id="ctx.response.status=999"
        ),
        pytest.param(lambda ctx: setattr(ctx.response, "status", "201"), id="status-as-str"),
        pytest.param(lambda ctx: setattr(ctx.response, "status_code", 99), id="status_code=99"),
        pytest.param(lambda ctx: ctx.response.set_status(600), id="set_status(600)"),
        pytest.param(lambda ctx: ctx.fire(999), id="fire(999)"),
        pytest.param(lambda ctx: ctx.fire(600, {"a": 1}), id="fire(600,data)"),
        pytest.param(lambda ctx: ctx.json({}, 1000), id="json-status"),
        pytest.param(lambda ctx: Response(b"", 42), id="Response(42)"),
        pytest.param(lambda ctx: Response(b"", 101), id="Response(101)"),
        pytest.param(lambda ctx: ctx.fire(100), id="fire(100)"),
        pytest.param(lambda ctx: ctx.text("early", 103), id="text-103"),
        pytest.param(lambda ctx: ctx.redirect("/x", 200), id="redirect-200"),
    ],
)
def test_invalid_status_is_a_500(
    app: App, client: TestClient, errors: list[BaseException], make: Any
) -> None:
    @app.get("/bad")
    async def bad(ctx: Context) -> dict[str, int]:
        make(ctx)
        return {"a": 1}

    response = client.get("/bad")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert isinstance(errors[0], ValueError)


def test_route_status_must_be_a_final_status(app: App) -> None:
    with pytest.raises(ConfigurationError, match="status"):
        app.get("/x", status=101)(lambda: "x")


# -- header API (CTX-10) -------------------------------------------------------------------------


def test_headers_set_on_ctx_response_merge_into_the_returned_value(
    app: App, client: TestClient
) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> dict[str, int]:
        headers = ctx.response.headers
        headers.set("X-One", "1")
        headers.set("x-one", "uno")  # set replaces
        headers.add("X-Many", "a")
        headers.add("X-Many", "b")  # add appends
        headers["X-Item"] = "item"
        headers.setdefault("X-Item", "ignored")
        headers.set("X-Gone", "soon")
        headers.remove("x-gone", "x-never-set")
        ctx.response.add_headers({"X-Two": "2", "X-Three": "3", "X-Int": 7})  # type: ignore[dict-item]
        ctx.response.remove_headers("X-Three")
        return {"ok": 1}

    response = client.get("/h")

    assert response.headers["x-one"] == "uno"
    assert response.headers.get_list("x-many") == ["a", "b"]
    assert response.headers["x-item"] == "item"
    assert response.headers["x-two"] == "2"
    assert response.headers["x-int"] == "7"
    assert "x-gone" not in response.headers
    assert "x-three" not in response.headers
    assert response.json() == {"ok": 1}


def test_header_set_on_ctx_response_can_override_the_content_type(
    app: App, client: TestClient
) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("content-type", "application/vnd.thing+json")
        return {"ok": 1}

    response = client.get("/h")

    assert response.headers.get_list("content-type") == ["application/vnd.thing+json"]


def test_headers_on_a_returned_response_win_over_ctx_response(app: App, client: TestClient) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> Response:
        ctx.response.headers.set("x-who", "ctx")
        ctx.response.headers.set("x-only-ctx", "yes")
        return JSONResponse({}, headers={"x-who": "returned"})

    response = client.get("/h")

    assert response.headers.get_list("x-who") == ["returned"]
    assert response.headers["x-only-ctx"] == "yes"


@pytest.mark.parametrize(
    "value",
    ["ok\r\nSet-Cookie: evil=1", "ok\nSet-Cookie: evil=1", "ok\rX", "ok\x00", "ok\x7f", "ok\x1b"],
)
def test_control_characters_in_a_header_value_never_reach_the_wire(
    app: App, client: TestClient, errors: list[BaseException], value: str
) -> None:
    @app.get("/inject")
    async def inject(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("x-safe", "set before")
        ctx.response.headers.set("x-evil", value)
        return {}

    response = client.get("/inject")

    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    assert "x-evil" not in response.headers
    assert "x-safe" not in response.headers  # a failed response's headers are not sent
    assert isinstance(errors[0], HeaderValueError)


@pytest.mark.parametrize("name", ["x bad", "x:bad", "x\r\nbad", "", "é"])
def test_invalid_header_names_are_refused(
    app: App, client: TestClient, errors: list[BaseException], name: str
) -> None:
    @app.get("/inject")
    async def inject(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set(name, "v")
        return {}

    assert client.get("/inject").status_code == 500
    assert isinstance(errors[0], HeaderValueError)


@pytest.mark.parametrize("url", ["/x\r\nSet-Cookie: evil=1", "/x\nLocation: //evil", "/x\x00"])
def test_control_characters_in_a_redirect_url_never_reach_the_wire(
    app: App, client: TestClient, errors: list[BaseException], url: str
) -> None:
    @app.get("/go")
    async def go(ctx: Context) -> Response:
        return ctx.redirect(url)

    response = client.get("/go")

    assert response.status_code == 500
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers
    assert isinstance(errors[0], HeaderValueError)


def test_non_latin1_header_value_is_refused(
    app: App, client: TestClient, errors: list[BaseException]
) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("x-name", "€uro")
        return {}

    response = client.get("/h")

    assert response.status_code == 500
    assert "x-name" not in response.headers
    assert isinstance(errors[0], HeaderValueError)
    assert "latin-1" in str(errors[0])


def test_latin1_and_bytes_header_values_are_sent(app: App, client: TestClient) -> None:
    @app.get("/h")
    async def h(ctx: Context) -> dict[str, int]:
        ctx.response.headers.set("x-latin", "café")
        ctx.response.headers.set("x-bytes", b"raw")
        ctx.response.headers.set("x-tab", "a\tb")
        return {}

    response = client.get("/h")

    assert response.headers.raw[:3] == [
        (b"x-latin", "café".encode("latin-1")),
        (b"x-bytes", b"raw"),
        (b"x-tab", b"a\tb"),
    ]


# -- default entry page (SRV-12) -------------------------------------------------------------------


def test_default_entry_page_is_served_at_root_when_enabled() -> None:
    with TestClient(App(default_entry=True)) as client:
        page = client.get("/")
        head = client.head("/")
        elsewhere = client.get("/elsewhere")
        post = client.post("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "avian is running" in page.text
    assert head.status_code == 200
    assert elsewhere.status_code == 404
    assert post.status_code == 404


def test_default_entry_page_is_off_by_default() -> None:
    with TestClient(App()) as client:
        assert client.get("/").status_code == 404


def test_default_entry_page_yields_to_a_real_route() -> None:
    app = App(default_entry=True)
    app.get("/")(lambda: "mine")

    with TestClient(app) as client:
        assert client.get("/").text == "mine"
