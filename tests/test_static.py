"""Static files (STA-01): both ``app.static`` forms, validators and 304s, ranges, precompressed
variants, directory indexes, caching headers, HEAD, streaming, and path safety.

Fixture files are written to ``tmp_path`` by each test; nothing binary is committed.  A few
tests drive the ASGI callable by hand: for paths an HTTP client rewrites before sending
(httpx removes ``..`` segments) and to see what is sent at the protocol level (the test client
drops the body of a ``HEAD`` response, and cannot show a descriptor being closed).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from avian import App, ConfigurationError, Context
from avian.errors import HTTPError
from avian.static import (
    StaticFileResponse,
    StaticFiles,
    _close_after,
    guess_media_type,
    parse_http_date,
    parse_ranges,
)
from avian.testing import TestClient, TestResponse, WebSocketDenied

MTIME = 1_700_000_000  # Tue, 14 Nov 2023 22:13:20 GMT
LAST_MODIFIED = "Tue, 14 Nov 2023 22:13:20 GMT"
CSS = b"body { color: #333 }\n"
DATA = bytes(range(256)) * 4  # 1024 bytes; every range has a recognisable content
BIG = (bytes(range(256)) * 4200)[:1_048_700]  # a little over 16 chunks of 64 KiB
SECRET = b"TOP-SECRET"


@pytest.fixture
def public(tmp_path: Path) -> Path:
    """A static root, with a secret file and a directory just outside it."""
    root = tmp_path / "public"
    files = {
        "app.css": CSS,
        "app.js": b"console.log('identity')\n",
        "app.js.br": b"BROTLI-VARIANT-BYTES",
        "app.js.gz": b"GZIP-VARIANT-BYTES-0123456789",
        "only-gz.css": b"p{}",
        "only-gz.css.gz": b"GZ-ONLY",
        "index.html": b"<h1>home</h1>",
        "docs/index.html": b"<h1>docs</h1>",
        "docs/guide.txt": b"read me",
        "empty/.keep": b"",
        "data.bin": DATA,
        "big.bin": BIG,
        "zero.txt": b"",
        "hello": b"a file named like a route",
        "my file.css": b"spaced",
        ".env": b"PASSWORD=1",
        ".well-known/security.txt": b"Contact: x",
        "archive.tar.gz": b"\x1f\x8b-not-really",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside" / "index.html").write_bytes(SECRET)
    for path in [*root.rglob("*"), *(tmp_path / "outside").rglob("*")]:
        if path.is_file():
            os.utime(path, (MTIME, MTIME))
    return root


def links(public: Path) -> None:
    """Symlinks inside the root: two leading out of it, two staying in, one loop."""
    os.symlink(public.parent / "secret.txt", public / "leak.txt")
    os.symlink(public.parent / "outside", public / "outdir")
    os.symlink(public / "app.css", public / "alias.css")
    os.symlink(public / "docs", public / "manual")
    os.symlink(public / "loop", public / "loop")


def prefixed(public: Path, **options: Any) -> App:
    app = App()
    app.static("/assets", str(public), **options)
    return app


def at_root(public: Path, **options: Any) -> App:
    app = App()
    app.static(str(public), **options)
    return app


def serve(app: Any) -> TestClient:
    """A client that shows redirects, and sends no ``Accept-Encoding`` unless told to."""
    client = TestClient(app, follow_redirects=False)
    del client.headers["accept-encoding"]
    return client


def header_map(headers: dict[str, str]) -> dict[str, bytes]:
    """``if_none_match=...`` -> ``{"if-none-match": b"..."}`` (UTF-8, as hostile clients send)."""
    return {k.replace("_", "-"): v.encode() for k, v in headers.items()}


def get(client: TestClient, url: str, **headers: str) -> TestResponse:
    return client.get(url, headers=header_map(headers)).execute()


def raw_get(client: TestClient, url: str, **headers: str) -> TestResponse:
    """GET without decoding the body (httpx would try to gunzip a precompressed variant)."""
    with client.stream("GET", url, headers=header_map(headers)) as response:
        response._content = b"".join(response.iter_raw())  # type: ignore[attr-defined]
        return response


FORMS = {"prefix": (prefixed, "/assets"), "root": (at_root, "")}


@pytest.fixture(params=list(FORMS))
def form(request: pytest.FixtureRequest, public: Path) -> Iterator[tuple[TestClient, str]]:
    """A started client for each form of ``app.static`` and the URL prefix of its files."""
    make, base = FORMS[request.param]
    with serve(make(public)) as client:
        yield client, base


# --- ASGI-level helpers -----------------------------------------------------------------------


def asgi(
    app: Any,
    method: str,
    raw_path: bytes,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
) -> tuple[int, dict[str, str], list[bytes]]:
    """One request with exactly ``raw_path``; returns status, headers and the body messages."""
    from urllib.parse import unquote_to_bytes

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("testclient", 5000),
        "root_path": "",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "raw_path": raw_path,
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    head = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], head, [m.get("body", b"") for m in sent[1:]]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


needs_proc = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")


def scope_for(method: str = "GET", **headers: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()],
    }


# --- serving files in both forms ----------------------------------------------------------------


def test_a_file_is_served_with_its_type_length_and_validators(form):
    client, base = form
    response = get(client, f"{base}/app.css")
    assert response.status_code == 200
    assert response.content == CSS
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["content-length"] == str(len(CSS))
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["last-modified"] == LAST_MODIFIED
    assert re.fullmatch(r'"[0-9a-f]+-[0-9a-f]+"', response.headers["etag"])
    assert "cache-control" not in response.headers
    assert "vary" not in response.headers  # app.css has no precompressed variant


def test_files_in_subdirectories_and_empty_files(form):
    client, base = form
    assert get(client, f"{base}/docs/guide.txt").text == "read me"
    empty = get(client, f"{base}/zero.txt")
    assert (empty.status_code, empty.content, empty.headers["content-length"]) == (200, b"", "0")


def test_a_missing_file_is_404(form):
    client, base = form
    response = get(client, f"{base}/nope.css")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_under_a_prefix_and_404_at_the_root(public, method):
    with serve(prefixed(public)) as client:
        response = client.request(method, "/assets/app.css").execute()
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    with serve(at_root(public)) as client:
        # The root form only fills in for GET/HEAD requests no route serves.
        assert client.request(method, "/app.css").execute().status_code == 404


def test_routes_win_over_root_static_files(public):
    app = at_root(public)

    @app.get("/hello")
    async def hello() -> str:
        return "from the route"

    with serve(app) as client:
        assert get(client, "/hello").text == "from the route"
        assert get(client, "/app.css").content == CSS


def test_several_static_roots_are_tried_in_order(tmp_path, public):
    second = tmp_path / "second"
    second.mkdir()
    (second / "app.css").write_bytes(b"second copy")
    (second / "extra.txt").write_bytes(b"only in the second root")
    app = App()
    app.static(str(public))
    app.static(str(second))
    with serve(app) as client:
        assert get(client, "/app.css").content == CSS
        assert get(client, "/extra.txt").text == "only in the second root"


def test_a_prefix_without_leading_slash_and_a_pathlike_directory(public):
    app = App()
    app.static("assets/", public)  # type: ignore[arg-type]
    with serve(app) as client:
        assert get(client, "/assets/app.css").content == CSS


def test_static_files_can_be_mounted_as_an_asgi_app(public):
    app = App()
    app.mount("/files", StaticFiles(public))
    with serve(app) as client:
        assert get(client, "/files/app.css").content == CSS
        assert get(client, "/files/docs/").text == "<h1>docs</h1>"
        assert get(client, "/files/docs").headers["location"] == "/files/docs/"
        assert get(client, "/files/nope").status_code == 404


def test_root_form_serves_file_names_that_need_percent_escapes(public):
    with serve(at_root(public)) as client:
        assert get(client, "/my%20file.css").content == b"spaced"


def test_prefix_form_serves_file_names_that_need_percent_escapes(public):
    with serve(prefixed(public)) as client:
        assert get(client, "/assets/my%20file.css").content == b"spaced"


def test_a_slash_prefix_serves_at_the_root(public):
    app = App()
    app.static("/", str(public))
    with serve(app) as client:
        assert get(client, "/app.css").content == CSS


# --- content types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.wasm", "application/wasm"),
        ("a.json", "application/json"),
        ("a.svg", "image/svg+xml"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.woff2", "font/woff2"),
        ("a.html", "text/html; charset=utf-8"),
        ("A.PNG", "image/png"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.tar.gz", "application/gzip"),  # asked for by name: an archive, not a tar
        ("a.css.br", "application/octet-stream"),
        ("a.unknown-ext", "application/octet-stream"),
        ("noext", "application/octet-stream"),
        ("a.rtf", "application/rtf"),  # not in avian's table: from the mimetypes module
    ],
)
def test_content_types(tmp_path, name, expected):
    (tmp_path / name).write_bytes(b"x")
    with serve(at_root(tmp_path)) as client:
        assert get(client, "/" + name).headers["content-type"] == expected


def test_guess_media_type_is_stable_for_repeated_unknown_extensions():
    assert guess_media_type("x.rtf") == guess_media_type("y.RTF") == "application/rtf"
    assert guess_media_type("x.qqq") == guess_media_type("y.qqq") == "application/octet-stream"


# --- HEAD -----------------------------------------------------------------------------------


def test_head_has_the_headers_of_get_and_no_body(form):
    client, base = form
    full = get(client, f"{base}/data.bin")
    head = client.head(f"{base}/data.bin").execute()
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == full.headers[name]


def test_head_sends_no_body_at_the_protocol_level(public):
    for app, path in ((prefixed(public), b"/assets/big.bin"), (at_root(public), b"/big.bin")):
        status, headers, bodies = asgi(app, "HEAD", path)
        assert status == 200
        assert headers["content-length"] == str(len(BIG))
        assert bodies == [b""]


def test_head_ignores_range(form):
    client, base = form
    response = client.head(f"{base}/data.bin", headers={"range": "bytes=0-1"}).execute()
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(DATA))


# --- validators and 304 -----------------------------------------------------------------------


def test_if_none_match_with_the_etag_gives_304(public):
    with serve(prefixed(public, cache_control="public, max-age=60")) as client:
        first = get(client, "/assets/app.css")
        etag = first.headers["etag"]
        for value in (etag, f"W/{etag}", f'"other", {etag}', f'"a,b", W/{etag}', "*"):
            response = get(client, "/assets/app.css", if_none_match=value)
            assert response.status_code == 304, value
            assert response.content == b""
            assert response.headers["etag"] == etag
            assert response.headers["last-modified"] == LAST_MODIFIED
            assert response.headers["cache-control"] == "public, max-age=60"
            assert "content-type" not in response.headers
            assert "content-length" not in response.headers


def test_if_none_match_also_applies_to_head(form):
    client, base = form
    etag = get(client, f"{base}/app.css").headers["etag"]
    head = client.head(f"{base}/app.css", headers={"if-none-match": etag}).execute()
    assert head.status_code == 304


@pytest.mark.parametrize("value", ['"nope"', 'W/"nope"', "garbage", '"', ""])
def test_a_non_matching_if_none_match_gives_the_file(form, value):
    client, base = form
    # If-None-Match present: If-Modified-Since must be ignored even though it would match.
    response = get(client, f"{base}/app.css", if_none_match=value, if_modified_since=LAST_MODIFIED)
    assert (response.status_code, response.content) == (200, CSS)


@pytest.mark.parametrize(
    "value",
    [
        LAST_MODIFIED,
        "Wed, 15 Nov 2023 00:00:00 GMT",  # later than the file
        "Tuesday, 14-Nov-23 22:13:20 GMT",  # RFC 850
        "Tue Nov 14 22:13:20 2023",  # asctime
    ],
)
def test_if_modified_since_not_before_the_file_gives_304(form, value):
    client, base = form
    response = get(client, f"{base}/app.css", if_modified_since=value)
    assert response.status_code == 304
    assert response.headers["last-modified"] == LAST_MODIFIED


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 14 Nov 2023 22:13:19 GMT",  # one second before the file changed
        "Fri, 01 Jan 9999 00:00:00 GMT",  # in the future: invalid
        "Tue, 14 Nov 2023 25:13:20 GMT",  # no such hour
        "yesterday",
        "Tue, 14 Nov 2023 22:13:20 UTC",
        "Tue, ١٤ Nov 2023 22:13:20 GMT",  # non-ASCII digits
    ],
)
def test_other_if_modified_since_values_give_the_file(form, value):
    client, base = form
    assert get(client, f"{base}/app.css", if_modified_since=value).status_code == 200


def test_two_if_modified_since_headers_are_ignored(form):
    client, base = form
    response = client.get(
        f"{base}/app.css",
        headers=[("if-modified-since", LAST_MODIFIED), ("if-modified-since", LAST_MODIFIED)],
    ).execute()
    assert response.status_code == 200


def test_if_none_match_sent_on_several_lines_is_one_list(form):
    client, base = form
    etag = get(client, f"{base}/app.css").headers["etag"]
    response = client.get(
        f"{base}/app.css", headers=[("if-none-match", '"x"'), ("if-none-match", etag)]
    ).execute()
    assert response.status_code == 304


def test_the_etag_changes_when_the_file_changes(public):
    with serve(prefixed(public)) as client:
        old = get(client, "/assets/app.css").headers["etag"]
        (public / "app.css").write_bytes(CSS + b"/* more */")
        os.utime(public / "app.css", (MTIME + 10, MTIME + 10))
        response = get(client, "/assets/app.css", if_none_match=old)
        assert response.status_code == 200
        assert response.headers["etag"] != old
        assert response.content.endswith(b"/* more */")


def test_etag_and_last_modified_can_be_turned_off(public):
    with serve(prefixed(public, etag=False, last_modified=False)) as client:
        response = get(client, "/assets/app.css")
        assert "etag" not in response.headers
        assert "last-modified" not in response.headers
        with serve(prefixed(public)) as other:
            etag = get(other, "/assets/app.css").headers["etag"]
        assert get(client, "/assets/app.css", if_none_match=etag).status_code == 200
        assert get(client, "/assets/app.css", if_modified_since=LAST_MODIFIED).status_code == 200
        assert get(client, "/assets/app.css", if_none_match="*").status_code == 304


def test_if_match_and_if_unmodified_since_preconditions(form):
    client, base = form
    etag = get(client, f"{base}/app.css").headers["etag"]
    assert get(client, f"{base}/app.css", if_match=etag).status_code == 200
    assert get(client, f"{base}/app.css", if_match="*").status_code == 200
    failed = get(client, f"{base}/app.css", if_match='"other"')
    assert failed.status_code == 412
    assert failed.headers["content-type"] == "application/problem+json"
    assert get(client, f"{base}/app.css", if_match=f"W/{etag}").status_code == 412  # strong only
    early = "Tue, 14 Nov 2023 22:00:00 GMT"
    assert get(client, f"{base}/app.css", if_unmodified_since=early).status_code == 412
    ok = get(client, f"{base}/app.css", if_unmodified_since=LAST_MODIFIED)
    assert ok.status_code == 200
    # If-Match decides alone when present.
    assert (
        get(client, f"{base}/app.css", if_match=etag, if_unmodified_since=early).status_code == 200
    )


def test_if_match_fails_when_etags_are_off(public):
    with serve(prefixed(public, etag=False, last_modified=False)) as client:
        assert get(client, "/assets/app.css", if_match='"x"').status_code == 412
        assert get(client, "/assets/app.css", if_match="*").status_code == 200
        early = "Tue, 14 Nov 2023 22:00:00 GMT"
        assert get(client, "/assets/app.css", if_unmodified_since=early).status_code == 200


def test_cache_control_is_sent_with_every_file_response(public):
    with serve(prefixed(public, cache_control="public, max-age=3600, immutable")) as client:
        for headers in ({}, {"range": "bytes=0-1"}):
            response = get(client, "/assets/data.bin", **headers)
            assert response.headers["cache-control"] == "public, max-age=3600, immutable"


# --- ranges -------------------------------------------------------------------------------------


def test_a_single_range(form):
    client, base = form
    response = get(client, f"{base}/data.bin", range="bytes=10-19")
    assert response.status_code == 206
    assert response.content == DATA[10:20]
    assert response.headers["content-range"] == f"bytes 10-19/{len(DATA)}"
    assert response.headers["content-length"] == "10"
    assert response.headers["content-type"] == "application/octet-stream"
    assert "etag" in response.headers


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("bytes=-5", 1019, 1023),  # suffix
        ("bytes=1000-", 1000, 1023),  # open-ended
        ("bytes=1000-5000", 1000, 1023),  # clamped to the end
        ("bytes=-5000", 0, 1023),  # suffix longer than the file
        ("bytes=0-0", 0, 0),
        ("BYTES=1-2", 1, 2),  # the unit is case-insensitive
        ("bytes=1-2, ", 1, 2),  # empty list elements are allowed
        ("bytes=0-99999999999999999999999999999", 0, 1023),  # huge numbers are fine
        ("bytes=00010-00019", 10, 19),
        ("bytes=0-1,5000-", 0, 1),  # unsatisfiable members are dropped
    ],
)
def test_range_forms(form, value, first, last):
    client, base = form
    response = get(client, f"{base}/data.bin", range=value)
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {first}-{last}/1024"
    assert response.content == DATA[first : last + 1]


def parse_byteranges(response: TestResponse) -> list[tuple[str, str, bytes]]:
    """Strictly parse a multipart/byteranges body into (content-type, content-range, data)."""
    match = re.fullmatch(
        r"multipart/byteranges; boundary=([0-9a-f]{32})", response.headers["content-type"]
    )
    assert match, response.headers["content-type"]
    boundary = match.group(1).encode()
    body = response.content
    assert len(body) == int(response.headers["content-length"])
    parts = []
    pos = 0
    delimiter = b"--" + boundary
    while True:
        assert body.startswith(delimiter, pos)
        pos += len(delimiter)
        if body[pos:] == b"--\r\n":
            return parts
        assert body.startswith(b"\r\n", pos)
        head_end = body.index(b"\r\n\r\n", pos)
        lines = body[pos + 2 : head_end].decode().split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines)
        assert set(fields) == {"content-type", "content-range"}
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", fields["content-range"])
        assert m
        length = int(m.group(2)) - int(m.group(1)) + 1
        pos = head_end + 4
        parts.append((fields["content-type"], fields["content-range"], body[pos : pos + length]))
        pos += length
        assert body.startswith(b"\r\n", pos)
        pos += 2


def test_multiple_ranges_are_multipart_byteranges(form):
    client, base = form
    response = get(client, f"{base}/data.bin", range="bytes=0-9, 100-109,-4")
    assert response.status_code == 206
    assert "content-range" not in response.headers
    assert parse_byteranges(response) == [
        ("application/octet-stream", "bytes 0-9/1024", DATA[0:10]),
        ("application/octet-stream", "bytes 100-109/1024", DATA[100:110]),
        ("application/octet-stream", "bytes 1020-1023/1024", DATA[1020:]),
    ]


def test_multipart_parts_carry_the_charset_of_text_files(form):
    client, base = form
    response = get(client, f"{base}/app.css", range="bytes=0-3,5-9")
    parts = parse_byteranges(response)
    assert [p[0] for p in parts] == ["text/css; charset=utf-8"] * 2
    assert [p[2] for p in parts] == [CSS[0:4], CSS[5:10]]


def test_each_multipart_response_has_a_fresh_boundary(form):
    client, base = form
    first = get(client, f"{base}/data.bin", range="bytes=0-1,3-4").headers["content-type"]
    second = get(client, f"{base}/data.bin", range="bytes=0-1,3-4").headers["content-type"]
    assert first != second


def test_one_hundred_ranges_are_served_and_one_hundred_and_one_are_ignored(form):
    client, base = form
    hundred = ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(100))
    response = get(client, f"{base}/data.bin", range="bytes=" + hundred)
    assert response.status_code == 206
    assert len(parse_byteranges(response)) == 100
    response = get(client, f"{base}/data.bin", range=f"bytes={hundred},1010-1011")
    assert (response.status_code, response.content) == (200, DATA)


def test_max_ranges_is_configurable(public):
    with serve(prefixed(public, max_ranges=2)) as client:
        assert get(client, "/assets/data.bin", range="bytes=0-1,4-5").status_code == 206
        assert get(client, "/assets/data.bin", range="bytes=0-1,4-5,8-9").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "bytes=abc",
        "bytes=1-a",
        "bytes=a-1",
        "bytes=0 -1",  # whitespace inside a range
        "bytes= 0 - 1",
        "bytes =0-1",
        "bytes",
        "bytes=",
        "bytes=,,",
        "bytes=-",
        "bytes=5-2",  # last before first
        "bytes=+1-2",
        "bytes=0x1-2",
        "bytes=1-2-3",
        "bytes=1",
        "bytes=١-٢",  # Arabic-Indic digits are digits to str.isdigit, not to HTTP
        "bytes=0-1,abc",  # one bad member spoils the whole header
        "items=0-1",  # another unit
        "bytes=0-,0-,0-",  # overlap: three copies of the file
        "bytes=" + ",".join(["0-999"] * 5),
    ],
)
def test_malformed_or_abusive_ranges_are_ignored(form, value):
    client, base = form
    response = get(client, f"{base}/data.bin", range=value)
    assert (response.status_code, response.content) == (200, DATA)
    assert "content-range" not in response.headers


def test_two_range_headers_are_ignored(form):
    client, base = form
    response = client.get(
        f"{base}/data.bin", headers=[("range", "bytes=0-1"), ("range", "bytes=2-3")]
    ).execute()
    assert (response.status_code, response.content) == (200, DATA)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.bin", "bytes=1024-"),
        ("data.bin", "bytes=5000-6000"),
        ("data.bin", "bytes=-0"),
        ("data.bin", "bytes=2000-,3000-3001"),
        ("zero.txt", "bytes=0-"),
        ("zero.txt", "bytes=-5"),
    ],
)
def test_unsatisfiable_ranges_get_416(form, path, value):
    client, base = form
    response = get(client, f"{base}/{path}", range=value)
    assert response.status_code == 416
    size = {"data.bin": 1024, "zero.txt": 0}[path]
    assert response.headers["content-range"] == f"bytes */{size}"
    assert response.headers["accept-ranges"] == "bytes"


def test_if_range_with_the_current_etag_or_date_honours_the_range(form):
    client, base = form
    etag = get(client, f"{base}/data.bin").headers["etag"]
    for if_range in (etag, LAST_MODIFIED):
        response = get(client, f"{base}/data.bin", range="bytes=0-1", if_range=if_range)
        assert (response.status_code, response.content) == (206, DATA[:2])


@pytest.mark.parametrize(
    "if_range",
    [
        '"stale"',
        "W/{etag}",
        "Tue, 14 Nov 2023 22:13:21 GMT",
        "Tue, 14 Nov 2023 22:13:19 GMT",
        "junk",
    ],
)
def test_if_range_that_does_not_match_sends_the_whole_file(form, if_range):
    client, base = form
    etag = get(client, f"{base}/data.bin").headers["etag"]
    value = if_range.format(etag=etag)
    response = get(client, f"{base}/data.bin", range="bytes=0-1", if_range=value)
    assert (response.status_code, response.content) == (200, DATA)


def test_if_range_needs_the_validators_turned_on(public):
    with serve(prefixed(public, etag=False, last_modified=False)) as client:
        for value in ('"x"', LAST_MODIFIED):
            response = get(client, "/assets/data.bin", range="bytes=0-1", if_range=value)
            assert response.status_code == 200


def test_a_304_wins_over_a_range(form):
    client, base = form
    etag = get(client, f"{base}/data.bin").headers["etag"]
    response = get(client, f"{base}/data.bin", range="bytes=0-1", if_none_match=etag)
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        ("bytes=0-1", 10, [(0, 1)]),
        ("bytes=8-,-3", 10, [(8, 9), (7, 9)]),
        ("bytes=10-", 10, []),
        ("bytes=0-1", 0, []),
        ("bytes=0-1,2-3,4-5", 10, None),  # more than max_ranges=2
        ("bytes=0-9,0-0", 10, None),  # 11 bytes of a 10-byte file
        ("bytes=1-1", 10**30, [(1, 1)]),
        ("bytes=١-٢", 10, None),  # digits to str.isdigit, not to HTTP
        ("bytes=-١", 10, None),
    ],
)
def test_parse_ranges(value, size, expected):
    assert parse_ranges(value, size, max_ranges=2) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (LAST_MODIFIED, MTIME),
        ("Tuesday, 14-Nov-23 22:13:20 GMT", MTIME),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777),  # a past century for "94"
        ("Tue Nov 14 22:13:20 2023", MTIME),
        ("Sun Nov  6 08:49:37 1994", 784111777),
        ("Tue, ١٤ Nov 2023 22:13:20 GMT", None),
        ("Tue, 14 Nov 2023 22:60:20 GMT", None),
        ("Tue, 00 Nov 2023 22:13:20 GMT", None),
        ("", None),
    ],
)
def test_parse_http_date(value, expected):
    assert parse_http_date(value) == expected


# --- streaming ----------------------------------------------------------------------------------


def test_a_big_file_is_streamed_in_chunks(form):
    client, base = form
    with client.stream("GET", f"{base}/big.bin") as response:
        assert response.headers["content-length"] == str(len(BIG))
        chunks = list(response.iter_raw())
    assert len(chunks) == 17  # 16 full chunks of 64 KiB and the rest
    assert max(len(c) for c in chunks) == 64 * 1024
    assert b"".join(chunks) == BIG


def test_chunk_size_applies_to_ranges_and_multipart_bodies(public):
    with serve(prefixed(public, chunk_size=100)) as client:
        with client.stream("GET", "/assets/data.bin", headers={"range": "bytes=0-299"}) as r:
            chunks = list(r.iter_raw())
        assert [len(c) for c in chunks] == [100, 100, 100]
        assert b"".join(chunks) == DATA[:300]
        response = get(client, "/assets/data.bin", range="bytes=0-249,500-749")
        parts = parse_byteranges(response)
        assert [p[2] for p in parts] == [DATA[0:250], DATA[500:750]]


def test_closing_a_stream_early_leaves_the_app_healthy(form):
    client, base = form
    with client.stream("GET", f"{base}/big.bin") as response:
        first = next(response.iter_raw())
        assert first == BIG[: len(first)]
    assert get(client, f"{base}/app.css").content == CSS


async def threads_finished() -> None:
    """Wait until every worker-thread call has returned and its callbacks have run."""
    await asyncio.get_running_loop().shutdown_default_executor()
    for _ in range(5):
        await asyncio.sleep(0)


async def _send_response(
    response: Any, method: str = "GET", disconnect: bool = False
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if disconnect:
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await response({"type": "http", "method": method}, receive, send)
    return sent


def test_the_body_matches_the_file_that_was_found_even_if_it_is_replaced(public):
    files = StaticFiles(public)

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        small = await files.response_for("app.css", scope_for())
        big = await files.response_for("big.bin", scope_for())
        # A deploy swaps both files atomically before the responses are sent.
        for name in ("app.css", "big.bin"):
            (public / "new").write_bytes(b"NEW CONTENT")
            os.replace(public / "new", public / name)
        return await _send_response(small), await _send_response(big)

    small, big = asyncio.run(scenario())
    assert b"".join(m.get("body", b"") for m in small[1:]) == CSS
    assert b"".join(m.get("body", b"") for m in big[1:]) == BIG


@pytest.mark.parametrize("name", ["app.css", "big.bin"])
def test_a_file_truncated_while_it_is_sent_is_an_error_not_a_short_body(public, name):
    files = StaticFiles(public)

    async def scenario() -> None:
        response = await files.response_for(name, scope_for())
        with open(public / name, "r+b") as f:
            f.truncate(3)
        await _send_response(response)

    with pytest.raises(OSError, match="shrank"):
        asyncio.run(scenario())


def test_streaming_stops_reading_when_the_client_disconnects(public):
    files = StaticFiles(public)

    async def scenario() -> list[dict[str, Any]]:
        response = await files.response_for("big.bin", scope_for())
        return await _send_response(response, disconnect=True)

    sent = asyncio.run(scenario())
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert len(body) < len(BIG)
    assert BIG.startswith(body)


@needs_proc
def test_descriptors_are_closed_in_every_outcome(public):
    files = StaticFiles(public)

    async def scenario() -> None:
        before = open_fds()
        # Sent in full, small and streamed.
        for name in ("app.css", "big.bin"):
            await _send_response(await files.response_for(name, scope_for()))
        assert open_fds() == before
        # HEAD, 304 and 416 never keep a file open.
        await _send_response(await files.response_for("app.css", scope_for("HEAD")), "HEAD")
        etag = (await files.response_for("app.css", scope_for("HEAD"))).headers["etag"]
        await files.response_for("app.css", scope_for(if_none_match=etag))
        with pytest.raises(HTTPError):
            await files.response_for("app.css", scope_for(range="bytes=999-"))
        with pytest.raises(HTTPError):
            await files.response_for("app.css", scope_for(if_match='"x"'))
        assert open_fds() == before
        # Found but never sent (a middleware replaced it): closed when dropped, or by close().
        response = await files.response_for("app.css", scope_for())
        assert open_fds() == before + 1
        del response
        assert open_fds() == before
        response = await files.response_for("app.css", scope_for())
        assert isinstance(response, StaticFileResponse)
        response.close()
        response.close()
        assert open_fds() == before

    asyncio.run(scenario())


@needs_proc
@pytest.mark.parametrize(("name", "sent_before_cancel"), [("app.css", 1), ("big.bin", 2)])
def test_cancelling_a_response_while_a_thread_reads_closes_the_file_after_the_read(
    public, name, sent_before_cancel
):
    """app.css is read in one go, big.bin chunk by chunk; the task is cancelled right after
    the start (or the first chunk) is sent, while the next read is running in its thread."""
    files = StaticFiles(public)

    async def scenario() -> list[dict[str, Any]]:
        before = open_fds()
        response = await files.response_for(name, scope_for())
        messages: list[dict[str, Any]] = []

        async def record(message: dict[str, Any]) -> None:
            messages.append(message)

        async def stay() -> dict[str, Any]:
            await asyncio.sleep(3600)
            raise AssertionError("unreachable")

        task = asyncio.ensure_future(response({"type": "http", "method": "GET"}, stay, record))
        while len(messages) < sent_before_cancel:  # step by step, no time-based waiting
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await threads_finished()
        assert open_fds() == before
        return messages

    messages = asyncio.run(scenario())
    assert len(messages) == sent_before_cancel  # nothing was sent after the cancellation


@needs_proc
def test_a_request_cancelled_during_the_lookup_leaks_no_descriptor(public):
    files = StaticFiles(public)

    async def scenario() -> None:
        before = open_fds()
        for steps in range(4):  # cancel at different points of the lookup
            task = asyncio.ensure_future(files.response_for("app.css", scope_for()))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await threads_finished()
        assert open_fds() == before

    asyncio.run(scenario())


@needs_proc
@pytest.mark.parametrize("outcome", ["result", "error", "cancelled"])
def test_a_descriptor_in_use_by_a_thread_is_closed_when_the_read_ends(public, outcome):
    async def scenario() -> None:
        fd = os.open(public / "app.css", os.O_RDONLY)
        before = open_fds()
        read: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        _close_after(read, fd)
        await asyncio.sleep(0)
        assert open_fds() == before  # still in use
        if outcome == "result":
            read.set_result(b"data")
        elif outcome == "error":
            read.set_exception(OSError("EBADF"))
        else:
            read.cancel()
        await asyncio.sleep(0)
        assert open_fds() == before - 1

    asyncio.run(scenario())


@needs_proc
def test_a_failing_send_closes_the_file(public):
    files = StaticFiles(public)

    async def scenario() -> None:
        before = open_fds()
        for name in ("app.css", "big.bin"):
            response = await files.response_for(name, scope_for())

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body":
                    raise OSError("connection reset")

            async def receive() -> dict[str, Any]:
                await asyncio.sleep(3600)
                raise AssertionError("unreachable")

            with pytest.raises(OSError, match="connection reset"):
                await response({"type": "http", "method": "GET"}, receive, send)
        assert open_fds() == before

    asyncio.run(scenario())


# --- precompressed variants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.2", "gzip"),  # weights beat avian's preference
        ("gzip;q=1.0, br;q=1", "br"),  # ties go to brotli
        ("*", "br"),
        ("*;q=0.1, gzip;q=0.5", "gzip"),
        ("*, br;q=0", "gzip"),
        ("GZIP", "gzip"),
        (" br ; q=0.9 ", "br"),
        (",, gzip,", "gzip"),
    ],
)
def test_a_precompressed_variant_is_chosen_by_accept_encoding(form, accept, expected):
    client, base = form
    response = raw_get(client, f"{base}/app.js", accept_encoding=accept)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == expected
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["vary"] == "Accept-Encoding"
    variant = (b"BROTLI-VARIANT-BYTES", b"GZIP-VARIANT-BYTES-0123456789")[expected == "gzip"]
    assert response.content == variant
    assert response.headers["content-length"] == str(len(variant))


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "identity",
        "deflate",
        "br;q=0, gzip;q=0",
        "*;q=0",
        "gzip;q=2",
        "gzip;q=abc",
        "br;level=5",
    ],
)
def test_the_original_is_sent_when_no_variant_is_acceptable(form, accept):
    client, base = form
    headers = {} if accept is None else {"accept_encoding": accept}
    response = raw_get(client, f"{base}/app.js", **headers)
    assert response.content == b"console.log('identity')\n"
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "Accept-Encoding"  # the answer still depended on it


def test_only_the_variants_that_exist_are_used(form):
    client, base = form
    response = raw_get(client, f"{base}/only-gz.css", accept_encoding="br, gzip")
    assert (response.headers["content-encoding"], response.content) == ("gzip", b"GZ-ONLY")
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    plain = raw_get(client, f"{base}/only-gz.css", accept_encoding="br")
    assert plain.content == b"p{}"


def test_variants_have_their_own_etags_and_304s(form):
    client, base = form
    br = raw_get(client, f"{base}/app.js", accept_encoding="br")
    plain = raw_get(client, f"{base}/app.js")
    assert br.headers["etag"] != plain.headers["etag"]
    assert br.headers["etag"].endswith('-br"')
    again = get(client, f"{base}/app.js", accept_encoding="br", if_none_match=br.headers["etag"])
    assert again.status_code == 304
    assert again.headers["vary"] == "Accept-Encoding"
    switched = raw_get(client, f"{base}/app.js", if_none_match=br.headers["etag"])
    assert switched.status_code == 200


def test_ranges_apply_to_the_variant(form):
    client, base = form
    response = raw_get(client, f"{base}/app.js", accept_encoding="gzip", range="bytes=0-3")
    assert response.status_code == 206
    assert response.content == b"GZIP"
    assert response.headers["content-range"] == "bytes 0-3/29"
    assert response.headers["content-encoding"] == "gzip"


def test_precompressed_can_be_turned_off(public):
    with serve(prefixed(public, precompressed=False)) as client:
        response = raw_get(client, "/assets/app.js", accept_encoding="br, gzip")
        assert response.content == b"console.log('identity')\n"
        assert "content-encoding" not in response.headers
        assert "vary" not in response.headers


def test_an_index_file_can_have_variants(public):
    (public / "docs" / "index.html.gz").write_bytes(b"GZ-INDEX")
    with serve(prefixed(public)) as client:
        response = raw_get(client, "/assets/docs/", accept_encoding="gzip")
        assert response.content == b"GZ-INDEX"
        assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_a_very_long_accept_encoding_is_parsed_without_caching(form):
    client, base = form
    accept = ", ".join(f"coding{i};q=0.1" for i in range(40)) + ", gzip"
    assert raw_get(client, f"{base}/app.js", accept_encoding=accept).content.startswith(b"GZIP")


# --- directories and index files ----------------------------------------------------------------


def test_index_html_is_served_for_directories(form):
    client, base = form
    root = get(client, f"{base}/")
    assert (root.status_code, root.text) == (200, "<h1>home</h1>")
    assert root.headers["content-type"] == "text/html; charset=utf-8"
    assert get(client, f"{base}/docs/").text == "<h1>docs</h1>"


def test_a_directory_without_its_slash_is_redirected(form):
    client, base = form
    response = get(client, f"{base}/docs?page=2")
    assert response.status_code == 308
    assert response.headers["location"] == f"{base}/docs/?page=2"


def test_the_prefix_itself_redirects_to_its_slash_form(public):
    with serve(prefixed(public)) as client:
        response = get(client, "/assets")
        assert (response.status_code, response.headers["location"]) == (308, "/assets/")


def test_a_directory_without_index_is_404(form):
    client, base = form
    assert get(client, f"{base}/empty/").status_code == 404
    assert get(client, f"{base}/empty").status_code == 404


def test_a_file_asked_for_as_a_directory_is_404(form):
    client, base = form
    assert get(client, f"{base}/app.css/").status_code == 404


def test_index_can_be_renamed_or_disabled(public):
    (public / "docs" / "default.htm").write_bytes(b"default page")
    with serve(prefixed(public, index="default.htm")) as client:
        assert get(client, "/assets/docs/").text == "default page"
        assert get(client, "/assets/").status_code == 404
    with serve(prefixed(public, index=None)) as client:
        assert get(client, "/assets/docs/").status_code == 404
        assert get(client, "/assets/docs").status_code == 404
        assert get(client, "/assets/docs/index.html").text == "<h1>docs</h1>"


def test_directory_redirects_cannot_point_to_another_host(public):
    (public / "evil.example").mkdir()
    (public / "evil.example" / "index.html").write_bytes(b"x")
    app = at_root(public)
    for raw in (b"//evil.example", b"///evil.example", b"/\\evil.example"):
        status, headers, _ = asgi(app, "GET", raw)
        assert status == 404, raw
        assert "location" not in headers
    status, headers, _ = asgi(app, "GET", b"/evil.example")
    assert (status, headers["location"]) == (308, "/evil.example/")


def test_directory_redirects_keep_escapes_and_root_path(public):
    (public / "a b").mkdir()
    (public / "a b" / "index.html").write_bytes(b"spaced dir")
    with serve(prefixed(public)) as client:
        assert get(client, "/assets/a%20b").headers["location"] == "/assets/a%20b/"
    with TestClient(prefixed(public), root_path="/app", follow_redirects=False) as client:
        assert get(client, "/assets/docs").headers["location"] == "/app/assets/docs/"


# --- hidden files -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [".env", ".well-known/security.txt", "docs/.hidden"])
def test_hidden_files_are_404_by_default(form, path):
    client, base = form
    assert get(client, f"{base}/{path}").status_code == 404


def test_hidden_files_can_be_allowed(public):
    with serve(prefixed(public, allow_hidden=True)) as client:
        assert get(client, "/assets/.env").content == b"PASSWORD=1"
        assert get(client, "/assets/.well-known/security.txt").text == "Contact: x"
        assert get(client, "/assets/%2e%2e/secret.txt").status_code == 400


# --- path safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/assets/../secret.txt", 404),  # httpx removes the "..": this asks for /secret.txt
        ("/assets/%2e%2e/secret.txt", 400),  # the router refuses dot segments
        ("/assets/%2E%2E/secret.txt", 400),
        ("/assets/..%2fsecret.txt", 404),  # one segment "../secret.txt": StaticFiles refuses
        ("/assets/..%2Fsecret.txt", 404),
        ("/assets/docs/..%2f..%2fsecret.txt", 404),
        ("/assets/%00", 400),
        ("/assets/app.css%00.txt", 400),
        ("/assets//etc/passwd", 404),
        ("/assets/%2fetc%2fpasswd", 404),
        ("/assets/..%5csecret.txt", 404),  # backslash
        ("/assets/C:%5cWindows%5cwin.ini", 404),  # drive letter
        ("/assets/C:/secret.txt", 404),
        ("/assets/app.css%3a%3a$DATA", 404),  # NTFS stream syntax
        ("/assets/app.css.", 404),  # Windows would open app.css
        ("/assets/app.css%20", 404),
        ("/assets/app.css%0a", 404),
        ("/assets/%ff", 400),
        ("/..%2fsecret.txt", 404),  # the same through the root form
        ("/%2e%2e%2fsecret.txt", 404),
    ],
)
def test_traversal_attempts_never_reach_files_outside_the_root(public, url, status):
    app = App()
    app.static("/assets", str(public))
    app.static(str(public))
    with serve(app) as client:
        response = get(client, url)
        assert response.status_code == status
        assert SECRET not in response.content


@pytest.mark.parametrize(
    "raw", [b"/assets/../secret.txt", b"/assets/./../secret.txt", b"/../secret.txt", b"/assets/.."]
)
def test_literal_dot_segments_are_refused_by_the_router(public, raw):
    app = App()
    app.static("/assets", str(public))
    app.static(str(public))
    status, _, bodies = asgi(app, "GET", raw)
    assert status == 400
    assert SECRET not in b"".join(bodies)


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "/../secret.txt",
        "docs/../../secret.txt",
        "docs/../index.html",  # ".." is refused even when it stays inside
        "..",
        ".",
        "./app.css",
        "app.css\x00",
        "\\..\\secret.txt",
        "..\\secret.txt",
        "C:/secret.txt",
        "c:secret.txt",
        "//etc/passwd",
        "docs//index.html",
        "app.css.",
        "app.css ",
        "app\ncss",
        "...",
        "/etc/passwd",  # read as relative to the root, where there is no etc/
    ],
)
def test_response_for_refuses_unsafe_paths_on_its_own(public, path):
    files = StaticFiles(public)
    assert asyncio.run(files.response_for(path, scope_for())) is None


def test_names_ending_in_a_dot_or_space_are_refused_even_when_they_exist(public):
    # Windows drops trailing dots and spaces ("x.py." opens "x.py"), so they are never served.
    (public / "notes.").write_bytes(b"dot")
    (public / "notes ").write_bytes(b"space")
    with serve(prefixed(public)) as client:
        assert get(client, "/assets/notes.").status_code == 404
        assert get(client, "/assets/notes%20").status_code == 404


def test_response_for_refuses_absolute_paths_to_real_files(public, tmp_path):
    files = StaticFiles(public)
    secret = str(tmp_path / "secret.txt")
    assert asyncio.run(files.response_for(secret, scope_for())) is None
    assert asyncio.run(files.response_for("/" + secret, scope_for())) is None


def test_response_for_accepts_paths_with_or_without_a_leading_slash(public):
    files = StaticFiles(public)
    for path in ("app.css", "/app.css"):
        response = asyncio.run(files.response_for(path, scope_for("HEAD")))
        assert response is not None
        assert response.status == 200
    for path in ("", "/"):
        response = asyncio.run(files.response_for(path, scope_for("HEAD")))
        assert response is not None
        assert response.media_type == "text/html"
    assert asyncio.run(files.response_for("app.css", scope_for("POST"))) is None


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/app.css", 200),
        ("/%2e%2e/secret.txt", 404),
        ("/%2E%2E%2Fsecret.txt", 404),
        ("/..%2fsecret.txt", 404),
        ("/docs/%2e%2e/%2e%2e/secret.txt", 404),
        ("/%00", 404),
        ("/%ff", 404),
        ("/my%20file.css", 200),
        ("/.env", 404),
    ],
)
def test_a_bare_static_files_app_is_safe_without_a_router(public, url, status):
    with serve(StaticFiles(public)) as client:
        response = get(client, url)
        assert response.status_code == status
        assert SECRET not in response.content


def test_a_bare_static_files_app_answers_methods_and_other_scopes(public):
    with serve(StaticFiles(public)) as client:
        response = client.post("/app.css").execute()
        assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
        html = get(client, "/nope", accept="text/html")
        assert html.headers["content-type"] == "text/html; charset=utf-8"
        assert get(client, "/app.css", range="bytes=99-").status_code == 416
        with pytest.raises(WebSocketDenied):
            client.websocket_connect("/ws").__enter__()


def test_a_bare_static_files_app_without_raw_path(public):
    files = StaticFiles(public)

    async def scenario(scope: dict[str, Any]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await files({"type": "http", "method": "GET", "headers": [], **scope}, receive, send)
        return sent

    sent = asyncio.run(scenario({"path": "/files/app.css", "root_path": "/files"}))
    assert sent[0]["status"] == 200
    sent = asyncio.run(scenario({"path": "/app.css"}))
    assert sent[0]["status"] == 200
    sent = asyncio.run(scenario({"path": "/docs"}))
    assert (b"location", b"/docs/") in sent[0]["headers"]


def test_symlinks_leading_out_of_the_root_are_404(public):
    links(public)
    with serve(prefixed(public)) as client:
        for url in ("/assets/leak.txt", "/assets/outdir/secret.txt", "/assets/outdir/"):
            response = get(client, url)
            assert response.status_code == 404, url
            assert SECRET not in response.content
        assert get(client, "/assets/loop").status_code == 404


def test_symlinks_inside_the_root_are_followed(public):
    links(public)
    with serve(prefixed(public)) as client:
        alias = get(client, "/assets/alias.css")
        assert (alias.content, alias.headers["content-type"]) == (CSS, "text/css; charset=utf-8")
        assert get(client, "/assets/manual/guide.txt").text == "read me"
        assert get(client, "/assets/manual/").text == "<h1>docs</h1>"


def test_follow_symlinks_allows_links_out_of_the_root(public):
    links(public)
    with serve(prefixed(public, follow_symlinks=True)) as client:
        assert get(client, "/assets/leak.txt").content == SECRET
        assert get(client, "/assets/outdir/secret.txt").content == SECRET
        assert get(client, "/assets/%2e%2e/secret.txt").status_code == 400  # ".." still refused
        assert get(client, "/assets/..%2fsecret.txt").status_code == 404


def test_an_index_or_variant_linked_out_of_the_root_is_not_used(public):
    os.symlink(public.parent / "outside" / "index.html", public / "empty" / "index.html")
    os.symlink(public.parent / "secret.txt", public / "docs" / "guide.txt.gz")
    with serve(prefixed(public)) as client:
        assert get(client, "/assets/empty/").status_code == 404
        guide = raw_get(client, "/assets/docs/guide.txt", accept_encoding="gzip")
        assert guide.content == b"read me"
        assert "vary" not in guide.headers


def test_the_root_itself_may_be_a_symlink(tmp_path, public):
    os.symlink(public, tmp_path / "current")
    with serve(prefixed(tmp_path / "current")) as client:
        assert get(client, "/assets/app.css").content == CSS


def test_special_files_are_not_served(public):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    os.mkfifo(public / "pipe")
    with serve(prefixed(public)) as client:
        assert get(client, "/assets/pipe").status_code == 404


def test_unreadable_files_are_404(public):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    (public / "app.css").chmod(0)
    try:
        with serve(prefixed(public)) as client:
            assert get(client, "/assets/app.css").status_code == 404
            assert client.head("/assets/app.css").execute().status_code == 200  # stat suffices
    finally:
        (public / "app.css").chmod(0o644)


# --- middleware and hooks apply -----------------------------------------------------------------


def with_hooks(app: App) -> App:
    @app.use
    async def stamp(ctx: Context, call_next: Any) -> Any:
        response = await call_next()
        response.headers.set("x-middleware", "ran")
        return response

    @app.after_all
    async def after(ctx: Context) -> None:
        ctx.response.headers.set("x-after", "ran")

    return app


def test_middleware_and_after_hooks_apply_to_static_files(public):
    for app, url in ((prefixed(public), "/assets/app.css"), (at_root(public), "/app.css")):
        with serve(with_hooks(app)) as client:
            for response in (get(client, url), get(client, url, range="bytes=0-1")):
                assert response.headers["x-middleware"] == "ran"
                assert response.headers["x-after"] == "ran"
            etag = get(client, url).headers["etag"]
            not_modified = get(client, url, if_none_match=etag)
            assert not_modified.status_code == 304
            assert not_modified.headers["x-after"] == "ran"


def test_a_before_hook_can_guard_static_files(public):
    app = prefixed(public)

    @app.before_all
    async def guard(ctx: Context) -> Any:
        if ctx.request.headers.get("x-key") != "ok":
            return ctx.text("no", status=401)
        return None

    with serve(app) as client:
        assert get(client, "/assets/app.css").status_code == 401
        assert get(client, "/assets/app.css", x_key="ok").content == CSS


def test_headers_set_by_a_before_hook_reach_prefixed_static_files(public):
    app = prefixed(public)

    @app.before_all
    async def mark(ctx: Context) -> None:
        ctx.response.headers.set("x-before", "ran")

    with serve(app) as client:
        assert get(client, "/assets/app.css").headers["x-before"] == "ran"


def test_headers_set_by_a_before_hook_reach_root_static_files(public):
    app = at_root(public)

    @app.before_all
    async def mark(ctx: Context) -> None:
        ctx.response.headers.set("x-before", "ran")

    with serve(app) as client:
        assert get(client, "/app.css").headers["x-before"] == "ran"


# --- configuration ------------------------------------------------------------------------------


def test_the_directory_must_exist(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        StaticFiles(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ConfigurationError, match="does not exist"):
        StaticFiles(tmp_path / "file")
    with pytest.raises(ConfigurationError):
        App().static("/assets", str(tmp_path / "missing"))
    with pytest.raises(ConfigurationError):
        App().static(str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "options",
    [
        {"index": "a/b.html"},
        {"index": ".."},
        {"index": ""},
        {"index": "a\\b"},
        {"cache_control": "public\r\nSet-Cookie: x=1"},
        {"cache_control": " "},
        {"max_ranges": 0},
        {"max_ranges": True},
        {"chunk_size": "64k"},
        {"chunk_size": -1},
    ],
)
def test_bad_options_are_configuration_errors(public, options):
    with pytest.raises(ConfigurationError):
        StaticFiles(public, **options)


def test_unknown_options_are_refused(public):
    with pytest.raises(TypeError):
        App().static("/assets", str(public), fallthrough=True)


def test_static_cannot_be_added_after_startup(public):
    app = App()
    with serve(app) as client:
        get(client, "/")
        with pytest.raises(ConfigurationError):
            app.static(str(public))


def test_repr(public):
    files = StaticFiles(public)
    assert repr(files) == f"StaticFiles({str(public.resolve())!r})"
    response = asyncio.run(files.response_for("data.bin", scope_for("HEAD")))
    assert repr(response) == "<StaticFileResponse 200 1024 bytes>"


# --- the examples in docs/static.md -------------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "static.md"


def test_the_docs_examples_run(tmp_path, monkeypatch):
    public = tmp_path / "public"
    (public / "docs").mkdir(parents=True)
    (public / "app.css").write_bytes(CSS)
    (public / "index.html").write_bytes(b"<h1>home</h1>")
    (public / "docs" / "index.html").write_bytes(b"<h1>docs</h1>")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOCS_PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 4
    namespace: dict[str, Any] = {"__name__": "docs_static"}
    apps: list[App] = []
    for code in blocks:
        exec(compile(code, "docs/static.md example", "exec"), namespace)
        apps.append(namespace["app"])
    prefix_app, root_app, mounted_app, reports_app = apps
    with serve(prefix_app) as client:
        assert get(client, "/assets/app.css").content == CSS
    with serve(root_app) as client:
        assert get(client, "/app.css").content == CSS
        assert get(client, "/health").json() == {"ok": True}
        assert get(client, "/").text == "<h1>home</h1>"
    with serve(mounted_app) as client:
        response = get(client, "/downloads/docs/")
        assert (response.text, response.headers["cache-control"]) == ("<h1>docs</h1>", "no-cache")
    with serve(reports_app) as client:
        assert get(client, "/reports/app.css").status_code == 403
        assert get(client, "/reports/app.css", x_team="finance").content == CSS
        assert get(client, "/reports/nope.pdf", x_team="finance").status_code == 404
