"""The fixed part of every generated Python client, kept as real code so it is linted and
type-checked with avian itself.

:mod:`.python_generator` copies everything below the ``RUNTIME STARTS`` marker into the
generated module, after its own import block; avian never imports this module at run time.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple
from urllib.parse import quote

import httpx
import msgspec

# --- RUNTIME STARTS ---


class UseDefault(enum.Enum):
    """The type of :data:`USE_DEFAULT`: an option left to the client's own setting."""

    TOKEN = 0


USE_DEFAULT: Final = UseDefault.TOKEN
"""Per-call ``timeout=USE_DEFAULT`` (the default) means "the client's timeout"."""

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds a call may take, connection included, unless the client or the call says."""


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document, as the API sends with every error."""

    type: str = "about:blank"
    title: str = ""
    status: int = 0
    detail: str = ""
    code: str = ""
    instance: str | None = None
    details: Any = None
    extensions: dict[str, Any] = {}
    """Members of the problem document beyond the standard ones."""


class Issue(msgspec.Struct, kw_only=True):
    """One problem with the input: where (``["body", "age"]``), what and which kind."""

    loc: list[str | int] = []
    msg: str = ""
    type: str = ""


class ApiError(Exception):
    """The API answered with an error status; ``problem`` says why."""

    def __init__(
        self, status: int, problem: Problem, response: httpx.Response | None = None
    ) -> None:
        message = f"{status} {problem.title or 'Error'}: {problem.detail}"
        super().__init__(message.rstrip(": "))
        self.status = status
        self.problem = problem
        self.response = response

    @property
    def code(self) -> str:
        """The API's machine-readable error code (``"NOT_FOUND"``), or ``""``."""
        return self.problem.code

    @property
    def detail(self) -> str:
        return self.problem.detail


class ValidationError(ApiError):
    """The API rejected the input (422); ``issues`` lists every problem found."""

    def __init__(
        self,
        status: int,
        problem: Problem,
        response: httpx.Response | None = None,
        issues: Sequence[Issue] = (),
    ) -> None:
        super().__init__(status, problem, response)
        self.issues = list(issues)


class ResponseDecodeError(Exception):
    """A successful response whose body did not match the type the API documents."""

    def __init__(self, message: str, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response


_PROBLEM_MEMBERS: Final = frozenset(
    ("type", "title", "status", "detail", "code", "instance", "details")
)


def error_for(response: httpx.Response) -> ApiError:
    """The typed error for an error response, read from its problem document if any."""
    data: Any
    try:
        data = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        data = None
    status = response.status_code
    if isinstance(data, dict):
        known = {k: v for k, v in data.items() if k in _PROBLEM_MEMBERS}
        extra = {k: v for k, v in data.items() if k not in _PROBLEM_MEMBERS}
        try:
            problem = msgspec.convert(known, Problem)
        except msgspec.ValidationError:
            problem = Problem(status=status, title=response.reason_phrase)
        problem.extensions = extra
    else:
        text = response.text[:1000]
        problem = Problem(status=status, title=response.reason_phrase, detail=text)
    if status == 422:
        return ValidationError(status, problem, response, _issues(problem))
    return ApiError(status, problem, response)


def checked(response: httpx.Response) -> httpx.Response:
    """``response`` itself, or its typed error raised for an error status."""
    if response.status_code >= 400:
        raise error_for(response)
    return response


def _issues(problem: Problem) -> list[Issue]:
    found: Any = None
    if isinstance(problem.details, dict):
        found = problem.details.get("issues")
    if found is None:
        found = problem.extensions.get("issues")
    if not isinstance(found, list):
        return []
    issues: list[Issue] = []
    for item in found:
        try:
            issues.append(msgspec.convert(item, Issue))
        except msgspec.ValidationError:
            issues.append(Issue(msg=str(item)))
    return issues


def decode_json(response: httpx.Response, type_: Any) -> Any:
    """The response body decoded (and checked) as ``type_``."""
    if not response.content and response.status_code in (204, 205):
        return None
    try:
        return msgspec.json.decode(response.content, type=type_)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ResponseDecodeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} with a body that does not match: {exc}",
            response,
        ) from None


def path_value(value: Any) -> str:
    """A path parameter, escaped so it stays one path segment."""
    return quote(scalar_text(value), safe="")


def scalar_text(value: Any) -> str:
    """A parameter value as written in a URL or header: JSON spelling for scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, enum.Enum):
        return scalar_text(value.value)
    encoded = msgspec.json.encode(value).decode()
    if encoded.startswith('"') and encoded.endswith('"'):
        return str(msgspec.json.decode(encoded))  # datetime, UUID, Decimal...
    return encoded


class Prepared(NamedTuple):
    """Everything ``httpx`` needs for one call."""

    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    headers: dict[str, str]
    content: bytes | None
    data: dict[str, Any] | None
    files: list[tuple[str, Any]] | None


class CallerBase:
    """What the sync and async callers share: options and building requests."""

    def __init__(
        self, base_url: str, headers: Mapping[str, str] | None, timeout: float | None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout

    def send_options(
        self,
        request: Prepared,
        timeout: float | UseDefault | None,
    ) -> dict[str, Any]:
        """The keyword arguments of ``httpx``'s ``request()`` for ``request``
        (``USE_DEFAULT``: the client's timeout)."""
        return {
            "params": request.params,
            "headers": request.headers,
            "content": request.content,
            "data": request.data,
            "files": request.files,
            "timeout": self.timeout if isinstance(timeout, UseDefault) else timeout,
        }

    def prepare(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
        cookies: Mapping[str, Any] | None = None,
        json: Any = None,
        form: Any = None,
        multipart: Mapping[str, Any] | None = None,
        content: bytes | str | None = None,
        content_type: str | None = None,
        call_headers: Mapping[str, str] | None = None,
    ) -> Prepared:
        """One operation call's arguments as a :class:`Prepared` request."""
        params: list[tuple[str, str]] = []
        for key, value in (query or {}).items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                params.extend((key, scalar_text(item)) for item in value)
            else:
                params.append((key, scalar_text(value)))
        sent = {key.lower(): value for key, value in self.headers.items()}
        for key, value in (headers or {}).items():
            if value is not None:
                sent[key.lower()] = scalar_text(value)
        given = [(k, v) for k, v in (cookies or {}).items() if v is not None]
        jar = [f"{k}={scalar_text(v)}" for k, v in given]
        if jar:
            sent["cookie"] = "; ".join(jar)
        body: bytes | None = None
        data: dict[str, Any] | None = None
        files: list[tuple[str, Any]] | None = None
        if json is not None:
            body = msgspec.json.encode(json)
            sent["content-type"] = "application/json"
        elif form is not None:
            fields = msgspec.to_builtins(form).items()
            data = {k: scalar_text(v) for k, v in fields if v is not None}
        elif multipart is not None:
            data, files = {}, []
            for key, value in multipart.items():
                if isinstance(value, bytes | tuple):
                    files.append((key, value))
                elif value is not None:
                    data[key] = scalar_text(value)
        elif content is not None:
            body = content.encode() if isinstance(content, str) else content
            sent["content-type"] = content_type or "application/octet-stream"
        for key, value in (call_headers or {}).items():
            sent[key.lower()] = value
        url = self.base_url + path
        return Prepared(method, url, tuple(params), sent, body, data, files)


class SyncCaller(CallerBase):
    """Sends the calls of a :class:`Client` and turns error statuses into exceptions."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None,
        timeout: float | None,
        transport: httpx.BaseTransport | None,
        http_client: httpx.Client | None,
    ) -> None:
        super().__init__(base_url, headers, timeout)
        self._owns_http = http_client is None
        self.http = http_client or httpx.Client(transport=transport)

    def send(
        self,
        request: Prepared,
        timeout: float | UseDefault | None,
    ) -> httpx.Response:
        options = self.send_options(request, timeout)
        return checked(self.http.request(request.method, request.url, **options))

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


class AsyncCaller(CallerBase):
    """Sends the calls of an :class:`AsyncClient`; cancelling its task stops a call."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str] | None,
        timeout: float | None,
        transport: httpx.AsyncBaseTransport | None,
        http_client: httpx.AsyncClient | None,
    ) -> None:
        super().__init__(base_url, headers, timeout)
        self._owns_http = http_client is None
        self.http = http_client or httpx.AsyncClient(transport=transport)

    async def send(
        self,
        request: Prepared,
        timeout: float | UseDefault | None,
    ) -> httpx.Response:
        options = self.send_options(request, timeout)
        return checked(await self.http.request(request.method, request.url, **options))

    async def close(self) -> None:
        if self._owns_http:
            await self.http.aclose()
