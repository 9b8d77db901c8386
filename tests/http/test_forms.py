"""Form parsing: FormData, UploadFile, urlencoded and streaming multipart bodies, and limits."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from avian.errors import BodyError
from avian.http import uploads
from avian.http.forms import FormData, parse_multipart, parse_urlencoded
from avian.http.limits import BodyLimits
from avian.http.media import decode_ext_value, parse_content_disposition, parse_content_type
from avian.http.uploads import UploadFile, sanitize_filename

BOUNDARY = "----avianBoundary7MA4YWxkTrZu0gW"
CT = f"multipart/form-data; boundary={BOUNDARY}"
LIMITS = BodyLimits()


def run_async(fn: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
    """Run an ``async def`` test on a fresh event loop (keeps pytest fixtures working)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def limits(**overrides: Any) -> BodyLimits:
    return dataclasses.replace(LIMITS, **overrides)


async def chunks(data: bytes, size: int | None = None) -> AsyncIterator[bytes]:
    if size is None:
        yield data
        return
    for i in range(0, len(data), size):
        yield data[i : i + size]


def part(
    name: str | None = "field",
    content: bytes = b"",
    *,
    filename: str | None = None,
    content_type: str | None = None,
    disposition: str | None = None,
    headers: tuple[str, ...] = (),
) -> bytes:
    if disposition is None:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
    lines = [f"Content-Disposition: {disposition}"] if disposition else []
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.extend(headers)
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + content


def multipart_body(*parts: bytes, boundary: str = BOUNDARY) -> bytes:
    delimiter = b"--" + boundary.encode()
    return b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts) + delimiter + b"--\r\n"


async def parse(
    data: bytes,
    *,
    chunk: int | None = None,
    content_type: str = CT,
    body_limits: BodyLimits = LIMITS,
) -> FormData:
    return await parse_multipart(chunks(data, chunk), content_type, body_limits)


async def parse_error(data: bytes, **kwargs: Any) -> BodyError:
    try:
        form = await parse(data, **kwargs)
    except BodyError as exc:
        return exc
    await form.close()
    pytest.fail("expected a BodyError")


@pytest.fixture
def spools(monkeypatch: pytest.MonkeyPatch) -> list[tempfile.SpooledTemporaryFile[bytes]]:
    """Every SpooledTemporaryFile an UploadFile creates during the test (to check closing)."""
    created: list[tempfile.SpooledTemporaryFile[bytes]] = []

    class Recording(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(uploads, "SpooledTemporaryFile", Recording)
    return created


# -- media: content types and dispositions ------------------------------------------------


def test_parse_content_type_lowercases_type_and_param_names() -> None:
    assert parse_content_type("Text/HTML; Charset=UTF-8") == ("text/html", {"charset": "UTF-8"})
    assert parse_content_type("application/json") == ("application/json", {})
    assert parse_content_type("") == ("", {})


def test_parse_content_type_unescapes_quoted_strings() -> None:
    media_type, params = parse_content_type(
        'multipart/form-data; boundary="a;b \\"c\\" \\\\d" ; x = 1 ;flag'
    )
    assert media_type == "multipart/form-data"
    assert params == {"boundary": 'a;b "c" \\d', "x": "1", "flag": ""}


def test_parse_content_type_first_duplicate_wins_and_result_is_a_fresh_dict() -> None:
    _, params = parse_content_type("text/plain; charset=utf-8; charset=latin-1")
    assert params == {"charset": "utf-8"}
    params["charset"] = "changed"
    assert parse_content_type("text/plain; charset=utf-8; charset=latin-1")[1] == {
        "charset": "utf-8"
    }


def test_parse_content_type_long_values_are_parsed_too() -> None:
    value = "text/plain; x=" + "y" * 1000
    assert parse_content_type(value) == ("text/plain", {"x": "y" * 1000})


def test_parse_content_disposition_keeps_backslashes_and_duplicates() -> None:
    kind, params = parse_content_disposition(
        'Form-Data; name="a"; filename="C:\\dir\\x \\"q\\".txt"; name="b"'
    )
    assert kind == "form-data"
    assert params == (("name", "a"), ("filename", 'C:\\dir\\x "q".txt'), ("name", "b"))


def test_decode_ext_value() -> None:
    assert decode_ext_value("UTF-8''na%C3%AFve%20file.txt") == "naïve file.txt"
    assert decode_ext_value("utf-8'en'%E2%82%AC") == "€"
    assert decode_ext_value("ISO-8859-1''caf%E9") == "café"
    with pytest.raises(ValueError, match="charset"):
        decode_ext_value("koi8-r''abc")
    with pytest.raises(ValueError):
        decode_ext_value("UTF-8''%ff")
    with pytest.raises(ValueError):
        decode_ext_value("no-quotes")


# -- FormData ---------------------------------------------------------------------------------


def test_formdata_single_value_access_returns_the_first_value() -> None:
    form = FormData([("a", "1"), ("b", "2"), ("a", "3")])
    assert form["a"] == "1"
    assert form.get("a") == "1"
    assert form.get("missing") is None
    assert form.get("missing", "x") == "x"
    assert form.to_dict() == {"a": "1", "b": "2"}
    assert list(form.items()) == [("a", "1"), ("b", "2")]
    assert list(form.values()) == ["1", "2"]
    with pytest.raises(KeyError):
        form["missing"]


def test_formdata_multi_value_access_sees_every_value_in_order() -> None:
    form = FormData([("a", "1"), ("b", "2"), ("a", "3")])
    assert form.get_all("a") == ["1", "3"]
    assert form.getlist("a") == ["1", "3"]
    assert form.get_all("missing") == []
    assert form.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert list(form) == ["a", "b"]
    assert list(form.keys()) == ["a", "b"]
    assert len(form) == 2
    assert "a" in form
    assert "z" not in form
    assert 1 not in form  # type: ignore[comparison-overlap]


def test_formdata_is_immutable_and_comparable() -> None:
    form = FormData({"a": "1"})
    with pytest.raises(TypeError):
        form["a"] = "2"  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(form)
    assert form == FormData([("a", "1")])
    assert form != FormData([("a", "1"), ("a", "2")])
    assert form == {"a": "1"}
    assert FormData() == FormData([])


@run_async
async def test_formdata_files_fields_repr_and_close() -> None:
    upload = UploadFile("secret.txt", content_type="text/plain", field_name="doc")
    await upload.write(b"top secret contents")
    form = FormData([("title", "hello"), ("doc", upload), ("title", "again")])
    assert form.files == [upload]
    assert form.fields == [("title", "hello"), ("title", "again")]
    assert form.to_dict() == {"title": "hello", "doc": upload}
    text = repr(form)
    assert "secret.txt" in text
    assert "size=19" in text
    assert "top secret" not in text
    await form.close()
    assert upload.closed


# -- urlencoded -----------------------------------------------------------------------------


def test_urlencoded_decodes_plus_percent_and_keeps_blank_values() -> None:
    form = parse_urlencoded(
        b"name=Jo+Doe&email=jo%40example.com&empty=&flag&%C3%A9t%C3%A9=%E2%82%AC", LIMITS
    )
    assert form.multi_items() == [
        ("name", "Jo Doe"),
        ("email", "jo@example.com"),
        ("empty", ""),
        ("flag", ""),
        ("été", "€"),
    ]


def test_urlencoded_escaped_separators_and_stray_percent_signs() -> None:
    form = parse_urlencoded(b"a=1%262%3D3%2B4&b=100%&c=%zz%4&d=x=y", LIMITS)
    assert form.multi_items() == [("a", "1&2=3+4"), ("b", "100%"), ("c", "%zz%4"), ("d", "x=y")]


def test_urlencoded_duplicates_first_wins() -> None:
    form = parse_urlencoded(b"role=user&role=admin", LIMITS)
    assert form["role"] == "user"
    assert form.get_all("role") == ["user", "admin"]


def test_urlencoded_empty_body_and_empty_pairs() -> None:
    assert parse_urlencoded(b"", LIMITS) == FormData()
    assert parse_urlencoded(b"&&a=1&&", LIMITS).multi_items() == [("a", "1")]


@pytest.mark.parametrize("body", [b"a=%ff", b"%c3=1", b"a=\xff", b"a=%e2%82"])
def test_urlencoded_invalid_utf8_is_400(body: bytes) -> None:
    with pytest.raises(BodyError) as info:
        parse_urlencoded(body, LIMITS)
    assert info.value.status == 400
    assert "UTF-8" in info.value.detail


def test_urlencoded_max_fields_both_sides() -> None:
    body_limits = limits(form_max_fields=3)
    assert len(parse_urlencoded(b"a=1&b=2&c=3", body_limits)) == 3
    assert len(parse_urlencoded(b"a=1&&b=2&c=3&", body_limits)) == 3  # empty pairs not counted
    with pytest.raises(BodyError) as info:
        parse_urlencoded(b"a=1&b=2&c=3&d=4", body_limits)
    assert info.value.status == 413
    assert info.value.detail == "too many form fields: more than 3 (form_max_fields)"
    assert info.value.details == {"limit": "form_max_fields", "max": 3}


def test_urlencoded_field_name_length_counts_characters() -> None:
    body_limits = limits(form_max_field_name_length=4)
    assert "éééé" in parse_urlencoded("éééé=1".encode(), body_limits)  # 8 bytes, 4 characters
    assert "abcd" in parse_urlencoded(b"ab%63d=1", body_limits)
    with pytest.raises(BodyError) as info:
        parse_urlencoded(b"abcde=1", body_limits)
    assert info.value.status == 413
    assert "form_max_field_name_length" in info.value.detail
    assert "4" in info.value.detail


def test_urlencoded_field_size_counts_decoded_bytes() -> None:
    body_limits = limits(form_max_field_size=4)
    assert parse_urlencoded(b"a=%41%42%43%44", body_limits)["a"] == "ABCD"  # 12 raw bytes
    assert parse_urlencoded("a=éé".encode(), body_limits)["a"] == "éé"
    for body in (b"a=abcde", "a=ééé".encode(), b"a=%C3%A9%C3%A9%C3%A9"):
        with pytest.raises(BodyError) as info:
            parse_urlencoded(body, body_limits)
        assert info.value.status == 413
        assert info.value.detail == "form field 'a' too large: more than 4 (form_max_field_size)"


# -- UploadFile -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\a.txt", "a.txt"),
        ("/abs/path/to/file.tar.gz", "file.tar.gz"),
        ("mixed\\sep/name.png", "name.png"),
        ("dir/", ""),
        ("naïve 📄.txt", "naïve 📄.txt"),
    ],
)
def test_sanitize_filename_keeps_only_the_base_name(raw: str, expected: str) -> None:
    assert sanitize_filename(raw) == expected


@pytest.mark.parametrize(
    "raw", ["a\x00.txt", "a\n.txt", "a\x7f", "a\x85b", "photo\u202egnp.exe", "..", "x/.", "a/.."]
)
def test_sanitize_filename_refuses_control_characters_and_dot_names(raw: str) -> None:
    with pytest.raises(ValueError):
        sanitize_filename(raw)


@pytest.mark.parametrize(
    ("filename", "extension"),
    [
        ("a.TXT", ".txt"),
        ("archive.tar.gz", ".gz"),
        ("noext", ""),
        (".bashrc", ""),
        ("evil.exe.", ".exe"),
        ("evil.exe . ", ".exe"),
        ("", ""),
    ],
)
def test_upload_extension(filename: str, extension: str) -> None:
    upload = UploadFile(filename)
    assert upload.extension == extension
    upload.close_now()


@run_async
async def test_upload_file_in_memory_read_seek_and_close() -> None:
    upload = UploadFile("a.txt", content_type="text/plain", headers={"x-a": "1"}, spool_size=10)
    assert (upload.filename, upload.content_type, upload.headers) == (
        "a.txt",
        "text/plain",
        {"x-a": "1"},
    )
    await upload.write(b"0123456789")
    assert upload.in_memory
    assert upload.size == 10
    assert await upload.seek(0) == 0
    assert await upload.read(4) == b"0123"
    assert await upload.read() == b"456789"
    await upload.close()
    await upload.close()  # closing twice is harmless
    assert upload.closed


@run_async
async def test_upload_file_rolls_over_to_disk_past_the_spool_size(tmp_path: Path) -> None:
    upload = UploadFile("big.bin", spool_size=10)
    await upload.write(b"0123456789")
    await upload.write(b"abc")
    assert not upload.in_memory
    assert upload.size == 13
    await upload.seek(5)
    assert await upload.read(3) == b"567"
    target = tmp_path / "copy.bin"
    await upload.save(target)
    assert target.read_bytes() == b"0123456789abc"
    assert await upload.read() == b"89abc"  # save kept the position
    await upload.close()
    assert upload.closed


@run_async
async def test_upload_file_save_from_memory(tmp_path: Path) -> None:
    upload = UploadFile("small.txt")
    await upload.write(b"hello")
    await upload.save(str(tmp_path / "small.txt"))
    assert (tmp_path / "small.txt").read_bytes() == b"hello"
    await upload.close()


def test_upload_file_refuses_bad_names() -> None:
    with pytest.raises(ValueError):
        UploadFile("a\x00b")


# -- multipart: parsing ---------------------------------------------------------------------

SIMPLE = multipart_body(
    part("title", b"Hello\r\nworld"),
    part(
        "doc", b"line one\r\n--not-a-boundary\r\n", filename="notes.txt", content_type="text/plain"
    ),
    part("title", b"second"),
)


@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 7, 64, 1000])
@run_async
async def test_multipart_fields_and_files_for_any_chunking(chunk: int | None) -> None:
    form = await parse(SIMPLE, chunk=chunk)
    try:
        assert form["title"] == "Hello\r\nworld"
        assert form.get_all("title") == ["Hello\r\nworld", "second"]
        upload = form["doc"]
        assert isinstance(upload, UploadFile)
        assert upload.filename == "notes.txt"
        assert upload.extension == ".txt"
        assert upload.content_type == "text/plain"
        assert upload.field_name == "doc"
        assert upload.size == len(b"line one\r\n--not-a-boundary\r\n")
        assert upload.in_memory
        assert await upload.read() == b"line one\r\n--not-a-boundary\r\n"
        assert [name for name, _ in form.multi_items()] == ["title", "doc", "title"]
    finally:
        await form.close()


@run_async
async def test_multipart_boundary_split_at_every_position() -> None:
    for cut in range(1, len(SIMPLE)):

        async def two_chunks() -> AsyncIterator[bytes]:
            yield SIMPLE[:cut]  # noqa: B023 (consumed inside this iteration)
            yield SIMPLE[cut:]  # noqa: B023

        form = await parse_multipart(two_chunks(), CT, LIMITS)
        assert form.get_all("title") == ["Hello\r\nworld", "second"], cut
        upload = form["doc"]
        assert isinstance(upload, UploadFile)
        assert await upload.read() == b"line one\r\n--not-a-boundary\r\n", cut
        await form.close()


@run_async
async def test_multipart_part_headers_are_lowercased_and_kept() -> None:
    body = multipart_body(
        part("f", b"x", filename="a.bin", headers=("X-Custom: Value", "X-Custom: second"))
    )
    form = await parse(body)
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.headers == {
        "content-disposition": 'form-data; name="f"; filename="a.bin"',
        "x-custom": "Value",
    }
    assert upload.content_type == "application/octet-stream"  # none sent
    await form.close()


@run_async
async def test_multipart_file_content_type_is_the_media_type() -> None:
    form = await parse(
        multipart_body(part("f", b"x", filename="a.txt", content_type="Text/Plain; charset=utf-8"))
    )
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.content_type == "text/plain"
    assert upload.headers["content-type"] == "Text/Plain; charset=utf-8"
    await form.close()


@pytest.mark.parametrize(
    "content_type",
    [
        f'multipart/form-data; boundary="{BOUNDARY}"',
        f"Multipart/Form-Data; Boundary={BOUNDARY}",
        f"multipart/form-data;boundary={BOUNDARY};charset=utf-8",
    ],
)
@run_async
async def test_multipart_boundary_parameter_forms(content_type: str) -> None:
    form = await parse(SIMPLE, content_type=content_type)
    assert form["title"] == "Hello\r\nworld"
    await form.close()


@run_async
async def test_multipart_quoted_boundary_with_spaces_and_70_characters() -> None:
    boundary = "a'()+_,-./:=? b" + "x" * 55
    assert len(boundary) == 70
    body = multipart_body(part("a", b"1"), boundary=boundary)
    form = await parse(body, content_type=f'multipart/form-data; boundary="{boundary}"', chunk=5)
    assert form.to_dict() == {"a": "1"}


@run_async
async def test_multipart_closing_delimiter_only_is_an_empty_form() -> None:
    form = await parse(b"--" + BOUNDARY.encode() + b"--\r\n")
    assert len(form) == 0


@run_async
async def test_multipart_epilogue_after_the_closing_boundary_is_ignored() -> None:
    form = await parse(SIMPLE + b"trailing epilogue\r\n--" + BOUNDARY.encode() + b"\r\n", chunk=9)
    assert form.get_all("title") == ["Hello\r\nworld", "second"]
    await form.close()


@run_async
async def test_multipart_field_charset() -> None:
    body = multipart_body(
        part("latin", "café".encode("latin-1"), content_type="text/plain; charset=ISO-8859-1"),
        part("unknown", "é".encode(), content_type="text/plain; charset=x-unknown"),
        part("utf8", "€".encode()),
        part("plain", "ü".encode(), content_type="text/plain"),
    )
    form = await parse(body)
    assert form.to_dict() == {"latin": "café", "unknown": "é", "utf8": "€", "plain": "ü"}


@run_async
async def test_multipart_empty_file_input_is_skipped() -> None:
    body = multipart_body(
        part("avatar", b"", filename="", content_type="application/octet-stream"),
        part("name", b"Jo"),
    )
    form = await parse(body)
    assert "avatar" not in form
    assert form.files == []
    assert form.to_dict() == {"name": "Jo"}


@run_async
async def test_multipart_filenames_are_sanitised() -> None:
    body = multipart_body(
        part("a", b"1", filename="../../etc/passwd"),
        part("b", b"2", filename="C:\\x\\a.txt"),
    )
    form = await parse(body)
    assert [f.filename for f in form.files] == ["passwd", "a.txt"]
    await form.close()


@run_async
async def test_multipart_rfc5987_filename_wins_over_plain() -> None:
    body = multipart_body(
        part(
            "a",
            b"1",
            disposition="form-data; name=\"a\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf",
        ),
        part(
            "b",
            b"2",
            disposition='form-data; name="b"; filename="fallback.txt"; filename*=utf-8\'\'%E2%82%AC.txt',
        ),
        part("c", b"3", filename="déjà vu.txt"),  # raw UTF-8, as browsers send it
    )
    form = await parse(body)
    assert [f.filename for f in form.files] == ["naïve résumé.pdf", "€.txt", "déjà vu.txt"]
    await form.close()


@run_async
async def test_multipart_spools_large_files_to_disk() -> None:
    small, exact, large = b"s" * 100, b"e" * 1024, os.urandom(5000)
    body = multipart_body(
        part("small", small, filename="s.bin"),
        part("exact", exact, filename="e.bin"),
        part("large", large, filename="l.bin"),
    )
    form = await parse(body, chunk=333, body_limits=limits(multipart_spool_size=1024))
    by_name = {name: f for name, f in form.multi_items() if isinstance(f, UploadFile)}
    assert by_name["small"].in_memory
    assert by_name["exact"].in_memory
    assert not by_name["large"].in_memory
    assert await by_name["small"].read() == small
    assert await by_name["exact"].read() == exact
    assert await by_name["large"].read() == large
    assert by_name["large"].size == 5000
    await form.close()
    assert all(f.closed for f in form.files)


@pytest.mark.parametrize("chunk", [1000, 65536])
@run_async
async def test_multipart_large_file_streamed_in_many_chunks(chunk: int) -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    body = multipart_body(
        part("before", b"b"), part("big", content, filename="big.bin"), part("after", b"a")
    )
    form = await parse(body, chunk=chunk)
    upload = form["big"]
    assert isinstance(upload, UploadFile)
    assert upload.size == len(content)
    assert not upload.in_memory
    assert await upload.read() == content
    assert form["before"] == "b"
    assert form["after"] == "a"
    await form.close()


# -- multipart: malformed input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "status", "message"),
    [
        ("multipart/form-data", 400, "no boundary"),
        ('multipart/form-data; boundary=""', 400, "no boundary"),
        ("multipart/form-data; boundary=" + "x" * 71, 400, "too long"),
        ("multipart/form-data; boundary=abc{}", 400, "RFC 2046"),
        ('multipart/form-data; boundary="ends with space "', 400, "RFC 2046"),
        ("multipart/form-data; boundary=caf\u00e9", 400, "RFC 2046"),
        (f"multipart/mixed; boundary={BOUNDARY}", 415, "multipart/form-data"),
        ("", 415, "multipart/form-data"),
    ],
)
@run_async
async def test_multipart_bad_content_type(content_type: str, status: int, message: str) -> None:
    error = await parse_error(SIMPLE, content_type=content_type)
    assert error.status == status
    assert message in error.detail


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (SIMPLE[:-30], "closing boundary"),
        (SIMPLE[: SIMPLE.index(b"Hello")], "closing boundary"),
        (multipart_body(part("a", b"1"))[:-4], "closing boundary"),  # no "--" after last boundary
        (b"garbage that is not multipart at all", "malformed"),
        (b"--wrong-boundary\r\n\r\nx\r\n--wrong-boundary--\r\n", "malformed"),
        (b"--" + BOUNDARY.encode() + b"\r\nBad Header Name: x\r\n\r\nx\r\n", "malformed"),
    ],
)
@pytest.mark.parametrize("chunk", [None, 1])
@run_async
async def test_multipart_malformed_bodies_are_400(
    body: bytes, message: str, chunk: int | None
) -> None:
    error = await parse_error(body, chunk=chunk)
    assert error.status == 400
    assert message in error.detail


def test_multipart_malformed_bodies_do_not_write_to_the_log() -> None:
    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__(logging.WARNING)
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    try:
        with pytest.raises(BodyError):
            asyncio.run(parse(b"garbage that is not multipart at all"))
    finally:
        root.removeHandler(handler)
    assert handler.messages == []


@pytest.mark.parametrize(
    ("the_part", "message"),
    [
        (part(None, b"x", disposition=""), "no Content-Disposition"),
        (part(None, b"x", disposition="form-data"), "exactly one name"),
        (part(None, b"x", disposition='form-data; filename="a.txt"'), "exactly one name"),
        (part(None, b"x", disposition='form-data; name="a"; name="b"'), "exactly one name"),
        (part(None, b"x", disposition='attachment; name="a"'), "'attachment'"),
        (
            part(None, b"x", disposition='form-data; name="a"; filename="x"; filename="y"'),
            "more than one filename",
        ),
        (part(None, b"x", disposition="form-data; name=\"a\"; filename*=koi8-r''abc"), "filename*"),
        (
            part("a", b"x", headers=('Content-Disposition: form-data; name="b"',)),
            "more than one content-disposition",
        ),
        (
            part("a", b"x", content_type="text/plain", headers=("Content-Type: text/html",)),
            "more than one content-type",
        ),
        (part("a", b"\xff\xfe"), "not valid utf-8"),
        (part("a", b"x", filename="a\x00.txt"), "invalid file name"),
        (part("a", b"x", filename="bad\x1b.txt"), "invalid file name"),
        (part("a", b"x", filename=".."), "invalid file name"),
        (b'Content-Disposition: form-data; name="\xff"\r\n\r\nx', "not valid UTF-8"),
    ],
)
@run_async
async def test_multipart_bad_parts_are_400(the_part: bytes, message: str) -> None:
    error = await parse_error(multipart_body(part("ok", b"1"), the_part))
    assert error.status == 400
    assert message in error.detail


# -- multipart: limits on both sides --------------------------------------------------------------


@run_async
async def test_multipart_max_fields() -> None:
    body_limits = limits(form_max_fields=2)
    at_limit = multipart_body(part("a", b"1"), part("b", b"2"), part("f", b"x", filename="f.txt"))
    form = await parse(at_limit, body_limits=body_limits)  # files do not count as fields
    assert len(form) == 3
    await form.close()
    error = await parse_error(
        multipart_body(part("a", b"1"), part("b", b"2"), part("c", b"3")), body_limits=body_limits
    )
    assert error.status == 413
    assert error.detail == "too many form fields: more than 2 (form_max_fields)"


@run_async
async def test_multipart_max_files(spools: list[Any]) -> None:
    body_limits = limits(multipart_max_files=2)
    files = [part(f"f{i}", b"x", filename=f"{i}.txt") for i in range(3)]
    form = await parse(multipart_body(part("a", b"1"), *files[:2]), body_limits=body_limits)
    assert len(form.files) == 2
    await form.close()
    error = await parse_error(multipart_body(*files), body_limits=body_limits)
    assert error.status == 413
    assert error.detail == "too many files: more than 2 (multipart_max_files)"
    assert error.details == {"limit": "multipart_max_files", "max": 2}
    assert len(spools) == 4
    assert all(spool.closed for spool in spools)


@run_async
async def test_multipart_field_name_length() -> None:
    body_limits = limits(form_max_field_name_length=5)
    form = await parse(
        multipart_body(part("abcde", b"1"), part("ééééé", b"x", filename="a.txt")),
        body_limits=body_limits,
    )
    assert "ééééé" in form
    await form.close()
    for too_long in (part("abcdef", b"1"), part("abcdef", b"x", filename="a.txt")):
        error = await parse_error(multipart_body(too_long), body_limits=body_limits)
        assert error.status == 413
        assert error.detail == "form field name too long: more than 5 (form_max_field_name_length)"


@pytest.mark.parametrize("chunk", [None, 1])
@run_async
async def test_multipart_field_size(chunk: int | None) -> None:
    body_limits = limits(form_max_field_size=10)
    form = await parse(
        multipart_body(part("a", b"0123456789")), body_limits=body_limits, chunk=chunk
    )
    assert form["a"] == "0123456789"
    error = await parse_error(
        multipart_body(part("a", b"0123456789X")), body_limits=body_limits, chunk=chunk
    )
    assert error.status == 413
    assert error.detail == "form field 'a' too large: more than 10 (form_max_field_size)"


@pytest.mark.parametrize("chunk", [None, 7, 4096])
@run_async
async def test_multipart_max_file_size_counted_while_streaming(
    chunk: int | None, spools: list[Any]
) -> None:
    body_limits = limits(multipart_max_file_size=20_000, multipart_spool_size=1000)
    content = os.urandom(20_000)
    form = await parse(
        multipart_body(part("f", content, filename="f.bin")), body_limits=body_limits, chunk=chunk
    )
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert await upload.read() == content
    await form.close()
    error = await parse_error(
        multipart_body(part("f", content + b"!", filename="f.bin")),
        body_limits=body_limits,
        chunk=chunk,
    )
    assert error.status == 413
    assert error.detail == "file 'f' too large: more than 20000 (multipart_max_file_size)"
    assert all(spool.closed for spool in spools)


@pytest.mark.parametrize("chunk", [None, 1, 5])
@run_async
async def test_multipart_part_header_block_size(chunk: int | None) -> None:
    disposition = 'form-data; name="a"'
    headers = ("X-Pad: " + "p" * 50,)
    # Counted per header line: name + value + 3 (colon and CRLF); spaces after the colon are not.
    block = len("Content-Disposition") + len(disposition) + 3 + len("X-Pad") + 50 + 3
    body = multipart_body(part("a", b"1", disposition=disposition, headers=headers))
    form = await parse(body, body_limits=limits(multipart_max_part_headers=block), chunk=chunk)
    assert form["a"] == "1"
    error = await parse_error(
        body, body_limits=limits(multipart_max_part_headers=block - 1), chunk=chunk
    )
    assert error.status == 413
    assert (
        error.detail
        == f"multipart part headers too large: more than {block - 1} (multipart_max_part_headers)"
    )


@run_async
async def test_multipart_huge_header_line_is_413_without_buffering_it() -> None:
    body = multipart_body(part("a", b"1", headers=("X-Big: " + "b" * 1_000_000,)))
    error = await parse_error(body, chunk=4096)
    assert error.status == 413
    assert "multipart_max_part_headers" in error.detail
    error = await parse_error(b"--" + BOUNDARY.encode() + b"\r\n" + b"X" * 100_000, chunk=4096)
    assert error.status == 413


@run_async
async def test_multipart_filename_length() -> None:
    body_limits = limits(multipart_max_filename_length=10)
    form = await parse(
        multipart_body(part("f", b"x", filename="../dir/abcdef.txt")), body_limits=body_limits
    )  # the base name is 10 characters
    await form.close()
    error = await parse_error(
        multipart_body(part("f", b"x", filename="abcdefg.txt")), body_limits=body_limits
    )
    assert error.status == 413
    assert error.detail == "file name too long: more than 10 (multipart_max_filename_length)"


@run_async
async def test_multipart_long_dispositions_are_parsed_too() -> None:
    filename = "f" * 300 + ".txt"
    body = multipart_body(part("a", b"x", filename=filename))
    form = await parse(body, body_limits=limits(multipart_max_filename_length=304))
    assert form.files[0].filename == filename
    await form.close()
    error = await parse_error(body, body_limits=limits(multipart_max_filename_length=303))
    assert error.status == 413


@run_async
async def test_multipart_allowed_extensions() -> None:
    body_limits = limits(multipart_allowed_extensions=(".png", "JPG"))
    form = await parse(
        multipart_body(part("a", b"x", filename="a.PNG"), part("b", b"x", filename="b.jpg")),
        body_limits=body_limits,
    )
    assert len(form.files) == 2
    await form.close()
    for name in ("a.gif", "noext"):
        error = await parse_error(
            multipart_body(part("a", b"x", filename=name)), body_limits=body_limits
        )
        assert error.status == 415
        assert "multipart_allowed_extensions" in error.detail


@pytest.mark.parametrize("filename", ["virus.exe", "VIRUS.EXE", "run.sh", "evil.bat.", "x.js"])
@run_async
async def test_multipart_blocked_extensions_by_default(filename: str) -> None:
    error = await parse_error(multipart_body(part("a", b"x", filename=filename)))
    assert error.status == 415
    assert "multipart_blocked_extensions" in error.detail


@run_async
async def test_multipart_blocked_extensions_can_be_changed() -> None:
    form = await parse(
        multipart_body(part("a", b"x", filename="tool.exe")),
        body_limits=limits(multipart_blocked_extensions=()),
    )
    assert form.files[0].filename == "tool.exe"
    await form.close()
    error = await parse_error(
        multipart_body(part("a", b"x", filename="doc.pdf")),
        body_limits=limits(multipart_blocked_extensions=(".pdf",)),
    )
    assert error.status == 415


# -- multipart: no leaked files ---------------------------------------------------------------


@run_async
async def test_multipart_error_after_files_closes_them_all(spools: list[Any]) -> None:
    big = os.urandom(4000)
    body = multipart_body(
        part("a", big, filename="a.bin"),
        part("b", b"small", filename="b.bin"),
        part("c", b"x", filename="virus.exe"),
    )
    error = await parse_error(body, chunk=500, body_limits=limits(multipart_spool_size=1000))
    assert error.status == 415
    assert len(spools) == 3
    assert all(spool.closed for spool in spools)


@run_async
async def test_multipart_unterminated_upload_closes_files(spools: list[Any]) -> None:
    body = multipart_body(part("a", os.urandom(5000), filename="a.bin"))[:-100]
    error = await parse_error(body, chunk=1000, body_limits=limits(multipart_spool_size=1000))
    assert error.status == 400
    assert len(spools) == 1
    assert spools[0].closed


@run_async
async def test_multipart_chunk_iterator_errors_propagate_and_close_files(spools: list[Any]) -> None:
    body = multipart_body(
        part("a", os.urandom(5000), filename="a.bin"), part("b", b"x", filename="b.txt")
    )

    async def failing(exc: BaseException) -> AsyncIterator[bytes]:
        yield body[:3000]
        yield body[3000:5200]
        raise exc

    for exc in (BodyError(413, "body too large"), RuntimeError("boom")):
        with pytest.raises(type(exc)) as info:
            await parse_multipart(failing(exc), CT, limits(multipart_spool_size=1000))
        assert info.value is exc
    assert len(spools) == 4
    assert all(spool.closed for spool in spools)


@run_async
async def test_multipart_cancellation_closes_files(spools: list[Any]) -> None:
    body = multipart_body(part("a", os.urandom(5000), filename="a.bin"))
    started = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield body[:4000]
        started.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover

    task = asyncio.create_task(parse_multipart(stalls(), CT, limits(multipart_spool_size=1000)))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(spools) == 1
    assert spools[0].closed


# -- over HTTP: ctx.request.form() ----------------------------------------------------------------


def form_app(**app_options: Any) -> Any:
    from avian import App

    app = App(**app_options)

    @app.post("/form")
    async def echo(ctx: Any) -> dict[str, Any]:
        form = await ctx.request.form()
        result: dict[str, Any] = {"first": {}, "all": {}}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                value = {
                    "filename": value.filename,
                    "extension": value.extension,
                    "content_type": value.content_type,
                    "size": value.size,
                    "in_memory": value.in_memory,
                    "content": (await value.read()).decode(),
                }
            result["all"].setdefault(name, []).append(value)
            result["first"].setdefault(name, value)
        return result

    @app.post(
        "/avatar", limits={"multipart_max_file_size": 10, "multipart_allowed_extensions": (".png",)}
    )
    async def avatar(ctx: Any) -> dict[str, Any]:
        form = await ctx.request.form()
        avatar = form.get("avatar")
        return {"filename": avatar.filename if isinstance(avatar, UploadFile) else None}

    @app.post("/save")
    async def save(ctx: Any) -> dict[str, Any]:
        form = await ctx.request.form()
        upload = form["file"]
        await upload.save(form["target"])
        return {"size": upload.size, "in_memory": upload.in_memory}

    return app


@pytest.fixture
def client() -> Any:
    from avian.testing import TestClient

    with TestClient(form_app()) as test_client:
        yield test_client


def test_http_urlencoded_form_first_value_wins(client: Any) -> None:
    response = client.post("/form", data={"role": ["user", "admin"], "name": "Jo Doe"})
    assert response.status_code == 200
    assert response.json() == {
        "first": {"role": "user", "name": "Jo Doe"},
        "all": {"role": ["user", "admin"], "name": ["Jo Doe"]},
    }


def test_http_multipart_fields_and_files(client: Any, spools: list[Any]) -> None:
    response = client.post(
        "/form",
        data={"title": "Report"},
        files=[
            ("doc", ("../../etc/passwd", b"root:x:0:0", "text/plain")),
            ("doc", ("Notes.MD", b"# notes", "text/markdown")),
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["first"]["title"] == "Report"
    assert body["all"]["doc"] == [
        {
            "filename": "passwd",
            "extension": "",
            "content_type": "text/plain",
            "size": 10,
            "in_memory": True,
            "content": "root:x:0:0",
        },
        {
            "filename": "Notes.MD",
            "extension": ".md",
            "content_type": "text/markdown",
            "size": 7,
            "in_memory": True,
            "content": "# notes",
        },
    ]
    assert len(spools) == 2
    assert all(spool.closed for spool in spools)  # the app closes uploads after the request


def test_http_upload_limits_per_route(client: Any) -> None:
    ok = client.post("/avatar", files={"avatar": ("me.png", b"0123456789", "image/png")})
    assert ok.status_code == 200
    assert ok.json() == {"filename": "me.png"}

    too_big = client.post("/avatar", files={"avatar": ("me.png", b"0123456789!", "image/png")})
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert (
        too_big.json()["detail"]
        == "file 'avatar' too large: more than 10 (multipart_max_file_size)"
    )

    wrong_type = client.post("/avatar", files={"avatar": ("me.gif", b"GIF89a", "image/gif")})
    assert wrong_type.status_code == 415
    assert "multipart_allowed_extensions" in wrong_type.json()["detail"]

    blocked = client.post("/form", files={"f": ("setup.exe", b"MZ", "application/octet-stream")})
    assert blocked.status_code == 415


def test_http_empty_file_input_is_absent(client: Any) -> None:
    response = client.post("/avatar", files={"avatar": ("", b"", "application/octet-stream")})
    assert response.status_code == 200
    assert response.json() == {"filename": None}


def test_http_malformed_forms_are_400(client: Any) -> None:
    unterminated = client.post(
        "/form",
        content=b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert unterminated.status_code == 400
    assert unterminated.json()["detail"] == "multipart body ended before its closing boundary"
    no_boundary = client.post(
        "/form", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400
    bad_utf8 = client.post(
        "/form", content=b"a=%ff", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert bad_utf8.status_code == 400
    not_a_form = client.post("/form", content=b"{}", headers={"content-type": "application/json"})
    assert not_a_form.status_code == 415


def test_http_large_upload_spools_to_disk_and_saves(tmp_path: Path, spools: list[Any]) -> None:
    from avian.testing import TestClient

    content = os.urandom(3 * 1024 * 1024)
    target = tmp_path / "saved.bin"
    app = form_app(limits=BodyLimits(max_body_size=4 * 1024 * 1024, multipart_spool_size=64 * 1024))
    with TestClient(app) as test_client:
        response = test_client.post(
            "/save", data={"target": str(target)}, files={"file": ("big.bin", content)}
        )
    assert response.status_code == 200
    assert response.json() == {"size": len(content), "in_memory": False}
    assert target.read_bytes() == content
    assert all(spool.closed for spool in spools)


def test_http_docs_login_example() -> None:
    from avian import App
    from avian.testing import TestClient

    app = App()

    @app.post("/login")
    async def login(ctx: Any) -> dict[str, Any]:
        form = await ctx.request.form()
        user = form.get("username")
        remember = "remember" in form
        tags = form.get_all("tag")
        return {"user": user, "remember": remember, "tags": tags}

    with TestClient(app) as test_client:
        ticked = test_client.post(
            "/login", data={"username": "jo", "remember": "on", "tag": ["a", "b"]}
        )
        unticked = test_client.post("/login", data={"username": "jo"})
    assert ticked.json() == {"user": "jo", "remember": True, "tags": ["a", "b"]}
    assert unticked.json() == {"user": "jo", "remember": False, "tags": []}
