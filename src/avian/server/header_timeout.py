"""The request-head deadline (``header_timeout``) that uvicorn lacks, against slowloris.

uvicorn closes idle keep-alive connections but puts no limit on the time a client takes to
send a request head, so a client can hold a connection by sending nothing or by trickling
its headers.  :func:`with_header_timeout` derives a subclass of uvicorn's h11 or httptools
protocol class that answers ``408`` to a partial head and closes the connection once the
deadline passes; the serving process installs it as ``config.http_protocol_class``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

__all__ = ["with_header_timeout"]

logger = logging.getLogger("avian.server")  # one logger for the whole server package

_REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 15\r\nconnection: close\r\n\r\nRequest Timeout"
)
_TIMED_PROTOCOL_MODULES = (
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl",
)


@functools.cache
def with_header_timeout(base: Any, timeout: float) -> Any:
    """``base`` (uvicorn's h11 or httptools protocol) with a deadline for each request head.

    uvicorn has no such timeout: a client that opens a connection and sends nothing, or
    trickles its headers a byte at a time, holds the connection forever (slowloris).  The
    deadline runs from the moment the connection opens, or from the first byte of a
    later request on a kept-alive connection, until the request head is parsed.
    """
    if not any(cls.__module__ in _TIMED_PROTOCOL_MODULES for cls in base.__mro__):
        logger.debug("header_timeout is not applied to %s", base.__qualname__)
        return base

    class HeaderTimeoutProtocol(base):  # type: ignore[misc]
        _head_timer: asyncio.TimerHandle | None = None
        _head_cycle: object = None
        _head_partial = False

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self._arm_head_timer(partial=False)

        def data_received(self, data: bytes) -> None:
            if self._head_timer is not None:
                self._head_partial = True
            elif self.cycle is None or self.cycle.response_complete:  # a new request starts
                self._arm_head_timer(partial=True)
            super().data_received(data)
            if self._head_timer is not None and (
                self.cycle is not self._head_cycle or self.transport.get_protocol() is not self
            ):  # the head was parsed (or the connection became a websocket)
                self._head_timer.cancel()
                self._head_timer = None

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _arm_head_timer(self, *, partial: bool) -> None:
            self._head_cycle = self.cycle
            self._head_partial = partial
            self._head_timer = self.loop.call_later(timeout, self._head_timed_out)

        def _head_timed_out(self) -> None:
            self._head_timer = None
            transport = self.transport
            if transport.is_closing() or transport.get_protocol() is not self:
                return
            if self.cycle is not self._head_cycle:
                return  # a request head arrived since the timer was armed
            if self._head_partial:
                transport.write(_REQUEST_TIMEOUT_RESPONSE)
            transport.close()

    HeaderTimeoutProtocol.__qualname__ = f"HeaderTimeout{base.__qualname__}"
    return HeaderTimeoutProtocol
