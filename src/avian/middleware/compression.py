"""Response compression: gzip always, brotli with the ``avian[brotli]`` extra.

:class:`CompressionMiddleware` looks at the response the rest of the pipeline produced and,
when it is worth it and the client accepts it, encodes the body:

* an in-memory :class:`~avian.http.response.Response` gets a new, compressed body (large
  bodies are compressed in a worker thread so the event loop keeps serving);
* a :class:`~avian.http.response.StreamingResponse` keeps streaming: every chunk is
  compressed and flushed as it is produced, so the client can decode it at once;
* a :class:`~avian.http.response.FileResponse` is sent as a compressed stream;
* a static file (:class:`~avian.static.StaticFileResponse`) is compressed on its way out,
  message by message, since it reads and sends its own bytes.

Responses that are already encoded, tiny, of a type that does not shrink, server-sent
events, partial (``206``), bodiless, or marked ``Cache-Control: no-transform`` go out as
they are.  ``Vary: Accept-Encoding`` is added to every response whose encoding depends on
the request, so caches keep the variants apart.
"""

from __future__ import annotations

import asyncio
import copy
import os
import stat
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from ..errors import ConfigurationError
from ..http.dates import http_date
from ..http.headers import MutableHeaders
from ..http.negotiation import parse_accept_encoding
from ..http.response import FileResponse, Response, StreamingResponse
from ..static import StaticFileResponse

try:
    import brotli as _brotli  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the test environment installs the extra
    _brotli = None

if TYPE_CHECKING:
    from ..context import Context
    from ..routing.router import CallNext

__all__ = [
    "DEFAULT_COMPRESSIBLE_TYPES",
    "DEFAULT_EXCLUDED_TYPES",
    "CompressionMiddleware",
    "Encoding",
]

Encoding = Literal["br", "gzip"]

DEFAULT_COMPRESSIBLE_TYPES: Final[tuple[str, ...]] = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/x-ndjson",
    "application/javascript",
    "application/ecmascript",
    "application/x-javascript",
    "application/xml",
    "application/*+xml",
    "application/yaml",
    "application/wasm",
    "application/vnd.ms-fontobject",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/bmp",
    "font/ttf",
    "font/otf",
)
"""Media types that usually shrink well: text, JSON, JavaScript, XML, SVG, wasm, raw fonts."""

DEFAULT_EXCLUDED_TYPES: Final[tuple[str, ...]] = (
    "text/event-stream",
    "application/gzip",
    "application/x-gzip",
    "application/zip",
    "application/zstd",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "audio/*",
    "video/*",
    "font/woff",
    "font/woff2",
)
"""Never compressed, whatever the allow list says: server-sent events (a proxy or browser
may hold back a compressed event stream) and formats that are compressed already."""

_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib writes a gzip header with mtime 0: deterministic
_BODYLESS_STATUSES = frozenset({204, 206, 304})
_CACHE_LIMIT = 256
_CACHEABLE_HEADER_LENGTH = 256

_VARY = b"vary"
_CONTENT_ENCODING = b"content-encoding"
_CONTENT_RANGE = b"content-range"
_CONTENT_TYPE = b"content-type"
_CONTENT_LENGTH = b"content-length"
_CACHE_CONTROL = b"cache-control"
_ACCEPT_ENCODING = b"accept-encoding"


# --- encoders -------------------------------------------------------------------------------


class _StreamEncoder(Protocol):
    def compress(self, data: bytes, flush: bool) -> bytes: ...
    def finish(self) -> bytes: ...


class _GzipStream:
    """Incremental gzip; a sync flush ends each chunk on a byte boundary the client can
    decode up to, at the price of a few bytes per chunk."""

    __slots__ = ("_z",)

    def __init__(self, level: int) -> None:
        self._z = zlib.compressobj(level, zlib.DEFLATED, _GZIP_WBITS)

    def compress(self, data: bytes, flush: bool) -> bytes:
        out = self._z.compress(data)
        if flush:
            out += self._z.flush(zlib.Z_SYNC_FLUSH)
        return out

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _BrotliStream:
    """Incremental brotli; ``flush()`` plays the part of gzip's sync flush."""

    __slots__ = ("_c",)

    def __init__(self, quality: int) -> None:
        self._c = _brotli.Compressor(quality=quality)

    def compress(self, data: bytes, flush: bool) -> bytes:
        out: bytes = self._c.process(data)
        if flush:
            out += self._c.flush()
        return out

    def finish(self) -> bytes:
        out: bytes = self._c.finish()
        return out


# --- negotiation and matching --------------------------------------------------------------


def _choose_encoding(value: str, offered: Sequence[Encoding]) -> Encoding | None:
    """The best of ``offered`` (most preferred first) for this ``Accept-Encoding``, or
    ``None`` to send the body as it is.

    A coding the client does not name is refused unless ``*`` covers it; ``q=0`` refuses.
    The client's q-values rank the codings and ``offered`` breaks ties.  An uncompressed
    body is sent only when the client rates ``identity`` (by name or through ``*``) above
    every coding we offer.
    """
    ratings = parse_accept_encoding(value)
    wildcard = ratings.get("*")
    best: Encoding | None = None
    best_q = 0.0
    for coding in offered:
        q = ratings.get(coding, wildcard if wildcard is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    if best is None:
        return None
    identity_q = ratings.get("identity", wildcard)
    if identity_q is not None and identity_q > best_q:
        return None
    return best


class _MediaTypes:
    """A set of media-type patterns: ``type/subtype``, ``type/*``, ``type/*+suffix``, ``*/*``."""

    __slots__ = ("_any", "_exact", "_suffixes", "_types")

    def __init__(self, patterns: Iterable[str], option: str) -> None:
        if isinstance(patterns, str):
            raise ConfigurationError(f"{option} must be a sequence of media types, not a string")
        exact: set[str] = set()
        types: set[str] = set()
        suffixes: set[tuple[str, str]] = set()
        self._any = False
        for pattern in patterns:
            if not isinstance(pattern, str):
                raise ConfigurationError(f"{option}: {pattern!r} is not a media type")
            text = pattern.strip().lower()
            kind, slash, sub = text.partition("/")
            if not slash or not kind or not sub or ";" in text or " " in text:
                raise ConfigurationError(
                    f"{option}: {pattern!r} is not a media type pattern "
                    "(use 'type/subtype', 'type/*', 'type/*+suffix' or '*/*')"
                )
            if kind == "*":
                if sub != "*":
                    raise ConfigurationError(f"{option}: {pattern!r}: only '*/*' may use '*/'")
                self._any = True
            elif sub == "*":
                types.add(kind)
            elif sub.startswith("*+") and len(sub) > 2:
                suffixes.add((kind, sub[1:]))
            elif "*" in sub:
                raise ConfigurationError(f"{option}: {pattern!r}: unsupported wildcard")
            else:
                exact.add(text)
        self._exact = frozenset(exact)
        self._types = frozenset(types)
        self._suffixes = tuple(sorted(suffixes))

    def __contains__(self, media_type: str) -> bool:
        if self._any or media_type in self._exact:
            return True
        kind, _, sub = media_type.partition("/")
        if kind in self._types:
            return True
        return any(kind == k and sub.endswith(s) for k, s in self._suffixes)


def _add_vary(headers: MutableHeaders) -> None:
    """Add ``Accept-Encoding`` to ``Vary``, keeping the values already there (once each)."""
    tokens = [t.strip() for v in headers.get_all("vary") for t in v.split(",") if t.strip()]
    lowered = {t.lower() for t in tokens}
    if "*" in lowered or "accept-encoding" in lowered:
        return
    headers.set("vary", ", ".join([*tokens, "Accept-Encoding"]))


def _mark_encoded(headers: MutableHeaders, encoding: str) -> None:
    headers.set("content-encoding", encoding)
    headers.remove("content-length")
    etag = headers.get("etag")
    # A strong validator promises byte-identical bodies; the encoded one is not.
    if etag is not None and not etag.startswith("W/"):
        headers.set("etag", "W/" + etag)


# Which sending strategy a response class uses, decided once per class.  Only classes that
# send exactly what the base class sends (or static files, whose messages are known) can be
# encoded safely; a subclass that overrides how it sends itself goes out untouched.
_BODY: Final = 1
_STREAM: Final = 2
_FILE: Final = 3
_STATIC: Final = 4
_KINDS: dict[type[Response], int | None] = {}


def _kind_of(cls: type[Response]) -> int | None:
    try:
        return _KINDS[cls]
    except KeyError:
        pass
    kind: int | None = None
    if issubclass(cls, StreamingResponse):
        if (
            cls.__call__ is StreamingResponse.__call__
            and cls._stream is StreamingResponse._stream
            and cls._chunks is StreamingResponse._chunks
        ):
            kind = _STREAM
    elif issubclass(cls, FileResponse):
        if cls.__call__ is FileResponse.__call__:
            kind = _FILE
    elif cls.__call__ is Response.__call__:
        kind = _BODY
    elif cls is StaticFileResponse:
        kind = _STATIC
    _KINDS[cls] = kind
    return kind


class _EncodingResponse(Response):
    """Sends another response with its body encoded on the way out.

    For responses that read and send their own bytes (static files).  Headers are shared
    with the wrapped response, and its status and media type are synchronised just before
    sending, so middleware further out may change this one as usual.
    """

    __slots__ = ("_encode", "_encoder", "_inner")

    def __init__(
        self,
        inner: Response,
        encoder: _StreamEncoder,
        encode: Callable[[_StreamEncoder, bytes, bool], Awaitable[bytes]],
    ) -> None:
        super().__init__(b"", inner.status, None, inner.media_type)
        self.raw_headers = inner.raw_headers
        self._inner = inner
        self._encoder = encoder
        self._encode = encode

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        inner = self._inner
        inner.status = self.status
        inner.media_type = self.media_type
        inner.raw_headers = self.raw_headers
        encoder = self._encoder
        encode = self._encode

        async def send_encoded(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k != _CONTENT_LENGTH]
                message = {**message, "headers": headers}
            else:  # a static file sends nothing but the start and its body
                more = message.get("more_body", False)
                out = await encode(encoder, message.get("body", b""), False)
                if not more:
                    out += encoder.finish()
                elif not out:
                    return  # nothing to send yet: the encoder is still filling a block
                message = {**message, "body": out}
            await send(message)

        await inner(scope, receive, send_encoded)


async def _read_file(path: str, size: int, chunk_size: int) -> AsyncIterator[bytes]:
    """The first ``size`` bytes of a file, read in a worker thread chunk by chunk."""
    with await asyncio.to_thread(open, path, "rb") as f:
        remaining = size
        while remaining > 0:
            chunk: bytes = await asyncio.to_thread(f.read, min(chunk_size, remaining))
            if not chunk:  # the file shrank under us
                break
            remaining -= len(chunk)
            yield chunk


# --- the middleware -------------------------------------------------------------------------


class CompressionMiddleware:
    """Compress responses with brotli or gzip, as the client's ``Accept-Encoding`` allows.

    Use it as ``app.use(CompressionMiddleware())``.  See ``docs/compression.md`` for every
    option and the cases where a response is left alone.
    """

    __slots__ = (
        "_compressible",
        "_excluded",
        "_media_cache",
        "_negotiation_cache",
        "brotli_quality",
        "encodings",
        "gzip_level",
        "minimum_size",
        "thread_threshold",
    )

    def __init__(
        self,
        *,
        minimum_size: int = 500,
        gzip_level: int = 6,
        brotli_quality: int = 4,
        prefer: Sequence[Encoding] = ("br", "gzip"),
        content_types: Iterable[str] = DEFAULT_COMPRESSIBLE_TYPES,
        exclude_content_types: Iterable[str] = DEFAULT_EXCLUDED_TYPES,
        brotli: bool | None = None,
        thread_threshold: int = 256 * 1024,
    ) -> None:
        self.minimum_size = _non_negative("minimum_size", minimum_size)
        self.thread_threshold = _non_negative("thread_threshold", thread_threshold)
        self.gzip_level = _in_range("gzip_level", gzip_level, 1, 9)
        self.brotli_quality = _in_range("brotli_quality", brotli_quality, 0, 11)
        if brotli not in (None, True, False):
            raise ConfigurationError(f"brotli must be None, True or False, got {brotli!r}")
        if brotli and _brotli is None:
            raise ConfigurationError(
                "brotli compression needs the brotli package, which is not installed: "
                "pip install 'avian[brotli]'"
            )
        use_brotli = _brotli is not None if brotli is None else brotli
        if isinstance(prefer, str):
            raise ConfigurationError("prefer must be a sequence of encodings, e.g. ('br', 'gzip')")
        prefer = tuple(prefer)
        for coding in prefer:
            if coding not in ("br", "gzip"):
                raise ConfigurationError(f"prefer: unknown encoding {coding!r} (use 'br', 'gzip')")
        if len(set(prefer)) != len(prefer):
            raise ConfigurationError(f"prefer names an encoding twice: {prefer!r}")
        self.encodings: tuple[Encoding, ...] = tuple(c for c in prefer if c == "gzip" or use_brotli)
        """The encodings this middleware offers, most preferred first."""
        if not self.encodings:
            raise ConfigurationError(
                f"prefer={prefer!r} leaves no encoding to use"
                + (" (brotli is disabled or not installed)" if "br" in prefer else "")
            )
        self._compressible = _MediaTypes(content_types, "content_types")
        self._excluded = _MediaTypes(exclude_content_types, "exclude_content_types")
        self._media_cache: dict[str, bool] = {}
        self._negotiation_cache: dict[str, Encoding | None] = {}

    def __repr__(self) -> str:
        return (
            f"CompressionMiddleware(encodings={self.encodings!r}, minimum_size={self.minimum_size})"
        )

    async def __call__(self, ctx: Context, call_next: CallNext) -> Response:
        response = await call_next()
        kind = _kind_of(type(response))
        if kind is None:
            return response
        if kind == _BODY:
            if len(response.body) < self.minimum_size:
                return response  # PERF: the common small JSON answer stops here
        elif kind == _STATIC:
            assert isinstance(response, StaticFileResponse)
            if response.content_length < self.minimum_size:
                return response
        if not self._eligible(response, kind):
            return response
        _add_vary(response.headers)
        scope = ctx.scope
        if scope.get("method") == "HEAD":
            return response
        encoding = self._negotiate(scope)
        if encoding is None:
            return response
        if kind == _BODY:
            return await self._encode_body(response, encoding)
        if kind == _STREAM:
            assert isinstance(response, StreamingResponse)
            return self._encode_stream(response, encoding)
        if kind == _FILE:
            assert isinstance(response, FileResponse)
            return await self._encode_file(response, encoding)
        encoded = _EncodingResponse(response, self._stream_encoder(encoding), self._encode_chunk)
        _mark_encoded(encoded.headers, encoding)
        return encoded

    # --- decisions ------------------------------------------------------------------------

    def _eligible(self, response: Response, kind: int) -> bool:
        """Whether this response could be compressed for some client."""
        status = response.status
        if status < 200 or status in _BODYLESS_STATUSES:
            return False
        content_type: bytes | None = None
        for name, value in response.raw_headers:
            if name in (_CONTENT_ENCODING, _CONTENT_RANGE):
                return False
            if name == _CACHE_CONTROL and b"no-transform" in value.lower():
                return False
            if name == _CONTENT_TYPE:
                content_type = value
            elif name == _CONTENT_LENGTH and kind == _STREAM:
                # A stream that declares its length can be judged by it.
                try:
                    if int(value) < self.minimum_size:
                        return False
                except ValueError:
                    pass
        if content_type is not None:
            media = content_type.decode("latin-1")
        elif response.media_type is not None:
            media = response.media_type
        else:
            return False
        return self._allows(media)

    def _allows(self, media: str) -> bool:
        allowed = self._media_cache.get(media)
        if allowed is None:
            essence = media.partition(";")[0].strip().lower()
            allowed = essence in self._compressible and essence not in self._excluded
            if len(self._media_cache) >= _CACHE_LIMIT:
                self._media_cache.clear()
            self._media_cache[media] = allowed
        return allowed

    def _negotiate(self, scope: dict[str, Any]) -> Encoding | None:
        raw: bytes | None = None
        for name, value in scope["headers"]:
            if name == _ACCEPT_ENCODING:
                raw = value if raw is None else raw + b"," + value
        if raw is None:
            return None  # clients that say nothing get the plain body
        value_text = raw.decode("latin-1")
        cache = self._negotiation_cache
        # PERF: browsers send a handful of distinct values; parse each once.
        try:
            return cache[value_text]
        except KeyError:
            pass
        choice = _choose_encoding(value_text, self.encodings)
        if len(value_text) <= _CACHEABLE_HEADER_LENGTH:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            cache[value_text] = choice
        return choice

    # --- encoding -------------------------------------------------------------------------

    def _compress(self, encoding: Encoding, body: bytes) -> bytes:
        if encoding == "gzip":
            return zlib.compress(body, self.gzip_level, wbits=_GZIP_WBITS)
        out: bytes = _brotli.compress(body, quality=self.brotli_quality)
        return out

    def _stream_encoder(self, encoding: Encoding) -> _StreamEncoder:
        if encoding == "gzip":
            return _GzipStream(self.gzip_level)
        return _BrotliStream(self.brotli_quality)

    async def _encode_body(self, response: Response, encoding: Encoding) -> Response:
        body = response.body
        if len(body) >= self.thread_threshold:
            compressed = await asyncio.to_thread(self._compress, encoding, body)
        else:
            compressed = self._compress(encoding, body)
        if len(compressed) >= len(body):
            return response  # incompressible after all: send it as it is
        # A copy, because a handler may return one response object for many requests.
        encoded = copy.copy(response)
        encoded.raw_headers = list(response.raw_headers)
        encoded._headers = None
        encoded._cookies = None
        encoded.body = compressed
        _mark_encoded(encoded.headers, encoding)
        return encoded

    def _encode_stream(self, response: StreamingResponse, encoding: Encoding) -> Response:
        source = response._chunks()
        response.content = self._encoded(source, self._stream_encoder(encoding), flush=True)
        _mark_encoded(response.headers, encoding)
        return response

    async def _encode_file(self, response: FileResponse, encoding: Encoding) -> Response:
        try:
            info = await asyncio.to_thread(os.stat, response.path)
        except OSError:
            return response  # FileResponse answers 404 itself
        if not stat.S_ISREG(info.st_mode) or info.st_size < self.minimum_size:
            return response
        source = _read_file(response.path, info.st_size, response.chunk_size)
        # Whole files compress better without a flush after every chunk.
        content = self._encoded(source, self._stream_encoder(encoding), flush=False)
        streamed = StreamingResponse(content, response.status, media_type=response.media_type)
        streamed.raw_headers = list(response.raw_headers)
        headers = streamed.headers
        if "last-modified" not in headers:
            headers.set("last-modified", http_date(info.st_mtime))
        _mark_encoded(headers, encoding)
        return streamed

    async def _encode_chunk(self, encoder: _StreamEncoder, data: bytes, flush: bool) -> bytes:
        if len(data) >= self.thread_threshold:
            return await asyncio.to_thread(encoder.compress, data, flush)
        return encoder.compress(data, flush)

    async def _encoded(
        self, source: AsyncIterator[bytes | str], encoder: _StreamEncoder, *, flush: bool
    ) -> AsyncIterator[bytes]:
        """Compress ``source`` chunk by chunk; with ``flush`` each chunk is decodable as
        soon as it arrives, which keeps long-lived streams live."""
        try:
            async for chunk in source:
                data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                if not data:
                    continue
                out = await self._encode_chunk(encoder, data, flush)
                if out:
                    yield out
            yield encoder.finish()
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


def _non_negative(option: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError(f"{option} must be a non-negative integer, got {value!r}")
    return value


def _in_range(option: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigurationError(f"{option} must be an integer from {low} to {high}, got {value!r}")
    return value
