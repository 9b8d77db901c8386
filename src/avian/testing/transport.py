"""In-process ASGI transports for httpx: build the scope, stream both bodies, no sockets.

:class:`AppHost` plays the server: it builds scopes the way uvicorn does and keeps the state
the app set up in its lifespan.  :class:`HTTPExchange` runs one request as a task on the
event loop; the transports adapt it to ``httpx.Client`` (whose loop lives in a background
thread, see :mod:`._loop`) and ``httpx.AsyncClient`` (the caller's loop).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, cast

import httpx

from ._loop import LoopHolder, LoopThread
from .lifespan import Lifespan
from .response import TestResponse

__all__ = ["ASGIApp", "AppHost", "AsyncASGITransport", "HTTPExchange", "SyncASGITransport"]

# Deliberately loose: apps type their (scope, receive, send) in many ways (TypedDicts,
# MutableMapping, dict) and a strict alias would reject most of them under mypy.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
Message = dict[str, Any]

_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_SECURE_SCHEMES = frozenset({"https", "wss"})
_INTERNAL_ERROR = b"Internal Server Error"


class Signal:
    """Wakes every coroutine waiting for "something changed"; safe with several waiters."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def wait(self, timeout: float | None) -> Awaitable[bool]:
        # A plain function, not a coroutine: the event is captured right now, so a notify()
        # between the caller's check of its condition and its await is never missed.
        return asyncio.wait_for(self._event.wait(), timeout)


class AppHost:
    """The server side both clients share: the app, scope defaults and the lifespan state."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        root_path: str,
        client: tuple[str, int],
        raise_server_exceptions: bool,
    ) -> None:
        self.app = app
        self.root_path = root_path
        self.client = client
        self.raise_server_exceptions = raise_server_exceptions
        self.state: dict[str, Any] = {}
        self._lifespan: Lifespan | None = None

    async def startup(self, timeout: float | None) -> None:
        """Run the lifespan startup; a fresh ``state`` dict is handed to the app."""
        self.state = {}
        self._lifespan = Lifespan(self.app, self.state)
        await self._lifespan.startup(timeout)

    async def shutdown(self, timeout: float | None) -> None:
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is not None:
            await lifespan.shutdown(timeout)

    def _base_scope(self, request: httpx.Request, scheme: str) -> dict[str, Any]:
        url = request.url
        raw_path = url.raw_path.partition(b"?")[0]
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 80)
        # Like uvicorn's --root-path: the test requests the path a proxy would forward, and
        # the app sees it prefixed with root_path.
        return {
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "scheme": scheme,
            "server": (url.host, port),
            "client": self.client,
            "root_path": self.root_path,
            "path": self.root_path + url.path,
            "raw_path": self.root_path.encode("ascii") + raw_path,
            "query_string": url.query,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "state": dict(self.state),
        }

    def http_scope(self, request: httpx.Request) -> dict[str, Any]:
        scheme = "https" if request.url.scheme in _SECURE_SCHEMES else "http"
        scope = self._base_scope(request, scheme)
        scope["type"] = "http"
        scope["method"] = request.method
        return scope

    def websocket_scope(self, request: httpx.Request, subprotocols: list[str]) -> dict[str, Any]:
        scheme = "wss" if request.url.scheme in _SECURE_SCHEMES else "ws"
        scope = self._base_scope(request, scheme)
        scope["type"] = "websocket"
        scope["subprotocols"] = list(subprotocols)
        scope["extensions"] = {"websocket.http.response": {}}
        return scope


class HTTPExchange:
    """One request/response cycle: the app runs as a task, the client waits on its output.

    Must be created and used on the event loop that runs the app.
    """

    def __init__(self, host: AppHost, request: httpx.Request) -> None:
        self._host = host
        self._request = request
        self._scope = host.http_scope(request)
        self._head = request.method == "HEAD"
        # request body, test -> app
        self._body: deque[bytes] = deque()
        self._body_ended = False
        self._body_delivered = False
        self._to_app = Signal()
        # response, app -> test
        self._status: int | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: deque[bytes] = deque()
        self._trailers_expected = False
        self._body_complete = False
        self._response_complete = False
        self._finished = False
        self._to_client = Signal()
        # lifecycle
        self._disconnected = False
        self._app_done = False
        self._error: Exception | None = None
        self._error_raised = False
        self._body_error: Exception | None = None
        self._task: asyncio.Task[None] | None = None
        self._feeder: asyncio.Task[None] | None = None

    # -- test side: request body ------------------------------------------------------------

    @property
    def wants_body(self) -> bool:
        """False once more request body would be pointless (the app answered or went away)."""
        return not (self._app_done or self._response_complete or self._disconnected)

    def start(self, body: bytes | None) -> None:
        """Start the app; ``body`` is the whole request body when it is known up front."""
        if body is not None:
            if body:
                self._body.append(body)
            self._body_ended = True
        self._task = asyncio.get_running_loop().create_task(self._run_app())

    def feed(self, chunk: bytes) -> None:
        if chunk and not self._body_ended:
            self._body.append(bytes(chunk))
            self._to_app.notify()

    def end_body(self) -> None:
        self._body_ended = True
        self._to_app.notify()

    def feed_from(self, stream: AsyncIterable[bytes]) -> None:
        """Pump an async request body to the app in a task, chunk by chunk as it is produced."""
        self._feeder = asyncio.get_running_loop().create_task(self._feed(stream))

    async def _feed(self, stream: AsyncIterable[bytes]) -> None:
        try:
            async for chunk in stream:
                if not self.wants_body:
                    break
                self.feed(chunk)
        except Exception as exc:
            # The body could not be produced: the app sees the client vanish, the test the error.
            self._body_error = exc
            self._disconnect()
            self._to_client.notify()
        finally:
            self.end_body()

    # -- app side ---------------------------------------------------------------------------

    async def _run_app(self) -> None:
        try:
            await self._host.app(self._scope, self._receive, self._send)
        except Exception as exc:
            self._error = exc
        finally:
            self._app_done = True
            self._to_client.notify()

    async def _receive(self) -> Message:
        if not self._body_delivered and not self._disconnected:
            while not (self._body or self._body_ended or self._disconnected):
                await self._to_app.wait(None)
            if not self._disconnected:
                chunk = self._body.popleft() if self._body else b""
                more_body = bool(self._body) or not self._body_ended
                self._body_delivered = not more_body
                return {"type": "http.request", "body": chunk, "more_body": more_body}
        # Like a server: after the body, receive() blocks until the client is gone.
        while not (self._response_complete or self._disconnected):
            await self._to_app.wait(None)
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self._disconnected:
            return  # the test stopped listening; a server drops these too
        kind = message["type"]
        if kind == "http.response.start":
            if self._status is not None:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self._status = int(message["status"])
            self._headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            self._trailers_expected = bool(message.get("trailers", False))
        elif kind == "http.response.body":
            if self._status is None:
                raise RuntimeError(
                    "ASGI app sent 'http.response.body' before 'http.response.start'"
                )
            if self._body_complete:
                raise RuntimeError("ASGI app sent 'http.response.body' after the body was complete")
            body = message.get("body", b"")
            if body and not self._head:
                self._chunks.append(bytes(body))
            if not message.get("more_body", False):
                self._body_complete = True
                if not self._trailers_expected:
                    self._complete()
        elif kind == "http.response.trailers":
            if not (self._trailers_expected and self._body_complete):
                raise RuntimeError("ASGI app sent 'http.response.trailers' it had not announced")
            if not message.get("more_trailers", False):
                self._complete()
        else:
            return  # an extension this client does not implement
        self._to_client.notify()

    def _complete(self) -> None:
        self._response_complete = True
        self._to_app.notify()

    def _disconnect(self) -> None:
        if not self._disconnected:
            self._disconnected = True
            self._to_app.notify()

    # -- test side: response ----------------------------------------------------------------

    async def wait_started(self, timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Wait for ``http.response.start``; raise what the app raised if it never came."""
        try:
            while self._status is None:
                self._raise_body_error()
                if self._app_done:
                    return self._answer_without_response()
                await self._wait(timeout)
        except BaseException:
            await self.aclose()
            raise
        return self._status, self._headers

    def _answer_without_response(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        if self._host.raise_server_exceptions:
            self._error_raised = True
            raise self._error or RuntimeError(
                "the ASGI app returned without sending 'http.response.start'"
            )
        # What a server sends when the app fails before answering.
        self._status = 500
        self._headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
        ]
        if not self._head:
            self._chunks.append(_INTERNAL_ERROR)
        self._body_complete = self._response_complete = True
        return self._status, self._headers

    async def next_chunk(self, timeout: float | None) -> bytes | None:
        """The next response body chunk as the app sends it, or None at the end."""
        try:
            while not self._chunks:
                if self._finished:
                    return None
                self._raise_body_error()
                if self._response_complete:
                    # Like a server, the cycle ends when the app returns: background work
                    # after the response runs, and its failure is reported.
                    while not self._app_done:
                        await self._wait(timeout)
                    self._finished = True
                    self._raise_app_error()
                    return None
                if self._app_done:
                    self._finished = True
                    self._raise_app_error()
                    if self._host.raise_server_exceptions:
                        raise RuntimeError("the ASGI app returned without completing the response")
                    return None
                await self._wait(timeout)
        except BaseException:
            await self.aclose()
            raise
        return self._chunks.popleft()

    async def _wait(self, timeout: float | None) -> None:
        try:
            await self._to_client.wait(timeout)
        except TimeoutError:
            raise httpx.ReadTimeout(
                f"the ASGI app sent nothing for {timeout} s", request=self._request
            ) from None

    def _raise_body_error(self) -> None:
        if self._body_error is not None:
            error, self._body_error = self._body_error, None
            raise error

    def _raise_app_error(self) -> None:
        if (
            self._error is not None
            and self._host.raise_server_exceptions
            and not self._error_raised
        ):
            self._error_raised = True
            raise self._error

    async def aclose(self) -> None:
        """The test is done with this exchange: disconnect the app and stop its tasks."""
        self._disconnect()
        for task in (self._feeder, self._task):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait([task])


def _read_timeout(request: httpx.Request) -> float | None:
    value = request.extensions.get("timeout", {}).get("read")
    return None if value is None else float(value)


def _response(status: int, headers: list[tuple[bytes, bytes]], stream: Any) -> TestResponse:
    return TestResponse(
        status, headers=headers, stream=stream, extensions={"http_version": b"HTTP/1.1"}
    )


class _SyncResponseStream(httpx.SyncByteStream):
    def __init__(self, loop: LoopThread, exchange: HTTPExchange, timeout: float | None) -> None:
        self._loop = loop
        self._exchange = exchange
        self._timeout = timeout

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._loop.call(self._exchange.next_chunk(self._timeout))) is not None:
            yield chunk

    def close(self) -> None:
        if not self._loop.closed:
            self._loop.call(self._exchange.aclose())


class _AsyncResponseStream(httpx.AsyncByteStream):
    def __init__(self, exchange: HTTPExchange, timeout: float | None) -> None:
        self._exchange = exchange
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._exchange.next_chunk(self._timeout)) is not None:
            yield chunk

    async def aclose(self) -> None:
        await self._exchange.aclose()


async def _open_exchange(host: AppHost, request: httpx.Request, body: bytes | None) -> HTTPExchange:
    exchange = HTTPExchange(host, request)
    exchange.start(body)
    return exchange


class SyncASGITransport(httpx.BaseTransport):
    """Sends ``httpx.Client`` requests to the app on the client's background event loop."""

    def __init__(self, host: AppHost, loops: LoopHolder) -> None:
        self._host = host
        self._loops = loops

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        loop = self._loops.get()
        stream = cast(Iterable[bytes], request.stream)
        known = b"".join(stream) if isinstance(stream, httpx.ByteStream) else None
        exchange = loop.call(_open_exchange(self._host, request, known))
        if known is None:
            _pump_body(loop, exchange, stream)
        timeout = _read_timeout(request)
        status, headers = loop.call(exchange.wait_started(timeout))
        return _response(status, headers, _SyncResponseStream(loop, exchange, timeout))


def _pump_body(loop: LoopThread, exchange: HTTPExchange, stream: Iterable[bytes]) -> None:
    """Read a streamed body in the calling thread, handing each chunk over as it comes."""
    try:
        for chunk in stream:
            if not exchange.wants_body:
                break
            loop.call_soon(exchange.feed, chunk)
    except BaseException:
        loop.call(exchange.aclose())
        raise
    loop.call_soon(exchange.end_body)


class AsyncASGITransport(httpx.AsyncBaseTransport):
    """Sends ``httpx.AsyncClient`` requests to the app on the running event loop."""

    def __init__(self, host: AppHost) -> None:
        self._host = host

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = HTTPExchange(self._host, request)
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            exchange.start(b"".join(stream))
        else:
            exchange.start(None)
            exchange.feed_from(cast(AsyncIterable[bytes], stream))
        timeout = _read_timeout(request)
        status, headers = await exchange.wait_started(timeout)
        return _response(status, headers, _AsyncResponseStream(exchange, timeout))
