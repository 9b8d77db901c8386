"""Static files: a directory served safely, with validators, ranges and precompressed variants.

``StaticFiles(directory, **options)`` answers ``GET``/``HEAD`` for the files below one root.
``App.static()`` uses it for ``/prefix/...`` routes and for the root fallback; it is also a
plain ASGI app, so it can be mounted on its own.

Safety is decided on the decoded request path *before* the filesystem is touched (no ``..``
or ``.`` segments, no NUL or control characters, no backslash or ``:``, no empty segments,
no hidden names), and again after it: the file's real path must lie inside the root unless
``follow_symlinks`` says links may lead out.  Every filesystem call (realpath, stat, open,
read) runs in a worker thread; the only one made on the event loop is ``os.close`` of a
regular file, which does not block.
"""

from __future__ import annotations

import asyncio
import calendar
import mimetypes
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from typing import Any, Final, NamedTuple
from urllib.parse import quote, unquote_to_bytes

from . import errors
from .errors import ConfigurationError, HTTPError
from .http.dates import http_date
from .http.negotiation import ranked_encodings
from .http.problem import problem_response
from .http.response import RedirectResponse, Response
from .routing.target import raw_route

__all__ = ["StaticFileResponse", "StaticFiles", "guess_media_type", "parse_ranges"]

Scope = dict[str, Any]

# --- content types ---------------------------------------------------------------------------

_MEDIA_TYPES: Final[dict[str, str]] = {
    # Fixed here because the system's mime.types differs between machines (and Windows
    # registries have been known to map .js to text/plain, which browsers refuse for modules).
    ".html": "text/html",
    ".htm": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".wasm": "application/wasm",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".zip": "application/zip",
    # Compressed files asked for by name are archives, not the type inside them.
    ".gz": "application/gzip",
    ".br": "application/octet-stream",
    ".zst": "application/zstd",
    ".xz": "application/x-xz",
    ".bz2": "application/x-bzip2",
    ".tar": "application/x-tar",
}
_OCTET_STREAM = "application/octet-stream"
_guessed: dict[str, str] = {}


def guess_media_type(name: str) -> str:
    """The content type for a file name, by its last extension (``application/octet-stream``
    when unknown).  ``text/*`` types get ``; charset=utf-8`` when the response is sent."""
    ext = os.path.splitext(name)[1].lower()
    known = _MEDIA_TYPES.get(ext)
    if known is not None:
        return known
    found = _guessed.get(ext)
    if found is None:
        guess, encoding = mimetypes.guess_type("f" + ext, strict=False)
        found = guess if guess is not None and encoding is None else _OCTET_STREAM
        if len(_guessed) < 512:  # extensions come from file names on disk, but stay bounded
            _guessed[ext] = found
    return found


def _with_charset(media_type: str) -> str:
    if media_type.startswith("text/") and "charset" not in media_type:
        return media_type + "; charset=utf-8"
    return media_type


# --- request header parsing (pure, no I/O) ---------------------------------------------------

_VARIANTS: Final = (("br", ".br"), ("gzip", ".gz"))
"""Precompressed variants, in the order preferred when the client weighs them equally."""


def accepted_encodings(value: str | None) -> tuple[str, ...]:
    """The precompressed codings (``br``, ``gzip``) the client accepts, best first; ties
    go to brotli."""
    return ranked_encodings(value, [name for name, _ in _VARIANTS])


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(" + "|".join(_MONTHS) + ")"
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) " + _MONTH + r" ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT",
    re.ASCII,
)
_RFC850_DATE = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    r"([0-9]{2})-" + _MONTH + r"-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT",
    re.ASCII,
)
_ASCTIME_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MONTH + r" ([ 0-9][0-9]) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{4})",
    re.ASCII,
)


def parse_http_date(value: str) -> int | None:
    """A POSIX timestamp from any of the three HTTP date formats, or None if invalid."""
    value = value.strip(" \t")
    if m := _IMF_FIXDATE.fullmatch(value):
        day, month, year, hh, mm, ss = m.groups()
    elif m := _RFC850_DATE.fullmatch(value):
        day, month, yy, hh, mm, ss = m.groups()
        # RFC 9110 5.6.7: a two-digit year more than 50 years ahead is in the past century.
        full = 2000 + int(yy)
        if full > time.gmtime().tm_year + 50:
            full -= 100
        year = str(full)
    elif m := _ASCTIME_DATE.fullmatch(value):
        month, day, hh, mm, ss, year = m.groups()
    else:
        return None
    fields = (int(year), _MONTHS.index(month) + 1, int(day), int(hh), int(mm), int(ss))
    if not (1 <= fields[2] <= 31 and fields[3] <= 23 and fields[4] <= 59 and fields[5] <= 60):
        return None
    return calendar.timegm(fields)


_ENTITY_TAG_RE = re.compile(r'[ \t,]*(W/)?("[^"]*")[ \t]*(?:,|$)')


def _entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """``(weak, opaque-tag)`` pairs of an ``If-(None-)Match`` list; None means ``*``."""
    if value.strip(" \t") == "*":
        return None
    tags: list[tuple[bool, str]] = []
    pos = 0
    while pos < len(value):
        m = _ENTITY_TAG_RE.match(value, pos)
        if m is None:
            break  # the rest is not an entity tag: ignore it, keep what parsed
        tags.append((m.group(1) is not None, m.group(2)))
        pos = m.end()
    return tags


def _digits(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    # Any position beyond 10**20 is beyond every file: cap it instead of parsing a long one.
    return int(text) if len(text) <= 20 else 10**20


def parse_ranges(value: str, size: int, max_ranges: int = 100) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` value against a file of ``size`` bytes.

    Returns the satisfiable ranges as ``(first, last)`` (inclusive, clamped to the file),
    ``[]`` when none is satisfiable (answer 416), or ``None`` when the header must be
    ignored and the whole file sent: another unit, bad syntax (non-digits, whitespace
    inside a range, ``last < first``), more than ``max_ranges`` ranges, or ranges that add
    up to more than the file (overlap abuse).
    """
    unit, eq, spec = value.strip(" \t").partition("=")
    if not eq or unit.lower() != "bytes":
        return None
    ranges: list[tuple[int, int]] = []
    count = 0
    for item in spec.split(","):
        item = item.strip(" \t")
        if not item:
            continue  # RFC 9110 5.6.1: empty list elements are allowed and ignored
        count += 1
        if count > max_ranges:
            return None
        first_text, dash, last_text = item.partition("-")
        if not dash:
            return None
        if first_text:
            first = _digits(first_text)
            last = _digits(last_text) if last_text else first
            if first is None or last is None or last < first:
                return None
            if first < size:
                ranges.append((first, min(last, size - 1) if last_text else size - 1))
        else:
            suffix = _digits(last_text)
            if suffix is None:
                return None
            if suffix > 0 and size > 0:
                ranges.append((max(0, size - suffix), size - 1))
    if count == 0:
        return None
    if sum(last - first + 1 for first, last in ranges) > size:
        return None
    return ranges


# --- the response -------------------------------------------------------------------------------

_pread = getattr(os, "pread", None)


def _read_at(fd: int, offset: int, size: int) -> bytes:
    if _pread is not None:
        data: bytes = _pread(fd, size, offset)
        return data
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - platforms without pread (Windows)
    return os.read(fd, size)  # pragma: no cover


class _Piece(NamedTuple):
    """Part of a response body: ``prefix`` bytes, then ``length`` bytes of the file."""

    prefix: bytes
    offset: int
    length: int


def _read_pieces(fd: int, pieces: Iterable[_Piece], trailer: bytes) -> bytes:
    out: list[bytes] = []
    for prefix, offset, length in pieces:
        out.append(prefix)
        end = offset + length
        while offset < end:
            chunk = _read_at(fd, offset, end - offset)
            if not chunk:
                raise OSError("the file shrank while it was being sent")
            out.append(chunk)
            offset += len(chunk)
    out.append(trailer)
    return b"".join(out)


def _close_after(task: asyncio.Future[bytes], fd: int) -> None:
    """Close ``fd`` once a read still running in a worker thread has finished with it."""

    def done(finished: asyncio.Future[bytes]) -> None:
        if not finished.cancelled():
            finished.exception()  # retrieved, so asyncio does not log it as lost
        os.close(fd)

    task.add_done_callback(done)


class StaticFileResponse(Response):
    """Sends a file, one range of it, or several ranges as ``multipart/byteranges``.

    The file stays open from the moment it was found until it is sent, so the body always
    matches the size and validators computed for it, even if the file is replaced on disk
    meanwhile.  Bodies up to ``chunk_size`` are read in one go; larger ones are read and sent
    one chunk at a time, and reading stops when the client disconnects.
    """

    __slots__ = ("_fd", "_pieces", "_trailer", "chunk_size", "content_length")

    def __init__(
        self,
        fd: int | None,
        pieces: list[_Piece],
        *,
        status: int = 200,
        media_type: str | None = None,
        trailer: bytes = b"",
        chunk_size: int = 64 * 1024,
    ) -> None:
        self._fd = fd
        super().__init__(b"", status, None, media_type)
        self._pieces = pieces
        self._trailer = trailer
        self.chunk_size = chunk_size
        self.content_length = sum(len(p.prefix) + p.length for p in pieces) + len(trailer)

    def close(self) -> None:
        """Release the open file without sending (done automatically when sent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        # A middleware may replace this response without sending it.
        if getattr(self, "_fd", None) is not None:
            self.close()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        fd, self._fd = self._fd, None
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status,
                    "headers": self._start_headers(self.content_length),
                }
            )
            if fd is None or scope.get("method") == "HEAD" or self.content_length == 0:
                await send({"type": "http.response.body", "body": b""})
            elif self.content_length <= self.chunk_size:
                reading = asyncio.ensure_future(
                    asyncio.to_thread(_read_pieces, fd, self._pieces, self._trailer)
                )
                try:
                    body = await asyncio.shield(reading)
                except asyncio.CancelledError:
                    if not reading.done():  # the thread still reads: close when it is done
                        _close_after(reading, fd)
                        fd = None
                    raise
                await send({"type": "http.response.body", "body": body})
            else:
                owned, fd = fd, None
                await self._stream(owned, receive, send)
        finally:
            if fd is not None:
                os.close(fd)

    async def _stream(self, fd: int, receive: Any, send: Any) -> None:
        """Send the pieces chunk by chunk, then close ``fd``."""
        watcher = asyncio.ensure_future(_wait_for_disconnect(receive))
        reading: asyncio.Future[bytes] | None = None
        try:
            for prefix, offset, length in self._pieces:
                if prefix:
                    await send({"type": "http.response.body", "body": prefix, "more_body": True})
                end = offset + length
                while offset < end:
                    if watcher.done():
                        return  # the client is gone: stop reading the file
                    size = min(self.chunk_size, end - offset)
                    reading = asyncio.ensure_future(asyncio.to_thread(_read_at, fd, offset, size))
                    # Shielded: if this task is cancelled, the worker thread keeps using the
                    # descriptor until its read returns; only then is it closed (below).
                    chunk = await asyncio.shield(reading)
                    reading = None
                    if not chunk:
                        raise OSError("the file shrank while it was being sent")
                    offset += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": self._trailer})
        finally:
            if reading is not None and not reading.done():
                _close_after(reading, fd)
            else:
                os.close(fd)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)

    def __repr__(self) -> str:
        return f"<StaticFileResponse {self.status} {self.content_length} bytes>"


async def _wait_for_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# --- the file server ----------------------------------------------------------------------------

_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\\:]")
"""Never in a served path: NUL and control characters, ``\\`` (a separator on Windows) and
``:`` (drive letters and NTFS alternate streams)."""

_REDIRECT: Final = "redirect"


class _Found(NamedTuple):
    """What the filesystem lookup found: the file (opened for GET) and how to describe it."""

    fd: int
    info: os.stat_result
    name: str
    """The requested file name (or the index name); it decides the content type."""
    encoding: str | None
    vary: bool
    """Precompressed variants exist, so the response depends on ``Accept-Encoding``."""


_WANTED_HEADERS = frozenset(
    {
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
        b"accept-encoding",
    }
)
_LIST_HEADERS = frozenset({b"if-match", b"if-none-match", b"accept-encoding"})


def _request_headers(scope: Scope) -> dict[bytes, str]:
    """The request headers StaticFiles reads.  List headers sent on several lines are joined;
    a single-value header sent twice becomes ``""``, which no parser accepts (ignored)."""
    found: dict[bytes, str] = {}
    for name, value in scope.get("headers", ()):
        if name in _WANTED_HEADERS:
            text = value.decode("latin-1")
            if name not in found:
                found[name] = text
            elif name in _LIST_HEADERS:
                found[name] += ", " + text
            else:
                found[name] = ""
    return found


class StaticFiles:
    """Serve the files below ``directory``.

    Options (keyword-only; see ``docs/static.md`` for the details of each):

    ``index``: file served for a directory (``None`` disables).  ``cache_control``: a
    ``Cache-Control`` value for every file.  ``etag`` / ``last_modified``: send and honour
    these validators.  ``precompressed``: serve ``name.br`` / ``name.gz`` when they exist and
    the client accepts them.  ``follow_symlinks``: follow links that lead out of the
    directory (links inside it are always followed).  ``allow_hidden``: serve names starting
    with a dot.  ``max_ranges``: more ranges than this in one request are ignored.
    ``chunk_size``: bytes read per step when streaming.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        index: str | None = "index.html",
        cache_control: str | None = None,
        etag: bool = True,
        last_modified: bool = True,
        precompressed: bool = True,
        follow_symlinks: bool = False,
        allow_hidden: bool = False,
        max_ranges: int = 100,
        chunk_size: int = 64 * 1024,
    ) -> None:
        root = os.path.realpath(os.fspath(directory))
        if not os.path.isdir(root):
            raise ConfigurationError(f"static directory {os.fspath(directory)!r} does not exist")
        if index is not None and (
            not index or index in (".", "..") or _UNSAFE_CHARS.search(index) or "/" in index
        ):
            raise ConfigurationError(f"static index must be a plain file name, got {index!r}")
        if cache_control is not None and (
            not cache_control.strip() or re.search(r"[\x00-\x1f\x7f]", cache_control)
        ):
            raise ConfigurationError(f"invalid cache_control value {cache_control!r}")
        for name, value in (("max_ranges", max_ranges), ("chunk_size", chunk_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"static {name} must be a positive int, got {value!r}")
        self.directory = root
        """The real path of the root, resolved once at construction."""
        self._inside = root if root.endswith(os.sep) else root + os.sep
        self.index = index
        self.cache_control = cache_control
        self.etag = etag
        self.last_modified = last_modified
        self.precompressed = precompressed
        self.follow_symlinks = follow_symlinks
        self.allow_hidden = allow_hidden
        self.max_ranges = max_ranges
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"StaticFiles({self.directory!r})"

    # --- path checks (no I/O) ------------------------------------------------------------------

    def _split(self, path: str) -> tuple[tuple[str, ...], bool] | None:
        """``(segments, names a directory)`` for a safe relative path, else None."""
        if _UNSAFE_CHARS.search(path):
            return None
        if path.startswith("/"):
            path = path[1:]
        is_dir = not path or path.endswith("/")
        if is_dir:
            path = path[:-1]
        if not path:
            return (), True
        parts = tuple(path.split("/"))
        for part in parts:
            # Empty segments ("a//b", a second leading "/"), dot segments, names ending in
            # "." or " " (Windows drops those, so "x.py." would open "x.py") are refused.
            if not part or part[-1] in ". ":
                return None
            if part[0] == "." and not self.allow_hidden:
                return None
        return parts, is_dir

    def _resolve(self, path: str) -> str | None:
        """The real path of ``path`` if it may be served (inside the root, or links allowed)."""
        real = os.path.realpath(path)
        if real == self.directory or real.startswith(self._inside) or self.follow_symlinks:
            return real
        return None

    # --- filesystem lookup (runs in a worker thread) -------------------------------------------

    def _regular_file(self, path: str) -> tuple[str, os.stat_result] | None:
        real = self._resolve(path)
        if real is None:
            return None
        try:
            info = os.stat(real)
        except (OSError, ValueError):
            return None
        return (real, info) if stat.S_ISREG(info.st_mode) else None

    def _find(
        self, parts: tuple[str, ...], is_dir: bool, encodings: tuple[str, ...]
    ) -> _Found | str | None:
        path = os.path.join(self.directory, *parts)
        real = self._resolve(path)
        if real is None:
            return None
        try:
            info = os.stat(real)
        except (OSError, ValueError):
            return None
        name = parts[-1] if parts else ""
        if stat.S_ISDIR(info.st_mode):
            if self.index is None:
                return None
            path = os.path.join(path, self.index)
            found = self._regular_file(path)
            if found is None:
                return None
            if not is_dir:
                return _REDIRECT
            real, info = found
            name = self.index
        elif is_dir or not stat.S_ISREG(info.st_mode):
            return None
        encoding: str | None = None
        vary = False
        if self.precompressed:
            variants: dict[str, tuple[str, os.stat_result]] = {}
            for coding, suffix in _VARIANTS:
                variant = self._regular_file(path + suffix)
                if variant is not None:
                    variants[coding] = variant
            vary = bool(variants)
            for coding in encodings:
                if coding in variants:
                    real, info = variants[coding]
                    encoding = coding
                    break
        # Opened even for HEAD, so that HEAD and GET agree about unreadable files.
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(real, flags)
        except OSError:
            return None
        info = os.fstat(fd)  # describe exactly the file that was opened
        if not stat.S_ISREG(info.st_mode):  # pragma: no cover - swapped after stat()
            os.close(fd)
            return None
        return _Found(fd, info, name, encoding, vary)

    # --- answering -----------------------------------------------------------------------------

    async def response_for(self, path: str, scope: Scope) -> Response | None:
        """The response for ``path`` (decoded, relative to the root; a leading ``/`` is
        optional, ``""`` is the root), or None when no file may be served for it.

        ``scope`` gives the method and the request headers.  Returns a 200/206 file
        response, a 304, or a 308 to the slash form of a directory; raises
        :class:`~avian.errors.HTTPError` 412 (failed ``If-Match``/``If-Unmodified-Since``)
        or 416 (no satisfiable range), which the app renders like any error.  Methods other
        than GET and HEAD get None.
        """
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            return None
        split = self._split(path)
        if split is None:
            return None
        headers = _request_headers(scope)
        encodings = (
            accepted_encodings(headers.get(b"accept-encoding")) if self.precompressed else ()
        )
        lookup = asyncio.ensure_future(asyncio.to_thread(self._find, *split, encodings))
        try:
            found = await asyncio.shield(lookup)
        except asyncio.CancelledError:
            # The thread may still open the file: close it when the lookup ends.
            lookup.add_done_callback(_close_found)
            raise
        if found is None:
            return None
        if isinstance(found, str):
            return _directory_redirect(scope)
        return self._respond(found, method, headers)

    def _respond(self, found: _Found, method: str, headers: dict[bytes, str]) -> Response:
        """Build the response for a found file.  Owns ``found.fd``: it is handed to the file
        response, or closed here (HEAD, 304, 412, 416, any error)."""
        fd: int | None = found.fd
        try:
            info = found.info
            mtime = int(info.st_mtime)
            suffix = "" if found.encoding is None else "-" + found.encoding
            etag = f'"{info.st_mtime_ns:x}-{info.st_size:x}{suffix}"'
            validators: list[tuple[str, str]] = []
            if self.etag:
                validators.append(("etag", etag))
            if self.last_modified:
                validators.append(("last-modified", http_date(mtime)))
            if self.cache_control is not None:
                validators.append(("cache-control", self.cache_control))
            if found.vary:
                validators.append(("vary", "Accept-Encoding"))

            if not self._preconditions_hold(headers, etag, mtime):
                raise errors.precondition_failed(
                    "the file does not match the request's preconditions"
                )
            if self._not_modified(headers, etag, mtime):
                not_modified = Response(b"", 304)
                for name, value in validators:
                    not_modified.headers.add(name, value)
                return not_modified

            ranges = None
            if method == "GET" and b"range" in headers and self._if_range(headers, etag, mtime):
                ranges = parse_ranges(headers[b"range"], info.st_size, self.max_ranges)
                if ranges == []:
                    raise HTTPError(
                        416,
                        "no requested range lies within the file",
                        headers={
                            "content-range": f"bytes */{info.st_size}",
                            "accept-ranges": "bytes",
                        },
                    )
            media_type = guess_media_type(found.name)
            body_fd = fd if method == "GET" else None  # HEAD: headers only
            response = self._file_response(body_fd, info.st_size, media_type, ranges)
            if body_fd is not None:
                fd = None  # the response owns (and closes) it now
            response.headers.add("accept-ranges", "bytes")
            if found.encoding is not None:
                response.headers.add("content-encoding", found.encoding)
            for name, value in validators:
                response.headers.add(name, value)
            return response
        finally:
            if fd is not None:
                os.close(fd)

    def _file_response(
        self, fd: int | None, size: int, media_type: str, ranges: list[tuple[int, int]] | None
    ) -> StaticFileResponse:
        """200 for the whole file, 206 for one range, 206 ``multipart/byteranges`` for more."""
        if not ranges:
            return StaticFileResponse(
                fd, [_Piece(b"", 0, size)], media_type=media_type, chunk_size=self.chunk_size
            )
        if len(ranges) == 1:
            first, last = ranges[0]
            response = StaticFileResponse(
                fd,
                [_Piece(b"", first, last - first + 1)],
                status=206,
                media_type=media_type,
                chunk_size=self.chunk_size,
            )
            response.headers.add("content-range", f"bytes {first}-{last}/{size}")
            return response
        boundary = secrets.token_hex(16)
        part_type = _with_charset(media_type)
        pieces: list[_Piece] = []
        for first, last in ranges:
            head = (
                f"--{boundary}\r\ncontent-type: {part_type}\r\n"
                f"content-range: bytes {first}-{last}/{size}\r\n\r\n"
            )
            # The CRLF before each later boundary ends the previous part (RFC 2046).
            prefix = head if not pieces else "\r\n" + head
            pieces.append(_Piece(prefix.encode("latin-1"), first, last - first + 1))
        response = StaticFileResponse(
            fd,
            pieces,
            status=206,
            trailer=f"\r\n--{boundary}--\r\n".encode("latin-1"),
            chunk_size=self.chunk_size,
        )
        # Set directly, not as media_type: each boundary is new, and the response's
        # content-type cache is for the few types an app repeats.
        response.headers.add("content-type", f"multipart/byteranges; boundary={boundary}")
        return response

    # --- conditional requests (RFC 9110 section 13) --------------------------------------------

    def _preconditions_hold(self, headers: dict[bytes, str], etag: str, mtime: int) -> bool:
        """``If-Match``, else ``If-Unmodified-Since``: False means 412."""
        if_match = headers.get(b"if-match")
        if if_match is not None:
            tags = _entity_tags(if_match)
            if tags is None:
                return True  # "*": the file exists
            return self.etag and any(not weak and tag == etag for weak, tag in tags)
        since = headers.get(b"if-unmodified-since")
        if since is not None and self.last_modified:
            when = parse_http_date(since)
            if when is not None and mtime > when:
                return False
        return True

    def _not_modified(self, headers: dict[bytes, str], etag: str, mtime: int) -> bool:
        """``If-None-Match`` (weak comparison), else ``If-Modified-Since``: True means 304."""
        if_none_match = headers.get(b"if-none-match")
        if if_none_match is not None:
            tags = _entity_tags(if_none_match)
            if tags is None:
                return True
            return self.etag and any(tag == etag for _, tag in tags)
        since = headers.get(b"if-modified-since")
        if since is not None and self.last_modified:
            when = parse_http_date(since)
            # A date in the future is invalid (RFC 9110 13.1.3): it cannot vouch for a copy.
            if when is not None and mtime <= when <= time.time():
                return True
        return False

    def _if_range(self, headers: dict[bytes, str], etag: str, mtime: int) -> bool:
        """True when ranges may be honoured: no ``If-Range``, or it names this very file
        (strong comparison for an entity tag, an exact match for a date)."""
        value = headers.get(b"if-range")
        if value is None:
            return True
        value = value.strip(" \t")
        if value.startswith('"'):
            return self.etag and value == etag
        if value.startswith("W/"):
            return False
        return self.last_modified and parse_http_date(value) == mtime

    # --- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Serve as a standalone ASGI app (for ``app.mount()`` or any ASGI server)."""
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                reply = message["type"] + ".complete"
                await send({"type": reply})
                if message["type"] == "lifespan.shutdown":
                    return
        if kind != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        response: Response | None = None
        try:
            if scope["method"] not in ("GET", "HEAD"):
                raise errors.method_not_allowed(
                    f"{scope['method']} is not allowed here", allow=["GET", "HEAD"]
                )
            path = _scope_path(scope)
            if path is not None:
                response = await self.response_for(path, scope)
            if response is None:
                raise errors.not_found(f"no file for {scope['path']}")
        except HTTPError as error:
            accept = dict(scope.get("headers", ())).get(b"accept", b"").decode("latin-1")
            response = problem_response(error, instance=scope.get("path"), accept=accept)
        await response(scope, receive, send)


def _close_found(lookup: asyncio.Future[_Found | str | None]) -> None:
    if not lookup.cancelled() and lookup.exception() is None:
        found = lookup.result()
        if isinstance(found, _Found):
            os.close(found.fd)


def _scope_path(scope: Scope) -> str | None:
    """The decoded path below ``root_path``; None when an escape hides a ``/`` (``%2F``)
    or the path is not UTF-8."""
    if scope.get("raw_path") is None:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        return path[len(root) :] if root and path.startswith(root) else path
    segments: list[str] = []
    for raw in raw_route(scope)[1].split(b"/"):
        try:
            segment = unquote_to_bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "/" in segment:
            return None
        segments.append(segment)
    return "/".join(segments)


def _directory_redirect(scope: Scope) -> Response:
    """308 to the slash form of a directory's URL, built from the request's own path.

    Only the path is used (never a host), and leading slashes are collapsed to one so the
    target can never read as ``//other.host``.
    """
    raw: bytes | None = scope.get("raw_path")
    if raw is not None and raw.isascii():
        target = raw.split(b"?", 1)[0].decode("ascii")
    else:
        target = quote(scope["path"], safe="/:@!$&'()*+,;=~")
    target = "/" + target.lstrip("/") + "/"
    query: bytes = scope.get("query_string", b"")
    if query:
        target += "?" + query.decode("latin-1")
    return RedirectResponse(target, 308)
