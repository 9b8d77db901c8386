"""WebSockets: the connection object, the three handler forms and the runner that drives them.

A websocket route takes one of three handler forms, turned into a single coroutine function by
:func:`normalize_ws_handler` once, when the route is registered:

* a function ``async def chat(ws: WebSocket) -> None`` that accepts, loops and returns;
* a class (one instance per connection) or an instance (shared) with any of the lifecycle
  methods ``on_open``, ``on_message``, ``on_close``, ``on_drain``, ``on_error``;
* a dict ``{"open": ..., "message": ..., "close": ..., "drain": ..., "error": ...}``.

For every connection the router builds a :class:`WebSocket` and calls :func:`run_websocket`,
which checks the ``Origin`` header, runs the handler and guarantees the socket ends closed
with a meaningful code (1000, 1003, 1007, 1008, 1009, 1011, or HTTP 403 before the handshake).
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast, overload

import msgspec

from .errors import AvianError, BodyError, ConfigurationError
from .http.cookies import RequestCookies
from .http.headers import Headers
from .http.limits import MiB
from .http.query import QueryParams

__all__ = [
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketError",
    "WebSocketHandler",
    "WebSocketState",
    "normalize_allowed_origins",
    "normalize_ws_handler",
    "run_websocket",
]

if TYPE_CHECKING:
    import typing_extensions

    # A bare ``WebSocket`` means ``WebSocket[dict[str, Any]]`` (PEP 696 default).
    T = typing_extensions.TypeVar("T", default=dict[str, Any])
else:
    T = TypeVar("T")
U = TypeVar("U")

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

WebSocketEndpoint = Callable[["WebSocket[Any]"], Awaitable[None]]
"""What :func:`normalize_ws_handler` returns and :func:`run_websocket` runs."""

# Close codes an endpoint may put on the wire (RFC 6455 §7.4 and the IANA registry).
_SENDABLE_CLOSE_CODES = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)
# Errors that are the client's fault: the connection is closed with their code, not reported.
_CLIENT_FAULT_REASONS = {
    1003: "unsupported data",
    1007: "invalid message",
    1008: "policy violation",
}
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


class WebSocketState(enum.Enum):
    """Where a connection is in its life: before accept, open, or closed by either side."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"


class WebSocketDisconnect(AvianError):
    """The connection is closed: the client left, or the server closed it.

    Raised by the ``receive*`` methods (and by a send that finds the peer gone, code 1006).
    A handler that lets it escape ends normally.
    """

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"websocket closed with code {code}" + (f": {reason}" if reason else ""))


class WebSocketError(AvianError, RuntimeError):
    """A websocket was used wrongly, or a received message could not be decoded.

    ``close_code`` is the code the connection closes with when the handler does not catch
    it: 1007 for invalid JSON, 1003 for the wrong message type, 1008 for a hostile
    handshake (too many query parameters), 1011 for misuse.
    """

    def __init__(self, message: str, *, close_code: int = 1011) -> None:
        self.close_code = close_code
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Origin policy (cross-site websocket hijacking defence).


def _split_host_port(text: str, default_port: int | None) -> tuple[str, int | None] | None:
    """``"host:port"`` / ``"[v6]:port"`` -> (host, port), or None when malformed."""
    if not text or any(c in text for c in " \t/\\@?#,"):
        return None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        host, rest = text[: end + 1], text[end + 1 :]
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            return None
        port_text = rest[1:]
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            return text, default_port
        if not host or ":" in host:
            return None
    if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
        return None
    return host, int(port_text)


def _normalize_origin(value: str) -> str | None:
    """A canonical ``scheme://host:port`` for an origin, ``"null"`` as is, None if malformed."""
    value = value.strip().lower()
    if value == "null":
        return value
    scheme, sep, rest = value.partition("://")
    if not sep or not scheme:
        return None
    host_port = _split_host_port(rest.rstrip("/"), _DEFAULT_PORTS.get(scheme))
    if host_port is None:
        return None
    host, port = host_port
    return f"{scheme}://{host}" if port is None else f"{scheme}://{host}:{port}"


def _same_origin(origin: str, host_header: str) -> bool:
    """Is ``origin`` the host the request was sent to? (Host and port compared, not scheme.)"""
    scheme, sep, rest = origin.strip().lower().partition("://")
    if not sep:
        return False
    default = _DEFAULT_PORTS.get(scheme)
    origin_hp = _split_host_port(rest.rstrip("/"), default)
    return origin_hp is not None and origin_hp == _split_host_port(
        host_header.strip().lower(), default
    )


def normalize_allowed_origins(origins: Iterable[str]) -> tuple[str, ...]:
    """Validate an ``allowed_origins`` setting at startup and return it in canonical form.

    Entries are full origins (``"https://app.example.com"``), ``"*"`` (any origin) or
    ``"null"``; anything else raises :class:`~avian.errors.ConfigurationError`.
    """
    if isinstance(origins, str):
        raise ConfigurationError("allowed_origins must be a list of origins, not a string")
    result: list[str] = []
    for entry in origins:
        if entry == "*":
            result.append(entry)
            continue
        normalized = _normalize_origin(entry)
        if normalized is None:
            raise ConfigurationError(
                f"allowed origin {entry!r} is not an origin like 'https://example.com'"
            )
        result.append(normalized)
    return tuple(result)


# ---------------------------------------------------------------------------------------------
# The connection.


def _validate_close(code: int, reason: str) -> None:
    if code not in _SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
        raise ValueError(f"invalid websocket close code {code}")
    if len(reason.encode()) > 123:
        raise ValueError("websocket close reason must be at most 123 bytes of UTF-8")


def _encode_accept_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> list[tuple[bytes, bytes]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    encoded: list[tuple[bytes, bytes]] = []
    for name, value in pairs:
        if any(c in name or c in value for c in "\r\n\0") or not name:
            raise ValueError(f"invalid handshake header {name!r}")
        encoded.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return encoded


_json_encoder = msgspec.json.Encoder()
_json_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
_typed_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decode_json(data: str | bytes, type: Any) -> Any:
    decoder = _json_decoder if type is None else _typed_decoders.get(type)
    if decoder is None:
        decoder = _typed_decoders[type] = msgspec.json.Decoder(type)
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise WebSocketError(f"invalid JSON message: {exc}", close_code=1007) from None


class WebSocket(Generic[T]):
    """One websocket connection, wrapping the ASGI ``(scope, receive, send)`` triple.

    ``data`` is yours for the connection's lifetime (``{}`` unless ``data_factory`` builds
    it); type it with ``WebSocket[MyData]``.  ``receive*`` raise :class:`WebSocketDisconnect`
    once the connection is closed; ``async for message in ws`` simply ends instead.
    """

    __slots__ = (
        "_backpressured",
        "_cookies",
        "_headers",
        "_query",
        "_receive",
        "_send",
        "_state",
        "allowed_origins",
        "app",
        "backpressure_limit",
        "buffered_amount",
        "close_code",
        "close_reason",
        "connection_state",
        "data",
        "max_message_size",
        "on_drain",
        "params",
        "scope",
        "subprotocol",
    )

    data: T

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        params: dict[str, Any] | None = None,
        app: Any = None,
        max_message_size: int | None = MiB,
        allowed_origins: Collection[str] | None = None,
        backpressure_limit: int = MiB,
        data_factory: Callable[[], T] | None = None,
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.params: dict[str, Any] = params if params is not None else {}
        self.app = app
        self.max_message_size = max_message_size
        self.allowed_origins = allowed_origins
        self.backpressure_limit = backpressure_limit
        self.data = data_factory() if data_factory is not None else cast(T, {})
        self.connection_state = WebSocketState.CONNECTING
        self.subprotocol: str | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self.buffered_amount = 0
        self.on_drain: Callable[[WebSocket[T]], Awaitable[None]] | None = None
        self._backpressured = False
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._state: MutableMapping[str, Any] | None = None

    def __repr__(self) -> str:
        return f"<WebSocket {self.path!r} {self.connection_state.value}>"

    # -- request information ----------------------------------------------------------------

    @property
    def path(self) -> str:
        """The request path (percent-decoded, as the server gives it)."""
        return cast(str, self.scope.get("path", "/"))

    @property
    def headers(self) -> Headers:
        """Handshake headers; names are case-insensitive, ``get_all`` returns repeats."""
        if self._headers is None:
            self._headers = Headers(list(self.scope.get("headers", ())))
        return self._headers

    @property
    def query(self) -> QueryParams:
        """Query parameters; ``get`` gives the first value of a repeated name."""
        if self._query is None:
            try:
                self._query = QueryParams.from_string(self.scope.get("query_string", b""))
            except BodyError as exc:
                raise WebSocketError(exc.detail, close_code=1008) from None
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent with the handshake (the first value of a repeated name wins)."""
        if self._cookies is None:
            header = "; ".join(self.headers.get_all("cookie"))
            self._cookies = RequestCookies(header).to_dict() if header else {}
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        """The peer's ``(host, port)`` as the server saw it, when known."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        return list(self.scope.get("subprotocols", ()))

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The ASGI scope's ``state`` (a copy of the app's lifespan state, per connection)."""
        if self._state is None:
            state = self.scope.get("state")
            self._state = state if state is not None else {}
        return self._state

    @property
    def backpressured(self) -> bool:
        """Whether more than ``backpressure_limit`` bytes were in flight and have not drained."""
        return self._backpressured

    def check_origin(self, allowed_origins: Collection[str] | None = None) -> bool:
        """Whether the handshake's ``Origin`` may open this socket.

        No ``Origin`` (non-browser clients) is allowed; otherwise the origin must name the
        same host and port as the ``Host`` header (any scheme) or be listed in
        ``allowed_origins`` (this call's argument, else the constructor's); ``"*"`` allows
        any.  Repeated ``Origin`` or ``Host`` headers are refused.
        """
        allowed = allowed_origins if allowed_origins is not None else self.allowed_origins
        origins = self.headers.get_all("origin")
        if not origins:
            return True
        if len(origins) > 1:
            return False
        if allowed and "*" in allowed:
            return True
        origin = origins[0]
        hosts = self.headers.get_all("host")
        if len(hosts) == 1 and _same_origin(origin, hosts[0]):
            return True
        if not allowed:
            return False
        normalized = _normalize_origin(origin)
        return normalized is not None and any(
            normalized == _normalize_origin(entry) for entry in allowed
        )

    # -- handshake and close ----------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Complete the handshake, optionally choosing one of the offered subprotocols.

        Raises :class:`WebSocketDisconnect` if the client left before the handshake finished.
        """
        if self.connection_state is not WebSocketState.CONNECTING:
            raise WebSocketError(f"cannot accept: the websocket is {self.connection_state.value}")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise WebSocketError(
                f"cannot accept subprotocol {subprotocol!r}: the client offered {self.subprotocols}"
            )
        message: dict[str, Any] = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = _encode_accept_headers(headers)
        event = await self._receive()
        if event["type"] == "websocket.disconnect":
            self._closed(event.get("code", 1006), event.get("reason") or "")
            raise WebSocketDisconnect(cast(int, self.close_code), self.close_reason)
        try:
            await self._send(message)
        except OSError:
            self._closed(1006, "")
            raise WebSocketDisconnect(1006) from None
        self.connection_state = WebSocketState.CONNECTED
        self.subprotocol = subprotocol

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection; before :meth:`accept` this refuses the handshake (HTTP 403).

        Closing an already closed socket does nothing.
        """
        if self.connection_state is WebSocketState.CLOSED:
            return
        _validate_close(code, reason)
        self._closed(code, reason)
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            self.close_code, self.close_reason = 1006, ""

    def _closed(self, code: int, reason: str) -> None:
        self.connection_state = WebSocketState.CLOSED
        self.close_code = code
        self.close_reason = reason

    def _not_connected(self) -> Exception:
        if self.connection_state is WebSocketState.CONNECTING:
            return WebSocketError("the websocket is not accepted yet: call accept() first")
        return WebSocketDisconnect(cast(int, self.close_code), self.close_reason)

    # -- receiving ----------------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for a text frame, ``bytes`` for a binary one.

        A message over ``max_message_size`` bytes (text counted as UTF-8) closes the
        connection with 1009 and raises :class:`WebSocketDisconnect`.
        """
        if self.connection_state is not WebSocketState.CONNECTED:
            raise self._not_connected()
        event = await self._receive()
        kind = event["type"]
        if kind == "websocket.receive":
            limit = self.max_message_size
            text: str | None = event.get("text")
            if text is not None:
                # PERF: a UTF-8 character is 1..4 bytes, so most texts need no encoding to measure.
                if (
                    limit is not None
                    and len(text) * 4 > limit
                    and (len(text) > limit or len(text.encode()) > limit)
                ):
                    await self._too_big()
                return text
            data: bytes = event.get("bytes") or b""
            if limit is not None and len(data) > limit:
                await self._too_big()
            return data
        if kind == "websocket.disconnect":
            self._closed(event.get("code", 1005), event.get("reason") or "")
            raise WebSocketDisconnect(cast(int, self.close_code), self.close_reason)
        raise WebSocketError(f"unexpected ASGI message {kind!r}")

    async def _too_big(self) -> None:
        await self.close(1009, "message too big")
        raise WebSocketDisconnect(1009, "message too big")

    async def receive_text(self) -> str:
        """The next message, which must be text (a binary one raises, close code 1003)."""
        message = await self.receive()
        if not isinstance(message, str):
            raise WebSocketError("expected a text message, got binary", close_code=1003)
        return message

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary (a text one raises, close code 1003)."""
        message = await self.receive()
        if not isinstance(message, bytes):
            raise WebSocketError("expected a binary message, got text", close_code=1003)
        return message

    @overload
    async def receive_json(self) -> Any: ...
    @overload
    async def receive_json(self, type: type[U]) -> U: ...
    async def receive_json(self, type: Any = None) -> Any:
        """The next message (text or binary) decoded as JSON, validated into ``type`` if given.

        Invalid JSON or a validation failure raises :class:`WebSocketError` with close code
        1007; catch it to keep the connection open.
        """
        return _decode_json(await self.receive(), type)

    def __aiter__(self) -> WebSocket[T]:
        return self

    async def __anext__(self) -> str | bytes:
        try:
            return await self.receive()
        except WebSocketDisconnect:
            raise StopAsyncIteration from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Yield text messages until the connection closes."""
        while True:
            try:
                message = await self.receive_text()
            except WebSocketDisconnect:
                return
            yield message

    @overload
    def iter_json(self) -> AsyncIterator[Any]: ...
    @overload
    def iter_json(self, type: type[U]) -> AsyncIterator[U]: ...
    async def iter_json(self, type: Any = None) -> AsyncIterator[Any]:
        """Yield JSON messages (validated into ``type`` if given) until the connection closes."""
        while True:
            try:
                message = await self.receive()
            except WebSocketDisconnect:
                return
            yield _decode_json(message, type)

    # -- sending ------------------------------------------------------------------------------

    async def send(self, data: str | bytes | bytearray | memoryview) -> None:
        """Send a text frame for ``str``, a binary frame for bytes-like data."""
        if isinstance(data, str):
            # PERF: ASCII text is one byte per character; only other text needs encoding to count.
            size = len(data) if data.isascii() else len(data.encode())
            await self._send_frame({"type": "websocket.send", "text": data}, size)
        elif isinstance(data, bytes):
            await self._send_frame({"type": "websocket.send", "bytes": data}, len(data))
        elif isinstance(data, bytearray | memoryview):
            raw = bytes(data)
            await self._send_frame({"type": "websocket.send", "bytes": raw}, len(raw))
        else:
            raise TypeError(f"websocket data must be str or bytes-like, not {type(data).__name__}")

    async def send_text(self, data: str) -> None:
        """Send a text frame."""
        if not isinstance(data, str):
            raise TypeError(f"send_text() needs str, not {type(data).__name__}")
        await self.send(data)

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary frame."""
        if isinstance(data, str):
            raise TypeError("send_bytes() needs bytes-like data, not str")
        await self.send(data)

    async def send_json(self, obj: Any) -> None:
        """Send ``obj`` encoded as JSON in a text frame."""
        await self.send(_json_encoder.encode(obj).decode())

    async def _send_frame(self, message: dict[str, Any], size: int) -> None:
        if self.connection_state is not WebSocketState.CONNECTED:
            if self.connection_state is WebSocketState.CONNECTING:
                raise WebSocketError("the websocket is not accepted yet: call accept() first")
            raise WebSocketError(f"cannot send: the websocket is closed (code {self.close_code})")
        self.buffered_amount += size
        if self.buffered_amount > self.backpressure_limit:
            self._backpressured = True
        try:
            await self._send(message)
        except OSError:
            # The server reports a peer that is gone (ASGI: an IOError subclass).
            self._closed(1006, "")
            raise WebSocketDisconnect(1006) from None
        finally:
            self.buffered_amount -= size
        if self._backpressured and self.buffered_amount == 0:
            self._backpressured = False
            if self.on_drain is not None:
                await self.on_drain(self)


# ---------------------------------------------------------------------------------------------
# Handler forms.

_LIFECYCLE_METHODS = ("on_open", "on_message", "on_close", "on_drain", "on_error")
_HANDLER_ATTRIBUTES = (*_LIFECYCLE_METHODS, "select_subprotocol", "subprotocols")
_DICT_KEYS = {
    "open": "on_open",
    "message": "on_message",
    "close": "on_close",
    "drain": "on_drain",
    "error": "on_error",
    "subprotocols": "subprotocols",
    "select_subprotocol": "select_subprotocol",
}


class WebSocketHandler(Generic[T]):
    """Base class for the class form; it has no behaviour of its own.

    Define any of ``on_open(ws)``, ``on_message(ws, message)``, ``on_close(ws, code,
    reason)``, ``on_drain(ws)``, ``on_error(ws, error)`` (async or plain), and optionally
    ``subprotocols = [...]`` or ``select_subprotocol(ws, offered)``.  Register the class to
    get one instance per connection, or an instance to share it.  Subclassing is optional:
    it only lets a type checker verify the method signatures.
    """

    subprotocols: ClassVar[Sequence[str]] = ()

    if TYPE_CHECKING:

        def on_open(self, ws: WebSocket[T]) -> Awaitable[None] | None: ...
        def on_message(self, ws: WebSocket[T], message: str | bytes) -> Awaitable[None] | None: ...
        def on_close(self, ws: WebSocket[T], code: int, reason: str) -> Awaitable[None] | None: ...
        def on_drain(self, ws: WebSocket[T]) -> Awaitable[None] | None: ...
        def on_error(self, ws: WebSocket[T], error: BaseException) -> Awaitable[None] | None: ...
        def select_subprotocol(
            self, ws: WebSocket[T], offered: list[str]
        ) -> Awaitable[str | None] | str | None: ...


class _DictHandler:
    """The dict form, given the attribute names of the class form."""

    def __init__(self, handlers: Mapping[str, Any]) -> None:
        for key, value in handlers.items():
            setattr(self, _DICT_KEYS[key], value)


def _is_async(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - callable objects with an async __call__
    )


async def _call(fn: Callable[..., Any], is_async: bool, *args: Any) -> Any:
    result = fn(*args)
    if is_async or isinstance(result, Awaitable):  # a plain function may return a coroutine
        return await result
    return result


def _foreign_disconnect(exc: WebSocketDisconnect) -> WebSocketError:
    """A disconnect that escaped while this socket is open belongs to another socket."""
    error = WebSocketError(
        f"uncaught WebSocketDisconnect of another connection (code {exc.code}); "
        "catch it when sending to other sockets"
    )
    error.__cause__ = exc
    return error


def _close_for(error: BaseException) -> tuple[int, str]:
    if isinstance(error, WebSocketError) and error.close_code in _CLIENT_FAULT_REASONS:
        return error.close_code, _CLIENT_FAULT_REASONS[error.close_code]
    return 1011, "internal error"


class _LifecycleEndpoint:
    """Runs the class and dict forms: accept, on_open, on_message per message, on_close once."""

    __slots__ = ("_async", "_factory", "_name", "_subprotocols")

    def __init__(
        self,
        factory: Callable[[], Any],
        prototype: Any,
        name: str,
    ) -> None:
        self._factory = factory
        self._name = name
        self._async: dict[str, bool] = {}
        for attr in (*_LIFECYCLE_METHODS, "select_subprotocol"):
            fn = getattr(prototype, attr, None)
            if fn is None:
                continue
            if not callable(fn):
                raise ConfigurationError(f"websocket handler {name}: {attr} must be callable")
            self._async[attr] = _is_async(fn)
        subprotocols = getattr(prototype, "subprotocols", ()) or ()
        if isinstance(subprotocols, str) or not all(isinstance(p, str) for p in subprotocols):
            raise ConfigurationError(
                f"websocket handler {name}: subprotocols must be a list of strings"
            )
        self._subprotocols = tuple(subprotocols)
        if not self._async and not self._subprotocols:
            raise ConfigurationError(
                f"websocket handler {name} defines none of {', '.join(_LIFECYCLE_METHODS)}"
            )

    def __repr__(self) -> str:
        return f"<websocket handler {self._name}>"

    async def _choose_subprotocol(self, target: Any, ws: WebSocket[Any]) -> str | None:
        if "select_subprotocol" in self._async:
            chosen = await _call(
                target.select_subprotocol, self._async["select_subprotocol"], ws, ws.subprotocols
            )
            return cast("str | None", chosen)
        for offered in ws.subprotocols:
            if offered in self._subprotocols:
                return offered
        return None

    async def __call__(self, ws: WebSocket[Any]) -> None:
        target = self._factory()
        flags = self._async
        await ws.accept(await self._choose_subprotocol(target, ws))

        if "on_drain" in flags:
            on_drain = target.on_drain
            if flags["on_drain"]:
                ws.on_drain = on_drain
            else:

                async def drain(sock: WebSocket[Any]) -> None:
                    await _call(on_drain, False, sock)

                ws.on_drain = drain

        error: Exception | None = None
        try:
            if "on_open" in flags:
                await _call(target.on_open, flags["on_open"], ws)
            on_message = getattr(target, "on_message", None)
            message_is_async = flags.get("on_message", False)
            while True:
                try:
                    message = await ws.receive()
                except WebSocketDisconnect:
                    break
                if on_message is None:
                    continue
                result = on_message(ws, message)
                if message_is_async or isinstance(result, Awaitable):
                    await result
        except WebSocketDisconnect as exc:
            # This socket's own disconnect (e.g. the peer vanished mid-send) ends it normally;
            # one leaking from another socket this handler wrote to is an error here.
            if ws.connection_state is not WebSocketState.CLOSED:
                error = _foreign_disconnect(exc)
        except Exception as exc:
            error = exc

        if error is not None:
            code, reason = _close_for(error)
            if "on_error" in flags:
                try:
                    await _call(target.on_error, flags["on_error"], ws, error)
                except Exception as hook_error:
                    hook_error.__context__ = error
                    error = hook_error
            await ws.close(code, reason)
        if "on_close" in flags:
            try:
                await _call(target.on_close, flags["on_close"], ws, ws.close_code, ws.close_reason)
            except Exception as close_error:
                if error is not None:
                    close_error.__context__ = error
                error = close_error
        if error is not None:
            raise error


def _handler_name(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__qualname__


def normalize_ws_handler(handler: object) -> WebSocketEndpoint:
    """Turn any websocket handler form into one coroutine function ``endpoint(ws)``.

    Call once, when the route is registered.  Accepts an ``async def`` function, a class
    (instantiated per connection, without arguments), an instance with lifecycle methods
    (shared by all connections) or a Harpia-style dict; anything else raises
    :class:`~avian.errors.ConfigurationError`.
    """
    if isinstance(handler, _LifecycleEndpoint):
        return handler
    if isinstance(handler, Mapping):
        unknown = sorted(str(k) for k in handler if k not in _DICT_KEYS)
        if unknown:
            raise ConfigurationError(
                f"unknown websocket handler keys {unknown}; use {', '.join(_DICT_KEYS)}"
            )
        shared = _DictHandler(handler)
        return _LifecycleEndpoint(lambda: shared, shared, "dict")
    if isinstance(handler, type):
        name = handler.__qualname__
        try:
            inspect.signature(handler).bind()
        except TypeError:
            raise ConfigurationError(
                f"websocket handler class {name} must be constructible without arguments "
                "(one instance per connection); register an instance to share one"
            ) from None
        except ValueError:  # pragma: no cover - classes without an introspectable signature
            pass
        return _LifecycleEndpoint(handler, handler, name)
    if any(hasattr(handler, attr) for attr in _HANDLER_ATTRIBUTES):
        return _LifecycleEndpoint(lambda: handler, handler, type(handler).__qualname__)
    if callable(handler):
        if _is_async(handler):
            return cast(WebSocketEndpoint, handler)
        raise ConfigurationError(
            f"websocket handler {_handler_name(handler)} must be an 'async def' function"
        )
    raise ConfigurationError(
        "a websocket handler must be an async function, a class or object with on_open/"
        f"on_message/on_close/on_drain/on_error, or a dict of those; got {type(handler).__name__}"
    )


async def run_websocket(
    handler: WebSocketEndpoint,
    ws: WebSocket[Any],
    *,
    on_error: Callable[[BaseException], Awaitable[None]] | None = None,
) -> None:
    """Run one connection: origin check, the handler, then make sure the socket is closed.

    * A handshake whose ``Origin`` fails :meth:`WebSocket.check_origin` is refused (HTTP 403)
      without running the handler.
    * A handler that returns leaves the socket closed (1000 if it did not close it).
    * An escaping :class:`WebSocketDisconnect` for this socket is a normal end.
    * The client's bad input escaping as :class:`WebSocketError` closes with its code
      (1003, 1007, 1008) and is not reported.
    * Any other exception closes with 1011 (or refuses the handshake, HTTP 403, if it came
      before :meth:`WebSocket.accept`) and goes to ``on_error``, or is re-raised without one.
    """
    if not ws.check_origin():
        await ws.close(1008, "origin not allowed")
        return
    try:
        await handler(ws)
    except WebSocketDisconnect as exc:
        if ws.connection_state is WebSocketState.CLOSED:
            return
        error: Exception = _foreign_disconnect(exc)
    except Exception as exc:
        error = exc
    else:
        await ws.close()
        return
    code, reason = _close_for(error)
    await ws.close(code, reason)
    if code != 1011:
        return
    if on_error is None:
        raise error
    await on_error(error)
