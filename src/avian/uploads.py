"""The :class:`Upload` middleware: validate uploaded files and store them on disk.

One ``Upload`` describes a destination and its rules (field, size, count, extensions, types).
``upload.single`` / ``upload.multiple`` are route middleware (Harpia's ``upload.single``);
``upload.file(*fields)`` / ``upload.files(*fields)`` take several fields (te.js); and
``await upload.save_single(ctx)`` / ``save_multiple(ctx)`` do the same inside a handler.
Stored files are described by :class:`StoredFile` and merged into ``await ctx.payload()``
through ``ctx.uploads``, as te.js merges them into its payload.

Safety: the client's file name never decides where a file goes.  Every file gets a
server-chosen name in the configured directory, is created with ``O_CREAT | O_EXCL |
O_NOFOLLOW`` (an existing file or planted symlink is never written through), is copied in a
worker thread, and every file this request created is removed if anything fails.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import re
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from .errors import BodyError, ConfigurationError, HTTPError
from .http.limits import MiB
from .http.uploads import UploadFile

if TYPE_CHECKING:
    from .context import Context
    from .http.forms import FormData
    from .http.response import Response
    from .routing.router import CallNext, Middleware

__all__ = ["FileSize", "StoredFile", "StoredPath", "Upload", "UploadError", "human_size"]

FileNamer = Callable[[UploadFile], str | Awaitable[str]]
"""``file_name=``: gives the base name to store an upload under (the extension is added)."""

# Room for form fields and part headers on top of the files in ``Upload.limits``: what an
# ordinary request may carry by default.
_FORM_OVERHEAD = 1 * MiB
# Files are copied this much at a time, one worker-thread hop per chunk.
_CHUNK = 1 * MiB
_OPEN_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL  # never overwrite; also fails on any symlink, dangling or not
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_FILE_MODE = 0o644

# What a stored name or prefix may contain: portable, never a path, never needs quoting.
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_SAFE_PREFIX = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\Z")
_SAFE_EXTENSION = re.compile(r"\.[a-z0-9]{1,16}\Z")
_MAX_BASE_LENGTH = 200  # leaves room for prefix and extension within 255 bytes
_TOKEN = r"[a-z0-9!#$&^_.+-]+"
_TYPE_PATTERN = re.compile(rf"(?:\*/\*|{_TOKEN}/(?:\*|{_TOKEN}))\Z")

# Formats recognised by their first bytes, and the extensions that fit each one.
_SNIFF_BYTES = 16
_EXTENSIONS = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
}


def _sniff(head: bytes) -> str | None:
    """The media type of one of the recognised formats from its first bytes, else None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def human_size(size: int) -> tuple[float, str]:
    """``size`` bytes as te.js shows them: ``2097152`` -> ``(2, "MB")``, 1024-based."""
    value = float(size)
    symbols = ("B", "KB", "MB", "GB", "TB")
    step = 0
    while value >= 1024 and step < len(symbols) - 1:
        value /= 1024
        step += 1
    symbol = symbols[step]
    rounded = round(value, 2)
    return (int(rounded) if rounded.is_integer() else rounded), symbol


def _describe_size(size: int) -> str:
    value, symbol = human_size(size)
    return f"{value} {symbol}"


class StoredPath(msgspec.Struct, frozen=True):
    """Where a stored file is (te.js ``path``)."""

    absolute: str
    """The absolute path on the server."""
    relative: str
    """The path relative to the working directory when the :class:`Upload` was created
    (``uploads/<filename>`` for ``Upload("uploads")``)."""


class FileSize(msgspec.Struct, frozen=True):
    """A file size in bytes, with te.js's human form (``value`` ``symbol``: ``2`` ``"MB"``)."""

    bytes: int
    value: float
    symbol: str

    @classmethod
    def of(cls, size: int) -> FileSize:
        value, symbol = human_size(size)
        return cls(size, value, symbol)


class StoredFile(msgspec.Struct, frozen=True):
    """One file stored by :class:`Upload`; serialises to JSON as is."""

    field: str
    """The form field it was sent in."""
    filename: str
    """The name it was stored under, chosen by the server."""
    original_name: str
    """The client's file name reduced to a base name.  Client input: show it, never trust it."""
    extension: str
    """The stored extension with its dot (``".png"``), or ``""``."""
    path: StoredPath
    mimetype: str
    """The media type: the sniffed one for PNG, JPEG, GIF, WebP and PDF when ``allowed_types``
    is set, otherwise the type the client declared."""
    size: FileSize


class UploadError(HTTPError):
    """An upload refused by :class:`Upload` (400, 409, 413 or 415); ``code`` says why."""


class _NameTaken(Exception):
    """The destination already exists (a file, directory or symlink)."""


class _Destination:
    """A file this request creates, written chunk by chunk from worker threads.

    ``discard`` may run at any moment (error or cancellation): it takes the lock, so it waits
    for a write in progress, and marks the destination abandoned, so a write queued behind it
    cannot create the file again.
    """

    __slots__ = ("_abandoned", "_created", "_fd", "_lock", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._created = False
        self._abandoned = False

    def write(self, data: bytes, last: bool) -> None:
        """Append ``data`` (creating the file on the first call); close it when ``last``."""
        with self._lock:
            if self._abandoned:  # queued before a cancellation discarded this file
                return
            fd = self._fd
            if fd is None:
                fd = self._fd = self._create()
                self._created = True
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if last:
                self._fd = None
                os.close(fd)

    def _create(self) -> int:
        try:
            return self._open()
        except FileNotFoundError:
            # The directory is missing: created on demand, so it may also be removed at run time.
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            return self._open()

    def _open(self) -> int:
        try:
            return os.open(self.path, _OPEN_FLAGS, _FILE_MODE)
        except FileExistsError:
            raise _NameTaken from None

    def discard(self) -> None:
        """Close and remove the file if it was created.  Synchronous, so cancellation cannot
        skip it."""
        with self._lock:
            self._abandoned = True
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._created:
                self._created = False
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass


def _strings(name: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise ConfigurationError(f"Upload {name} must be a list or tuple of strings")
    return tuple(values)


def _positive(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigurationError(f"Upload {name} must be a positive integer, got {value!r}")
    return value


def _field_names(fields: Iterable[str]) -> tuple[str, ...]:
    names = _strings("field names", fields)
    if not all(names) or len(set(names)) != len(names):
        raise ConfigurationError("Upload field names must be non-empty and distinct")
    return names


class Upload:
    """Accept files from a multipart form, check them, and store them under ``path``.

    ``upload.single`` / ``upload.multiple`` are middleware; see ``docs/uploads.md``.  Give the
    route ``limits=upload.limits`` so the app's body limits (1 MiB by default) fit the files.
    """

    __slots__ = (
        "_relative_root",
        "allowed_extensions",
        "allowed_types",
        "field_name",
        "file_name",
        "keep_extension",
        "max_files",
        "max_size",
        "prefix",
        "root",
    )

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        field_name: str = "file",
        prefix: str = "",
        file_name: FileNamer | None = None,
        allowed_extensions: Iterable[str] = (),
        allowed_types: Iterable[str] = (),
        max_size: int = 10 * MiB,
        max_files: int = 10,
        keep_extension: bool = True,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise ConfigurationError(f"Upload path must be a str or path, got {path!r}")
        fs_path = os.fspath(path)
        if not fs_path or "\x00" in fs_path:
            raise ConfigurationError(f"Upload path {fs_path!r} is not a usable directory name")
        self.root = os.path.abspath(fs_path)
        """The absolute directory files are stored in (created when the first file arrives)."""
        try:
            self._relative_root = os.path.relpath(self.root)
        except ValueError:  # pragma: no cover - Windows: another drive has no relative path
            self._relative_root = self.root
        self.field_name = _field_names([field_name])[0]
        if prefix and not _SAFE_PREFIX.match(prefix):
            raise ConfigurationError(
                f"Upload prefix {prefix!r} may only contain letters, digits, '.', '_' and '-' "
                "and must not start with '.'"
            )
        self.prefix = prefix
        if file_name is not None and not callable(file_name):
            raise ConfigurationError(
                "Upload file_name must be a callable taking the UploadFile and returning a "
                'base name (for a fixed name: file_name=lambda f: "avatar")'
            )
        self.file_name = file_name
        self.allowed_extensions = tuple(
            e.lower() if e.startswith(".") else "." + e.lower()
            for e in _strings("allowed_extensions", allowed_extensions)
        )
        types = tuple(t.strip().lower() for t in _strings("allowed_types", allowed_types))
        for pattern in types:
            if not _TYPE_PATTERN.match(pattern):
                raise ConfigurationError(
                    f"Upload allowed_types entry {pattern!r} is not a media type pattern "
                    "such as 'image/png', 'image/*' or '*/*'"
                )
        self.allowed_types = tuple(_ALIASES.get(t, t) for t in types)
        self.max_size = _positive("max_size", max_size)
        self.max_files = _positive("max_files", max_files)
        self.keep_extension = bool(keep_extension)

    @property
    def limits(self) -> dict[str, int]:
        """Body-limit overrides that fit these files, for the route: ``limits=upload.limits``.

        The body may hold ``max_files`` files of ``max_size`` plus 1 MiB of form, each file
        part is cut off at ``max_size`` while it streams in, and ``max_files`` file parts
        are allowed.  A new dict each time, so it can be extended.
        """
        return {
            "max_body_size": self.max_size * self.max_files + _FORM_OVERHEAD,
            "multipart_max_file_size": self.max_size,
            "multipart_max_files": self.max_files,
        }

    # -- middleware ---------------------------------------------------------------------------

    async def single(self, ctx: Context, call_next: CallNext) -> Response:
        """Middleware: store exactly one file from ``field_name``, as ``ctx.uploads[field]``."""
        await self.save_single(ctx)
        return await call_next()

    async def multiple(self, ctx: Context, call_next: CallNext) -> Response:
        """Middleware: store one to ``max_files`` files from ``field_name``, as a list."""
        await self.save_multiple(ctx)
        return await call_next()

    def file(self, *fields: str, required: bool = True) -> Middleware:
        """Middleware storing one file per named field (te.js ``upload.file``); with no
        fields, ``field_name``.  ``required=False`` lets a field be absent."""
        return self._middleware(fields, many=False, required=required)

    def files(self, *fields: str, required: bool = True) -> Middleware:
        """Middleware storing a list of files per named field (te.js ``upload.files``);
        ``max_files`` bounds the total over all of them."""
        return self._middleware(fields, many=True, required=required)

    def _middleware(self, fields: tuple[str, ...], *, many: bool, required: bool) -> Middleware:
        names = _field_names(fields) if fields else (self.field_name,)

        async def store_uploads(ctx: Context, call_next: CallNext) -> Response:
            await self._store(ctx, names, many=many, required=required)
            return await call_next()

        return store_uploads

    # -- in handlers ------------------------------------------------------------------------

    async def save_single(self, ctx: Context) -> StoredFile:
        """Store the one file sent in ``field_name`` and return it (also in ``ctx.uploads``)."""
        stored = await self._store(ctx, (self.field_name,), many=False, required=True)
        return stored[self.field_name][0]

    async def save_multiple(self, ctx: Context) -> list[StoredFile]:
        """Store every file sent in ``field_name`` (one to ``max_files``) and return them."""
        stored = await self._store(ctx, (self.field_name,), many=True, required=True)
        return stored[self.field_name]

    # -- the work -----------------------------------------------------------------------------

    async def _store(
        self, ctx: Context, fields: tuple[str, ...], *, many: bool, required: bool
    ) -> dict[str, list[StoredFile]]:
        """Pick, check, then write the files of ``fields``; record them on ``ctx.uploads``.

        Every file is checked before the first is written, so a refused request writes
        nothing; a failure while writing removes whatever this call already wrote.
        """
        form = await self._read_form(ctx)
        picked: list[tuple[str, list[UploadFile]]] = []
        total = 0
        for field in fields:
            sent = [value for value in form.get_all(field) if isinstance(value, UploadFile)]
            if not sent:
                if required:
                    raise UploadError(
                        400,
                        f"No file in field {field!r}",
                        code="FILE_MISSING",
                        details={"field": field},
                    )
                continue
            if not many and len(sent) > 1:
                raise UploadError(
                    400,
                    f"Expected one file in field {field!r}, got {len(sent)}",
                    code="TOO_MANY_FILES",
                    details={"field": field, "max_files": 1},
                )
            total += len(sent)
            if total > self.max_files:
                raise self._too_many(field, self.max_files)
            picked.append((field, sent))

        checked = [
            (field, upload, await self._check(field, upload))
            for field, sent in picked
            for upload in sent
        ]

        result: dict[str, list[StoredFile]] = {field: [] for field, _ in picked}
        created: list[_Destination] = []
        try:
            for field, upload, mimetype in checked:
                filename = await self._stored_name(upload)
                where = self._where(filename)
                destination = _Destination(where.absolute)
                created.append(destination)
                size = await self._copy(upload, destination)
                result[field].append(
                    StoredFile(
                        field=field,
                        filename=filename,
                        original_name=upload.filename,
                        extension=self._extension(upload),
                        path=where,
                        mimetype=mimetype,
                        size=FileSize.of(size),
                    )
                )
        except BaseException as exc:
            for destination in created:
                destination.discard()
            if isinstance(exc, _NameTaken):
                raise UploadError(
                    409,
                    f"A file named {filename!r} already exists",
                    code="FILE_EXISTS",
                ) from None
            raise

        uploads: dict[str, Any] = ctx.__dict__.setdefault("uploads", {})
        for field, stored in result.items():
            uploads[field] = stored if many else stored[0]
        return result

    async def _read_form(self, ctx: Context) -> FormData:
        try:
            return await ctx.request.form()
        except BodyError as exc:
            # The parser stops at the route's limits while the body streams in (with
            # ``limits=upload.limits`` they are ours): the same refusals, the same errors.
            details = exc.details if isinstance(exc.details, dict) else {}
            limit = details.get("limit")
            if exc.status == 413 and limit == "multipart_max_file_size":
                raise self._too_large(None, details["max"]) from None
            if exc.status == 413 and limit == "multipart_max_files":
                raise self._too_many(None, details["max"]) from None
            raise

    def _too_many(self, field: str | None, limit: int) -> UploadError:
        return UploadError(
            413,
            f"Too many files: at most {limit}",
            code="TOO_MANY_FILES",
            details={"field": field, "max_files": limit},
        )

    def _too_large(self, field: str | None, limit: int) -> UploadError:
        return UploadError(
            413,
            f"File size exceeds {_describe_size(limit)}",
            code="FILE_TOO_LARGE",
            details={"field": field, "max_size": limit},
        )

    async def _check(self, field: str, upload: UploadFile) -> str:
        """Refuse a file whose extension, size or type is not allowed; return its mimetype."""
        extension = upload.extension
        allowed_extensions = self.allowed_extensions
        if allowed_extensions and extension not in allowed_extensions:
            raise UploadError(
                415,
                f"File extension {extension or '(none)'!r} is not allowed; "
                f"allowed: {', '.join(allowed_extensions)}",
                code="FILE_EXTENSION_NOT_ALLOWED",
                details={"field": field, "extension": extension, "allowed": allowed_extensions},
            )
        if upload.size > self.max_size:
            raise self._too_large(field, self.max_size)
        declared = _ALIASES.get(upload.content_type, upload.content_type)
        if not self.allowed_types:
            return declared
        if not self._type_allowed(declared):
            raise self._wrong_type(field, f"File type {declared!r} is not allowed", declared)
        await upload.seek(0)
        sniffed = _sniff(await upload.read(_SNIFF_BYTES))
        await upload.seek(0)
        if declared in _EXTENSIONS and sniffed != declared:
            raise self._wrong_type(
                field, f"File content is not {declared}, as its declared type says", declared
            )
        if sniffed is not None:
            if not self._type_allowed(sniffed):
                raise self._wrong_type(
                    field, f"File content is {sniffed}, which is not allowed", sniffed
                )
            if extension and extension not in _EXTENSIONS[sniffed]:
                raise self._wrong_type(
                    field,
                    f"File extension {extension!r} does not match its content ({sniffed})",
                    sniffed,
                )
            return sniffed
        return declared

    def _type_allowed(self, media_type: str) -> bool:
        major = media_type.partition("/")[0]
        for pattern in self.allowed_types:
            if pattern in ("*/*", media_type) or (pattern.endswith("/*") and pattern[:-2] == major):
                return True
        return False

    def _wrong_type(self, field: str, message: str, media_type: str) -> UploadError:
        return UploadError(
            415,
            f"{message}; allowed: {', '.join(self.allowed_types)}",
            code="FILE_TYPE_NOT_ALLOWED",
            details={"field": field, "type": media_type, "allowed": self.allowed_types},
        )

    def _where(self, filename: str) -> StoredPath:
        return StoredPath(
            absolute=os.path.join(self.root, filename),
            relative=os.path.normpath(os.path.join(self._relative_root, filename)),
        )

    def _extension(self, upload: UploadFile) -> str:
        """The extension to store with: the client's, if kept and plainly alphanumeric."""
        if not self.keep_extension:
            return ""
        extension = upload.extension
        return extension if _SAFE_EXTENSION.match(extension) else ""

    async def _stored_name(self, upload: UploadFile) -> str:
        """``prefix`` + a random token or the sanitised ``file_name`` result + extension."""
        extension = self._extension(upload)
        if self.file_name is None:
            base = secrets.token_hex(16)
        else:
            chosen = self.file_name(upload)
            if inspect.isawaitable(chosen):
                chosen = await chosen
            if not isinstance(chosen, str):
                raise ConfigurationError(
                    f"Upload file_name must return a str, got {type(chosen).__name__}"
                )
            # Only the last path component, only portable characters, no leading dots:
            # whatever the callable builds from client input stays a plain name in root.
            chosen = chosen[max(chosen.rfind("/"), chosen.rfind("\\")) + 1 :]
            base = _UNSAFE_NAME_CHARS.sub("_", chosen).lstrip(".")[:_MAX_BASE_LENGTH]
            if not base.strip("._-"):
                raise ConfigurationError(f"Upload file_name returned an unusable name {chosen!r}")
            if extension and base.lower().endswith(extension):
                base = base[: -len(extension)]
        return f"{self.prefix}{base}{extension}"

    @staticmethod
    async def _copy(upload: UploadFile, destination: _Destination) -> int:
        """Copy ``upload`` into ``destination`` chunk by chunk; returns the bytes written."""
        await upload.seek(0)
        remaining = upload.size
        written = 0
        while True:
            data = await upload.read(min(_CHUNK, remaining))
            remaining -= len(data)
            written += len(data)
            last = remaining <= 0 or not data
            await asyncio.to_thread(destination.write, data, last)
            if last:
                break
        await upload.seek(0)
        return written

    def __repr__(self) -> str:
        return (
            f"Upload({self.root!r}, field_name={self.field_name!r}, max_size={self.max_size}, "
            f"max_files={self.max_files})"
        )
