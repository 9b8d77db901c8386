"""Streaming ``multipart/form-data`` reading; :func:`avian.http.forms.parse_multipart` wraps
the result in a :class:`~avian.http.forms.FormData`.

Chunks are fed to ``python_multipart.MultipartParser`` as they arrive; its synchronous
callbacks enforce every limit in :class:`~avian.http.limits.BodyLimits` on the bytes actually
seen, so nothing is buffered beyond a limit.  File data stays in memory up to
``multipart_spool_size``; past that it is collected (at most ``_FLUSH_SIZE`` at a time) and
written to the temporary file in a worker thread between chunks.

Any failure closes every :class:`UploadFile` created so far before the error propagates.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import AsyncIterable
from functools import lru_cache
from typing import TYPE_CHECKING

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError

from ..errors import BodyError
from .forms import limit_exceeded
from .limits import BodyLimits, KiB
from .media import decode_ext_value, parse_content_disposition, parse_content_type
from .uploads import UploadFile

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["MAX_BOUNDARY_LENGTH", "multipart_boundary", "read_multipart"]

MAX_BOUNDARY_LENGTH = 70
"""RFC 2046 §5.1.1: a boundary is 1 to 70 characters."""

# RFC 2046 bchars; a space may appear but not last.
_BOUNDARY_RE = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]*[0-9A-Za-z'()+_,\-./:=?]\Z")

# File data waiting for the disk is written once this much has gathered (or the part ends),
# so a body trickling in tiny chunks costs one worker-thread hop per 64 KiB, not per chunk.
_FLUSH_SIZE = 64 * KiB

# Charsets a non-file part may declare.  Others fall back to UTF-8: an arbitrary name would
# make the codec machinery try to import a module per lookup.
_CHARSETS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "us-ascii": "ascii",
    "ascii": "ascii",
    "iso-8859-1": "latin-1",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-15": "iso8859-15",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}

# Bytes counted per header line on top of its name and value: the colon and the CRLF.
_HEADER_LINE_OVERHEAD = 3

_SKIP, _FIELD, _FILE = 0, 1, 2

# python-multipart logs a warning for every malformed body before raising.  Each of those
# becomes a 400 response with its own detail, so the warning only lets any client write to the
# server's log (via logging's last-resort stderr handler when nothing is configured).
_PARSER_LOGGER = logging.getLogger(f"{__name__}.parser")
_PARSER_LOGGER.addHandler(logging.NullHandler())
_PARSER_LOGGER.propagate = False


def _bad(detail: str) -> BodyError:
    return BodyError(400, detail)


def multipart_boundary(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` content type (400 if missing or invalid)."""
    media_type, params = parse_content_type(content_type)
    if media_type != "multipart/form-data":
        raise BodyError(415, f"expected multipart/form-data, got {media_type or 'nothing'!r}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise _bad("multipart/form-data content type has no boundary")
    if len(boundary) > MAX_BOUNDARY_LENGTH:
        raise _bad(f"multipart boundary too long: more than {MAX_BOUNDARY_LENGTH} characters")
    if not _BOUNDARY_RE.match(boundary):
        raise _bad("multipart boundary contains characters RFC 2046 does not allow")
    return boundary.encode("ascii")


def _form_disposition(value: str) -> tuple[str, str | None]:
    """A part's field name and file name (None for a non-file part) from its disposition.

    ``filename*`` (RFC 8187) wins over ``filename``; duplicates of either, or of ``name``,
    are refused rather than guessed at.
    """
    kind, params = parse_content_disposition(value)
    if kind != "form-data":
        raise _bad(f"multipart part disposition is {kind!r}, expected 'form-data'")
    names = [param for key, param in params if key == "name"]
    if len(names) != 1:
        raise _bad("multipart part needs exactly one name in its Content-Disposition")
    plain = [param for key, param in params if key == "filename"]
    extended = [param for key, param in params if key == "filename*"]
    if len(plain) > 1 or len(extended) > 1:
        raise _bad("multipart part has more than one filename")
    if extended:
        try:
            return names[0], decode_ext_value(extended[0])
        except ValueError as exc:
            raise _bad(f"multipart part has an invalid filename*: {exc}") from None
    return names[0], plain[0] if plain else None


# PERF: a form's parts repeat from request to request, so their parsed dispositions are cached
# (only successful results are; long values are not, so they cannot flood the cache).
_form_disposition_cached = lru_cache(maxsize=512)(_form_disposition)
_CACHEABLE_DISPOSITION = 256


class _Reader:
    """Parser callbacks: builds the form's items and enforces the limits part by part."""

    def __init__(self, limits: BodyLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self.uploads: list[UploadFile] = []  # every file created, for cleanup on error
        self.field_count = 0
        self.file_count = 0
        self.ended = False
        # The part being read.
        self.kind = _SKIP
        self.name = ""
        self.headers: dict[str, str] = {}
        self.header_size = 0
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.value = bytearray()
        self.charset = "utf-8"
        self.upload: UploadFile | None = None
        self.received = 0
        self.pending = bytearray()  # file bytes not yet written (the file is or will be on disk)
        # Completed file parts whose last bytes still have to be written.
        self.finished: list[tuple[UploadFile, bytearray]] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    # -- headers ----------------------------------------------------------------------------

    def on_part_begin(self) -> None:
        self.kind = _SKIP
        self.headers = {}
        self.header_size = 0
        self.upload = None

    def _count_header_bytes(self, count: int) -> None:
        self.header_size += count
        limit = self.limits.multipart_max_part_headers
        if self.header_size > limit:
            raise limit_exceeded(
                "multipart part headers too large", "multipart_max_part_headers", limit
            )

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self._count_header_bytes(_HEADER_LINE_OVERHEAD)
        name = self.header_name.decode("latin-1").lower()  # the parser allows only tokens
        try:
            value = self.header_value.decode("utf-8").strip(" \t")
        except UnicodeDecodeError:
            raise _bad(f"multipart part header {name!r} is not valid UTF-8") from None
        self.header_name.clear()
        self.header_value.clear()
        if name not in self.headers:
            self.headers[name] = value
        elif name in ("content-disposition", "content-type"):
            raise _bad(f"multipart part has more than one {name} header")

    def on_headers_finished(self) -> None:
        limits = self.limits
        headers = self.headers
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise _bad("multipart part has no Content-Disposition header")
        if len(disposition) <= _CACHEABLE_DISPOSITION:
            name, filename = _form_disposition_cached(disposition)
        else:
            name, filename = _form_disposition(disposition)
        if len(name) > limits.form_max_field_name_length:
            raise limit_exceeded(
                "form field name too long",
                "form_max_field_name_length",
                limits.form_max_field_name_length,
            )
        self.name = name
        self.received = 0
        if filename is None:
            self.field_count += 1
            if self.field_count > limits.form_max_fields:
                raise limit_exceeded(
                    "too many form fields", "form_max_fields", limits.form_max_fields
                )
            self.kind = _FIELD
            self.value = bytearray()
            content_type = headers.get("content-type")
            charset = parse_content_type(content_type)[1].get("charset") if content_type else None
            self.charset = _CHARSETS.get(charset.lower(), "utf-8") if charset else "utf-8"
        elif filename == "":
            # A browser sends filename="" with no content for a file input left empty: the
            # field is treated as absent, so form.get(name) is None.
            self.kind = _SKIP
        else:
            self._start_file(name, filename)

    def _start_file(self, name: str, filename: str) -> None:
        limits = self.limits
        self.file_count += 1
        if self.file_count > limits.multipart_max_files:
            raise limit_exceeded(
                "too many files", "multipart_max_files", limits.multipart_max_files
            )
        media_type = parse_content_type(self.headers.get("content-type", ""))[0]
        try:
            upload = UploadFile(
                filename,
                content_type=media_type or "application/octet-stream",
                headers=self.headers,
                field_name=name,
                spool_size=limits.multipart_spool_size,
            )
        except ValueError as exc:
            raise _bad(f"invalid file name: {exc}") from None
        self.uploads.append(upload)
        if len(upload.filename) > limits.multipart_max_filename_length:
            raise limit_exceeded(
                "file name too long",
                "multipart_max_filename_length",
                limits.multipart_max_filename_length,
            )
        extension = upload.extension
        allowed = limits.multipart_allowed_extensions
        if allowed and extension not in allowed:
            raise BodyError(
                415,
                f"file extension {extension or '(none)'!r} is not allowed "
                f"(multipart_allowed_extensions: {', '.join(allowed)})",
                details={"limit": "multipart_allowed_extensions", "extension": extension},
            )
        if extension and extension in limits.multipart_blocked_extensions:
            raise BodyError(
                415,
                f"file extension {extension!r} is blocked (multipart_blocked_extensions)",
                details={"limit": "multipart_blocked_extensions", "extension": extension},
            )
        self.upload = upload
        self.pending = bytearray()
        self.kind = _FILE

    # -- data -------------------------------------------------------------------------------

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        kind = self.kind
        if kind == _FIELD:
            if len(self.value) + (end - start) > self.limits.form_max_field_size:
                raise limit_exceeded(
                    f"form field {self.name!r} too large",
                    "form_max_field_size",
                    self.limits.form_max_field_size,
                )
            self.value += data[start:end]
        elif kind == _FILE:
            self.received += end - start
            if self.received > self.limits.multipart_max_file_size:
                raise limit_exceeded(
                    f"file {self.name!r} too large",
                    "multipart_max_file_size",
                    self.limits.multipart_max_file_size,
                )
            chunk = data[start:end]
            upload = self.upload
            # Bytes already pending must be written first, so once anything is pending the
            # rest of the part queues behind it.
            if self.pending or upload is None or not upload.write_in_memory(chunk):
                self.pending += chunk

    def on_part_end(self) -> None:
        if self.kind == _FIELD:
            try:
                text = self.value.decode(self.charset)
            except UnicodeDecodeError:
                raise _bad(f"form field {self.name!r} is not valid {self.charset}") from None
            self.items.append((self.name, text))
        elif self.kind == _FILE and (upload := self.upload) is not None:
            self.items.append((self.name, upload))
            if self.pending:
                self.finished.append((upload, self.pending))
                self.pending = bytearray()
            self.upload = None
        self.kind = _SKIP

    def on_end(self) -> None:
        self.ended = True

    # -- writing and cleanup ------------------------------------------------------------------

    async def flush(self) -> None:
        """Write file data that has to go to disk: finished parts, and a large enough backlog."""
        if self.finished:
            finished, self.finished = self.finished, []
            for upload, data in finished:
                await upload.write(data)
        if len(self.pending) >= _FLUSH_SIZE and self.upload is not None:
            data, self.pending = self.pending, bytearray()
            await self.upload.write(data)

    def discard(self) -> None:
        """Close every file created so far (synchronously, so cancellation cannot skip it)."""
        for upload in self.uploads:
            upload.close_now()


async def read_multipart(
    chunks: AsyncIterable[bytes], content_type: str, limits: BodyLimits
) -> list[tuple[str, str | UploadFile]]:
    """Read a streamed ``multipart/form-data`` body into its ``(name, value)`` items, in order.

    ``content_type`` is the full header value (its ``boundary`` is used).  Limits from
    ``limits`` give 413 (too many / too long / too large) or 415 (file extension), malformed
    bodies 400; an exception raised by ``chunks`` itself propagates unchanged.  On any error
    every file created so far is closed first.  The caller enforces the total body size and
    the body timeout.
    """
    boundary = multipart_boundary(content_type)
    reader = _Reader(limits)
    # The parser's own per-line header limits are lifted: the reader counts the whole header
    # block against multipart_max_part_headers (413), which is stricter.
    parser = MultipartParser(
        boundary,
        callbacks=reader.callbacks(),
        max_header_count=sys.maxsize,
        max_header_size=sys.maxsize,
    )
    parser.logger = _PARSER_LOGGER
    received = False
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            received = True
            parser.write(chunk)
            if reader.finished or reader.pending:
                await reader.flush()
        if not reader.ended:
            if not received:
                raise _bad("multipart body is empty")
            raise _bad("multipart body ended before its closing boundary")
        for upload in reader.uploads:  # ready to be read from the start
            await upload.seek(0)
    except FormParserError as exc:
        reader.discard()
        raise _bad(f"malformed multipart body: {exc}") from None
    except BaseException:
        reader.discard()
        raise
    return reader.items
