"""Helpers shared by the routing tests.

``raw_request`` drives the app's ASGI callable with a hand-built scope.  It exists for the
few requests an HTTP client cannot send as written: httpx removes dot segments
(``/a/../b``) and reads ``//evil.example/`` as a host, and the test client drops the body of
a ``HEAD`` response, so "no body was sent" can only be seen at the ASGI level.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = ["RawResponse", "raw_request"]


@dataclass
class RawResponse:
    """What the app sent, message by message."""

    status: int
    headers: dict[str, str]
    body_chunks: list[bytes] = field(default_factory=list)

    @property
    def body(self) -> bytes:
        return b"".join(self.body_chunks)


def raw_request(app: Any, method: str, raw_path: bytes, query_string: bytes = b"") -> RawResponse:
    """Send one request with exactly ``raw_path`` (``path`` is its percent-decoded form,
    as uvicorn builds it) and collect the response."""
    path = unquote_to_bytes(raw_path).decode("utf-8", "replace")
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "root_path": "",
        "path": path,
        "raw_path": raw_path,
        "query_string": query_string,
        "headers": [(b"host", b"testserver")],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    assert start["type"] == "http.response.start"
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start["headers"]}
    chunks = [m.get("body", b"") for m in sent[1:] if m["type"] == "http.response.body"]
    return RawResponse(start["status"], headers, chunks)
