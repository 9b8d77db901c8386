"""Reading request bodies from ASGI ``receive`` within limits.

Size is counted on the bytes actually received (a lying ``Content-Length`` gains nothing);
a declared length above the limit is refused before reading.  The whole body must arrive
within ``body_timeout`` seconds, so a client trickling bytes gets a 408 instead of holding
a worker forever (see :mod:`avian.http.deadlines` for how whole-body reads are timed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..errors import BodyError, ClientDisconnect
from .limits import BodyLimits

__all__ = ["check_declared_length", "iter_body", "read_body"]

Receive = Any


def check_declared_length(content_length: str | None, limits: BodyLimits) -> None:
    """400 for a malformed ``Content-Length``, 413 when it already exceeds the limit."""
    if content_length is None:
        return
    if not (content_length.isascii() and content_length.isdigit()):
        raise BodyError(400, "invalid Content-Length header")
    if int(content_length) > limits.max_body_size:
        raise BodyError(413, f"request body larger than {limits.max_body_size} bytes")


def _too_large(limits: BodyLimits) -> BodyError:
    return BodyError(413, f"request body larger than {limits.max_body_size} bytes")


def _timed_out(limits: BodyLimits) -> BodyError:
    return BodyError(408, f"request body not received within {limits.body_timeout:g} s")


async def read_body(receive: Receive, limits: BodyLimits) -> bytes:
    """Read the whole body (the caller checks ``Content-Length`` first)."""
    import asyncio  # PERF: loaded on the first body read, not by `import avian`

    from .deadlines import start_deadline

    max_size = limits.max_body_size
    deadline = start_deadline(limits.body_timeout)
    try:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        body: bytes = message.get("body", b"")
        if not message.get("more_body", False):
            # PERF: the common case, the whole body in one message.
            if len(body) > max_size:
                raise _too_large(limits)
            return body
        chunks = [body]
        size = len(body)
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_size:
                raise _too_large(limits)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    except asyncio.CancelledError:
        if deadline.expired:  # our watcher cancelled the read, nobody else
            deadline.task.uncancel()
            raise _timed_out(limits) from None
        raise
    finally:
        deadline.finish()


async def iter_body(receive: Receive, limits: BodyLimits) -> AsyncIterator[bytes]:
    """Yield body chunks as they arrive, with the same size and time limits."""
    import asyncio

    max_size = limits.max_body_size
    deadline = asyncio.get_running_loop().time() + limits.body_timeout
    size = 0
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                message = await receive()
        except TimeoutError:
            raise _timed_out(limits) from None
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_size:
            raise _too_large(limits)
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
