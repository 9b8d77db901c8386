"""WebSocket sessions for the test clients: the test plays the browser, in-process."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Coroutine, Generator, Sequence
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
import msgspec

from ._loop import LoopThread
from .errors import WebSocketDenied, WebSocketDisconnected
from .transport import AppHost

__all__ = ["AsyncWebSocketSession", "WebSocketSession"]

Message = dict[str, Any]
T = TypeVar("T")

DEFAULT_WEBSOCKET_TIMEOUT = 10.0


def websocket_request(
    http: httpx.Client | httpx.AsyncClient,
    url: httpx.URL | str,
    subprotocols: Sequence[str],
    headers: httpx.Headers | dict[str, str] | None,
    params: Any,
) -> httpx.Request:
    """The handshake request a browser would send, with the client's cookies and headers."""
    handshake = httpx.Headers(
        {
            "connection": "upgrade",
            "upgrade": "websocket",
            "sec-websocket-key": base64.b64encode(os.urandom(16)).decode("ascii"),
            "sec-websocket-version": "13",
        }
    )
    if subprotocols:
        handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
    if headers:
        handshake.update(headers)
    return http.build_request("GET", url, headers=handshake, params=params)


class WebSocketExchange:
    """One WebSocket connection; the app runs as a task on the loop this is used on."""

    def __init__(self, host: AppHost, request: httpx.Request, subprotocols: Sequence[str]):
        self._host = host
        self._scope = host.websocket_scope(request, list(subprotocols))
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message | None] = asyncio.Queue()  # None: app returned
        self._task: asyncio.Task[None] | None = None
        self._accepted = False
        self._denying = False
        self._app_close: tuple[int, str] | None = None  # the app sent websocket.close
        self._client_close: tuple[int, str] | None = None  # the test closed
        self._app_disconnect: Message | None = None
        self._error: Exception | None = None
        self._error_raised = False
        self.accepted_subprotocol: str | None = None
        self.extra_headers = httpx.Headers()

    # -- app side ---------------------------------------------------------------------------

    async def _run_app(self) -> None:
        try:
            await self._host.app(self._scope, self._receive, self._send)
        except Exception as exc:
            self._error = exc
        finally:
            self._from_app.put_nowait(None)

    async def _receive(self) -> Message:
        if self._app_disconnect is not None:
            return dict(self._app_disconnect)
        message = await self._to_app.get()
        if message["type"] == "websocket.disconnect":
            self._app_disconnect = message
        return message

    async def _send(self, message: Message) -> None:
        if self._client_close is not None:
            return  # the test went away; a server drops these too
        kind = message["type"]
        if self._app_close is not None:
            raise RuntimeError(f"ASGI app sent {kind!r} after 'websocket.close'")
        if kind == "websocket.accept":
            if self._accepted or self._denying:
                raise RuntimeError("ASGI app sent 'websocket.accept' twice or after a denial")
            self._accepted = True
        elif kind == "websocket.send":
            if not self._accepted:
                raise RuntimeError("ASGI app sent 'websocket.send' before 'websocket.accept'")
        elif kind == "websocket.close":
            if self._denying:
                raise RuntimeError("ASGI app sent 'websocket.close' during a denial response")
            code, reason = int(message.get("code", 1000)), message.get("reason") or ""
            self._app_close = (code, reason)
            # The browser answers the closing handshake; the app then receives this.
            self._to_app.put_nowait(
                {"type": "websocket.disconnect", "code": code, "reason": reason}
            )
        elif kind in ("websocket.http.response.start", "websocket.http.response.body"):
            starting = kind.endswith(".start")
            if self._accepted or starting == self._denying:
                raise RuntimeError(f"ASGI app sent {kind!r} out of order")
            self._denying = True
        else:
            return  # an extension this client does not implement
        self._from_app.put_nowait(dict(message))

    # -- test side --------------------------------------------------------------------------

    async def connect(self, timeout: float | None) -> None:
        """Send ``websocket.connect`` and wait for the app to accept or deny."""
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.get_running_loop().create_task(self._run_app())
        try:
            message = await self._next(timeout)
            if message is None:
                self._raise_app_error()
                if not self._host.raise_server_exceptions:
                    raise WebSocketDenied(500, reason="the app failed before accepting")
                raise RuntimeError("the ASGI app returned without accepting the WebSocket")
            if message["type"] == "websocket.accept":
                self.accepted_subprotocol = message.get("subprotocol")
                self.extra_headers = httpx.Headers(list(message.get("headers") or ()))
                return
            if message["type"] == "websocket.close":
                code, reason = self._app_close or (1000, "")
                raise WebSocketDenied(403, code=code, reason=reason)
            headers = httpx.Headers(list(message.get("headers") or ()))
            body = bytearray()
            while (part := await self._next(timeout)) is not None:
                body += part.get("body", b"")
                if not part.get("more_body", False):
                    break
            raise WebSocketDenied(int(message["status"]), headers=headers, body=bytes(body))
        except BaseException:
            await self._finish(timeout)
            raise

    async def _next(self, timeout: float | None) -> Message | None:
        try:
            message = await asyncio.wait_for(self._from_app.get(), timeout)
        except TimeoutError:
            raise TimeoutError(f"the app sent no WebSocket message within {timeout} s") from None
        if message is None:
            self._from_app.put_nowait(None)  # stays "finished" for every later call
        return message

    def _closed(self) -> tuple[int, str] | None:
        if self._client_close is not None:
            return self._client_close
        if self._app_close is not None:
            return self._app_close
        if self._task is not None and self._task.done():
            return (1011 if self._error is not None else 1000, "")
        return None

    async def send(self, message: Message) -> None:
        closed = self._closed()
        if closed is not None:
            self._raise_app_error()
            raise WebSocketDisconnected(*closed)
        self._to_app.put_nowait(message)

    async def receive(self, timeout: float | None) -> Message:
        """The next message from the app: ``websocket.send``, then one ``websocket.close``."""
        if self._client_close is not None:
            raise WebSocketDisconnected(*self._client_close)
        message = await self._next(timeout)
        if message is None:
            self._raise_app_error()
            code, reason = self._closed() or (1000, "")
            self._client_close = (code, reason)  # the connection is gone for good
            return {"type": "websocket.close", "code": code, "reason": reason}
        if message["type"] == "websocket.close":
            self._client_close = self._app_close
        return message

    async def close(
        self, code: int, reason: str, timeout: float | None, *, raise_errors: bool
    ) -> None:
        """Close from the test side, then wait (bounded) for the app to finish."""
        if self._closed() is None:
            self._to_app.put_nowait(
                {"type": "websocket.disconnect", "code": code, "reason": reason}
            )
        if self._client_close is None:
            self._client_close = (code, reason)
        await self._finish(timeout)
        if raise_errors:
            self._raise_app_error()

    async def _finish(self, timeout: float | None) -> None:
        task = self._task
        if task is None or task.done():
            return
        await asyncio.wait([task], timeout=timeout)
        if not task.done():
            task.cancel()
            await asyncio.wait([task])

    def _raise_app_error(self) -> None:
        if (
            self._error is not None
            and self._host.raise_server_exceptions
            and not self._error_raised
        ):
            self._error_raised = True
            raise self._error


def _text(data: str) -> Message:
    return {"type": "websocket.receive", "text": data}


def _bytes(data: bytes) -> Message:
    return {"type": "websocket.receive", "bytes": bytes(data)}


def _json(data: Any, mode: Literal["text", "binary"]) -> Message:
    encoded = msgspec.json.encode(data)
    return _bytes(encoded) if mode == "binary" else _text(encoded.decode("utf-8"))


def _expect(message: Message, kind: Literal["text", "bytes"]) -> Any:
    if message["type"] == "websocket.close":
        raise WebSocketDisconnected(int(message.get("code", 1000)), message.get("reason") or "")
    value = message.get(kind)
    if value is None:
        other = "bytes" if kind == "text" else "text"
        raise TypeError(f"expected a {kind} WebSocket message, the app sent {other}")
    return value


def _decode_json(message: Message) -> Any:
    if message["type"] == "websocket.close":
        raise WebSocketDisconnected(int(message.get("code", 1000)), message.get("reason") or "")
    data = message.get("text")
    if data is None:
        data = message.get("bytes") or b""
    return msgspec.json.decode(data)


class WebSocketSession:
    """A connected WebSocket for the synchronous :class:`~avian.testing.TestClient`.

    Use it as a context manager; leaving the block closes the connection with 1000 and waits
    for the app to finish.  Every receive waits at most ``timeout`` seconds.
    """

    def __init__(self, loop: LoopThread, exchange: WebSocketExchange, timeout: float | None):
        self._loop = loop
        self._exchange = exchange
        self.timeout = timeout

    @property
    def accepted_subprotocol(self) -> str | None:
        """The subprotocol the app chose in ``websocket.accept``, if any."""
        return self._exchange.accepted_subprotocol

    @property
    def extra_headers(self) -> httpx.Headers:
        """The headers the app added in ``websocket.accept``."""
        return self._exchange.extra_headers

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.call(coro)

    def send(self, message: Message) -> None:
        """Send a raw ASGI message (normally ``websocket.receive``) to the app."""
        self._call(self._exchange.send(message))

    def send_text(self, data: str) -> None:
        self._call(self._exchange.send(_text(data)))

    def send_bytes(self, data: bytes) -> None:
        self._call(self._exchange.send(_bytes(data)))

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        self._call(self._exchange.send(_json(data, mode)))

    def receive(self, timeout: float | None = None) -> Message:
        """The next raw message from the app (``websocket.send`` or ``websocket.close``)."""
        return self._call(self._exchange.receive(self.timeout if timeout is None else timeout))

    def receive_text(self, timeout: float | None = None) -> str:
        return str(_expect(self.receive(timeout), "text"))

    def receive_bytes(self, timeout: float | None = None) -> bytes:
        return bytes(_expect(self.receive(timeout), "bytes"))

    def receive_json(self, timeout: float | None = None) -> Any:
        """Decode the next message (text or bytes) as JSON."""
        return _decode_json(self.receive(timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection and wait (at most ``timeout`` s) for the app to finish."""
        if not self._loop.closed:
            self._call(self._exchange.close(code, reason, self.timeout, raise_errors=True))

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._loop.closed:
            self._call(self._exchange.close(1000, "", self.timeout, raise_errors=exc is None))


class AsyncWebSocketSession:
    """A WebSocket for :class:`~avian.testing.AsyncTestClient`.

    ``async with client.websocket_connect(url) as ws`` connects on entry (or
    ``ws = await client.websocket_connect(url)``); every method is a coroutine.
    """

    def __init__(
        self,
        host: AppHost,
        request: httpx.Request,
        subprotocols: Sequence[str],
        timeout: float | None,
    ) -> None:
        self._host = host
        self._request = request
        self._subprotocols = list(subprotocols)
        self.timeout = timeout
        self._exchange: WebSocketExchange | None = None

    async def connect(self) -> Self:
        """Perform the handshake; raises :class:`WebSocketDenied` if the app refuses."""
        if self._exchange is None:
            exchange = WebSocketExchange(self._host, self._request, self._subprotocols)
            await exchange.connect(self.timeout)
            self._exchange = exchange
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self.connect().__await__()

    @property
    def _connected(self) -> WebSocketExchange:
        if self._exchange is None:
            raise RuntimeError("the WebSocket is not connected yet: use `async with` or await it")
        return self._exchange

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._connected.accepted_subprotocol

    @property
    def extra_headers(self) -> httpx.Headers:
        return self._connected.extra_headers

    async def send(self, message: Message) -> None:
        await self._connected.send(message)

    async def send_text(self, data: str) -> None:
        await self._connected.send(_text(data))

    async def send_bytes(self, data: bytes) -> None:
        await self._connected.send(_bytes(data))

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        await self._connected.send(_json(data, mode))

    async def receive(self, timeout: float | None = None) -> Message:
        return await self._connected.receive(self.timeout if timeout is None else timeout)

    async def receive_text(self, timeout: float | None = None) -> str:
        return str(_expect(await self.receive(timeout), "text"))

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        return bytes(_expect(await self.receive(timeout), "bytes"))

    async def receive_json(self, timeout: float | None = None) -> Any:
        return _decode_json(await self.receive(timeout))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connected.close(code, reason, self.timeout, raise_errors=True)

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._exchange is not None:
            await self._exchange.close(1000, "", self.timeout, raise_errors=exc is None)
