"""Websockets end to end: raw ASGI apps served by a real uvicorn, driven by the `websockets`
client library over TCP.  Every wait is bounded; every server is stopped.

The last sections hold a few in-process checks (drain accounting with a slow ``send``, the
origin policy, handler registration errors) that need no server.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from avian.errors import ConfigurationError
from avian.websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketError,
    WebSocketState,
    normalize_allowed_origins,
    normalize_ws_handler,
    run_websocket,
)

pytestmark = pytest.mark.e2e

TIMEOUT = 5.0  # any single wait
SCENARIO_TIMEOUT = 15.0  # a whole test


def _load_apps() -> ModuleType:
    """Import ``tests/websockets/apps`` under a unique name (other areas may have ``apps``)."""
    name = "avian_tests_websocket_apps"
    if name in sys.modules:
        return sys.modules[name]
    folder = Path(__file__).parent / "apps"
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None
    assert spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


_load_apps()
asgi = importlib.import_module("avian_tests_websocket_apps.asgi")
echo = importlib.import_module("avian_tests_websocket_apps.echo")
lifecycle = importlib.import_module("avian_tests_websocket_apps.lifecycle")
Route, WsApp, Log = asgi.Route, asgi.WsApp, echo.Log


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT))


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port of 127.0.0.1; yield its ``ws://`` base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", log_config=None, ws_ping_interval=None
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # bounded by the scenario's timeout
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)


def client(url: str, **options: Any) -> connect:
    return connect(url, open_timeout=TIMEOUT, close_timeout=TIMEOUT, **options)


async def recv(conn: ClientConnection) -> str | bytes:
    return await asyncio.wait_for(conn.recv(), TIMEOUT)


async def closed_with(conn: ClientConnection) -> tuple[int | None, str | None]:
    """Wait for the closing handshake; the close code and reason the server sent."""
    try:
        while True:  # drain anything still queued before the close frame
            await asyncio.wait_for(conn.recv(), TIMEOUT)
    except ConnectionClosed:
        pass
    return conn.close_code, conn.close_reason


async def handshake_status(url: str, **options: Any) -> int:
    """Open a connection that is expected to be refused; the HTTP status of the refusal."""
    with pytest.raises(InvalidStatus) as info:
        async with client(url, **options):
            pass
    return info.value.response.status_code


# ---------------------------------------------------------------------------------------------
# Function form


def test_function_form_echoes_text_bytes_and_json() -> None:
    app = WsApp({"/echo": echo.echo, "/json": echo.echo_json})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/echo") as conn:
                await conn.send("hello")
                assert await recv(conn) == "hello"
                await conn.send(b"\x00\x01binary")
                assert await recv(conn) == b"\x00\x01binary"
            async with client(base + "/json") as conn:
                await conn.send('{"a": [1, 2, {"b": null}]}')
                reply = await recv(conn)
                assert isinstance(reply, str)  # JSON goes out as a text frame
                assert msgspec.json.decode(reply) == {"got": {"a": [1, 2, {"b": None}]}}
                await conn.send(b'"binary frames hold JSON too"')
                assert msgspec.json.decode(await recv(conn)) == {
                    "got": "binary frames hold JSON too"
                }
        assert app.errors == []

    run(scenario)


def test_server_close_code_and_reason_reach_the_client() -> None:
    app = WsApp({"/echo": echo.echo})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/echo") as conn:
            await conn.send("bye")
            assert await closed_with(conn) == (4000, "see you")

    run(scenario)


def test_handler_returning_without_closing_closes_1000_and_sends_bytes_like_data() -> None:
    app = WsApp({"/bin": echo.binary_pieces})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/bin") as conn:
            await conn.send(b"raw")
            assert await recv(conn) == b"raw"
            assert await recv(conn) == b"bytearray"
            assert await recv(conn) == b"memoryview"
            assert await closed_with(conn) == (1000, "")

    run(scenario)


def test_handshake_information_reaches_the_handler() -> None:
    app = WsApp({"/rooms/{room}/{seat:int}": echo.info})

    async def scenario() -> None:
        async with (
            serving(app) as base,
            client(
                base + "/rooms/lobby/7?q=caf%C3%A9&tag=a&tag=b",
                subprotocols=["chat", "superchat"],
                additional_headers={"X-Custom": "value", "Cookie": 'sid=abc; theme="dark"'},
            ) as conn,
        ):
            assert conn.response is not None
            assert conn.response.headers["x-avian"] == "yes"
            got = msgspec.json.decode(await recv(conn))
            assert got == {
                "path": "/rooms/lobby/7",
                "params": {"room": "lobby", "seat": 7},
                "query": "café",
                "tags": ["a", "b"],
                "header": "value",
                "cookies": {"sid": "abc", "theme": "dark"},
                "client_host": "127.0.0.1",
                "subprotocols": ["chat", "superchat"],
                "state": {},
            }
            assert conn.subprotocol is None
            assert await closed_with(conn) == (1000, "")

    run(scenario)


def test_async_iteration_ends_quietly_when_the_client_leaves() -> None:
    log = Log()
    app = WsApp({"/iter": echo.iterate_then_log(log)})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/iter") as conn:
                await conn.send("one")
                await conn.send(b"two")
                await conn.close(4005, "done")
            assert await asyncio.wait_for(log.wait_for(3), TIMEOUT) == [
                "one",
                b"two",
                ("closed", 4005, "done"),
            ]
        assert app.errors == []

    run(scenario)


# ---------------------------------------------------------------------------------------------
# Class, instance and dict forms


def test_class_form_lifecycle_order_with_the_clients_close_code() -> None:
    log = Log()
    app = WsApp({"/chat": lifecycle.recording_handler(log)})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/chat") as conn:
                for text in ("a", "b", "c"):
                    await conn.send(text)
                    assert await recv(conn) == text
                await conn.close(4001, "client done")
            assert await asyncio.wait_for(log.wait_for(5), TIMEOUT) == [
                "open",
                "message:'a'",
                "message:'b'",
                "message:'c'",
                "close:4001:client done",
            ]
        assert app.errors == []

    run(scenario)


def test_class_form_server_close_calls_on_close_once_with_the_servers_code() -> None:
    log = Log()
    app = WsApp({"/chat": lifecycle.recording_handler(log)})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/chat") as conn:
            await conn.send("quit")
            assert await closed_with(conn) == (4002, "server says bye")
            await asyncio.wait_for(log.wait_for(3), TIMEOUT)
        assert log.entries == ["open", "message:'quit'", "close:4002:server says bye"]

    run(scenario)


def test_class_form_error_calls_on_error_then_closes_1011_then_on_close() -> None:
    log = Log()
    app = WsApp({"/chat": lifecycle.recording_handler(log)})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/chat") as conn:
            await conn.send("boom")
            assert await closed_with(conn) == (1011, "internal error")
            await asyncio.wait_for(log.wait_for(4), TIMEOUT)
        assert log.entries == [
            "open",
            "message:'boom'",
            "error:ValueError:connected",  # on_error runs while the socket is still open
            "close:1011:internal error",
        ]
        assert [type(e) for e in app.errors] == [ValueError]  # reported to the app as well

    run(scenario)


def test_function_form_error_closes_1011_and_is_reported() -> None:
    app = WsApp({"/crash": echo.crash_after_accept})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/crash") as conn:
            await conn.send("go")
            assert await closed_with(conn) == (1011, "internal error")
        assert [str(e) for e in app.errors] == ["handler bug"]

    run(scenario)


def test_error_or_no_accept_before_the_handshake_refuses_it_with_403() -> None:
    app = WsApp({"/crash": echo.crash_before_accept, "/lazy": echo.forget_accept})

    async def scenario() -> None:
        async with serving(app) as base:
            assert await handshake_status(base + "/crash") == 403
            assert await handshake_status(base + "/lazy") == 403
        assert [type(e) for e in app.errors] == [LookupError]

    run(scenario)


def test_per_connection_data_and_instances_are_isolated_between_clients() -> None:
    log = Log()
    app = WsApp({"/chat": lifecycle.recording_handler(log)})

    async def scenario() -> None:
        async with (
            serving(app) as base,
            client(base + "/chat?name=alice") as alice,
            client(base + "/chat?name=bob") as bob,
        ):
            await alice.send("whoami")
            await bob.send("whoami")
            await bob.send("whoami")
            await alice.send("whoami")
            assert [await recv(alice), await recv(alice)] == ["alice:1", "alice:2"]
            assert [await recv(bob), await recv(bob)] == ["bob:1", "bob:2"]

    run(scenario)


def test_instance_registration_is_shared_and_class_registration_is_per_connection() -> None:
    app = WsApp({"/shared": lifecycle.SharedCounter(), "/fresh": lifecycle.PerConnectionCounter})

    async def scenario() -> None:
        async with serving(app) as base:
            for expected in ("1", "2", "3"):
                async with client(base + "/shared") as conn:
                    assert await recv(conn) == expected
            for _ in range(2):
                async with client(base + "/fresh") as conn:
                    assert await recv(conn) == "1"

    run(scenario)


def test_dict_form_mixes_sync_and_async_callables() -> None:
    log = Log()
    app = WsApp({"/dict": lifecycle.dict_handlers(log)})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/dict") as conn:
                await conn.send("shout")
                assert await recv(conn) == "SHOUT"
                await conn.close(1000, "")
            assert await asyncio.wait_for(log.wait_for(2), TIMEOUT) == ["open", "close:1000:"]

    run(scenario)


def test_subprotocol_negotiation() -> None:
    app = WsApp(
        {"/versioned": lifecycle.Versioned, "/chooser": lifecycle.Chooser(), "/echo": echo.echo}
    )

    async def scenario() -> None:
        async with serving(app) as base:
            # the client's preference order wins among the protocols the handler supports
            async with client(base + "/versioned", subprotocols=["v1.chat", "v2.chat"]) as conn:
                assert conn.subprotocol == "v1.chat"
                assert await recv(conn) == "protocol:v1.chat"
            async with client(base + "/versioned", subprotocols=["v3.chat", "v2.chat"]) as conn:
                assert conn.subprotocol == "v2.chat"
            async with client(base + "/versioned") as conn:
                assert conn.subprotocol is None
                assert await recv(conn) == "protocol:None"
            async with client(base + "/chooser", subprotocols=["a", "b"]) as conn:
                assert conn.subprotocol == "b"
                assert await recv(conn) == "protocol:b"
            async with client(base + "/echo", subprotocols=["echo"]) as conn:
                assert conn.subprotocol == "echo"

    run(scenario)


# ---------------------------------------------------------------------------------------------
# Limits, bad input and misuse


def test_message_too_big_closes_1009() -> None:
    app = WsApp({"/echo": Route(echo.echo, {"max_message_size": 1024})})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/echo") as conn:
                await conn.send("é" * 500)  # 1000 bytes of UTF-8: fits
                assert await recv(conn) == "é" * 500
                await conn.send(b"x" * 1024)  # exactly the limit: fits
                assert await recv(conn) == b"x" * 1024
                await conn.send("é" * 600)  # 600 characters but 1200 bytes: too big
                assert await closed_with(conn) == (1009, "message too big")
            async with client(base + "/echo") as conn:
                await conn.send(b"x" * 1025)
                assert await closed_with(conn) == (1009, "message too big")
            async with client(base + "/echo") as conn:
                await conn.send("x" * 5000)
                assert await closed_with(conn) == (1009, "message too big")
        assert app.errors == []

    run(scenario)


def test_invalid_messages_close_with_1007_or_1003_unless_caught_and_are_not_reported() -> None:
    app = WsApp({"/json": echo.echo_json, "/point": echo.strict_point, "/text": echo.text_only})

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/json") as conn:  # caught by the handler: stays open
                await conn.send("{not json")
                assert msgspec.json.decode(await recv(conn)) == {"error": 1007}
                await conn.send("NaN")
                assert msgspec.json.decode(await recv(conn)) == {"error": 1007}
                await conn.send("[" * 5000 + "]" * 5000)  # deeper than the decoder allows
                assert msgspec.json.decode(await recv(conn)) == {"error": 1007}
                await conn.send("[1]")
                assert msgspec.json.decode(await recv(conn)) == {"got": [1]}
            async with client(base + "/point") as conn:
                await conn.send('{"x": 1, "y": 2}')
                assert msgspec.json.decode(await recv(conn)) == {"sum": 3}
                await conn.send('{"x": "one", "y": 2}')  # valid JSON, invalid Point
                assert await closed_with(conn) == (1007, "invalid message")
            async with client(base + "/text") as conn:
                await conn.send("up")
                assert await recv(conn) == "UP"
                await conn.send(b"binary")
                assert await closed_with(conn) == (1003, "unsupported data")
        assert app.errors == []  # the client's mistakes are not the app's errors

    run(scenario)


def test_sending_after_close_raises_a_clear_error() -> None:
    log = Log()
    app = WsApp({"/late": echo.close_then_send(log)})

    async def scenario() -> None:
        async with serving(app) as base, client(base + "/late") as conn:
            assert await closed_with(conn) == (4003, "closing first")
            await asyncio.wait_for(log.wait_for(2), TIMEOUT)
        assert log.entries == [
            "cannot send: the websocket is closed (code 4003)",
            "WebSocketDisconnect",
        ]
        assert app.errors == []

    run(scenario)


def test_origin_check_refuses_cross_site_handshakes_with_403() -> None:
    app = WsApp(
        {
            "/echo": echo.echo,
            "/partner": Route(echo.echo, {"allowed_origins": ("https://app.example.com",)}),
            "/public": Route(echo.echo, {"allowed_origins": ["*"]}),
        }
    )

    async def scenario() -> None:
        async with serving(app) as base:
            port = base.rsplit(":", 1)[1]
            assert await handshake_status(base + "/echo", origin="https://evil.example") == 403
            assert await handshake_status(base + "/echo", origin="http://127.0.0.1:1") == 403
            for origin in (None, f"http://127.0.0.1:{port}", f"https://127.0.0.1:{port}"):
                async with client(base + "/echo", origin=origin) as conn:
                    await conn.send("ok")
                    assert await recv(conn) == "ok"
            async with client(base + "/partner", origin="https://APP.example.com:443") as conn:
                await conn.send("partner")
                assert await recv(conn) == "partner"
            assert await handshake_status(base + "/partner", origin="https://evil.example") == 403
            async with client(base + "/public", origin="https://anyone.example") as conn:
                await conn.send("public")
                assert await recv(conn) == "public"
        assert app.errors == []

    run(scenario)


def test_on_drain_runs_once_the_sends_over_the_backpressure_limit_complete() -> None:
    log = Log()
    size = 256 * 1024
    app = WsApp(
        {
            "/flood": Route(
                lifecycle.draining_handler(log, size), {"backpressure_limit": 64 * 1024}
            ),
            "/small": Route(lifecycle.draining_handler(log, 1024), {"backpressure_limit": 4096}),
        }
    )

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/flood", max_size=None) as conn:
                await conn.send("flood")
                assert await recv(conn) == b"x" * size
                assert await recv(conn) == "drained"
                await asyncio.wait_for(log.wait_for(2), TIMEOUT)
            assert log.entries == [("drain", 0, False), ("sent", 0, False)]
            log.entries.clear()
            async with client(base + "/small") as conn:  # under the limit: no drain event
                await conn.send("flood")
                assert await recv(conn) == b"x" * 1024
                await asyncio.wait_for(log.wait_for(1), TIMEOUT)
            assert log.entries == [("sent", 0, False)]

    run(scenario)


# ---------------------------------------------------------------------------------------------
# Through avian's App, when it exists


def _app_with_ws(**options: Any) -> Any:
    try:
        from avian import App
    except ImportError:
        pytest.skip("avian.App does not exist yet")
    app = App(**options)
    if not hasattr(app, "ws"):
        pytest.skip("App.ws does not exist yet")
    return app


def test_app_ws_routes_run_every_handler_form() -> None:
    app = _app_with_ws()
    log = Log()

    @app.ws("/echo")  # type: ignore[untyped-decorator]
    async def echo_route(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            await ws.send(message)

    app.ws("/chat", lifecycle.recording_handler(log))

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/echo") as conn:
                await conn.send("via app")
                assert await recv(conn) == "via app"
            async with client(base + "/chat") as conn:
                await conn.send("hi")
                assert await recv(conn) == "hi"
            assert await handshake_status(base + "/echo", origin="https://evil.example") == 403

    run(scenario)


def test_router_ws_routes_with_params_and_per_route_options() -> None:
    app = _app_with_ws(ws_allowed_origins=["https://app.example.com"])
    from avian import Router

    router = Router()
    router.ws("/rooms/{room}", echo.info)
    router.ws("/small", echo.echo, max_message_size=8)
    app.include(router, prefix="/r")

    async def scenario() -> None:
        async with serving(app) as base:
            async with client(base + "/r/rooms/lobby", origin="https://app.example.com") as conn:
                got = msgspec.json.decode(await recv(conn))
                assert (got["path"], got["params"]) == ("/r/rooms/lobby", {"room": "lobby"})
            async with client(base + "/r/small") as conn:
                await conn.send("123456789")
                assert await closed_with(conn) == (1009, "message too big")
            assert await handshake_status(base + "/r/small", origin="https://evil.example") == 403

    run(scenario)


# ---------------------------------------------------------------------------------------------
# In process: drain accounting with a slow send, origin policy, registration errors


class _SlowServer:
    """An ASGI ``receive``/``send`` pair whose data sends block until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            await self.release.wait()
        self.sent.append(message)


def test_buffered_amount_counts_sends_in_flight_and_drain_fires_once() -> None:
    async def scenario() -> None:
        server = _SlowServer()
        ws = WebSocket({"type": "websocket"}, server.receive, server.send, backpressure_limit=100)
        drains: list[tuple[int, bool]] = []

        async def on_drain(sock: WebSocket) -> None:
            drains.append((sock.buffered_amount, sock.backpressured))

        ws.on_drain = on_drain
        await ws.accept()
        first = asyncio.create_task(ws.send(b"a" * 60))
        second = asyncio.create_task(ws.send("é" * 30))  # 60 bytes of UTF-8
        await asyncio.sleep(0)
        assert (ws.buffered_amount, ws.backpressured) == (120, True)
        server.release.set()
        await asyncio.wait_for(asyncio.gather(first, second), TIMEOUT)
        assert (ws.buffered_amount, ws.backpressured) == (0, False)
        assert drains == [(0, False)]  # once, after the last send in flight completed
        await ws.send(b"b" * 100)  # at the limit, not over it: no drain
        assert drains == [(0, False)]
        assert [m.get("bytes", m.get("text")) for m in server.sent[1:]] == [
            b"a" * 60,
            "é" * 30,
            b"b" * 100,
        ]

    run(scenario)


def test_send_to_a_vanished_peer_raises_disconnect_and_marks_the_socket_closed() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            raise OSError("peer gone")  # what ASGI servers raise for a closed connection

    async def scenario() -> None:
        ws = WebSocket({"type": "websocket"}, receive, send)
        with pytest.raises(WebSocketError, match="accept"):
            await ws.send("early")
        await ws.accept()
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.send_json({"a": 1})
        assert info.value.code == 1006
        assert (ws.connection_state, ws.close_code, ws.buffered_amount) == (
            WebSocketState.CLOSED,
            1006,
            0,
        )
        with pytest.raises(WebSocketError, match="closed"):
            await ws.send("again")
        await ws.close()  # closing a closed socket is a no-op

    run(scenario)


def _ws_with_headers(*headers: tuple[str, str]) -> WebSocket:
    async def never(*args: Any) -> Any:
        raise AssertionError

    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return WebSocket({"type": "websocket", "headers": raw}, never, never)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "example.com", None, True),
        ("https://example.com", "example.com", None, True),
        ("https://example.com", "example.com:443", None, True),
        ("http://example.com:8000", "example.com:8000", None, True),
        ("https://Example.COM", "example.com", None, True),
        ("http://[::1]:8000", "[::1]:8000", None, True),
        ("https://example.com", "example.com:8443", None, False),
        ("https://evil.com", "example.com", None, False),
        ("https://example.com.evil.com", "example.com", None, False),
        ("null", "example.com", None, False),
        ("null", "example.com", ["null"], True),
        ("garbage", "example.com", None, False),
        ("https://evil.com", "example.com", ["https://evil.com"], True),
        ("https://evil.com:443", "example.com", ["https://evil.com/"], True),
        ("http://evil.com", "example.com", ["https://evil.com"], False),
        ("https://anything.example", "example.com", ["*"], True),
    ],
)
def test_check_origin_policy(
    origin: str | None, host: str, allowed: list[str] | None, ok: bool
) -> None:
    headers = [("Host", host)] + ([("Origin", origin)] if origin is not None else [])
    assert _ws_with_headers(*headers).check_origin(allowed) is ok


def test_check_origin_refuses_repeated_origin_or_host_headers() -> None:
    ws = _ws_with_headers(
        ("host", "example.com"), ("origin", "https://example.com"), ("origin", "https://evil.com")
    )
    assert ws.check_origin() is False
    ws = _ws_with_headers(
        ("host", "example.com"), ("host", "evil.com"), ("origin", "https://example.com")
    )
    assert ws.check_origin() is False


def test_a_flood_of_query_parameters_is_the_clients_fault() -> None:
    async def never(*args: Any) -> Any:
        raise AssertionError

    query = "&".join(f"k{i}=v" for i in range(1001)).encode()
    ws = WebSocket({"type": "websocket", "query_string": query}, never, never)
    with pytest.raises(WebSocketError) as info:
        ws.query.get("k1")
    assert info.value.close_code == 1008


def test_normalize_allowed_origins() -> None:
    assert normalize_allowed_origins(["*", "https://A.example/", "http://b.example:8080"]) == (
        "*",
        "https://a.example:443",
        "http://b.example:8080",
    )
    for bad in (["a.example"], ["https://a.example/path"], "https://a.example"):
        with pytest.raises(ConfigurationError):
            normalize_allowed_origins(bad)


class _NeedsArgument:
    def __init__(self, room: str) -> None:
        self.room = room

    async def on_message(self, ws: WebSocket, message: str | bytes) -> None: ...


def _sync_handler(ws: WebSocket) -> None: ...


@pytest.mark.parametrize(
    "handler",
    [
        _sync_handler,
        42,
        {"open": lambda ws: None, "mesage": lambda ws, m: None},
        {},
        {"message": "not callable"},
        _NeedsArgument,
        type("Empty", (), {}),
    ],
    ids=["sync-function", "int", "unknown-key", "empty-dict", "not-callable", "ctor-args", "empty"],
)
def test_normalize_ws_handler_rejects_what_it_cannot_run(handler: object) -> None:
    with pytest.raises(ConfigurationError):
        normalize_ws_handler(handler)


def test_normalize_ws_handler_is_idempotent_and_keeps_functions() -> None:
    endpoint = normalize_ws_handler(lifecycle.Versioned)
    assert normalize_ws_handler(endpoint) is endpoint
    assert normalize_ws_handler(echo.echo) is echo.echo
    assert callable(run_websocket)


class _Scripted:
    """An ASGI ``receive``/``send`` pair replaying client events, then a 1005 disconnect."""

    def __init__(self, *incoming: dict[str, Any], subprotocols: list[str] | None = None) -> None:
        self.scope = {"type": "websocket", "subprotocols": subprotocols or []}
        self.incoming = [{"type": "websocket.connect"}, *incoming]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return self.incoming.pop(0) if self.incoming else {"type": "websocket.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def socket(self) -> WebSocket:
        return WebSocket(self.scope, self.receive, self.send)


def test_a_failing_on_error_is_reported_with_the_original_error_as_context() -> None:
    calls: list[str] = []

    class Fragile:
        async def on_message(self, ws: WebSocket, message: str | bytes) -> None:
            raise KeyError("original")

        def on_error(self, ws: WebSocket, error: BaseException) -> None:
            raise RuntimeError("on_error failed")

        async def on_close(self, ws: WebSocket, code: int, reason: str) -> None:
            calls.append(f"close:{code}")

    async def scenario() -> None:
        server = _Scripted({"type": "websocket.receive", "text": "hi"})
        reported: list[BaseException] = []

        async def report(error: BaseException) -> None:
            reported.append(error)

        await run_websocket(normalize_ws_handler(Fragile), server.socket(), on_error=report)
        assert calls == ["close:1011"]
        assert [type(e) for e in reported] == [RuntimeError]
        assert isinstance(reported[0].__context__, KeyError)
        assert server.sent[-1] == {
            "type": "websocket.close",
            "code": 1011,
            "reason": "internal error",
        }

    run(scenario)


def test_a_disconnect_of_another_socket_is_an_error_of_this_one() -> None:
    async def gone(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            raise OSError("peer gone")

    async def scenario() -> None:
        other_server = _Scripted()
        other = WebSocket(other_server.scope, other_server.receive, gone)
        await other.accept()

        async def broadcast(ws: WebSocket, message: str | bytes) -> None:
            await other.send(message)  # not caught: the other client has left

        server = _Scripted({"type": "websocket.receive", "text": "hi"})
        with pytest.raises(WebSocketError, match="another connection") as info:
            await run_websocket(normalize_ws_handler({"message": broadcast}), server.socket())
        assert isinstance(info.value.__cause__, WebSocketDisconnect)  # no on_error: re-raised
        assert server.sent[-1]["code"] == 1011

        # the other socket is closed now: sending to it again is misuse, also 1011
        server = _Scripted({"type": "websocket.receive", "text": "again"})
        with pytest.raises(WebSocketError, match="closed"):
            await run_websocket(normalize_ws_handler({"message": broadcast}), server.socket())
        assert server.sent[-1]["code"] == 1011

        async def function_form(ws: WebSocket) -> None:
            await ws.accept()
            fresh = WebSocket(other_server.scope, _Scripted().receive, gone)
            await fresh.accept()
            await fresh.send("x")

        server = _Scripted()
        with pytest.raises(WebSocketError, match="another connection"):
            await run_websocket(function_form, server.socket())
        assert server.sent[-1]["code"] == 1011

    run(scenario)


def test_async_select_subprotocol_and_a_handler_without_on_message() -> None:
    class Picky:
        async def select_subprotocol(self, ws: WebSocket, offered: list[str]) -> str | None:
            return "b" if "b" in offered else None

    async def scenario() -> None:
        server = _Scripted(
            {"type": "websocket.receive", "bytes": b"ignored"}, subprotocols=["a", "b"]
        )
        ws = server.socket()
        await run_websocket(normalize_ws_handler(Picky()), ws)
        assert server.sent[0] == {"type": "websocket.accept", "subprotocol": "b"}
        assert (ws.subprotocol, ws.close_code) == ("b", 1005)
        assert len(server.sent) == 1  # the client closed: nothing more to send

    run(scenario)
