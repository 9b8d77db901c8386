"""Responses: each one is an ASGI application that sends itself.

``Response`` holds a body in memory; ``StreamingResponse`` sends chunks from an iterator;
``FileResponse`` streams a file from disk.  A ``HEAD`` request gets the same headers with no
body.  Headers are written through :class:`MutableHeaders`, so they are always valid.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from .cookies import ResponseCookies
from .dates import http_date
from .headers import HeaderValueError, MutableHeaders, encode_header
from .jsoncodec import encode_json

__all__ = [
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "reason_phrase",
]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Any
Send = Any

_CONTENT_TYPE = b"content-type"
_CONTENT_TYPE_CACHE: dict[str, bytes] = {}
_CONTENT_LENGTH = b"content-length"


def reason_phrase(status: int) -> str:
    """The standard reason phrase for a status code (``""`` for unknown codes)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _check_status(status: int) -> int:
    # 1xx codes are informational: no server can send one as the final response.
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise ValueError(f"invalid HTTP status for a response {status!r}")
    return status


class Response:
    """A complete response with an in-memory body."""

    __slots__ = ("_cookies", "_headers", "_status", "body", "media_type", "raw_headers")

    default_media_type: str | None = None

    def __init__(
        self,
        body: bytes | str | None = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self._status = _check_status(status)
        if isinstance(body, str):
            body = body.encode()
        self.body: bytes = body or b""
        self.media_type = media_type if media_type is not None else self.default_media_type
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self._headers: MutableHeaders | None = None
        self._cookies: ResponseCookies | None = None
        if headers:
            h = self.headers
            for k, v in headers.items():
                h.add(k, v)

    @property
    def status(self) -> int:
        """The status code; assigning an invalid one raises :class:`ValueError` at once,
        so the mistake becomes a 500 where it was made instead of a broken response."""
        return self._status

    @status.setter
    def status(self, value: int) -> None:
        self._status = _check_status(value)

    status_code = status

    def set_status(self, status: int) -> Response:
        """Set the status (validated); returns the response for chaining."""
        self._status = _check_status(status)
        return self

    @property
    def reason(self) -> str:
        return reason_phrase(self.status)

    @property
    def headers(self) -> MutableHeaders:
        h = self._headers
        if h is None:
            h = self._headers = MutableHeaders(self.raw_headers)
        return h

    @property
    def cookies(self) -> ResponseCookies:
        c = self._cookies
        if c is None:
            c = self._cookies = ResponseCookies(self.headers)
        return c

    def add_headers(self, headers: Mapping[str, str]) -> None:
        """Set several headers at once (YinzerFlow's ``addHeaders``)."""
        self.headers.update(headers)

    def remove_headers(self, *names: str) -> None:
        """Remove headers by name (YinzerFlow's ``removeHeaders``)."""
        self.headers.remove(*names)

    def _content_type(self) -> bytes | None:
        media = self.media_type
        if media is None:
            return None
        encoded = _CONTENT_TYPE_CACHE.get(media)
        if encoded is None:
            value = media
            if value.startswith("text/") and "charset" not in value:
                value += "; charset=utf-8"
            encoded = encode_header("content-type", value)[1]
            if len(_CONTENT_TYPE_CACHE) < 256:
                _CONTENT_TYPE_CACHE[media] = encoded
        return encoded

    @classmethod
    def make(cls, body: bytes, status: int, media_type: str | None) -> Response:
        """Build without validation: for avian's own hot path, with trusted arguments."""
        # PERF: skips __init__'s checks and the headers object; about 40% cheaper.
        r = cls.__new__(cls)
        r._status = status
        r.body = body
        r.media_type = media_type
        r.raw_headers = []
        r._headers = None
        r._cookies = None
        return r

    def _start_headers(self, content_length: int | None) -> list[tuple[bytes, bytes]]:
        raw = self.raw_headers
        names = {k for k, _ in raw} if raw else ()
        out = list(raw)
        if _CONTENT_TYPE not in names:
            ctype = self._content_type()
            if ctype is not None:
                out.append((_CONTENT_TYPE, ctype))
        if content_length is not None and _CONTENT_LENGTH not in names:
            out.append((_CONTENT_LENGTH, str(content_length).encode()))
        return out

    def merge_from(self, other: Response) -> None:
        """Take headers set on ``other`` (a pending ``ctx.response``) that this one lacks.

        ``Set-Cookie`` (and other repeatable headers already present on ``other``) are added
        alongside this response's own values.
        """
        if not other.raw_headers:
            return
        mine = {k for k, _ in self.raw_headers}
        for k, v in other.raw_headers:
            if k not in mine or k == b"set-cookie":
                self.raw_headers.append((k, v))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.body
        status = self._status
        no_body = status < 200 or status in (204, 304)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._start_headers(None if no_body else len(body)),
            }
        )
        if scope.get("method") == "HEAD" or no_body:
            body = b""
        await send({"type": "http.response.body", "body": body})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status} {self.media_type or ''}>"


class PlainTextResponse(Response):
    __slots__ = ()
    default_media_type = "text/plain"


class HTMLResponse(Response):
    __slots__ = ()
    default_media_type = "text/html"


class JSONResponse(Response):
    """JSON from any value msgspec can encode (dicts, lists, Structs, dataclasses, ...)."""

    __slots__ = ()
    default_media_type = "application/json"

    def __init__(
        self,
        content: Any = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(encode_json(content), status, headers, media_type)


_UNSAFE_URL = "%:/?#[]@!$&'()*+,;=~-._"


class RedirectResponse(Response):
    """A redirect; non-ASCII characters in ``url`` are percent-encoded, CR/LF refused."""

    __slots__ = ()

    def __init__(
        self, url: str, status: int = 302, headers: Mapping[str, str] | None = None
    ) -> None:
        if not 300 <= status <= 399:
            raise ValueError(f"redirect status must be 3xx, got {status}")
        if any(c in url for c in "\r\n\x00"):
            raise HeaderValueError("redirect URL contains a control character")
        super().__init__(b"", status, headers)
        self.headers.set("location", quote(url, safe=_UNSAFE_URL))


ChunkSource = AsyncIterable[bytes | str] | Iterable[bytes | str]


async def _iterate_in_thread(iterable: Iterable[bytes | str]) -> AsyncIterator[bytes | str]:
    import asyncio

    iterator: Iterator[bytes | str] = iter(iterable)
    done = object()
    while True:
        item = await asyncio.to_thread(next, iterator, done)
        if item is done:
            return
        yield item  # type: ignore[misc]


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class StreamingResponse(Response):
    """Sends each chunk of an (async or sync) iterator as soon as it is produced.

    Sync iterators run in a worker thread.  The stream stops when the client disconnects.
    """

    __slots__ = ("content",)

    def __init__(
        self,
        content: ChunkSource,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(b"", status, headers, media_type)
        self.content = content

    def _chunks(self) -> AsyncIterator[bytes | str]:
        content = self.content
        if isinstance(content, AsyncIterable):
            return aiter(content)
        return _iterate_in_thread(content)

    async def _stream(self, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self._start_headers(None),
            }
        )
        async for chunk in self._chunks():
            data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
            if data:
                await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") == "HEAD":
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status,
                    "headers": self._start_headers(None),
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        import asyncio  # PERF: streaming responses load it, `import avian` does not

        stream = asyncio.ensure_future(self._stream(send))
        watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await asyncio.wait((stream, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watcher):
                if not task.done():
                    task.cancel()
            await asyncio.gather(stream, watcher, return_exceptions=True)
        if stream.done() and not stream.cancelled() and stream.exception() is not None:
            raise stream.exception()  # type: ignore[misc]


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value with an ASCII fallback and an RFC 8187 UTF-8 name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("\\", "")
    ascii_name = "".join(c if 32 <= ord(c) < 127 else "_" for c in ascii_name)
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


_FILE_ENTITY_HEADERS = frozenset(
    {b"content-type", b"content-length", b"content-disposition", b"last-modified", b"etag"}
)


class FileResponse(Response):
    """Streams a file from disk in chunks, read in a worker thread.

    With ``filename`` the file is offered as a download (``Content-Disposition: attachment``);
    pass ``disposition="inline"`` to show it in the browser instead.
    """

    __slots__ = ("chunk_size", "path")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        disposition: str | None = None,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        chunk_size: int = 64 * 1024,
    ) -> None:
        self.path = os.fspath(path)
        if media_type is None:
            guess = filename or self.path
            media_type = mimetypes.guess_type(guess)[0] or "application/octet-stream"
        super().__init__(b"", status, headers, media_type)
        self.chunk_size = chunk_size
        if filename is not None or disposition is not None:
            name = filename or os.path.basename(self.path)
            self.headers.set(
                "content-disposition", content_disposition(disposition or "attachment", name)
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import asyncio

        try:
            info = await asyncio.to_thread(os.stat, self.path)
        except FileNotFoundError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            body = b"File not found"
            # Headers set for the request (cookies, CORS, ...) still apply; the file's own
            # description does not.
            kept = [(k, v) for k, v in self.raw_headers if k not in _FILE_ENTITY_HEADERS]
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [
                        *kept,
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        headers = self.headers
        if "last-modified" not in headers:
            headers.set("last-modified", http_date(info.st_mtime))
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self._start_headers(info.st_size),
            }
        )
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        with await asyncio.to_thread(open, self.path, "rb") as f:
            remaining = info.st_size
            while remaining > 0:
                chunk = await asyncio.to_thread(f.read, min(self.chunk_size, remaining))
                if not chunk:  # the file shrank under us
                    break
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
