"""Uploaded files: :class:`UploadFile`, a spooled temporary file with the client's metadata.

Small uploads stay in memory; once a file grows past ``BodyLimits.multipart_spool_size`` it
rolls over to an anonymous temporary file on disk.  Operations that may touch the disk run in
a worker thread (``asyncio.to_thread``) so the event loop never blocks on I/O; operations on
an in-memory file are cheap and run inline.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import Callable, Mapping
from tempfile import SpooledTemporaryFile
from typing import ParamSpec, TypeVar

from .limits import MiB

__all__ = ["UploadFile", "sanitize_filename"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# C0 controls, DEL, C1 controls, and the bidirectional controls that can disguise a name
# ("photo\u202egnp.exe" displays as "photoexe.png").
_BAD_FILENAME_CHARS = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def sanitize_filename(filename: str) -> str:
    """The client's file name reduced to a base name: everything up to the last ``/`` or ``\\``
    is dropped.

    Raises :class:`ValueError` for names containing control characters (NUL included) or
    bidirectional overrides, and for ``.`` / ``..``.  The result is still client input: do
    not use it as a path without choosing your own name or directory.
    """
    if _BAD_FILENAME_CHARS.search(filename):
        raise ValueError("file name contains control characters")
    base = filename[max(filename.rfind("/"), filename.rfind("\\")) + 1 :]
    if base in (".", ".."):
        raise ValueError(f"file name {base!r} is not a file name")
    return base


def _extension(filename: str) -> str:
    # Windows drops trailing dots and spaces when saving, so "evil.exe." is really ".exe".
    stem = filename.rstrip(". ")
    dot = stem.rfind(".")
    if dot <= 0:  # no dot, or a dot-file such as ".bashrc"
        return ""
    return stem[dot:].lower()


class UploadFile:
    """One uploaded file: the client's name and content type, and the data received.

    ``file`` is a :class:`tempfile.SpooledTemporaryFile`; use the async methods (``read``,
    ``seek``, ``save``, ``close``) from handlers so disk I/O happens off the event loop.
    """

    __slots__ = (
        "_lock",
        "_spool_size",
        "content_type",
        "extension",
        "field_name",
        "file",
        "filename",
        "headers",
        "size",
    )

    filename: str
    """The client's file name, reduced to its base name (see :func:`sanitize_filename`)."""
    extension: str
    """The lower-cased extension with its dot (``".png"``), or ``""``."""
    content_type: str
    """The part's media type: ``Content-Type`` lower-cased without parameters (the parser's
    choice; the full value is in ``headers``), ``application/octet-stream`` if none was sent."""
    headers: Mapping[str, str]
    """All headers of the part, with lower-case names."""
    field_name: str
    """The form field the file was sent as."""
    size: int
    """Bytes received so far."""
    file: SpooledTemporaryFile[bytes]

    def __init__(
        self,
        filename: str,
        *,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
        field_name: str = "",
        spool_size: int = 1 * MiB,
    ) -> None:
        self.filename = sanitize_filename(filename)
        self.extension = _extension(self.filename)
        self.content_type = content_type
        self.headers = dict(headers) if headers else {}
        self.field_name = field_name
        self.size = 0
        self._spool_size = spool_size
        # Serialises worker-thread I/O with close(): a thread cannot be interrupted, so a
        # cancelled write must finish before the file is closed under it.
        self._lock = threading.Lock()
        self.file = SpooledTemporaryFile(max_size=spool_size, mode="w+b")  # noqa: SIM115 (closed by close())

    @property
    def in_memory(self) -> bool:
        """True while the data is held in memory, False once it has rolled over to disk."""
        # SpooledTemporaryFile keeps this flag private and typeshed omits it; it has existed
        # since the class was added and is the only reliable source of truth.
        return not getattr(self.file, "_rolled", False)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return bool(self.file.closed)

    # -- writing (used by the parser) -----------------------------------------------------

    def write_in_memory(self, data: bytes | bytearray) -> bool:
        """Append ``data`` inline if it keeps the file in memory; return False if it would not.

        The multipart parser calls this from its synchronous callbacks, so the common case
        (small files) never leaves the event loop; otherwise it buffers and calls :meth:`write`.
        """
        file = self.file
        if not self.in_memory or file.tell() + len(data) > self._spool_size:
            return False
        file.write(data)
        self.size += len(data)
        return True

    async def write(self, data: bytes | bytearray) -> None:
        """Append ``data``; in a worker thread when it reaches the disk (rollover or after)."""
        if not self.write_in_memory(data):
            await asyncio.to_thread(self._locked, self._write_blocking, data)

    def _write_blocking(self, data: bytes | bytearray) -> None:
        self.file.write(data)
        self.size += len(data)

    # -- reading ----------------------------------------------------------------------------

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining when negative) from the current position."""
        if self.in_memory:
            return self.file.read(size)
        return await asyncio.to_thread(self._locked, self.file.read, size)

    async def seek(self, offset: int) -> int:
        """Move to ``offset`` bytes from the start; returns the new position."""
        if self.in_memory:
            return self.file.seek(offset)
        return await asyncio.to_thread(self._locked, self.file.seek, offset)

    async def save(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole file to ``path`` (created or truncated), in a worker thread.

        The current read position is kept, so ``save`` may be called after ``read``.
        """
        await asyncio.to_thread(self._locked, self._save_blocking, path)

    def _save_blocking(self, path: str | os.PathLike[str]) -> None:
        position = self.file.tell()
        self.file.seek(0)
        try:
            with open(path, "wb") as target:
                shutil.copyfileobj(self.file, target)
        finally:
            self.file.seek(position)

    # -- closing ----------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the file and release its memory or temporary file.  Safe to call twice."""
        if self.in_memory:
            self.close_now()
        else:
            await asyncio.to_thread(self.close_now)

    def close_now(self) -> None:
        """Close synchronously (waiting for any worker-thread I/O on this file to finish).

        Used for cleanup after a parse error, where it must complete even if the task is
        being cancelled.  Closing an anonymous temporary file only releases a descriptor.
        """
        with self._lock:
            self.file.close()

    def _locked(self, func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        with self._lock:
            return func(*args, **kwargs)

    def __repr__(self) -> str:
        return (
            f"UploadFile(filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size})"
        )
