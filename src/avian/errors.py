"""The avian exception tree and the error factories.

Every error a request can end with is an :class:`HTTPError`; a developer mistake found while
building the app is a :class:`ConfigurationError`.  Factories such as ``errors.not_found()``
build errors for the common statuses, and ``errors.register()`` adds named ones.

Usage::

    from avian import errors

    raise errors.not_found("User not found", details={"id": 42})
    raise errors.custom(402, "PAYMENT_REQUIRED", "Top up your balance")
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

__all__ = [
    "AvianError",
    "BodyError",
    "ClientDisconnect",
    "ConfigurationError",
    "ErrorFactory",
    "HTTPError",
    "bad_gateway",
    "bad_request",
    "code_for_status",
    "conflict",
    "custom",
    "forbidden",
    "gateway_timeout",
    "gone",
    "internal_server",
    "method_not_allowed",
    "not_acceptable",
    "not_found",
    "not_implemented",
    "payload_too_large",
    "payment_required",
    "precondition_failed",
    "register",
    "registered",
    "request_header_fields_too_large",
    "request_timeout",
    "service_unavailable",
    "too_many_requests",
    "unauthorized",
    "unprocessable_entity",
    "unsupported_media_type",
]


class AvianError(Exception):
    """Base class of every exception avian raises on purpose."""


class ConfigurationError(AvianError):
    """The application was set up wrongly (bad route, bad option, registration too late)."""


class ClientDisconnect(AvianError):
    """The client went away before the request body was read; nothing can be sent back."""


# Python 3.13 renamed these statuses after RFC 9110 (CONTENT_TOO_LARGE, ...); codes and
# titles are part of the API, so they are pinned to one spelling on every Python.
_PINNED: dict[int, tuple[str, str]] = {
    413: ("REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large"),
    414: ("REQUEST_URI_TOO_LONG", "Request-URI Too Long"),
    416: ("REQUESTED_RANGE_NOT_SATISFIABLE", "Requested Range Not Satisfiable"),
    422: ("UNPROCESSABLE_ENTITY", "Unprocessable Entity"),
}


def code_for_status(status: int) -> str:
    """The machine code for a status: ``404`` -> ``"NOT_FOUND"``."""
    pinned = _PINNED.get(status)
    if pinned is not None:
        return pinned[0]
    try:
        return HTTPStatus(status).name
    except ValueError:
        return f"HTTP_{status}"


def _phrase(status: int) -> str:
    pinned = _PINNED.get(status)
    if pinned is not None:
        return pinned[1]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class HTTPError(AvianError):
    """An error that becomes an HTTP response (``application/problem+json`` by default).

    ``detail`` is the human message, ``code`` a stable machine code (``"NOT_FOUND"``),
    ``details`` any JSON-serialisable extra data, ``headers`` extra response headers.
    """

    status: int
    detail: str
    code: str
    details: Any
    headers: dict[str, str]

    def __init__(
        self,
        status: int = 500,
        detail: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
        cause: BaseException | None = None,
        title: str | None = None,
        type: str | None = None,
    ) -> None:
        if not 400 <= status <= 599:
            raise ValueError(f"HTTPError status must be 4xx or 5xx, got {status}")
        self.status = status
        self.title = title or _phrase(status)
        if detail is None:
            detail = self.title
        elif not isinstance(detail, str):
            detail = str(detail)  # RFC 9457 detail is text; ctx.throw(400, exc) passes objects
        self.detail = detail
        self.code = code or code_for_status(status)
        self.details = details
        self.headers = dict(headers) if headers else {}
        self.type = type
        if cause is not None:
            self.__cause__ = cause
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.detail!r}, code={self.code!r})"


class BodyError(HTTPError):
    """The request body could not be read or parsed (400, 408, 413 or 415)."""


ErrorFactory = Callable[..., HTTPError]


def _factory(status: int, name: str) -> ErrorFactory:
    def make(
        detail: str | None = None,
        details: Any = None,
        cause: BaseException | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HTTPError:
        return HTTPError(status, detail, code=code, details=details, headers=headers, cause=cause)

    make.__name__ = name
    make.__qualname__ = name
    make.__doc__ = f"Build a {status} {_phrase(status)} error."
    return make


bad_request = _factory(400, "bad_request")
unauthorized = _factory(401, "unauthorized")
payment_required = _factory(402, "payment_required")
forbidden = _factory(403, "forbidden")
not_found = _factory(404, "not_found")
not_acceptable = _factory(406, "not_acceptable")
request_timeout = _factory(408, "request_timeout")
conflict = _factory(409, "conflict")
gone = _factory(410, "gone")
precondition_failed = _factory(412, "precondition_failed")
payload_too_large = _factory(413, "payload_too_large")
unsupported_media_type = _factory(415, "unsupported_media_type")
unprocessable_entity = _factory(422, "unprocessable_entity")
too_many_requests = _factory(429, "too_many_requests")
request_header_fields_too_large = _factory(431, "request_header_fields_too_large")
internal_server = _factory(500, "internal_server")
not_implemented = _factory(501, "not_implemented")
bad_gateway = _factory(502, "bad_gateway")
service_unavailable = _factory(503, "service_unavailable")
gateway_timeout = _factory(504, "gateway_timeout")


def method_not_allowed(
    detail: str | None = None,
    details: Any = None,
    cause: BaseException | None = None,
    *,
    allow: list[str] | tuple[str, ...] | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTTPError:
    """Build a 405 error; ``allow`` fills the ``Allow`` header the RFC requires."""
    merged = dict(headers or {})
    if allow:
        merged["Allow"] = ", ".join(allow)
    return HTTPError(405, detail, code=code, details=details, headers=merged, cause=cause)


def custom(
    status: int,
    code: str,
    detail: str | None = None,
    details: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> HTTPError:
    """Build an error with any 4xx/5xx status and machine code."""
    return HTTPError(status, detail, code=code, details=details, headers=headers)


_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_registry: dict[str, ErrorFactory] = {}
_registry_lock = threading.Lock()


def register(
    name: str, *, status: int, code: str | None = None, default_message: str | None = None
) -> ErrorFactory:
    """Register a named error factory, reachable as ``errors.<name>(...)`` and ``ctx.errors``.

    Registering the same name twice with the same definition is allowed (modules may be
    imported twice in tests); a different definition raises :class:`ConfigurationError`.
    """
    if not _NAME_RE.match(name):
        raise ConfigurationError(f"error name {name!r} must be a lower_snake_case identifier")
    if name in globals() and name not in _registry:
        raise ConfigurationError(f"error name {name!r} clashes with a built-in factory")
    if not 400 <= status <= 599:
        raise ConfigurationError(f"error {name!r}: status must be 4xx or 5xx, got {status}")
    final_code = code or name.upper()
    if not _CODE_RE.match(final_code):
        raise ConfigurationError(f"error code {final_code!r} must be UPPER_SNAKE_CASE")

    def make(
        detail: str | None = None,
        details: Any = None,
        cause: BaseException | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> HTTPError:
        return HTTPError(
            status,
            detail if detail is not None else default_message,
            code=final_code,
            details=details,
            headers=headers,
            cause=cause,
        )

    make.__name__ = name
    make.__doc__ = f"Build a {status} {final_code} error."
    make._definition = (status, final_code, default_message)  # type: ignore[attr-defined]
    with _registry_lock:
        existing = _registry.get(name)
        if existing is not None:
            if existing._definition != make._definition:  # type: ignore[attr-defined]
                raise ConfigurationError(f"error {name!r} is already registered differently")
            return existing
        _registry[name] = make
    return make


def registered() -> dict[str, ErrorFactory]:
    """The custom error factories registered so far, by name."""
    return dict(_registry)


def __getattr__(name: str) -> ErrorFactory:
    try:
        return _registry[name]
    except KeyError:
        raise AttributeError(f"module 'avian.errors' has no error factory {name!r}") from None
