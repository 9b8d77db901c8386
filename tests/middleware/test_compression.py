"""Response compression (``CompressionMiddleware``): negotiation, what is skipped, ``Vary``,
in-memory, streamed and file bodies, the brotli extra, and a streamed response end to end
through a real uvicorn process."""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import threading
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import brotli  # type: ignore[import-untyped]
import httpx
import pytest
from tests.support.processes import serve_uvicorn

from avian import (
    App,
    CallNext,
    ConfigurationError,
    Context,
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from avian.middleware import compression
from avian.middleware.compression import (
    DEFAULT_COMPRESSIBLE_TYPES,
    DEFAULT_EXCLUDED_TYPES,
    CompressionMiddleware,
)
from avian.testing import TestClient

TEXT = "".join(f"{i:04d} the quick brown fox jumps over the lazy dog\n" for i in range(100))
"""Compressible text, well over the default minimum size."""


def decode(encoding: str | None, data: bytes) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "br":
        out: bytes = brotli.decompress(data)
        return out
    assert encoding is None
    return data


def fetch(
    client: TestClient, path: str, accept: str | None = "gzip, br", method: str = "GET"
) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would decode it otherwise)."""
    headers = {"accept-encoding": accept} if accept is not None else {}
    with client.stream(method, path, headers=headers) as response:
        raw = b"".join(response.iter_raw())
    return response, raw


def make_client(*responses: tuple[str, Any], **options: Any) -> TestClient:
    """An app using ``CompressionMiddleware(**options)`` with a route per ``(path, value)``;
    a function is the handler, anything else is what the handler returns."""
    app = App()
    app.use(CompressionMiddleware(**options))
    for path, value in responses:
        if callable(value) and not isinstance(value, Response):
            app.get(path)(value)
        else:

            async def handler(value: Any = value) -> Any:
                return value

            app.get(path)(handler)
    return TestClient(app)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client(("/text", TEXT), ("/json", {"items": [TEXT]})) as c:
        yield c


# --- negotiation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("gzip;q=0.8, br;q=0.8", "br"),
        ("br;q=0, gzip;q=0", None),
        ("br;q=0, gzip", "gzip"),
        ("*", "br"),
        ("*;q=0", None),
        ("br;q=0, *", "gzip"),
        ("identity", None),
        ("gzip;q=0.5, identity", None),
        ("gzip, identity;q=0.5", "gzip"),
        ("gzip;q=0.5, *;q=0.9", "br"),
        ("", None),
        ("GZip", "gzip"),
        ("x-gzip", "gzip"),
        ("deflate", None),
        ("gzip;q=0.001", "gzip"),
        ("gzip; Q=1.000", "gzip"),
        ("gzip;q=2", None),
        ("gzip;q=abc, br;q=0.1", "br"),
        ("gzip;level=1", None),  # only a q weight may follow a coding: ignored
        (" , ,gzip", "gzip"),
    ],
)
def test_encoding_follows_accept_encoding_and_q_values(
    client: TestClient, accept: str, expected: str | None
):
    response, raw = fetch(client, "/text", accept)

    assert response.status_code == 200
    assert response.headers.get("content-encoding") == expected
    assert decode(expected, raw) == TEXT.encode()
    assert response.headers["vary"] == "Accept-Encoding"


def test_no_accept_encoding_header_gets_the_plain_body(client: TestClient):
    del client.headers["accept-encoding"]  # httpx sends one by default

    response, raw = fetch(client, "/text", accept=None)

    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()
    assert response.headers["vary"] == "Accept-Encoding"


def test_several_accept_encoding_lines_are_read_as_one(client: TestClient):
    headers = [("accept-encoding", "br;q=0"), ("accept-encoding", "gzip")]
    with client.stream("GET", "/text", headers=headers) as response:
        raw = b"".join(response.iter_raw())

    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT.encode()


def test_prefer_breaks_ties_between_equally_rated_encodings():
    with make_client(("/text", TEXT), prefer=("gzip", "br")) as c:
        assert fetch(c, "/text", "br, gzip")[0].headers["content-encoding"] == "gzip"
        assert fetch(c, "/text", "br, gzip;q=0.9")[0].headers["content-encoding"] == "br"


def test_prefer_limits_the_encodings_offered():
    with make_client(("/text", TEXT), prefer=("gzip",)) as c:
        assert fetch(c, "/text", "br")[0].headers.get("content-encoding") is None
        assert fetch(c, "/text", "br, gzip")[0].headers["content-encoding"] == "gzip"


# --- in-memory bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_in_memory_body_is_compressed_with_a_matching_content_length(
    client: TestClient, encoding: str
):
    response, raw = fetch(client, "/json", encoding)

    assert response.headers["content-encoding"] == encoding
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(raw) < len(TEXT)
    assert decode(encoding, raw) == JSONResponse({"items": [TEXT]}).body


def test_httpx_decodes_what_the_middleware_encodes(client: TestClient):
    for encoding in ("gzip", "br"):
        response = client.get("/text", headers={"accept-encoding": encoding})
        assert response.headers["content-encoding"] == encoding
        assert response.text == TEXT


def test_gzip_output_is_deterministic(client: TestClient):
    first = fetch(client, "/text", "gzip")[1]
    second = fetch(client, "/text", "gzip")[1]

    assert first == second
    assert first[4:8] == b"\x00\x00\x00\x00"  # gzip mtime field: no timestamp


def test_levels_are_used():
    with (
        make_client(("/text", TEXT * 20), gzip_level=1, brotli_quality=0) as fast,
        make_client(("/text", TEXT * 20), gzip_level=9, brotli_quality=11) as best,
    ):
        for encoding in ("gzip", "br"):
            quick = fetch(fast, "/text", encoding)[1]
            small = fetch(best, "/text", encoding)[1]
            assert len(small) < len(quick)
            assert decode(encoding, quick) == decode(encoding, small) == (TEXT * 20).encode()


def test_minimum_size_boundary():
    with make_client(("/499", "x" * 499), ("/500", "x" * 500)) as c:
        small, raw_small = fetch(c, "/499")
        assert "content-encoding" not in small.headers
        assert "vary" not in small.headers  # never compressed, for any client
        assert raw_small == b"x" * 499

        large, raw_large = fetch(c, "/500")
        assert large.headers["content-encoding"] == "br"
        assert decode("br", raw_large) == b"x" * 500


def test_minimum_size_is_configurable():
    with make_client(("/tiny", "x" * 40), minimum_size=20) as c:
        response, raw = fetch(c, "/tiny", "gzip")
        assert response.headers["content-encoding"] == "gzip"
        assert gzip.decompress(raw) == b"x" * 40


def test_incompressible_body_is_sent_as_is_but_still_varies():
    noise = os.urandom(2000)
    with make_client(("/noise", PlainTextResponse(noise))) as c:
        response, raw = fetch(c, "/noise", "gzip")

    assert "content-encoding" not in response.headers
    assert raw == noise
    assert response.headers["vary"] == "Accept-Encoding"


def test_large_bodies_compressed_in_a_thread_come_out_the_same():
    big = TEXT * 100
    with make_client(("/big", big), thread_threshold=1024) as c:
        for encoding in ("gzip", "br"):
            response, raw = fetch(c, "/big", encoding)
            assert response.headers["content-encoding"] == encoding
            assert int(response.headers["content-length"]) == len(raw)
            assert decode(encoding, raw) == big.encode()


def test_a_response_object_returned_twice_is_not_changed_by_compressing_it():
    shared = PlainTextResponse(TEXT)
    with make_client(("/shared", shared)) as c:
        compressed, raw = fetch(c, "/shared", "gzip")
        plain, body = fetch(c, "/shared", "identity")

    assert compressed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT.encode()
    assert "content-encoding" not in plain.headers
    assert body == TEXT.encode()
    assert shared.body == TEXT.encode()


def test_explicit_content_length_and_etag_are_fixed():
    response = PlainTextResponse(TEXT, headers={"etag": '"v1"', "content-length": str(len(TEXT))})
    weak = PlainTextResponse(TEXT, headers={"etag": 'W/"v1"'})
    with make_client(("/strong", response), ("/weak", weak)) as c:
        strong, raw = fetch(c, "/strong", "gzip")
        assert int(strong.headers["content-length"]) == len(raw)
        assert strong.headers["etag"] == 'W/"v1"'  # the encoded bytes differ from the original
        assert fetch(c, "/weak", "gzip")[0].headers["etag"] == 'W/"v1"'


def test_cookies_and_other_headers_survive_compression():
    async def handler(ctx: Context) -> str:
        ctx.response.cookies.set("session", "abc")
        ctx.response.headers.set("x-trace", "1")
        return TEXT

    with make_client(("/page", handler)) as c:
        response, raw = fetch(c, "/page", "br")

    assert response.headers["content-encoding"] == "br"
    assert response.headers["x-trace"] == "1"
    assert response.cookies["session"] == "abc"
    assert decode("br", raw) == TEXT.encode()


def test_error_responses_with_a_body_are_compressed():
    with make_client(("/gone", PlainTextResponse(TEXT, status=410))) as c:
        response, raw = fetch(c, "/gone", "gzip")

    assert response.status_code == 410
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == TEXT.encode()


# --- what is left alone -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "compressed"),
    [
        ("text/html", True),
        ("text/css", True),
        ("application/json", True),
        ("application/problem+json", True),
        ("application/javascript", True),
        ("application/xml", True),
        ("application/atom+xml", True),
        ("image/svg+xml", True),
        ("application/wasm", True),
        ("TEXT/PLAIN; charset=latin-1", True),
        ("application/octet-stream", False),
        ("image/png", False),
        ("application/zip", False),
        ("video/mp4", False),
        ("font/woff2", False),
    ],
)
def test_default_content_type_allow_list(media_type: str, compressed: bool):
    with make_client(("/x", Response(TEXT, media_type=media_type))) as c:
        response, raw = fetch(c, "/x", "gzip")

    assert ("content-encoding" in response.headers) is compressed
    assert ("vary" in response.headers) is compressed
    assert decode("gzip" if compressed else None, raw) == TEXT.encode()


def test_content_type_header_set_directly_is_what_counts():
    response = Response(TEXT, headers={"content-type": "image/png"}, media_type="text/plain")
    with make_client(("/x", response)) as c:
        assert "content-encoding" not in fetch(c, "/x", "gzip")[0].headers


def test_response_without_a_content_type_is_left_alone():
    with make_client(("/x", Response(TEXT))) as c:
        response, raw = fetch(c, "/x", "gzip")

    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()


def test_content_types_option_replaces_the_allow_list():
    app_types = ("application/octet-stream", "application/*+json", "text/csv")
    with make_client(
        ("/bytes", TEXT.encode()),
        ("/html", Response(TEXT, media_type="text/html")),
        ("/vendor", Response(TEXT, media_type="application/vnd.api+json")),
        ("/csv", Response(TEXT, media_type="text/csv")),
        content_types=app_types,
    ) as c:
        assert fetch(c, "/bytes", "gzip")[0].headers["content-encoding"] == "gzip"
        assert fetch(c, "/vendor", "gzip")[0].headers["content-encoding"] == "gzip"
        assert fetch(c, "/csv", "gzip")[0].headers["content-encoding"] == "gzip"
        assert "content-encoding" not in fetch(c, "/html", "gzip")[0].headers


def test_exclusions_win_over_a_wide_allow_list():
    with make_client(
        ("/png", Response(TEXT, media_type="image/png")),
        ("/bin", TEXT.encode()),
        ("/csv", Response(TEXT, media_type="text/csv")),
        content_types=("*/*",),
        exclude_content_types=(*DEFAULT_EXCLUDED_TYPES, "text/csv"),
    ) as c:
        assert fetch(c, "/bin", "gzip")[0].headers["content-encoding"] == "gzip"
        assert "content-encoding" not in fetch(c, "/png", "gzip")[0].headers
        assert "content-encoding" not in fetch(c, "/csv", "gzip")[0].headers


def test_server_sent_events_are_not_compressed():
    async def events() -> AsyncIterator[str]:
        for i in range(3):
            yield f"data: {TEXT[:300]} {i}\n\n"

    async def handler() -> StreamingResponse:
        return StreamingResponse(events(), media_type="text/event-stream")

    with make_client(("/events", handler)) as c:
        response, raw = fetch(c, "/events", "gzip, br")

    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert raw.decode().count("data: ") == 3


def test_already_encoded_responses_pass_through_untouched():
    precompressed = gzip.compress(TEXT.encode())
    response = Response(
        precompressed, media_type="text/plain", headers={"content-encoding": "gzip"}
    )
    with make_client(("/pre", response)) as c:
        sent, raw = fetch(c, "/pre", "br")

    assert sent.headers["content-encoding"] == "gzip"
    assert "vary" not in sent.headers
    assert raw == precompressed


def test_cache_control_no_transform_is_respected():
    response = PlainTextResponse(TEXT, headers={"cache-control": "public, No-Transform"})
    with make_client(("/x", response)) as c:
        sent, raw = fetch(c, "/x", "gzip")

    assert "content-encoding" not in sent.headers
    assert raw == TEXT.encode()


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_are_left_alone(status: int):
    with make_client(("/x", PlainTextResponse(TEXT, status=status))) as c:
        response, raw = fetch(c, "/x", "gzip")

    assert response.status_code == status
    assert "content-encoding" not in response.headers
    assert "vary" not in response.headers
    assert raw == b""


def test_partial_content_is_left_alone():
    part = PlainTextResponse(
        TEXT, status=206, headers={"content-range": f"bytes 0-{len(TEXT) - 1}/9999"}
    )
    range_error = PlainTextResponse(TEXT, status=416, headers={"content-range": "bytes */9999"})
    with make_client(("/part", part), ("/416", range_error)) as c:
        for path in ("/part", "/416"):
            response, raw = fetch(c, path, "gzip")
            assert "content-encoding" not in response.headers
            assert raw == TEXT.encode()


def test_head_is_not_compressed_but_varies(client: TestClient):
    response = client.head("/text", headers={"accept-encoding": "gzip"})

    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(TEXT)
    assert response.content == b""


def test_responses_that_send_themselves_differently_are_left_alone():
    class Custom(Response):
        __slots__ = ()

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": TEXT.encode()})

    with make_client(("/custom", Custom(TEXT, media_type="text/plain"))) as c:
        response, raw = fetch(c, "/custom", "gzip")

    assert "content-encoding" not in response.headers
    assert raw == TEXT.encode()


def test_subclasses_that_stream_or_serve_files_their_own_way_are_left_alone(tmp_path: Path):
    class Echo(StreamingResponse):
        __slots__ = ()

        async def _stream(self, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": TEXT.encode()})

    class Own(FileResponse):
        __slots__ = ()

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": TEXT.encode()})

    async def echo() -> StreamingResponse:
        return Echo(iter([TEXT]), media_type="text/plain")

    (tmp_path / "a.txt").write_text(TEXT)
    with make_client(("/echo", echo), ("/own", Own(tmp_path / "a.txt"))) as c:
        for path in ("/echo", "/own"):
            response, raw = fetch(c, path, "gzip")
            assert "content-encoding" not in response.headers
            assert raw == TEXT.encode()


def test_many_distinct_headers_keep_working_past_the_caches():
    async def handler(ctx: Context, n: int) -> Response:
        return Response(TEXT, media_type=f"text/x-kind-{n}")

    app = App()
    app.use(CompressionMiddleware())
    app.get("/kind/{n:int}")(handler)
    with TestClient(app) as c:
        for n in range(300):
            response, raw = fetch(c, f"/kind/{n}", f"gzip;q=0.{n % 1000:03d}, br;q=0.001")
            expected = "gzip" if n > 1 else "br"
            assert response.headers["content-encoding"] == expected, n
            assert decode(expected, raw) == TEXT.encode()
        long_header = ", ".join(f"x-coding-{i}" for i in range(40)) + ", gzip"
        assert fetch(c, "/kind/1", long_header)[0].headers["content-encoding"] == "gzip"
        assert fetch(c, "/kind/1", long_header)[0].headers["content-encoding"] == "gzip"


# --- Vary -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ([], "Accept-Encoding"),
        (["Origin"], "Origin, Accept-Encoding"),
        (["Origin, Cookie"], "Origin, Cookie, Accept-Encoding"),
        (["Origin", "Cookie"], "Origin, Cookie, Accept-Encoding"),
        (["accept-encoding"], "accept-encoding"),
        (["Origin, Accept-Encoding"], "Origin, Accept-Encoding"),
        (["*"], "*"),
    ],
)
def test_vary_is_merged_not_duplicated(existing: list[str], expected: str):
    async def handler(ctx: Context) -> str:
        for value in existing:
            ctx.response.headers.add("vary", value)
        return TEXT

    with make_client(("/x", handler)) as c:
        for accept in ("gzip", "identity"):
            response, _ = fetch(c, "/x", accept)
            assert response.headers.get_list("vary") == [expected]


# --- streams ----------------------------------------------------------------------------------


def _decompressor(encoding: str) -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else brotli.Decompressor()


def _feed(decompressor: Any, data: bytes) -> bytes:
    if isinstance(decompressor, brotli.Decompressor):
        out: bytes = decompressor.process(data)
        return out
    return decompressor.decompress(data)  # type: ignore[no-any-return]


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_streamed_chunks_are_compressed_and_decodable_one_by_one(encoding: str):
    parts = [f"part {i}: {TEXT[: 200 + i]}" for i in range(4)]

    async def chunks() -> AsyncIterator[str]:
        for part in parts:
            yield part

    async def handler() -> StreamingResponse:
        headers = {"content-length": "99999"}  # wrong once the body is encoded
        return StreamingResponse(chunks(), headers=headers, media_type="text/plain")

    with (
        make_client(("/stream", handler)) as c,
        c.stream("GET", "/stream", headers={"accept-encoding": encoding}) as response,
    ):
        assert response.headers["content-encoding"] == encoding
        assert response.headers["vary"] == "Accept-Encoding"
        assert "content-length" not in response.headers
        decompressor = _decompressor(encoding)
        decoded = [_feed(decompressor, raw) for raw in response.iter_raw()]

    # Each chunk decodes to exactly what the app produced, as soon as it arrives.
    assert decoded[: len(parts)] == [p.encode() for p in parts]
    assert b"".join(decoded[len(parts) :]) == b""


def test_first_streamed_chunk_arrives_before_the_generator_continues():
    release = threading.Event()

    async def chunks() -> AsyncIterator[str]:
        yield "first"
        await asyncio.to_thread(release.wait, 5)
        yield "second"

    async def handler() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    with (
        make_client(("/gated", handler)) as c,
        c.stream("GET", "/gated", headers={"accept-encoding": "gzip"}) as response,
    ):
        raw = response.iter_raw()
        decompressor = _decompressor("gzip")
        assert _feed(decompressor, next(raw)) == b"first"
        assert not release.is_set()
        release.set()
        rest = b"".join(_feed(decompressor, chunk) for chunk in raw)

    assert rest == b"second"


def test_client_disconnect_stops_a_compressed_stream():
    stopped = threading.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield TEXT
                await asyncio.sleep(0.01)
        finally:
            stopped.set()

    async def handler() -> StreamingResponse:
        return StreamingResponse(endless(), media_type="text/plain")

    with make_client(("/endless", handler)) as c:
        with c.stream("GET", "/endless", headers={"accept-encoding": "br"}) as response:
            decompressor = _decompressor("br")
            assert _feed(decompressor, next(response.iter_raw())) == TEXT.encode()
        # Leaving the block closed the response: the generator's cleanup must run.
        assert stopped.wait(5), "the generator was not stopped after the disconnect"


def test_sync_iterators_and_bytes_chunks_stream_compressed():
    def chunks() -> Iterator[bytes | str]:
        yield b"bytes " * 100
        yield bytearray(b"buffer " * 100)  # type: ignore[misc]
        yield ""
        yield "text " * 100

    async def handler() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    with make_client(("/sync", handler), thread_threshold=600) as c:
        response, raw = fetch(c, "/sync", "br")

    assert response.headers["content-encoding"] == "br"
    assert decode("br", raw) == b"bytes " * 100 + b"buffer " * 100 + b"text " * 100


def test_streams_declaring_a_small_length_are_left_alone():
    async def handler() -> StreamingResponse:
        return StreamingResponse(
            iter([b"tiny"]), headers={"content-length": "4"}, media_type="text/plain"
        )

    with make_client(("/tiny", handler)) as c:
        response, raw = fetch(c, "/tiny", "gzip")

    assert "content-encoding" not in response.headers
    assert raw == b"tiny"


def test_empty_stream_is_a_valid_empty_encoding():
    async def handler() -> StreamingResponse:
        return StreamingResponse(iter(()), media_type="text/plain")

    with make_client(("/empty", handler)) as c:
        response, raw = fetch(c, "/empty", "gzip")

    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b""


def test_stream_with_a_malformed_length_is_still_compressed():
    async def handler() -> StreamingResponse:
        return StreamingResponse(
            iter([TEXT]), headers={"content-length": "lots"}, media_type="text/plain"
        )

    with make_client(("/s", handler)) as c:
        response, raw = fetch(c, "/s", "gzip")

    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw) == TEXT.encode()


def test_async_iterables_without_aclose_stream_compressed():
    class Lines:
        def __init__(self) -> None:
            self.left = [TEXT, TEXT]

        def __aiter__(self) -> Lines:
            return self

        async def __anext__(self) -> str:
            if not self.left:
                raise StopAsyncIteration
            return self.left.pop()

    async def handler() -> StreamingResponse:
        return StreamingResponse(Lines(), media_type="text/plain")

    with make_client(("/lines", handler)) as c:
        _, raw = fetch(c, "/lines", "br")

    assert decode("br", raw) == (TEXT * 2).encode()


def test_head_of_a_stream_is_not_compressed():
    async def handler() -> StreamingResponse:
        return StreamingResponse(iter(["x" * 1000]), media_type="text/plain")

    with make_client(("/s", handler)) as c:
        response, raw = fetch(c, "/s", "gzip", method="HEAD")

    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"
    assert raw == b""


# --- files ------------------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "app.js").write_text(TEXT * 30)
    (tmp_path / "small.css").write_text("a{}")
    (tmp_path / "photo.png").write_bytes(TEXT.encode())
    return tmp_path


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_text_files_are_sent_as_a_compressed_stream(files: Path, encoding: str):
    with make_client(("/app.js", FileResponse(files / "app.js", chunk_size=4096))) as c:
        response, raw = fetch(c, "/app.js", encoding)

    assert response.headers["content-encoding"] == encoding
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "content-length" not in response.headers
    assert "last-modified" in response.headers
    assert decode(encoding, raw) == (TEXT * 30).encode()
    assert len(raw) < len(TEXT)


def test_small_binary_and_missing_files_are_sent_as_they_are(files: Path):
    with make_client(
        ("/small.css", FileResponse(files / "small.css")),
        ("/photo.png", FileResponse(files / "photo.png")),
        ("/missing.js", FileResponse(files / "missing.js")),
        ("/dir", FileResponse(files, media_type="text/plain")),
    ) as c:
        small, raw = fetch(c, "/small.css", "gzip")
        assert "content-encoding" not in small.headers
        assert small.headers["content-length"] == "3"
        assert raw == b"a{}"

        photo, raw = fetch(c, "/photo.png", "gzip")
        assert "content-encoding" not in photo.headers
        assert raw == TEXT.encode()

        for path in ("/missing.js", "/dir"):
            missing, raw = fetch(c, path, "gzip")
            assert missing.status_code == 404
            assert "content-encoding" not in missing.headers


def test_file_head_and_plain_clients_get_the_file_as_is(files: Path):
    with make_client(("/app.js", FileResponse(files / "app.js"))) as c:
        head, raw = fetch(c, "/app.js", "gzip", method="HEAD")
        assert "content-encoding" not in head.headers
        assert head.headers["vary"] == "Accept-Encoding"
        assert int(head.headers["content-length"]) == len(TEXT) * 30
        assert raw == b""

        plain, raw = fetch(c, "/app.js", "identity")
        assert "content-encoding" not in plain.headers
        assert raw == (TEXT * 30).encode()


def test_file_keeps_its_last_modified_and_survives_shrinking(files: Path):
    path = files / "app.js"
    stamp = "Tue, 01 Jan 2030 00:00:00 GMT"

    async def shrink_after_compression(ctx: Context, call_next: CallNext) -> Response:
        response = await call_next()  # compression has planned the stream by now
        path.write_text("short")
        return response

    app = App()
    app.use(shrink_after_compression)  # outermost: runs after the compression middleware
    app.use(CompressionMiddleware())
    app.get("/app.js")(lambda: FileResponse(path, headers={"last-modified": stamp}))
    with TestClient(app) as c:
        response, raw = fetch(c, "/app.js", "gzip")

    assert response.headers["last-modified"] == stamp
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"short"


# --- static files -----------------------------------------------------------------------------


@pytest.fixture
def static_client(tmp_path: Path) -> Iterator[TestClient]:
    (tmp_path / "site.css").write_text(TEXT * 30)
    (tmp_path / "tiny.css").write_text("a{}")
    (tmp_path / "app.js").write_text(TEXT)
    (tmp_path / "app.js.gz").write_bytes(gzip.compress(TEXT.encode(), mtime=0))
    (tmp_path / "logo.png").write_bytes(TEXT.encode())
    app = App()
    app.use(CompressionMiddleware())
    app.static("/assets", str(tmp_path), chunk_size=4096)
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_static_files_are_compressed_on_the_way_out(static_client: TestClient, encoding: str):
    response, raw = fetch(static_client, "/assets/site.css", encoding)

    assert response.status_code == 200
    assert response.headers["content-encoding"] == encoding
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["vary"] == "Accept-Encoding"
    assert "content-length" not in response.headers
    assert response.headers["etag"].startswith('W/"')
    assert decode(encoding, raw) == (TEXT * 30).encode()
    assert len(raw) < len(TEXT)


def test_static_file_sent_in_one_message_and_changed_further_out(tmp_path: Path):
    (tmp_path / "page.html").write_text(TEXT[:1000])

    async def outer(ctx: Context, call_next: CallNext) -> Response:
        response = await call_next()
        response.headers.set("x-outer", "seen")
        response.cookies.set("visited", "yes")
        response.status = 203
        return response

    app = App()
    app.use(outer)
    app.use(CompressionMiddleware())
    app.static("/pages", str(tmp_path))
    with TestClient(app) as c:
        response, raw = fetch(c, "/pages/page.html", "br")

    assert response.status_code == 203
    assert response.headers["content-encoding"] == "br"
    assert response.headers["x-outer"] == "seen"
    assert response.cookies["visited"] == "yes"
    assert decode("br", raw) == TEXT[:1000].encode()


def test_static_revalidation_with_the_weakened_etag_still_works(static_client: TestClient):
    first = fetch(static_client, "/assets/site.css", "gzip")[0]
    again = static_client.get(
        "/assets/site.css",
        headers={"accept-encoding": "gzip", "if-none-match": first.headers["etag"]},
    )

    assert again.status_code == 304
    assert "content-encoding" not in again.headers


def test_static_files_left_alone(static_client: TestClient):
    tiny, raw = fetch(static_client, "/assets/tiny.css", "gzip")
    assert "content-encoding" not in tiny.headers
    assert raw == b"a{}"

    png, raw = fetch(static_client, "/assets/logo.png", "gzip")
    assert "content-encoding" not in png.headers
    assert raw == TEXT.encode()

    head, raw = fetch(static_client, "/assets/site.css", "gzip", method="HEAD")
    assert "content-encoding" not in head.headers
    assert head.headers["vary"] == "Accept-Encoding"
    assert int(head.headers["content-length"]) == len(TEXT) * 30

    with static_client.stream(
        "GET", "/assets/site.css", headers={"accept-encoding": "gzip", "range": "bytes=0-9"}
    ) as part:
        raw = b"".join(part.iter_raw())
    assert part.status_code == 206
    assert "content-encoding" not in part.headers
    assert raw == TEXT.encode()[:10]


def test_precompressed_static_variants_pass_through(static_client: TestClient):
    response, raw = fetch(static_client, "/assets/app.js", "gzip, br")

    assert response.headers["content-encoding"] == "gzip"  # the .gz file, as stored
    assert raw == gzip.compress(TEXT.encode(), mtime=0)
    assert response.headers.get_list("vary") == ["Accept-Encoding"]


# --- brotli availability and configuration -------------------------------------------------------


def test_brotli_false_offers_gzip_only():
    middleware = CompressionMiddleware(brotli=False)
    assert middleware.encodings == ("gzip",)
    with make_client(("/text", TEXT), brotli=False) as c:
        assert "content-encoding" not in fetch(c, "/text", "br")[0].headers
        assert fetch(c, "/text", "br, gzip")[0].headers["content-encoding"] == "gzip"


def test_without_the_brotli_package(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(compression, "_brotli", None)

    with pytest.raises(ConfigurationError, match=r"pip install 'avian\[brotli\]'"):
        CompressionMiddleware(brotli=True)
    with pytest.raises(ConfigurationError, match="no encoding"):
        CompressionMiddleware(prefer=("br",))

    assert CompressionMiddleware().encodings == ("gzip",)
    with make_client(("/text", TEXT)) as c:
        assert "content-encoding" not in fetch(c, "/text", "br")[0].headers
        assert fetch(c, "/text", "br, gzip")[0].headers["content-encoding"] == "gzip"


def test_brotli_true_with_the_package_installed():
    assert CompressionMiddleware(brotli=True).encodings == ("br", "gzip")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"minimum_size": -1}, "minimum_size"),
        ({"minimum_size": 1.5}, "minimum_size"),
        ({"thread_threshold": True}, "thread_threshold"),
        ({"gzip_level": 0}, "gzip_level"),
        ({"gzip_level": 10}, "gzip_level"),
        ({"brotli_quality": 12}, "brotli_quality"),
        ({"brotli": "yes"}, "brotli"),
        ({"prefer": "gzip"}, "prefer"),
        ({"prefer": ("gzip", "zstd")}, "zstd"),
        ({"prefer": ("gzip", "gzip")}, "twice"),
        ({"prefer": ()}, "no encoding"),
        ({"content_types": "text/html"}, "content_types"),
        ({"content_types": ("text",)}, "not a media type pattern"),
        ({"content_types": ("text/html; charset=utf-8",)}, "not a media type pattern"),
        ({"content_types": ("*/html",)}, r"only '\*/\*'"),
        ({"content_types": ("text/ht*ml",)}, "unsupported wildcard"),
        ({"content_types": (42,)}, "not a media type"),
        ({"exclude_content_types": ("video",)}, "exclude_content_types"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str):
    with pytest.raises(ConfigurationError, match=message):
        CompressionMiddleware(**options)


def test_defaults_are_exported_for_extending():
    assert "text/*" in DEFAULT_COMPRESSIBLE_TYPES
    assert "text/event-stream" in DEFAULT_EXCLUDED_TYPES
    assert "gzip" in repr(CompressionMiddleware())


# --- the docs page ------------------------------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "compression.md"


def test_docs_examples_run_and_behave_as_described():
    text = DOCS_PAGE.read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "docs_compression"}
    for code in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        exec(compile(code, "compression.md example", "exec"), namespace)

    with TestClient(namespace["app"]) as c:
        compressed, raw = fetch(c, "/report", "br, gzip")
        assert compressed.headers["content-encoding"] == "br"
        assert int(compressed.headers["content-length"]) == len(raw)
        plain = c.get("/report", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert len(plain.json()["rows"]) == 200
        assert compressed.headers["vary"] == plain.headers["vary"] == "Accept-Encoding"

    api_middleware = namespace["api"]  # built with extended defaults: just has to start
    with TestClient(api_middleware) as c:
        assert c.get("/nothing").status_code == 404


# --- end to end through uvicorn -------------------------------------------------------------

E2E_APP = "tests.middleware.compression_app:app"
WAIT = 5.0
STARTUP_WAIT = 15.0


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("compression") / "uvicorn.log"
    quiet = ["--log-level", "warning", "--no-access-log"]
    with serve_uvicorn(E2E_APP, log, *quiet, startup_timeout=STARTUP_WAIT) as server:
        yield server.url


@pytest.mark.e2e
@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_e2e_streamed_response_is_decodable_while_the_generator_runs(
    server_url: str, encoding: str
):
    from tests.middleware.compression_app import WAIT_LIMIT

    assert WAIT_LIMIT > WAIT  # the server waits longer than the test ever does
    gate = uuid.uuid4().hex
    headers = {"accept-encoding": encoding}
    with (
        httpx.Client(base_url=server_url, timeout=WAIT, trust_env=False) as http,
        http.stream("GET", f"/gated/{gate}", headers=headers) as response,
    ):
        assert response.headers["content-encoding"] == encoding
        assert "content-length" not in response.headers
        decompressor = _decompressor(encoding)
        raw = response.iter_raw()
        decoded = b""
        deadline = time.monotonic() + WAIT
        while b"first line\n" not in decoded:  # each read is bounded by the client timeout
            assert time.monotonic() < deadline, "the first line never arrived"
            decoded += _feed(decompressor, next(raw))
        # The generator is still parked waiting for the release: what we decoded was sent
        # (and flushed) while it ran, not buffered until the end.
        assert decoded == b"first line\n"
        assert http.post(f"/release/{gate}").status_code == 200
        decoded += b"".join(_feed(decompressor, chunk) for chunk in raw)

    assert decoded == b"first line\nreleased\n"


@pytest.mark.e2e
def test_e2e_in_memory_body_is_compressed(server_url: str):
    from tests.middleware.compression_app import BIG_TEXT

    with httpx.Client(base_url=server_url, timeout=WAIT, trust_env=False) as http:
        for encoding in ("gzip", "br"):
            with http.stream("GET", "/big", headers={"accept-encoding": encoding}) as response:
                raw = b"".join(response.iter_raw())
            assert response.headers["content-encoding"] == encoding
            assert response.headers["vary"] == "Accept-Encoding"
            assert int(response.headers["content-length"]) == len(raw) < len(BIG_TEXT) // 5
            assert decode(encoding, raw) == BIG_TEXT.encode()
