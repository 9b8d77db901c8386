"""Class, instance and dict handler forms (Harpia's ``open/message/close/drain/error``)."""

from __future__ import annotations

from typing import Any, TypedDict

from avian.websockets import WebSocket, WebSocketHandler

from .echo import Log


class ChatData(TypedDict, total=False):
    name: str
    count: int


def recording_handler(log: Log) -> type[WebSocketHandler[ChatData]]:
    """A class-form handler writing every lifecycle call to ``log``.

    Messages: ``"boom"`` raises, ``"quit"`` closes from the server, ``"whoami"`` answers with
    per-connection ``ws.data`` and an instance attribute; anything else is echoed.
    """

    class Recorder(WebSocketHandler[ChatData]):
        def __init__(self) -> None:
            self.seen = 0  # per connection: one instance each

        async def on_open(self, ws: WebSocket[ChatData]) -> None:
            ws.data["name"] = ws.query.get("name", "anon")
            log.add("open")

        async def on_message(self, ws: WebSocket[ChatData], message: str | bytes) -> None:
            self.seen += 1
            log.add(f"message:{message!r}")
            if message == "boom":
                raise ValueError("on_message failed")
            if message == "quit":
                await ws.close(4002, "server says bye")
                return
            if message == "whoami":
                await ws.send(f"{ws.data['name']}:{self.seen}")
                return
            await ws.send(message)

        def on_close(self, ws: WebSocket[ChatData], code: int, reason: str) -> None:
            log.add(f"close:{code}:{reason}")

        async def on_error(self, ws: WebSocket[ChatData], error: BaseException) -> None:
            log.add(f"error:{type(error).__name__}:{ws.connection_state.value}")

    return Recorder


class SharedCounter:
    """Registered as an instance: one object (and one counter) for every connection."""

    def __init__(self) -> None:
        self.connections = 0

    async def on_open(self, ws: WebSocket) -> None:
        self.connections += 1
        await ws.send(str(self.connections))


class PerConnectionCounter:
    """Registered as a class: a fresh object per connection, so the count restarts."""

    def __init__(self) -> None:
        self.connections = 0

    async def on_open(self, ws: WebSocket) -> None:
        self.connections += 1
        await ws.send(str(self.connections))


class Versioned(WebSocketHandler):
    """Picks the first subprotocol the client offered among the supported ones."""

    subprotocols = ("v2.chat", "v1.chat")

    async def on_open(self, ws: WebSocket) -> None:
        await ws.send(f"protocol:{ws.subprotocol}")


class Chooser:
    """Chooses the client's last offer (a plain, synchronous selector)."""

    def select_subprotocol(self, ws: WebSocket, offered: list[str]) -> str | None:
        return offered[-1] if offered else None

    async def on_open(self, ws: WebSocket) -> None:
        await ws.send(f"protocol:{ws.subprotocol}")


def dict_handlers(log: Log) -> dict[str, Any]:
    """The Harpia shape: sync and async callables mixed, a sync one returning a coroutine."""

    def on_open(ws: WebSocket) -> None:
        log.add("open")

    async def on_close(ws: WebSocket, code: int, reason: str) -> None:
        log.add(f"close:{code}:{reason}")

    return {
        "open": on_open,
        "message": lambda ws, message: ws.send(message.upper()),
        "close": on_close,
    }


def draining_handler(log: Log, size: int) -> type[WebSocketHandler]:
    """On ``"flood"`` send ``size`` bytes at once; log every drain and answer it."""

    class Flood(WebSocketHandler):
        async def on_message(self, ws: WebSocket, message: str | bytes) -> None:
            if message == "flood":
                await ws.send(b"x" * size)
                log.add(("sent", ws.buffered_amount, ws.backpressured))

        async def on_drain(self, ws: WebSocket) -> None:
            log.add(("drain", ws.buffered_amount, ws.backpressured))
            await ws.send("drained")

    return Flood
