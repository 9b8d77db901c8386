"""The test clients, driven against small hand-written ASGI apps.

Every wait is bounded: apps sleep at most a fraction of a second and every timeout is short.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import sys
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from avian.testing import (
    AsyncTestClient,
    AsyncTestRequest,
    LifespanError,
    TestClient,
    TestRequest,
    TestResponse,
    WebSocketDenied,
    WebSocketDisconnected,
)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


# -- helpers used by the apps ---------------------------------------------------------------


async def read_body(receive: Receive) -> list[bytes]:
    chunks = []
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks


async def send_json(
    send: Send, data: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_text(send: Send, text: str, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


def describe(scope: Scope, chunks: list[bytes]) -> dict[str, Any]:
    return {
        "type": scope["type"],
        "asgi": scope["asgi"],
        "http_version": scope["http_version"],
        "method": scope.get("method"),
        "scheme": scope["scheme"],
        "server": list(scope["server"]),
        "client": list(scope["client"]),
        "root_path": scope["root_path"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode("latin-1"),
        "query_string": scope["query_string"].decode("latin-1"),
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
        "body": b"".join(chunks).decode("latin-1"),
        "messages": len(chunks),
        "state_keys": sorted(scope.get("state", {})),
    }


def header(data: dict[str, Any], name: str) -> str | None:
    values = [v for k, v in data["headers"] if k == name]
    return values[0] if values else None


# -- the HTTP + WebSocket app ---------------------------------------------------------------


class DemoApp:
    """Routes by path; records what it saw in ``seen`` for the tests to inspect."""

    def __init__(self) -> None:
        self.seen: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("this app does not speak lifespan")
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
            return
        handler = getattr(self, "http_" + scope["path"].strip("/").replace("-", "_"), None)
        if handler is None:
            await send_json(send, describe(scope, await read_body(receive)))
        else:
            await handler(scope, receive, send)

    async def http_set_cookie(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, {}, headers=[(b"set-cookie", b"sid=abc123; Path=/; HttpOnly")])

    async def http_secure_cookie(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_json(send, {}, headers=[(b"set-cookie", b"token=s3cret; Path=/; Secure")])

    async def http_redirect(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 302, "headers": [(b"location", b"/landed")]}
        )
        await send({"type": "http.response.body", "body": b""})

    async def http_stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await send(
                {"type": "http.response.body", "body": f"chunk{i};".encode(), "more_body": True}
            )
            await asyncio.sleep(0.1)
        await send({"type": "http.response.body", "body": b""})

    async def http_slow_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Reads the body with its own per-chunk timeout, as a server-side body timeout does.
        started = time.monotonic()
        arrivals: list[float] = []
        while True:
            try:
                message = await asyncio.wait_for(receive(), 0.25)
            except TimeoutError:
                await send_json(send, {"received": len(arrivals)}, status=408)
                return
            if message.get("body"):
                arrivals.append(time.monotonic() - started)
            if not message.get("more_body", False):
                break
        await send_json(send, {"arrivals": arrivals})

    async def http_error(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async def http_error_after_start(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("late boom")

    async def http_error_after_response(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_text(send, "done")
        raise RuntimeError("background boom")

    async def http_no_response(self, scope: Scope, receive: Receive, send: Send) -> None:
        return

    async def http_background(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_text(send, "accepted")
        await asyncio.sleep(0.05)
        self.seen["background_done"] = True

    async def http_hang(self, scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(5)

    async def http_disconnect(self, scope: Scope, receive: Receive, send: Send) -> None:
        await read_body(receive)
        waiter = asyncio.ensure_future(receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await asyncio.sleep(0.05)
        self.seen["returned_early"] = waiter.done()
        await send({"type": "http.response.body", "body": b"-end"})
        self.seen["after_response"] = await asyncio.wait_for(waiter, 1)

    async def http_trailers(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.unknown-extension", "whatever": 1})
        await send({"type": "http.response.body", "body": b"with trailers"})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"1")]})

    # -- websockets ----------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        connect = await receive()
        assert connect["type"] == "websocket.connect"
        path = scope["path"]
        if path == "/ws/deny-close":
            await send({"type": "websocket.close", "code": 4403, "reason": "go away"})
            return
        if path == "/ws/deny-http":
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 401,
                    "headers": [(b"x-why", b"token"), (b"content-type", b"text/plain")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": b"no", "more_body": True})
            await send({"type": "websocket.http.response.body", "body": b"pe"})
            return
        subprotocols = scope["subprotocols"]
        accept: dict[str, Any] = {"type": "websocket.accept", "headers": [(b"x-ws", b"1")]}
        if subprotocols:
            accept["subprotocol"] = subprotocols[-1]
        await send(accept)
        if path == "/ws/error":
            raise RuntimeError("ws boom")
        if path == "/ws/scope":
            info = describe(scope, [])
            info["subprotocols"] = subprotocols
            info["extensions"] = scope.get("extensions")
            await send({"type": "websocket.send", "text": json.dumps(info)})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.seen["disconnect"] = (message.get("code"), message.get("reason"))
                return
            if message.get("text") == "bye":
                await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
                self.seen["after_close"] = await receive()
                return
            if path == "/ws/silent":
                continue
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message["bytes"]})


# -- the lifespan app -----------------------------------------------------------------------


class LifespanApp:
    """Stores state at startup; fails startup / shutdown on demand."""

    def __init__(
        self, *, fail_startup: bool = False, fail_shutdown: bool = False, crash: bool = False
    ) -> None:
        self.events: list[str] = []
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown
        self.crash = crash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(scope, receive, send)
            return
        await read_body(receive)
        state = scope["state"]
        loop_matches = state.get("loop") is asyncio.get_running_loop()
        seen_before = state.get("added_by_request", False)
        state["added_by_request"] = True  # a copy: later requests must not see it
        state["counter"].append(1)  # a shared object: later requests see it
        await send_json(
            send,
            {
                "greeting": state.get("greeting"),
                "same_loop": loop_matches,
                "seen_before": seen_before,
                "counter": len(state["counter"]),
            },
        )

    async def lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        if self.crash:
            raise RuntimeError("startup crashed")
        if self.fail_startup:
            await send({"type": "lifespan.startup.failed", "message": "no database"})
            return
        scope["state"].update(greeting="hello", loop=asyncio.get_running_loop(), counter=[])
        self.events.append("startup")
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        assert message["type"] == "lifespan.shutdown"
        self.events.append("shutdown")
        if self.fail_shutdown:
            await send({"type": "lifespan.shutdown.failed", "message": "could not flush"})
        else:
            await send({"type": "lifespan.shutdown.complete"})


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def app() -> DemoApp:
    return DemoApp()


@pytest.fixture
def client(app: DemoApp) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def upload_files(tmp_path: Path) -> tuple[Path, Path]:
    first = tmp_path / "hello.txt"
    first.write_bytes(b"hello file")
    second = tmp_path / "data.json"
    second.write_bytes(b'{"x": 1}')
    return first, second


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


# -- the scope ------------------------------------------------------------------------------


def test_http_scope_is_built_like_a_server(client: TestClient) -> None:
    data = client.get("/a%20b/c%2Fd?x=1&y=%20").json()

    assert data["type"] == "http"
    assert data["asgi"] == {"version": "3.0", "spec_version": "2.3"}
    assert data["http_version"] == "1.1"
    assert data["method"] == "GET"
    assert data["scheme"] == "http"
    assert data["server"] == ["testserver", 80]
    assert data["client"] == ["testclient", 50000]
    assert data["root_path"] == ""
    assert data["path"] == "/a b/c/d"
    assert data["raw_path"] == "/a%20b/c%2Fd"
    assert data["query_string"] == "x=1&y=%20"
    assert header(data, "host") == "testserver"
    assert header(data, "user-agent") == "testclient"
    assert all(name == name.lower() for name, _ in data["headers"])


def test_scope_content_length_and_body(client: TestClient) -> None:
    data = client.post("/echo", content=b"12345").json()

    assert header(data, "content-length") == "5"
    assert data["body"] == "12345"
    assert data["messages"] == 1


def test_scope_options(app: DemoApp) -> None:
    with TestClient(
        app,
        base_url="https://example.org:8443",
        root_path="/api",
        client=("10.0.0.1", 1234),
        headers={"X-Default": "yes"},
    ) as client:
        data = client.get("/items").json()

    assert data["scheme"] == "https"
    assert data["server"] == ["example.org", 8443]
    assert data["client"] == ["10.0.0.1", 1234]
    assert data["root_path"] == "/api"
    assert data["path"] == "/api/items"
    assert data["raw_path"] == "/api/items"
    assert header(data, "host") == "example.org:8443"
    assert header(data, "x-default") == "yes"


def test_receive_blocks_until_the_response_is_complete(client: TestClient, app: DemoApp) -> None:
    response = client.post("/disconnect", content=b"body")

    assert response.text == "part-end"
    assert app.seen["returned_early"] is False
    assert app.seen["after_response"] == {"type": "http.disconnect"}


def test_head_response_has_no_body(client: TestClient) -> None:
    response = client.head("/echo")

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_trailers_and_unknown_messages(client: TestClient) -> None:
    assert client.get("/trailers").text == "with trailers"


# -- httpx-style calls ----------------------------------------------------------------------


def test_httpx_style_methods(client: TestClient) -> None:
    for method in ("get", "head", "options", "delete"):
        response = getattr(client, method)("/echo", params={"a": "1"}, headers={"X-M": method})
        assert response.status_code == 200
        if method != "head":
            data = response.json()
            assert data["method"] == method.upper()
            assert data["query_string"] == "a=1"
            assert header(data, "x-m") == method
    for method in ("post", "put", "patch"):
        data = getattr(client, method)("/echo", json={"n": 1}).json()
        assert data["method"] == method.upper()
        assert json.loads(data["body"]) == {"n": 1}
        assert header(data, "content-type") == "application/json"

    data = client.request("PURGE", "/echo", content="raw").json()
    assert data["method"] == "PURGE"
    assert data["body"] == "raw"

    data = client.post("/echo", data={"a": "1", "b": "two"}).json()
    assert data["body"] == "a=1&b=two"
    assert header(data, "content-type") == "application/x-www-form-urlencoded"


def test_httpx_style_files_and_per_request_cookies(client: TestClient) -> None:
    data = client.post(
        "/echo", files={"upload": ("a.txt", b"file body", "text/plain")}, cookies={"c": "1"}
    ).json()

    assert 'filename="a.txt"' in data["body"]
    assert "file body" in data["body"]
    assert header(data, "cookie") == "c=1"


def test_redirects_are_followed(client: TestClient) -> None:
    response = client.get("/redirect")
    assert response.status_code == 200
    assert response.json()["path"] == "/landed"
    assert len(response.history) == 1

    assert client.get("/redirect", follow_redirects=False).status_code == 302

    with TestClient(DemoApp(), follow_redirects=False) as no_follow:
        assert no_follow.get("/redirect").status_code == 302


def test_read_timeout(client: TestClient) -> None:
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get("/hang", timeout=0.2).execute()
    assert time.monotonic() - started < 2


def test_the_app_finishes_before_the_response_is_returned(client: TestClient, app: DemoApp) -> None:
    assert client.get("/background").text == "accepted"
    assert app.seen["background_done"] is True


# -- the fluent builder ---------------------------------------------------------------------


def test_fluent_query_and_headers(client: TestClient) -> None:
    response = (
        client.get("/echo")
        .query("a", 1)
        .query("a", 2)
        .query("q", "x y")
        .query("flag", True)
        .set("X-Token", "t1")
        .set("x-token", "t2")
        .execute()
    )

    data = response.json()
    assert parse_qs(data["query_string"]) == {"a": ["1", "2"], "q": ["x y"], "flag": ["true"]}
    assert [v for k, v in data["headers"] if k == "x-token"] == ["t2"]


def test_fluent_query_merges_with_params_and_url(client: TestClient) -> None:
    data = client.get("/echo?z=0", params={"a": "1"}).json()
    assert parse_qs(data["query_string"]) == {"z": ["0"], "a": ["1"]}
    data = client.get("/echo?z=0").query("a", "1").query("b", "2").json()
    assert parse_qs(data["query_string"]) == {"z": ["0"], "a": ["1"], "b": ["2"]}


def test_httpx_style_arguments_send_the_request_at_once(client: TestClient) -> None:
    sent = client.post("/echo", json={"a": 1})
    assert "executed" in repr(sent)
    with pytest.raises(RuntimeError, match="already"):
        sent.query("b", "2")


def test_fluent_json_body(client: TestClient) -> None:
    response = client.post("/echo").json({"name": "Ada", "age": 36}).execute()

    data = response.json()
    assert json.loads(data["body"]) == {"name": "Ada", "age": 36}
    assert header(data, "content-type") == "application/json"


def test_fluent_json_keeps_an_explicit_content_type(client: TestClient) -> None:
    data = (
        client.post("/echo").set("Content-Type", "application/vnd.api+json").json([1, None]).json()
    )
    assert header(data, "content-type") == "application/vnd.api+json"
    assert data["body"] == "[1,null]"


def test_fluent_form_data_is_urlencoded(client: TestClient) -> None:
    data = client.post("/echo").form_data({"user": "ada", "tags": ["a", "b"]}).json()

    assert header(data, "content-type") == "application/x-www-form-urlencoded"
    assert parse_qs(data["body"]) == {"user": ["ada"], "tags": ["a", "b"]}


def test_fluent_file_upload_with_form_data(
    client: TestClient, upload_files: tuple[Path, Path]
) -> None:
    hello, _ = upload_files
    data = client.post("/upload").file({"avatar": str(hello)}).form_data({"username": "ex"}).json()

    content_type = header(data, "content-type")
    assert content_type is not None
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=")[1]
    body = data["body"]
    assert f"--{boundary}" in body
    assert 'name="avatar"; filename="hello.txt"' in body
    assert "Content-Type: text/plain" in body
    assert "hello file" in body
    assert 'name="username"' in body
    assert "\r\nex\r\n" in body


def test_fluent_files_several_per_field(
    client: TestClient, upload_files: tuple[Path, Path]
) -> None:
    hello, data_json = upload_files
    data = client.post("/upload").files({"docs": [hello, data_json], "one": str(hello)}).json()

    body = data["body"]
    assert body.count('name="docs"') == 2
    assert 'filename="hello.txt"' in body
    assert 'filename="data.json"' in body
    assert '{"x": 1}' in body
    assert 'name="one"; filename="hello.txt"' in body


def test_fluent_send_raw(client: TestClient) -> None:
    data = client.post("/echo").send("raw text é").json()
    assert data["body"] == "raw text é".encode().decode("latin-1")
    assert header(data, "content-type") == "text/plain; charset=utf-8"

    data = client.put("/echo").send(b"\x00\x01").json()
    assert data["body"] == "\x00\x01"
    assert header(data, "content-type") is None


def test_fluent_body_on_delete(client: TestClient) -> None:
    data = client.delete("/echo").json({"why": "test"}).json()
    assert data["method"] == "DELETE"
    assert json.loads(data["body"]) == {"why": "test"}


@pytest.mark.parametrize(
    "build",
    [
        lambda r: r.form_data({"a": "1"}).json({"b": 2}),
        lambda r: r.send("x").json({"b": 2}),
        lambda r: r.json({"b": 2}).send("x"),
        lambda r: r.json({"b": 2}).form_data({"a": "1"}),
        lambda r: r.send(b"x").form_data({"a": "1"}),
        lambda r: r.json({"b": 2}).json({"c": 3}),
        lambda r: r.send("x").send("y"),
    ],
)
def test_mixing_body_kinds_raises(client: TestClient, build: Callable[[Any], Any]) -> None:
    with pytest.raises(ValueError, match="body"):
        build(client.post("/echo"))


def test_mixing_file_with_json_or_raw_raises(
    client: TestClient, upload_files: tuple[Path, Path]
) -> None:
    hello, _ = upload_files
    with pytest.raises(ValueError, match=r"\.file"):
        client.post("/u").json({"a": 1}).file({"f": hello})
    with pytest.raises(ValueError, match=r"\.send"):
        client.post("/u").files({"f": [hello]}).send("x")
    with pytest.raises(ValueError, match=r"\.json"):
        client.post("/u").json({"a": 1}).send("x")


def test_missing_upload_file_raises_at_build_time(client: TestClient, tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        client.post("/u").file({"f": missing})
    with pytest.raises(FileNotFoundError):
        client.post("/u").files({"f": [missing]})
    with pytest.raises(TypeError, match=r"\.files\(\)"):
        client.post("/u").file({"f": [str(missing)]})  # type: ignore[dict-item]


def test_a_failed_build_cannot_be_used(client: TestClient) -> None:
    request = client.post("/u").json({"a": 1})
    with pytest.raises(ValueError):
        request.send("x")
    with pytest.raises(RuntimeError, match="failed to build"):
        request.execute()


def test_modifying_after_execute_raises(client: TestClient) -> None:
    request = client.post("/echo").json({"a": 1})
    response = request.execute()

    assert request.execute() is response  # executing again returns the same response
    with pytest.raises(RuntimeError, match="already executed"):
        request.set("X-A", "1")
    with pytest.raises(RuntimeError, match="already executed"):
        request.query("a", "1")
    with pytest.raises(RuntimeError, match="already executed"):
        request.json({"b": 2})


def test_reading_a_response_attribute_executes(client: TestClient) -> None:
    request = client.get("/echo")
    assert isinstance(request, TestRequest)
    assert "not executed" in repr(request)

    assert request.status_code == 200
    assert "(executed)" in repr(request)
    assert request.status == 200
    assert request.is_success
    assert request.headers["content-type"] == "application/json"
    assert request.url == "http://testserver/echo"
    assert request.request.method == "GET"
    assert request.http_version == "HTTP/1.1"
    assert request.reason_phrase == "OK"
    assert request.elapsed.total_seconds() >= 0
    assert request.encoding == "utf-8"
    assert json.loads(request.text)["path"] == "/echo"
    assert request.content == request.blob() == request.read()
    assert b"".join(request.iter_bytes()) == request.content
    assert request.raise_for_status() is request.execute()
    assert request.num_bytes_downloaded > 0  # anything else httpx.Response has


def test_execute_returns_a_test_response(client: TestClient) -> None:
    response = client.post("/echo").send("x").execute()

    assert isinstance(response, TestResponse)
    assert isinstance(response, httpx.Response)
    assert response.status == response.status_code == 200
    assert response.blob() == response.content


def test_an_app_error_is_raised_again_on_later_reads() -> None:
    with TestClient(DemoApp()) as client:
        request = client.get("/error")
        with pytest.raises(RuntimeError, match="boom"):
            request.execute()
        with pytest.raises(RuntimeError, match="boom"):
            request.status_code  # noqa: B018


def test_a_request_never_executed_warns(client: TestClient) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.delete("/items/1")
        gc.collect()

    messages = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert messages == ["request built but never executed: DELETE /items/1"]


def test_executed_or_failed_requests_do_not_warn(client: TestClient) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.get("/echo").execute()
        assert client.get("/echo").status == 200
        with pytest.raises(ValueError):
            client.post("/x").json({}).send("y")
        gc.collect()

    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# -- cookies --------------------------------------------------------------------------------


def test_cookies_persist_across_requests(client: TestClient) -> None:
    response = client.get("/set-cookie")
    assert response.cookies["sid"] == "abc123"

    data = client.get("/echo").json()
    assert header(data, "cookie") == "sid=abc123"
    assert client.cookies["sid"] == "abc123"


def test_constructor_cookies_and_jar_assignment(app: DemoApp) -> None:
    with TestClient(app, cookies={"pre": "1"}) as client:
        assert header(client.get("/echo").json(), "cookie") == "pre=1"
        client.cookies = {"other": "2"}
        assert header(client.get("/echo").json(), "cookie") == "other=2"


def test_secure_cookies_need_https(app: DemoApp) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        client.get("/secure-cookie").execute()
        assert header(client.get("/echo").json(), "cookie") == "token=s3cret"

    with TestClient(app) as plain:
        plain.get("/secure-cookie").execute()
        assert header(plain.get("/echo").json(), "cookie") is None


# -- server exceptions ----------------------------------------------------------------------


def test_app_exceptions_are_raised_in_the_test(client: TestClient) -> None:
    with pytest.raises(RuntimeError, match=r"^boom$"):
        client.get("/error").execute()
    with pytest.raises(RuntimeError, match="late boom"):
        client.get("/error-after-start").execute()
    with pytest.raises(RuntimeError, match="background boom"):
        client.get("/error-after-response").execute()
    with pytest.raises(RuntimeError, match=r"without sending 'http\.response\.start'"):
        client.get("/no-response").execute()


def test_app_exceptions_become_500_when_asked(app: DemoApp) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/error")
        assert response.status_code == 500
        assert response.text == "Internal Server Error"

        assert client.get("/no-response").status_code == 500

        partial = client.get("/error-after-start")
        assert partial.status_code == 200
        assert partial.content == b"partial"

        assert client.get("/error-after-response").text == "done"


def _raw_app(*messages: dict[str, Any]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        for message in messages:
            await send(message)

    return app


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.start", "status": 200},
            ],
            "'http.response.start' twice",
        ),
        ([{"type": "http.response.body", "body": b"x"}], "before 'http.response.start'"),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.body", "body": b"x"},
                {"type": "http.response.body", "body": b"y"},
            ],
            "after the body was complete",
        ),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.body", "body": b"x"},
                {"type": "http.response.trailers", "headers": []},
            ],
            "had not announced",
        ),
        (
            [
                {"type": "http.response.start", "status": 200},
                {"type": "http.response.body", "body": b"x", "more_body": True},
            ],
            "without completing the response",
        ),
    ],
)
def test_asgi_protocol_errors_are_raised(messages: list[dict[str, Any]], error: str) -> None:
    with TestClient(_raw_app(*messages)) as client, pytest.raises(RuntimeError, match=error):
        client.get("/").execute()


# -- streaming ------------------------------------------------------------------------------


def test_streaming_response_yields_chunks_as_sent(client: TestClient) -> None:
    arrivals = []
    started = time.monotonic()
    with client.stream("GET", "/stream") as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            arrivals.append((time.monotonic() - started, chunk))

    chunks = [chunk for _, chunk in arrivals]
    assert b"".join(chunks) == b"chunk0;chunk1;chunk2;"
    assert chunks[:3] == [b"chunk0;", b"chunk1;", b"chunk2;"]
    assert arrivals[0][0] < 0.09  # the first chunk came before the app had finished
    assert arrivals[2][0] - arrivals[0][0] >= 0.15


def test_slow_request_body_arrives_chunk_by_chunk(client: TestClient) -> None:
    def trickle() -> Iterator[bytes]:
        yield b"a"
        time.sleep(0.1)
        yield b"b"
        time.sleep(0.1)
        yield b"c"

    data = client.post("/slow-body", content=trickle()).json()

    assert len(data["arrivals"]) == 3
    assert data["arrivals"][2] - data["arrivals"][0] >= 0.15


def test_too_slow_request_body_gets_408(client: TestClient) -> None:
    def stall() -> Iterator[bytes]:
        yield b"a"
        time.sleep(0.45)
        yield b"b"

    response = client.post("/slow-body").send(stall()).execute()

    assert response.status_code == 408
    assert response.json() == {"received": 1}


def test_a_failing_request_body_is_raised(client: TestClient) -> None:
    def broken() -> Iterator[bytes]:
        yield b"a"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        client.post("/echo", content=broken()).execute()


# -- lifespan -------------------------------------------------------------------------------


def test_lifespan_startup_and_shutdown() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        assert app.events == ["startup"]
        assert client.lifespan_state["greeting"] == "hello"
        first = client.get("/").json()
        second = client.get("/").json()
    assert app.events == ["startup", "shutdown"]

    assert first == {"greeting": "hello", "same_loop": True, "seen_before": False, "counter": 1}
    assert second["seen_before"] is False  # each request gets a shallow copy of the state
    assert second["counter"] == 2  # ...whose values are shared


def test_lifespan_can_run_again() -> None:
    app = LifespanApp()
    client = TestClient(app)
    with client:
        client.get("/").execute()
    with client:
        assert client.get("/").json()["counter"] == 1  # fresh state
    client.close()
    assert app.events == ["startup", "shutdown", "startup", "shutdown"]


def test_lifespan_cannot_be_nested() -> None:
    with TestClient(LifespanApp()) as client, pytest.raises(RuntimeError, match="already"):
        client.__enter__()


def test_lifespan_startup_failure() -> None:
    app = LifespanApp(fail_startup=True)
    with pytest.raises(LifespanError, match="no database"), TestClient(app):
        pass


def test_lifespan_startup_crash_is_raised() -> None:
    with pytest.raises(RuntimeError, match="startup crashed"), TestClient(LifespanApp(crash=True)):
        pass


def test_lifespan_that_hangs_is_bounded_by_the_timeout() -> None:
    async def hangs(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.sleep(5)

    started = time.monotonic()
    with (
        pytest.raises(LifespanError, match=r"startup within 0\.2 s"),
        TestClient(hangs, timeout=0.2),
    ):
        pass
    assert time.monotonic() - started < 2


def test_lifespan_shutdown_failure() -> None:
    app = LifespanApp(fail_shutdown=True)
    with pytest.raises(LifespanError, match="could not flush"), TestClient(app):
        pass
    assert app.events == ["startup", "shutdown"]


def test_no_lifespan_without_with() -> None:
    app = LifespanApp()
    client = TestClient(app)
    try:
        with pytest.raises(KeyError):  # no startup ran, so the state is empty
            client.get("/").execute()
    finally:
        client.close()
    assert app.events == []


def test_apps_without_lifespan_support_are_tolerated(app: DemoApp) -> None:
    async def returns_at_once(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send_text(send, "ok")

    with TestClient(app) as client:  # DemoApp raises for "lifespan"
        assert client.get("/echo").status_code == 200
    with TestClient(returns_at_once) as client:
        assert client.get("/").text == "ok"


def test_client_without_with_and_close() -> None:
    client = TestClient(DemoApp())
    assert client.get("/echo").status_code == 200
    client.close()
    client.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        client.get("/echo").execute()


def test_dropped_client_stops_its_loop_thread() -> None:
    import threading

    def loop_threads() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "avian-testclient-loop"}

    before = loop_threads()
    client = TestClient(DemoApp())
    assert client.get("/echo").status_code == 200
    (thread,) = loop_threads() - before
    del client
    gc.collect()
    thread.join(2)
    assert not thread.is_alive()


# -- websockets (sync) ----------------------------------------------------------------------


def test_websocket_echo(client: TestClient, app: DemoApp) -> None:
    with client.websocket_connect("/ws") as ws:
        assert ws.accepted_subprotocol is None
        assert ws.extra_headers["x-ws"] == "1"
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_bytes() == b"\x00\x01"
        ws.send_json({"a": [1, 2]})
        assert ws.receive_json() == {"a": [1, 2]}
        ws.send_json({"b": 1}, mode="binary")
        assert ws.receive_json() == {"b": 1}
        ws.send_text("raw")
        assert ws.receive() == {"type": "websocket.send", "text": "raw"}
    assert app.seen["disconnect"] == (1000, "")


def test_websocket_scope(client: TestClient) -> None:
    client.get("/set-cookie").execute()
    with client.websocket_connect("/ws/scope?x=1", subprotocols=["chat", "json"]) as ws:
        info = ws.receive_json()
        assert ws.accepted_subprotocol == "json"

    assert info["type"] == "websocket"
    assert info["scheme"] == "ws"
    assert info["path"] == "/ws/scope"
    assert info["raw_path"] == "/ws/scope"
    assert info["query_string"] == "x=1"
    assert info["server"] == ["testserver", 80]
    assert info["client"] == ["testclient", 50000]
    assert info["subprotocols"] == ["chat", "json"]
    assert info["extensions"] == {"websocket.http.response": {}}
    assert header(info, "host") == "testserver"
    assert header(info, "sec-websocket-version") == "13"
    assert header(info, "sec-websocket-protocol") == "chat, json"
    assert header(info, "cookie") == "sid=abc123"


def test_websocket_wss_scheme(app: DemoApp) -> None:
    with (
        TestClient(app, base_url="https://testserver") as client,
        client.websocket_connect("/ws/scope") as ws,
    ):
        assert ws.receive_json()["scheme"] == "wss"


def test_websocket_server_close(client: TestClient, app: DemoApp) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text("bye")
        with pytest.raises(WebSocketDisconnected) as info:
            ws.receive_text()
        assert (info.value.code, info.value.reason) == (4000, "bye")
        with pytest.raises(WebSocketDisconnected):
            ws.send_text("again")
        with pytest.raises(WebSocketDisconnected):
            ws.receive()
    assert app.seen["after_close"]["type"] == "websocket.disconnect"


def test_websocket_raw_receive_returns_the_close(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_text("bye")
        assert ws.receive() == {"type": "websocket.close", "code": 4000, "reason": "bye"}


def test_websocket_client_close_code(client: TestClient, app: DemoApp) -> None:
    ws = client.websocket_connect("/ws")
    ws.send_text("x")
    assert ws.receive_text() == "x"
    ws.close(4001, "done")
    assert app.seen["disconnect"] == (4001, "done")
    with pytest.raises(WebSocketDisconnected):
        ws.send_text("after")


def test_websocket_denied_by_close(client: TestClient) -> None:
    with pytest.raises(WebSocketDenied) as info:
        client.websocket_connect("/ws/deny-close")
    assert info.value.status_code == 403
    assert (info.value.code, info.value.reason) == (4403, "go away")


def test_websocket_denied_by_http_response(client: TestClient) -> None:
    with pytest.raises(WebSocketDenied) as info, client.websocket_connect("/ws/deny-http"):
        pass
    assert info.value.status_code == 401
    assert info.value.headers["x-why"] == "token"
    assert info.value.body == b"nope"
    assert info.value.code is None


def test_websocket_receive_timeout(client: TestClient) -> None:
    with client.websocket_connect("/ws/silent", timeout=5) as ws:
        ws.send_text("no echo")
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            ws.receive_text(timeout=0.1)
        assert time.monotonic() - started < 1


def test_websocket_wrong_message_kind(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"x")
        with pytest.raises(TypeError, match="expected a text"):
            ws.receive_text()


def test_websocket_app_error(app: DemoApp) -> None:
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws/error") as ws,
        pytest.raises(RuntimeError, match="ws boom"),
    ):
        ws.receive_text()

    with (
        TestClient(app, raise_server_exceptions=False) as client,
        client.websocket_connect("/ws/error") as ws,
    ):
        with pytest.raises(WebSocketDisconnected) as info:
            ws.receive_text()
        assert info.value.code == 1011


def test_websocket_app_that_never_accepts() -> None:
    async def returns(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await receive()

    with TestClient(returns) as client, pytest.raises(RuntimeError, match="without accepting"):
        client.websocket_connect("/ws")

    with (
        TestClient(returns, raise_server_exceptions=False) as client,
        pytest.raises(WebSocketDenied) as info,
    ):
        client.websocket_connect("/ws")
    assert info.value.status_code == 500


def test_websocket_send_before_accept_is_a_protocol_error() -> None:
    async def eager(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()
        await send({"type": "websocket.send", "text": "too early"})

    with TestClient(eager) as client, pytest.raises(RuntimeError, match="before 'websocket"):
        client.websocket_connect("/ws")


# -- the async client -----------------------------------------------------------------------


def test_async_requests() -> None:
    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            request = client.get("/echo")
            assert isinstance(request, AsyncTestRequest)
            response = await request
            assert isinstance(response, TestResponse)
            assert response.status == 200

            response = await client.post("/echo").json({"a": 1})
            assert json.loads(response.json()["body"]) == {"a": 1}

            response = await client.post("/echo").json({"a": 2}).execute()
            assert json.loads(response.json()["body"]) == {"a": 2}

            data = await client.put("/echo").query("x", "1").set("X-A", "b").send("raw").json()
            assert data["method"] == "PUT"
            assert data["query_string"] == "x=1"
            assert header(data, "x-a") == "b"

            data = (await client.patch("/echo", json={"k": "v"})).json()
            assert json.loads(data["body"]) == {"k": "v"}

            request = client.get("/echo")
            await request
            assert request.status_code == 200  # delegated once awaited

    run(main())


def test_async_unawaited_builder_attribute_raises() -> None:
    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            request = client.get("/echo")
            with pytest.raises(TypeError, match="await"):
                request.status_code  # noqa: B018
            with pytest.raises(TypeError, match="await"):
                request.text  # noqa: B018
            await request

    run(main())


def test_async_never_executed_warns() -> None:
    async def main() -> list[str]:
        client = AsyncTestClient(DemoApp())
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            client.post("/later").json({"a": 1})
            gc.collect()
        await client.aclose()
        return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]

    assert run(main()) == ["request built but never executed: POST /later"]


def test_async_files_and_cookies(upload_files: tuple[Path, Path]) -> None:
    hello, other = upload_files

    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            await client.get("/set-cookie")
            data = await client.post("/u").file({"f": hello}).files({"g": [other]}).json()
            assert 'filename="hello.txt"' in data["body"]
            assert 'filename="data.json"' in data["body"]
            assert header(data, "cookie") == "sid=abc123"

    run(main())


def test_async_lifespan_and_state() -> None:
    app = LifespanApp()

    async def main() -> None:
        async with AsyncTestClient(app) as client:
            assert app.events == ["startup"]
            data = (await client.get("/")).json()
            assert data["greeting"] == "hello"
            assert data["same_loop"] is True
        assert app.events == ["startup", "shutdown"]

        with pytest.raises(LifespanError, match="no database"):
            async with AsyncTestClient(LifespanApp(fail_startup=True)):
                pass

    run(main())


def test_async_server_exceptions() -> None:
    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            with pytest.raises(RuntimeError, match="boom"):
                await client.get("/error")
        async with AsyncTestClient(DemoApp(), raise_server_exceptions=False) as client:
            assert (await client.get("/error")).status_code == 500

    run(main())


def test_async_streaming_response() -> None:
    async def main() -> list[tuple[float, bytes]]:
        arrivals = []
        async with AsyncTestClient(DemoApp()) as client:
            started = time.monotonic()
            async with client.stream("GET", "/stream") as response:
                async for chunk in response.aiter_raw():
                    arrivals.append((time.monotonic() - started, chunk))
        return arrivals

    arrivals = run(main())
    assert [chunk for _, chunk in arrivals][:3] == [b"chunk0;", b"chunk1;", b"chunk2;"]
    assert arrivals[0][0] < 0.09
    assert arrivals[2][0] - arrivals[0][0] >= 0.15


def test_async_early_close_of_a_stream() -> None:
    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            async with client.stream("GET", "/stream") as response:
                async for chunk in response.aiter_raw():
                    assert chunk == b"chunk0;"
                    break
            assert (await client.get("/echo")).status_code == 200

    run(main())


def test_async_slow_body() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.1)
        yield b"b"
        await asyncio.sleep(0.1)
        yield b"c"

    async def stall() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.45)
        yield b"b"

    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            data = await client.post("/slow-body").send(trickle()).json()
            assert len(data["arrivals"]) == 3
            assert data["arrivals"][2] - data["arrivals"][0] >= 0.15

            started = time.monotonic()
            response = await client.post("/slow-body", content=stall())
            assert response.status_code == 408
            assert response.json() == {"received": 1}
            assert time.monotonic() - started < 0.4  # answered at the app's timeout

    run(main())


def test_async_websockets() -> None:
    app = DemoApp()

    async def main() -> None:
        async with AsyncTestClient(app) as client:
            async with client.websocket_connect("/ws", subprotocols=["v1"]) as ws:
                assert ws.accepted_subprotocol == "v1"
                assert ws.extra_headers["x-ws"] == "1"
                await ws.send_text("hi")
                assert await ws.receive_text() == "hi"
                await ws.send_bytes(b"b")
                assert await ws.receive_bytes() == b"b"
                await ws.send_json([1])
                assert await ws.receive_json() == [1]
                await ws.send({"type": "websocket.receive", "text": "raw"})
                assert (await ws.receive())["text"] == "raw"
                await ws.send_text("bye")
                with pytest.raises(WebSocketDisconnected) as info:
                    await ws.receive_text()
                assert info.value.code == 4000

            ws = await client.websocket_connect("/ws")
            await ws.send_text("x")
            assert await ws.receive_text() == "x"
            await ws.close(4002)
            assert app.seen["disconnect"] == (4002, "")

            with pytest.raises(WebSocketDenied) as denied:
                async with client.websocket_connect("/ws/deny-http"):
                    pass
            assert denied.value.status_code == 401
            assert denied.value.body == b"nope"

            with pytest.raises(WebSocketDenied) as denied:
                await client.websocket_connect("/ws/deny-close")
            assert denied.value.code == 4403

            async with client.websocket_connect("/ws/silent") as ws:
                with pytest.raises(TimeoutError):
                    await ws.receive_text(timeout=0.1)

            not_connected = client.websocket_connect("/ws")
            with pytest.raises(RuntimeError, match="not connected"):
                await not_connected.send_text("x")

    run(main())


# -- odds and ends -------------------------------------------------------------------------


def test_build_errors_from_keyword_arguments(client: TestClient) -> None:
    with pytest.raises(ValueError, match="body"):
        client.post("/x", json={"a": 1}, content=b"x")
    with pytest.raises(TypeError, match="cannot encode the JSON body"):
        client.post("/x").json(object())


def test_client_properties(app: DemoApp) -> None:
    with TestClient(app, base_url="http://testserver/base/") as client:
        assert client.base_url == "http://testserver/base/"
        assert client.app is app
        client.headers["X-Later"] = "1"
        data = client.get("items").json()
        assert data["path"] == "/base/items"
        assert header(data, "x-later") == "1"


def test_close_inside_with_runs_the_shutdown() -> None:
    app = LifespanApp()
    with TestClient(app) as client:
        client.close()
        assert app.events == ["startup", "shutdown"]


def test_close_with_a_websocket_left_open(client: TestClient) -> None:
    ws = client.websocket_connect("/ws/scope", headers={"X-Extra": "1"})
    assert header(ws.receive_json(), "x-extra") == "1"
    ws.send({"type": "websocket.receive", "text": "raw"})
    assert ws.receive_text() == "raw"
    client.close()  # the app task still waits for a message: it is cancelled with the loop
    ws.close()  # nothing left to close


def test_async_failing_request_body() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a"
        raise OSError("stream broke")

    async def main() -> None:
        async with AsyncTestClient(DemoApp()) as client:
            with pytest.raises(OSError, match="stream broke"):
                await client.post("/slow-body", content=broken())

    run(main())


def test_async_builder_runs_once() -> None:
    async def main() -> None:
        client = AsyncTestClient(LifespanApp())
        async with client:
            request = client.get("/")
            first = asyncio.ensure_future(request.execute())
            await asyncio.sleep(0)
            with pytest.raises(RuntimeError, match="already being executed"):
                await request.execute()
            response = await first
            assert await request is response
            await client.aclose()  # inside the block: runs the shutdown

    run(main())


# -- packaging ------------------------------------------------------------------------------


def test_missing_httpx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in sys.modules if n == "avian.testing" or n.startswith("avian.testing.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "httpx", None)

    with pytest.raises(ImportError, match=r"pip install 'avian\[testing\]'"):
        importlib.import_module("avian.testing")


def test_avian_does_not_import_the_test_client() -> None:
    import avian

    assert "testing" not in avian.__all__
