"""``TestClient`` and ``AsyncTestClient``: drive any ASGI 3 app in-process through httpx."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypedDict, TypeVar, Unpack, cast

import httpx

from ._loop import LoopHolder
from .builder import AsyncTestRequest, BaseTestRequest, TestRequest
from .response import TestResponse
from .transport import AppHost, ASGIApp, AsyncASGITransport, SyncASGITransport
from .websocket import (
    DEFAULT_WEBSOCKET_TIMEOUT,
    AsyncWebSocketSession,
    WebSocketExchange,
    WebSocketSession,
    websocket_request,
)

if TYPE_CHECKING:
    from httpx._client import UseClientDefault
    from httpx._types import (
        AuthTypes,
        CookieTypes,
        HeaderTypes,
        QueryParamTypes,
        RequestContent,
        RequestData,
        RequestExtensions,
        RequestFiles,
        TimeoutTypes,
    )

__all__ = ["DEFAULT_TIMEOUT", "AsyncTestClient", "TestClient"]

DEFAULT_TIMEOUT = 30.0
"""Seconds a request may wait for the app to send something, and lifespan steps may take."""

R = TypeVar("R", bound=BaseTestRequest)


class RequestOptions(TypedDict, total=False):
    """The httpx keyword arguments of a request without a body (``get``, ``head``, ...)."""

    params: QueryParamTypes | None
    headers: HeaderTypes | None
    cookies: CookieTypes | None
    auth: AuthTypes | UseClientDefault | None
    follow_redirects: bool | UseClientDefault
    timeout: TimeoutTypes | UseClientDefault
    extensions: RequestExtensions | None


class BodyRequestOptions(RequestOptions, total=False):
    """Plus the body arguments (``post``, ``put``, ``patch``, ``request``)."""

    content: RequestContent | None
    data: RequestData | None
    files: RequestFiles | None
    json: Any | None


class _RequestMethods(Generic[R]):
    """The httpx-style request methods; each returns a builder of type ``R``.

    Keyword arguments are httpx's (typed by :class:`RequestOptions` /
    :class:`BodyRequestOptions`); omitted ones keep the client's defaults.
    """

    def _new_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> R:
        raise NotImplementedError

    def request(
        self, method: str, url: httpx.URL | str, **options: Unpack[BodyRequestOptions]
    ) -> R:
        """A request builder for any method, pre-filled from the httpx keyword arguments."""
        return self._new_request(method, url, **options)

    def get(self, url: httpx.URL | str, **options: Unpack[RequestOptions]) -> R:
        """A ``GET`` request builder."""
        return self._new_request("GET", url, **options)

    def head(self, url: httpx.URL | str, **options: Unpack[RequestOptions]) -> R:
        """A ``HEAD`` request builder."""
        return self._new_request("HEAD", url, **options)

    def options(self, url: httpx.URL | str, **options: Unpack[RequestOptions]) -> R:
        """An ``OPTIONS`` request builder."""
        return self._new_request("OPTIONS", url, **options)

    def delete(self, url: httpx.URL | str, **options: Unpack[RequestOptions]) -> R:
        """A ``DELETE`` request builder (a body can still be set fluently)."""
        return self._new_request("DELETE", url, **options)

    def post(self, url: httpx.URL | str, **options: Unpack[BodyRequestOptions]) -> R:
        """A ``POST`` request builder."""
        return self._new_request("POST", url, **options)

    def put(self, url: httpx.URL | str, **options: Unpack[BodyRequestOptions]) -> R:
        """A ``PUT`` request builder."""
        return self._new_request("PUT", url, **options)

    def patch(self, url: httpx.URL | str, **options: Unpack[BodyRequestOptions]) -> R:
        """A ``PATCH`` request builder."""
        return self._new_request("PATCH", url, **options)


def _stream_request(
    http: httpx.Client | httpx.AsyncClient,
    method: str,
    url: httpx.URL | str,
    options: BodyRequestOptions,
) -> tuple[httpx.Request, dict[str, Any]]:
    """The request for ``stream()`` and the options that go to ``send`` instead."""
    build: dict[str, Any] = dict(options)
    send: dict[str, Any] = {
        name: build.pop(name) for name in ("auth", "follow_redirects") if name in build
    }
    return http.build_request(method, url, **build), send


def _client_headers(headers: HeaderTypes | None) -> httpx.Headers:
    merged = httpx.Headers({"user-agent": "testclient"})
    merged.update(httpx.Headers(headers))
    return merged


class _ClientBase(_RequestMethods[R]):
    """Options and state shared by both clients."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_server_exceptions: bool,
        root_path: str,
        client: tuple[str, int],
        timeout: TimeoutTypes,
    ) -> None:
        self.app = app
        self._host = AppHost(
            app,
            root_path=root_path,
            client=client,
            raise_server_exceptions=raise_server_exceptions,
        )
        self._lifespan_timeout = httpx.Timeout(timeout).read
        self._in_lifespan = False

    @property
    def base_url(self) -> httpx.URL:
        return self._http.base_url

    @property
    def headers(self) -> httpx.Headers:
        """Headers sent with every request (mutable)."""
        return self._http.headers

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookie jar: cookies the app sets are sent back on later requests."""
        return self._http.cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._http.cookies = cookies

    @property
    def lifespan_state(self) -> dict[str, Any]:
        """The ``state`` dict the app filled during lifespan startup (each request gets a copy)."""
        return self._host.state

    def _enter_lifespan(self) -> None:
        if self._in_lifespan:
            raise RuntimeError(f"this {type(self).__name__} is already running its lifespan")
        self._in_lifespan = True


_REQUEST_ARGUMENTS = ("content", "data", "files", "json", "params", "headers", "cookies")


def _has_request_arguments(kwargs: dict[str, Any]) -> bool:
    """True when a call passed httpx-style request arguments (not just options)."""
    return any(kwargs.get(name) is not None for name in _REQUEST_ARGUMENTS)


class TestClient(_ClientBase[TestRequest]):
    """Drive an ASGI app from synchronous tests, on a private event loop thread.

    ``with TestClient(app) as client:`` runs the app's lifespan startup and shutdown around
    the block; without ``with`` requests work but the lifespan is not run.
    """

    __test__ = False  # not a pytest test class, despite the name

    _http: httpx.Client

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        follow_redirects: bool = True,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            app,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            timeout=timeout,
        )
        self._loops = LoopHolder()
        self._http = httpx.Client(
            transport=SyncASGITransport(self._host, self._loops),
            base_url=base_url,
            headers=_client_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            trust_env=False,  # never route test requests through an environment proxy
        )
        # Closes the loop thread if the client is dropped without close(); it must not
        # refer to the client itself.
        self._finalizer = weakref.finalize(self, self._loops.close)

    def _new_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> TestRequest:
        builder = TestRequest(self._send, method, url, **kwargs)
        if _has_request_arguments(kwargs):
            # httpx style (a body, params or headers given): send now, as httpx does, so
            # `client.delete(url, headers=...)` is never silently left unsent.
            builder.execute()
        return builder

    def _send(self, builder: BaseTestRequest) -> TestResponse:
        prepared = builder._prepare(self._http)
        response = self._http.send(
            prepared.request, auth=prepared.auth, follow_redirects=prepared.follow_redirects
        )
        return cast(TestResponse, response)

    @contextlib.contextmanager
    def stream(
        self,
        method: str,
        url: httpx.URL | str,
        **options: Unpack[BodyRequestOptions],
    ) -> Iterator[TestResponse]:
        """Send a request and yield the response before its body is read (httpx's ``stream``).

        ``response.iter_bytes()`` yields the chunks as the app sends them.
        """
        request, send_options = _stream_request(self._http, method, url, options)
        response = self._http.send(request, stream=True, **send_options)
        try:
            yield cast(TestResponse, response)
        finally:
            response.close()

    def websocket_connect(
        self,
        url: httpx.URL | str,
        subprotocols: Sequence[str] | None = None,
        headers: dict[str, str] | httpx.Headers | None = None,
        *,
        params: QueryParamTypes | None = None,
        timeout: float | None = DEFAULT_WEBSOCKET_TIMEOUT,
    ) -> WebSocketSession:
        """Open a WebSocket to the app; raises :class:`WebSocketDenied` if it refuses.

        ``timeout`` bounds the handshake and each receive (seconds).
        """
        protocols = list(subprotocols or ())
        request = websocket_request(self._http, url, protocols, headers, params)
        loop = self._loops.get()
        exchange = loop.call(_open_websocket(self._host, request, protocols, timeout))
        return WebSocketSession(loop, exchange, timeout)

    def __enter__(self) -> Self:
        self._enter_lifespan()
        loop = self._loops.get()
        try:
            loop.call(self._host.startup(self._lifespan_timeout))
        except BaseException:
            self._in_lifespan = False
            self._loops.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_lifespan = False
        try:
            loop = self._loops.running
            if loop is not None:
                loop.call(self._host.shutdown(self._lifespan_timeout))
        finally:
            self._loops.close()

    def close(self) -> None:
        """Shut the lifespan down if it runs, stop the event loop thread, close httpx."""
        try:
            if self._in_lifespan:
                self.__exit__(None, None, None)
        finally:
            self._loops.close()
            self._http.close()


async def _open_websocket(
    host: AppHost, request: httpx.Request, subprotocols: list[str], timeout: float | None
) -> WebSocketExchange:
    exchange = WebSocketExchange(host, request, subprotocols)
    await exchange.connect(timeout)
    return exchange


class AsyncTestClient(_ClientBase[AsyncTestRequest]):
    """Drive an ASGI app from async tests, on the running event loop.

    ``async with AsyncTestClient(app) as client:`` runs the lifespan around the block; every
    request builder is awaited: ``response = await client.get("/")``.
    """

    _http: httpx.AsyncClient

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        *,
        raise_server_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("testclient", 50000),
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        follow_redirects: bool = True,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            app,
            raise_server_exceptions=raise_server_exceptions,
            root_path=root_path,
            client=client,
            timeout=timeout,
        )
        self._http = httpx.AsyncClient(
            transport=AsyncASGITransport(self._host),
            base_url=base_url,
            headers=_client_headers(headers),
            cookies=cookies,
            follow_redirects=follow_redirects,
            timeout=timeout,
            trust_env=False,
        )

    def _new_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> AsyncTestRequest:
        return AsyncTestRequest(self._send, method, url, **kwargs)

    async def _send(self, builder: BaseTestRequest) -> TestResponse:
        prepared = builder._prepare(self._http)
        response = await self._http.send(
            prepared.request, auth=prepared.auth, follow_redirects=prepared.follow_redirects
        )
        return cast(TestResponse, response)

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: httpx.URL | str,
        **options: Unpack[BodyRequestOptions],
    ) -> AsyncIterator[TestResponse]:
        """Send a request and yield the response before its body is read.

        ``response.aiter_bytes()`` yields the chunks as the app sends them.
        """
        request, send_options = _stream_request(self._http, method, url, options)
        response = await self._http.send(request, stream=True, **send_options)
        try:
            yield cast(TestResponse, response)
        finally:
            await response.aclose()

    def websocket_connect(
        self,
        url: httpx.URL | str,
        subprotocols: Sequence[str] | None = None,
        headers: dict[str, str] | httpx.Headers | None = None,
        *,
        params: QueryParamTypes | None = None,
        timeout: float | None = DEFAULT_WEBSOCKET_TIMEOUT,
    ) -> AsyncWebSocketSession:
        """A WebSocket to the app: ``async with`` it (or await it) to connect."""
        protocols = list(subprotocols or ())
        request = websocket_request(self._http, url, protocols, headers, params)
        return AsyncWebSocketSession(self._host, request, protocols, timeout)

    async def __aenter__(self) -> Self:
        self._enter_lifespan()
        try:
            await self._host.startup(self._lifespan_timeout)
        except BaseException:
            self._in_lifespan = False
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._in_lifespan = False
        await self._host.shutdown(self._lifespan_timeout)

    async def aclose(self) -> None:
        """Shut the lifespan down if it runs and close httpx."""
        try:
            if self._in_lifespan:
                await self.__aexit__(None, None, None)
        finally:
            await self._http.aclose()
