"""Error responses: RFC 9457 ``application/problem+json`` for clients, a small page for browsers.

Shape::

    {"type": "about:blank", "title": "Not Found", "status": 404,
     "detail": "User not found", "code": "NOT_FOUND", "instance": "/users/7",
     "details": {...}}          # only when the error carries details

``traceback`` is added only in debug mode.
"""

from __future__ import annotations

import html
from typing import Any

from ..errors import HTTPError
from .jsoncodec import encode_json
from .response import Response

__all__ = ["PROBLEM_JSON", "problem_body", "problem_response", "wants_html"]

PROBLEM_JSON = "application/problem+json"


def wants_html(accept: str | None) -> bool:
    """True for browsers: ``text/html`` accepted and JSON not asked for explicitly."""
    if not accept:
        return False
    accept = accept.lower()  # media types are case-insensitive
    return "text/html" in accept and "json" not in accept


def problem_body(
    error: HTTPError, instance: str | None, traceback: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": error.type or "about:blank",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if instance:
        body["instance"] = instance
    if error.details is not None:
        body["details"] = error.details
    if traceback:
        body["traceback"] = traceback
    return body


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} {title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem auto;max-width:40rem;color:#222}}
h1{{font-size:1.6rem}}code,pre{{background:#f4f4f4;padding:.2rem .4rem}}pre{{overflow:auto;padding:1rem}}</style>
</head><body><h1>{status} {title}</h1><p>{detail}</p><p><code>{code}</code></p>{extra}</body></html>
"""


def problem_response(
    error: HTTPError,
    *,
    instance: str | None = None,
    accept: str | None = None,
    traceback: str | None = None,
) -> Response:
    """The response for ``error``: problem+json, or HTML when a browser asks for it."""
    if wants_html(accept):
        extra = f"<pre>{html.escape(traceback)}</pre>" if traceback else ""
        page = _PAGE.format(
            status=error.status,
            title=html.escape(error.title),
            detail=html.escape(error.detail),
            code=html.escape(error.code),
            extra=extra,
        )
        response = Response(page, error.status, media_type="text/html")
    else:
        response = Response(
            encode_json(problem_body(error, instance, traceback)),
            error.status,
            media_type=PROBLEM_JSON,
        )
    if error.headers:
        h = response.headers
        for k, v in error.headers.items():
            h.set(k, v)
    return response
