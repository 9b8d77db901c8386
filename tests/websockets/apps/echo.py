"""Function-form handlers: the handler accepts, loops and returns by itself."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from avian.websockets import WebSocket, WebSocketError


class Point(msgspec.Struct):
    x: int
    y: int


class Log:
    """Things a handler noticed, for the test to assert on; ``changed`` wakes waiters."""

    def __init__(self) -> None:
        self.entries: list[Any] = []
        self.changed = asyncio.Event()

    def add(self, entry: Any) -> None:
        self.entries.append(entry)
        self.changed.set()

    async def wait_for(self, count: int) -> list[Any]:
        while len(self.entries) < count:
            self.changed.clear()
            await self.changed.wait()
        return self.entries


async def echo(ws: WebSocket) -> None:
    """Echo text as text and bytes as bytes; ``"bye"`` makes the server close (4000)."""
    await ws.accept(subprotocol="echo" if "echo" in ws.subprotocols else None)
    async for message in ws:
        if message == "bye":
            await ws.close(4000, "see you")
            return
        await ws.send(message)


async def echo_json(ws: WebSocket) -> None:
    """Echo JSON wrapped in ``{"got": ...}``; invalid JSON is answered, not fatal."""
    await ws.accept()
    while True:
        try:
            value = await ws.receive_json()
        except WebSocketError as exc:
            await ws.send_json({"error": exc.close_code})
            continue
        await ws.send_json({"got": value})


async def strict_point(ws: WebSocket) -> None:
    """Validate every message into ``Point``; an invalid one is not caught (close 1007)."""
    await ws.accept()
    async for point in ws.iter_json(Point):
        await ws.send_json({"sum": point.x + point.y})


async def text_only(ws: WebSocket) -> None:
    """Upper-case text messages; a binary one is not caught (close 1003)."""
    await ws.accept()
    async for text in ws.iter_text():
        await ws.send_text(text.upper())


async def binary_pieces(ws: WebSocket) -> None:
    """Send bytes-like data of each kind, then return without closing (runner closes 1000)."""
    await ws.accept()
    data = await ws.receive_bytes()
    await ws.send_bytes(data)
    await ws.send(bytearray(b"bytearray"))
    await ws.send(memoryview(b"memoryview"))


async def info(ws: WebSocket) -> None:
    """Report what the handshake carried, as JSON."""
    await ws.accept(headers={"x-avian": "yes"})
    await ws.send_json(
        {
            "path": ws.path,
            "params": ws.params,
            "query": ws.query.get("q"),
            "tags": ws.query.get_all("tag"),
            "header": ws.headers.get("x-custom"),
            "cookies": ws.cookies,
            "client_host": ws.client[0] if ws.client else None,
            "subprotocols": ws.subprotocols,
            "state": dict(ws.state),
        }
    )
    await ws.close()


def close_then_send(log: Log) -> Any:
    """Close with 4003, then try to send: the WebSocketError message goes to ``log``."""

    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4003, "closing first")
        try:
            await ws.send_text("too late")
        except WebSocketError as exc:
            log.add(str(exc))
        try:
            await ws.receive()
        except Exception as exc:
            log.add(type(exc).__name__)

    return handler


def iterate_then_log(log: Log) -> Any:
    """Log each message and, once the client has left, the close code it left with."""

    async def handler(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws:
            log.add(message)
        log.add(("closed", ws.close_code, ws.close_reason))

    return handler


async def crash_after_accept(ws: WebSocket) -> None:
    await ws.accept()
    await ws.receive()
    raise ValueError("handler bug")


async def crash_before_accept(ws: WebSocket) -> None:
    raise LookupError("no such room")


async def forget_accept(ws: WebSocket) -> None:
    """Return without accepting: the handshake is refused."""
