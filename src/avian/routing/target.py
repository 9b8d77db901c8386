"""The path a request is routed on, derived safely from the ASGI scope.

ASGI's ``path`` is the full, decoded path, ``root_path`` included (uvicorn ``--root-path``,
mounts); routing uses what follows ``root_path``.  When the raw path has percent-escapes,
segments are split on the raw ``/`` first and decoded one by one, so ``%2F`` stays inside
its segment.  Paths that are not valid UTF-8, contain NUL, or have ``.``/``..`` segments are
refused (400) instead of being normalised: no route can be reached by a spelling the router
did not see.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from .. import errors
from ..errors import HTTPError

__all__ = ["decode_segments", "raw_route", "routing_path", "under"]

Scope = dict[str, Any]


def under(path: str, prefix: str) -> bool:
    """True when ``path`` is ``prefix`` or below it, on segment boundaries."""
    return path == prefix or path.startswith(prefix + "/")


def raw_route(scope: Scope) -> tuple[bytes, bytes]:
    """``(encoded root part, encoded routing path)`` of the request target, query removed."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    raw = raw.split(b"?", 1)[0]
    root: str = scope.get("root_path", "")
    if root and under(scope["path"], root):
        parts = raw.split(b"/")
        depth = root.rstrip("/").count("/") + 1
        return b"/".join(parts[:depth]), b"/" + b"/".join(parts[depth:])
    return b"", raw


def decode_segments(raw: bytes) -> list[str] | HTTPError:
    """Split a raw routing path on ``/`` and decode each segment (400 on bad input)."""
    try:
        segments = [unquote_to_bytes(s).decode("utf-8") for s in raw[1:].split(b"/")]
    except UnicodeDecodeError:
        return errors.bad_request("path is not valid UTF-8")
    for seg in segments:
        if "\x00" in seg:
            return errors.bad_request("path contains a NUL byte")
        if seg in (".", ".."):
            return errors.bad_request("path contains dot segments")
    return segments


def routing_path(scope: Scope) -> str | list[str] | HTTPError:
    """The decoded routing path, or its decoded segments when escapes make splitting the
    decoded string ambiguous, or the 400 to answer."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and under(path, root):
        path = path[len(root) :] or "/"
    raw: bytes | None = scope.get("raw_path")
    if raw and b"%" in raw:
        return decode_segments(raw_route(scope)[1])
    if "\x00" in path:
        return errors.bad_request("path contains a NUL byte")
    if "/." in path:
        for seg in path.split("/"):
            if seg in (".", ".."):
                return errors.bad_request("path contains dot segments")
    return path
