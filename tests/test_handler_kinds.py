"""Handler kinds (RTE-12, CTX-13, FE-02/TPL-08): raw, stream and html (htmx partials),
custom kinds, and the htmx request/response helpers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import msgspec
import pytest

from avian import (
    App,
    ConfigurationError,
    Context,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Request,
    Response,
    StreamingResponse,
    errors,
    htmx,
)
from avian.handler_kinds import (
    KIND_ATTR,
    HandlerKind,
    get_kind,
    handler_kind,
    html,
    raw,
    stream,
)
from avian.testing import TestClient


class Query(msgspec.Struct):
    count: int


def client_for(app: App) -> TestClient:
    return TestClient(app, follow_redirects=False)


# --- stream ----------------------------------------------------------------------------------


def test_stream_sends_generator_chunks_with_the_kinds_media_type() -> None:
    app = App()

    @app.get("/count")
    @stream(media_type="text/csv")
    async def count() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i},{i * i}\n"

    @app.get("/sync")
    @stream
    def sync_lines() -> Iterator[bytes]:  # a sync generator runs in the thread pool
        yield b"a\n"
        yield b"b\n"

    with client_for(app) as client:
        response = client.get("/count")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "content-length" not in response.headers
        assert response.text == "0,0\n1,1\n2,4\n"
        plain = client.get("/sync")
        assert plain.headers["content-type"] == "text/plain; charset=utf-8"
        assert plain.text == "a\nb\n"


def test_stream_chunks_arrive_one_by_one() -> None:
    app = App()

    @app.get("/ticks")
    @stream
    async def ticks() -> AsyncIterator[str]:
        for i in range(3):
            yield f"tick {i}\n"

    with client_for(app) as client, client.stream("GET", "/ticks") as response:
        chunks = list(response.iter_bytes())
    assert chunks == [b"tick 0\n", b"tick 1\n", b"tick 2\n"]


def test_stream_with_typed_input_json_lines_and_a_download_name() -> None:
    app = App()

    @app.post("/export")
    @stream(media_type="application/x-ndjson", filename="rapport été.jsonl")
    async def export(query: Query) -> AsyncIterator[dict[str, int]]:
        for i in range(query.count):
            yield {"row": i}

    with client_for(app) as client:
        response = client.post("/export", json={"count": 2})
        assert response.headers["content-type"] == "application/x-ndjson"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="rapport ?t?.jsonl"')
        assert "filename*=UTF-8''rapport%20%C3%A9t%C3%A9.jsonl" in disposition
        assert [json.loads(line) for line in response.text.splitlines()] == [
            {"row": 0},
            {"row": 1},
        ]
        invalid = client.post("/export", json={"count": "two"})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"


def test_stream_headers_and_custom_encoder() -> None:
    app = App()

    @app.get("/events")
    @stream(
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        encode=lambda n: f"data: {n}\n\n",
    )
    async def events() -> AsyncIterator[int]:
        yield 1
        yield 2

    with client_for(app) as client:
        response = client.get("/events")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.text == "data: 1\n\ndata: 2\n\n"


def test_a_response_the_stream_handler_returns_is_sent_as_is() -> None:
    app = App()

    @app.get("/file")
    @stream(media_type="text/csv")
    async def file(ctx: Context) -> Response:
        if ctx.request.query.get("missing"):
            raise errors.not_found("no such file")
        return StreamingResponse([b"%PDF"], media_type="application/pdf")

    @app.get("/json")
    @stream(media_type="text/csv")
    async def as_json() -> dict[str, int]:
        return {"not": 1}

    with client_for(app) as client:
        response = client.get("/file")
        assert response.headers["content-type"] == "application/pdf"
        assert response.content == b"%PDF"
        missing = client.get("/file?missing=1")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.get("/json").json() == {"not": 1}


def test_stream_refuses_a_bad_media_type_or_encoder() -> None:
    with pytest.raises(ConfigurationError, match="invalid media type"):
        stream(media_type="csv")
    with pytest.raises(ConfigurationError, match="encode must be callable"):
        stream(encode="json")  # type: ignore[call-overload]


# --- raw -------------------------------------------------------------------------------------


def test_raw_handlers_get_the_request_and_return_a_response() -> None:
    app = App()

    @app.post("/echo/{name}")
    @raw
    async def echo(request: Request, ctx: Context) -> Response:
        body = await request.body()
        return Response(
            body[::-1],
            201,
            headers={"x-name": ctx.params["name"]},
            media_type="application/octet-stream",
        )

    @app.get("/annotated")
    @raw
    def annotated(req: Request) -> Response:  # a sync raw handler, found by annotation
        return PlainTextResponse(req.path)

    with client_for(app) as client:
        response = client.post("/echo/ada", content=b"abc")
        assert (response.status_code, response.content) == (201, b"cba")
        assert response.headers["x-name"] == "ada"
        assert client.get("/annotated").text == "/annotated"


def test_raw_handlers_never_have_the_body_decoded_for_them() -> None:
    app = App()

    @app.post("/upload")
    @raw
    async def upload(request: Request) -> Response:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return JSONResponse({"size": size})

    with client_for(app) as client:
        # Not JSON, no content type: a typed handler would refuse it, a raw one reads it.
        response = client.post("/upload", content=b"x" * 5000)
        assert response.json() == {"size": 5000}


def test_raw_handlers_may_return_an_asgi_app_and_keep_headers_set_around_them() -> None:
    async def tiny_app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 207,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    async def stamp(ctx: Context, call_next: Any) -> Response:
        response = await call_next()
        response.headers.set("x-stamp", "yes")
        return response

    app = App(middleware=[stamp])

    @app.get("/proxy")
    @raw
    async def proxy(ctx: Context) -> Any:
        ctx.response.headers.set("x-before", "kept")
        return tiny_app

    with client_for(app) as client:
        response = client.get("/proxy")
        assert (response.status_code, response.text) == (207, "/proxy")
        assert response.headers["x-stamp"] == "yes"
        assert response.headers["x-before"] == "kept"


def test_raw_handlers_may_send_the_response_themselves() -> None:
    app = App()

    @app.get("/direct")
    @raw
    async def direct(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"sent by hand"})

    with client_for(app) as client:
        assert client.get("/direct").text == "sent by hand"


def test_a_raw_handler_returning_something_else_is_a_server_error() -> None:
    app = App()

    @app.get("/bad")
    @raw
    async def bad() -> Any:
        return {"a": 1}

    with client_for(app) as client:
        response = client.get("/bad")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"


def test_raw_parameters_are_checked_when_decorated() -> None:
    async def needs_id(id: int) -> Response:
        return Response(b"")

    with pytest.raises(ConfigurationError, match="parameter 'id' must be one of"):
        raw(needs_id)
    with pytest.raises(ConfigurationError, match="not callable"):
        raw("nope")  # type: ignore[arg-type]


def test_raw_handlers_are_marked_with_their_kind() -> None:
    async def handler(ctx: Context) -> Response:
        return Response(b"")

    adapted = raw(handler)
    kind = getattr(adapted, KIND_ATTR)
    assert kind.name == "raw"
    assert adapted.__name__ == "handler"
    assert "raw handler" in repr(adapted)


# --- html ------------------------------------------------------------------------------------


def page(fragment: str, ctx: Context) -> str:
    return f"<html><body>{fragment}</body></html>"


async def async_page(fragment: str, ctx: Context) -> str:
    return f"<main>{fragment}</main>"


def html_app() -> App:
    app = App()

    @app.get("/bare")
    @html
    async def bare() -> str:
        return "<p>bare</p>"

    @app.get("/card")
    @html(layout=page)
    async def card(ctx: Context) -> str:
        return "<div>card</div>"

    @app.get("/async-layout")
    @html(layout=async_page)
    async def with_async_layout() -> HTMLResponse:
        return HTMLResponse("<p>x</p>")

    @app.get("/missing")
    @html(layout=page)
    async def missing() -> str:
        raise errors.not_found("gone")

    @app.get("/data")
    @html(layout=page)
    async def data() -> dict[str, int]:
        return {"a": 1}

    @app.get("/text")
    @html(layout=page)
    async def text() -> PlainTextResponse:
        return PlainTextResponse("plain")

    return app


def test_html_returns_fragments_as_text_html() -> None:
    with client_for(html_app()) as client:
        response = client.get("/bare")
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.text == "<p>bare</p>"
        assert "vary" not in response.headers  # no layout: one answer for everyone


def test_html_layout_for_full_page_requests_and_fragment_for_htmx() -> None:
    with client_for(html_app()) as client:
        full = client.get("/card")
        assert full.text == "<html><body><div>card</div></body></html>"
        assert full.headers["vary"] == "HX-Request"
        partial = client.get("/card", headers={"HX-Request": "true"})
        assert partial.text == "<div>card</div>"
        assert partial.headers["vary"] == "HX-Request"
        boosted = client.get("/card", headers={"HX-Request": "true", "HX-Boosted": "true"})
        assert boosted.text.startswith("<html>")
        restore = client.get(
            "/card", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
        )
        assert restore.text.startswith("<html>")
        assert client.get("/async-layout").text == "<main><p>x</p></main>"


def test_html_layout_skips_errors_and_non_html_answers() -> None:
    with client_for(html_app()) as client:
        missing = client.get("/missing")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert client.get("/data").json() == {"a": 1}
        text = client.get("/text")
        assert text.headers["content-type"] == "text/plain; charset=utf-8"
        assert text.text == "plain"


def test_html_layout_must_be_callable_and_return_text() -> None:
    with pytest.raises(ConfigurationError, match="layout must be callable"):
        html(layout="base.html")  # type: ignore[call-overload]

    app = App()

    @app.get("/broken")
    @html(layout=lambda fragment, ctx: 42)  # type: ignore[arg-type,return-value]
    async def broken() -> str:
        return "<p></p>"

    with client_for(app) as client:
        assert client.get("/broken").status_code == 500


# --- htmx helpers ----------------------------------------------------------------------------


def test_htmx_request_details() -> None:
    app = App()

    @app.get("/details")
    async def details(ctx: Context) -> dict[str, Any]:
        d = htmx.details(ctx)
        return {
            "htmx": htmx.is_htmx(ctx),
            "partial": htmx.wants_partial(ctx),
            "boosted": d.boosted,
            "target": d.target,
            "trigger": d.trigger,
            "trigger_name": d.trigger_name,
            "prompt": d.prompt,
            "current_url": d.current_url,
            "same": htmx.details(ctx) is d,
        }

    with client_for(app) as client:
        plain = client.get("/details").json()
        assert plain["htmx"] is False
        assert plain["partial"] is False
        assert plain["target"] is None
        sent = client.get(
            "/details",
            headers={
                "HX-Request": "true",
                "HX-Target": "list",
                "HX-Trigger": "btn",
                "HX-Trigger-Name": "save",
                "HX-Prompt": "yes",
                "HX-Current-URL": "http://x/page",
            },
        ).json()
        assert sent == {
            "htmx": True,
            "partial": True,
            "boosted": False,
            "target": "list",
            "trigger": "btn",
            "trigger_name": "save",
            "prompt": "yes",
            "current_url": "http://x/page",
            "same": True,
        }


def test_htmx_response_headers_merge_into_the_returned_fragment() -> None:
    app = App()

    @app.post("/save")
    @html
    async def save(ctx: Context) -> str:
        htmx.trigger(ctx, "saved")
        htmx.trigger(ctx, "refresh-list")
        htmx.trigger(ctx, "flash", {"level": "info"}, after="settle")
        htmx.trigger(ctx, "count", 3, after="settle")
        htmx.push_url(ctx, "/items/1")
        htmx.replace_url(ctx, False)
        htmx.reswap(ctx, "outerHTML")
        htmx.retarget(ctx, "#main")
        htmx.reselect(ctx, ".item")
        return "<li>saved</li>"

    @app.post("/mixed")
    async def mixed(ctx: Context) -> str:
        htmx.trigger(ctx, "first")
        htmx.trigger(ctx, "second", {"id": 2})
        return ""

    @app.post("/logout")
    async def logout(ctx: Context) -> None:
        htmx.redirect(ctx, "/login")

    @app.post("/nav")
    async def nav(ctx: Context) -> None:
        htmx.location(ctx, "/inbox", target="#main", swap="innerHTML")

    @app.post("/nav-plain")
    async def nav_plain(ctx: Context) -> None:
        htmx.location(ctx, "/inbox")
        htmx.refresh(ctx)

    @app.get("/poll")
    async def poll() -> Response:
        return htmx.stop_polling("<p>done</p>")

    with client_for(app) as client:
        saved = client.post("/save")
        assert saved.text == "<li>saved</li>"
        assert saved.headers["hx-trigger"] == "saved, refresh-list"
        assert json.loads(saved.headers["hx-trigger-after-settle"]) == {
            "flash": {"level": "info"},
            "count": 3,
        }
        assert saved.headers["hx-push-url"] == "/items/1"
        assert saved.headers["hx-replace-url"] == "false"
        assert saved.headers["hx-reswap"] == "outerHTML"
        assert saved.headers["hx-retarget"] == "#main"
        assert saved.headers["hx-reselect"] == ".item"
        mixed = client.post("/mixed")
        assert json.loads(mixed.headers["hx-trigger"]) == {"first": None, "second": {"id": 2}}
        logout = client.post("/logout")
        assert (logout.status_code, logout.headers["hx-redirect"]) == (204, "/login")
        nav = client.post("/nav")
        assert json.loads(nav.headers["hx-location"]) == {
            "path": "/inbox",
            "target": "#main",
            "swap": "innerHTML",
        }
        plain = client.post("/nav-plain")
        assert plain.headers["hx-location"] == "/inbox"
        assert plain.headers["hx-refresh"] == "true"
        polled = client.get("/poll")
        assert (polled.status_code, polled.text) == (286, "<p>done</p>")


def test_htmx_trigger_refuses_bad_event_names_and_timings() -> None:
    app = App()

    @app.get("/bad-name")
    async def bad_name(ctx: Context) -> None:
        htmx.trigger(ctx, 'a"b')

    @app.get("/bad-after")
    async def bad_after(ctx: Context) -> None:
        htmx.trigger(ctx, "ok", after="later")  # type: ignore[arg-type]

    @app.get("/bad-url")
    async def bad_url(ctx: Context) -> None:
        htmx.redirect(ctx, "/x\r\nset-cookie: a=b")

    with client_for(app) as client:
        assert client.get("/bad-name").status_code == 500
        assert client.get("/bad-after").status_code == 500
        bad = client.get("/bad-url")
        assert bad.status_code == 500
        assert "set-cookie" not in bad.headers


# --- custom kinds ----------------------------------------------------------------------------


def test_a_custom_kind_decorates_ordinary_routes() -> None:
    @handler_kind("xmlish", media_type="application/xml")
    async def xmlish(ctx: Context, handle: Any) -> Response:
        text = (await ctx.request.body()).decode()
        result = await handle({"text": text}, ctx)
        body = "".join(f"<{k}>{v}</{k}>" for k, v in result.items())
        return Response(f"<r>{body}</r>", media_type="application/xml")

    app = App()

    @app.post("/convert")
    @xmlish
    async def convert(data: dict[str, str], ctx: Context) -> dict[str, str]:
        return {"upper": data["text"].upper(), "path": ctx.request.path}

    with client_for(app) as client:
        response = client.post("/convert", content=b"hi")
        assert response.headers["content-type"] == "application/xml"
        assert response.text == "<r><upper>HI</upper><path>/convert</path></r>"
    assert getattr(convert, KIND_ATTR).media_type == "application/xml"
    with pytest.raises(ConfigurationError, match="not callable"):
        handler_kind("broken")(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="not callable"):
        xmlish(42)  # type: ignore[type-var]


def test_built_in_kinds_by_name() -> None:
    assert [get_kind(name).name for name in ("typed", "raw", "stream", "html")] == [
        "typed",
        "raw",
        "stream",
        "html",
    ]
    assert get_kind("typed").methods == ("POST",)
    assert get_kind("raw").methods is None
    assert get_kind("html").methods == ("GET", "POST")
    kind = HandlerKind("mine", lambda fn: fn)
    assert get_kind(kind) is kind
    with pytest.raises(ConfigurationError, match="unknown handler kind"):
        get_kind("nope")
