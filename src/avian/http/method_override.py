"""Method override: a ``_method`` field in an urlencoded POST form (Harpia MO-01), or the
``X-HTTP-Method-Override`` header when enabled, turns a POST into PUT, PATCH or DELETE.

Only POST is ever overridden, and only into those three methods, so an override can never
make an unsafe request look safe.
"""

from __future__ import annotations

from typing import Any

from .request import Request

__all__ = ["OVERRIDABLE", "may_override", "requested_method"]

OVERRIDABLE = ("PUT", "PATCH", "DELETE")
_FORM = b"application/x-www-form-urlencoded"


def may_override(headers: list[tuple[bytes, bytes]], form_field: bool, header: bool) -> bool:
    """Cheap pre-check on a POST's headers: could it carry an override at all?"""
    for k, v in headers:
        if header and k == b"x-http-method-override":
            return True
        if form_field and k == b"content-type" and v[:33].lower() == _FORM:
            return True
    return False


async def requested_method(request: Request, form_field: bool, header: bool) -> str | None:
    """The method a POST asks to be treated as, if any (may read and parse the form)."""
    wanted: str | None = None
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    if header:
        for k, v in headers:
            if k == b"x-http-method-override":
                wanted = v.decode("latin-1").upper()
                break
    if wanted is None and form_field:
        for k, v in headers:
            if k == b"content-type":
                if v.split(b";", 1)[0].strip().lower() == _FORM:
                    value: Any = (await request.form()).get("_method")
                    wanted = value.upper() if isinstance(value, str) else None
                break
    return wanted if wanted in OVERRIDABLE else None
