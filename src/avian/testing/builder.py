"""Request builders: httpx-style keyword arguments plus Harpia's fluent methods.

Every request method of the clients returns a builder.  ``TestRequest`` runs when
``.execute()`` is called or, lazily, the first time a response attribute is read on it, so
``client.get("/x").status_code`` works like httpx.  ``AsyncTestRequest`` runs when awaited.
A builder that is garbage-collected without running warns, so a forgotten
``client.delete(url)`` fails a test suite that runs with ``-W error``.
"""

from __future__ import annotations

import enum
import mimetypes
import os
import warnings
from collections.abc import (
    AsyncIterable,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Self, overload

import httpx
import msgspec

from .response import TestResponse

if TYPE_CHECKING:
    from httpx._client import UseClientDefault
    from httpx._types import (
        AuthTypes,
        CookieTypes,
        HeaderTypes,
        QueryParamTypes,
        RequestContent,
        RequestData,
        RequestExtensions,
        RequestFiles,
        TimeoutTypes,
    )

__all__ = ["AsyncTestRequest", "TestRequest"]

PathType = str | os.PathLike[str]
QueryValue = str | int | float | bool | None


class _Body(enum.Enum):
    """The kinds of request body; the value names the call that sets it, for errors."""

    JSON = ".json(obj)"
    FORM = ".form_data()"
    FILES = ".file()/.files()"
    RAW = ".send()"


_COMBINABLE = frozenset({_Body.FORM, _Body.FILES})  # together: one multipart body


class _State(enum.Enum):
    BUILDING = enum.auto()
    PENDING = enum.auto()
    EXECUTED = enum.auto()
    SPOILED = enum.auto()  # a build error was raised; the error already told the user


class _Missing(enum.Enum):
    MISSING = enum.auto()


MISSING = _Missing.MISSING


class Prepared(NamedTuple):
    """What a client needs to send a built request."""

    request: httpx.Request
    auth: Any
    follow_redirects: Any


class BaseTestRequest:
    """What both builders share: the fluent setters and the response delegation."""

    __slots__ = (
        "__weakref__",
        "_auth",
        "_content",
        "_cookies",
        "_extensions",
        "_failure",
        "_files",
        "_follow_redirects",
        "_form",
        "_headers",
        "_json",
        "_kinds",
        "_method",
        "_params",
        "_response",
        "_state",
        "_text_body",
        "_timeout",
        "_url",
    )

    def __init__(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: RequestContent | None = None,
        data: RequestData | None = None,
        files: RequestFiles | None = None,
        json: Any | None = None,
        params: QueryParamTypes | None = None,
        headers: HeaderTypes | None = None,
        cookies: CookieTypes | None = None,
        auth: AuthTypes | UseClientDefault | None = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: bool | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | UseClientDefault = httpx.USE_CLIENT_DEFAULT,
        extensions: RequestExtensions | None = None,
    ) -> None:
        self._state = _State.BUILDING
        self._method = method.upper()
        self._url = url
        self._params: list[tuple[str, QueryValue]] = (
            list(httpx.QueryParams(params).multi_items()) if params is not None else []
        )
        self._headers = httpx.Headers(headers)
        self._cookies = cookies
        self._auth = auth
        self._follow_redirects = follow_redirects
        self._timeout = timeout
        self._extensions = extensions
        self._kinds: set[_Body] = set()
        self._json = b""
        self._content: RequestContent = b""
        self._text_body = False
        self._form: dict[str, Any] = {}
        self._files: list[tuple[str, Any]] = []
        self._response: TestResponse | None = None
        self._failure: BaseException | None = None
        try:
            if json is not None:
                self._set_json(json)
            if data is not None:
                self.form_data(data)
            if files is not None:
                self._claim(_Body.FILES)
                self._files.extend(files.items() if isinstance(files, Mapping) else files)
            if content is not None:
                self._set_content(content, text_default=False)
        except BaseException:
            self._state = _State.SPOILED
            raise
        self._state = _State.PENDING

    # -- fluent setters ---------------------------------------------------------------------

    def query(self, name: str, value: QueryValue) -> Self:
        """Add a query parameter (repeat the call for several values of one name)."""
        self._check_open()
        self._params.append((name, value))
        return self

    def set(self, name: str, value: str) -> Self:
        """Set a request header, replacing any value it had."""
        self._check_open()
        self._headers[name] = value
        return self

    def form_data(self, data: Mapping[str, Any]) -> Self:
        """Send fields as a form: urlencoded, or multipart together with ``.file()``."""
        self._claim(_Body.FORM)
        self._form.update(data)
        return self

    def file(self, files: Mapping[str, PathType]) -> Self:
        """Upload one file per field: ``{"avatar": "tests/me.png"}`` (multipart)."""
        self._claim(_Body.FILES)
        loaded = []
        for field, path in files.items():
            if not isinstance(path, str | os.PathLike):
                self._spoil(
                    TypeError(f".file() takes one path per field; use .files() for {field!r}")
                )
            loaded.append((field, self._load(path)))
        self._files.extend(loaded)
        return self

    def files(self, files: Mapping[str, PathType | Sequence[PathType]]) -> Self:
        """Upload several files under each field: ``{"photos": ["a.png", "b.png"]}``."""
        self._claim(_Body.FILES)
        loaded = []
        for field, paths in files.items():
            for path in [paths] if isinstance(paths, str | os.PathLike) else paths:
                loaded.append((field, self._load(path)))
        self._files.extend(loaded)
        return self

    def send(self, body: str | bytes | Iterable[bytes] | AsyncIterable[bytes]) -> Self:
        """Send a raw body; a ``str`` is UTF-8 encoded and sent as ``text/plain``.

        An (async) iterator of bytes is streamed to the app chunk by chunk.
        """
        self._set_content(body, text_default=True)
        return self

    def _set_json(self, obj: Any) -> None:
        self._claim(_Body.JSON)
        try:
            self._json = msgspec.json.encode(obj)
        except (TypeError, msgspec.EncodeError) as exc:
            self._spoil(TypeError(f"cannot encode the JSON body: {exc}"))

    def _set_content(self, body: RequestContent, *, text_default: bool) -> None:
        self._claim(_Body.RAW)
        if isinstance(body, str):
            self._content = body.encode("utf-8")
            self._text_body = text_default
        else:
            self._content = body

    # -- state and errors -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._state is _State.EXECUTED:
            raise RuntimeError(f"{self._describe()} was already executed; build a new request")
        if self._state is _State.SPOILED:
            raise RuntimeError(f"{self._describe()} failed to build; build a new request")

    def _claim(self, kind: _Body) -> None:
        self._check_open()
        for other in self._kinds:
            if other is kind and kind not in _COMBINABLE:
                self._spoil(
                    ValueError(f"{self._describe()} already has a {kind.value} body; set it once")
                )
            if other is not kind and {kind, other} != _COMBINABLE:
                self._spoil(
                    ValueError(
                        f"cannot use {kind.value} on {self._describe()}: it already has a "
                        f"{other.value} body, and a request has one kind of body"
                    )
                )
        self._kinds.add(kind)

    def _spoil(self, error: Exception) -> NoReturn:
        self._state = _State.SPOILED
        raise error

    def _load(self, path: PathType) -> tuple[str, bytes, str]:
        file = Path(path)
        if not file.is_file():
            self._spoil(FileNotFoundError(2, "file to upload not found", str(file)))
        content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return (file.name, file.read_bytes(), content_type)

    def _describe(self) -> str:
        return f"the request {self._method} {self._url}"

    def _prepare(self, http: httpx.Client | httpx.AsyncClient) -> Prepared:
        """Mark the builder executed and turn it into an ``httpx.Request``."""
        if self._state is _State.SPOILED:
            raise RuntimeError(f"{self._describe()} failed to build; build a new request")
        self._state = _State.EXECUTED
        headers = httpx.Headers(self._headers)
        body: dict[str, Any] = {}
        if _Body.JSON in self._kinds:
            body["content"] = self._json
            headers.setdefault("content-type", "application/json")
        elif _Body.RAW in self._kinds:
            body["content"] = self._content
            if self._text_body:
                headers.setdefault("content-type", "text/plain; charset=utf-8")
        else:
            if self._form:
                body["data"] = self._form
            if self._files:
                body["files"] = self._files
        params = None
        if self._params:
            # httpx replaces a query already in the URL with ``params``; keep both instead.
            params = [*httpx.URL(self._url).params.multi_items(), *self._params]
        request = http.build_request(
            self._method,
            self._url,
            params=params,
            headers=headers,
            cookies=self._cookies,
            timeout=self._timeout,
            extensions=self._extensions,
            **body,
        )
        return Prepared(request, self._auth, self._follow_redirects)

    def _was_sent(self) -> bool:
        return self._state is _State.EXECUTED

    def _finish(self, response: TestResponse | None, failure: BaseException | None) -> None:
        self._response = response
        self._failure = failure

    # -- the response -----------------------------------------------------------------------

    def _resolve(self, name: str) -> TestResponse:
        """The response, for reading attribute ``name`` on the builder."""
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        # Only called for names the builder does not have: those belong to the response.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._resolve(name), name)

    @property
    def status_code(self) -> int:
        return self._resolve("status_code").status_code

    @property
    def status(self) -> int:
        """Alias of ``status_code`` (the Harpia name)."""
        return self._resolve("status").status_code

    @property
    def headers(self) -> httpx.Headers:
        """The *response* headers (set request headers with ``.set()``)."""
        return self._resolve("headers").headers

    @property
    def cookies(self) -> httpx.Cookies:
        """The cookies the response set."""
        return self._resolve("cookies").cookies

    @property
    def text(self) -> str:
        return self._resolve("text").text

    @property
    def content(self) -> bytes:
        return self._resolve("content").content

    @property
    def url(self) -> httpx.URL:
        return self._resolve("url").url

    @property
    def request(self) -> httpx.Request:
        return self._resolve("request").request

    @property
    def is_success(self) -> bool:
        return self._resolve("is_success").is_success

    @property
    def is_error(self) -> bool:
        return self._resolve("is_error").is_error

    @property
    def is_redirect(self) -> bool:
        return self._resolve("is_redirect").is_redirect

    @property
    def history(self) -> list[httpx.Response]:
        return self._resolve("history").history

    @property
    def encoding(self) -> str | None:
        return self._resolve("encoding").encoding

    @property
    def http_version(self) -> str:
        return self._resolve("http_version").http_version

    @property
    def reason_phrase(self) -> str:
        return self._resolve("reason_phrase").reason_phrase

    @property
    def elapsed(self) -> timedelta:
        return self._resolve("elapsed").elapsed

    def raise_for_status(self) -> TestResponse:
        response = self._resolve("raise_for_status")
        response.raise_for_status()
        return response

    def blob(self) -> bytes:
        """The response body as bytes (Harpia's name for ``content``)."""
        return self._resolve("blob").content

    def read(self) -> bytes:
        return self._resolve("read").read()

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return self._resolve("iter_bytes").iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        return self._resolve("iter_text").iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        return self._resolve("iter_lines").iter_lines()

    # -- lifecycle --------------------------------------------------------------------------

    def __repr__(self) -> str:
        state = "executed" if self._state is _State.EXECUTED else "not executed"
        return f"<{type(self).__name__} {self._method} {self._url} ({state})>"

    def __del__(self) -> None:
        if getattr(self, "_state", None) is _State.PENDING:
            warnings.warn(
                f"request built but never executed: {self._method} {self._url}",
                ResourceWarning,
                stacklevel=1,
            )


class TestRequest(BaseTestRequest):
    """A request of the synchronous :class:`~avian.testing.TestClient`.

    Runs on ``.execute()``, or the first time a response attribute is read on it.
    """

    __test__ = False  # not a pytest test class, despite the name
    __slots__ = ("_sender",)

    def __init__(
        self,
        sender: Callable[[BaseTestRequest], TestResponse],
        method: str,
        url: httpx.URL | str,
        **kwargs: Any,
    ) -> None:
        self._sender = sender
        super().__init__(method, url, **kwargs)

    def execute(self) -> TestResponse:
        """Send the request (once) and return the response; later calls return the same."""
        if self._response is not None:
            return self._response
        if self._failure is not None:
            raise self._failure
        if self._was_sent():
            raise RuntimeError(f"{self._describe()} is already being executed")
        try:
            response = self._sender(self)
        except BaseException as exc:
            if self._was_sent():
                self._finish(None, exc)
            raise
        self._finish(response, None)
        return response

    def _resolve(self, name: str) -> TestResponse:
        return self.execute()

    @overload
    def json(self) -> Any: ...
    @overload
    def json(self, obj: Any, /) -> Self: ...
    def json(self, obj: Any = MISSING) -> Any:  # '/' here upsets mypy's overload check
        """``.json(obj)`` sets a JSON request body; ``.json()`` returns the response's JSON."""
        if obj is MISSING:
            return self.execute().json()
        self._set_json(obj)
        return self


class AsyncTestRequest(BaseTestRequest):
    """A request of :class:`~avian.testing.AsyncTestClient`: ``await`` it for the response."""

    __slots__ = ("_sender",)

    def __init__(
        self,
        sender: Callable[[BaseTestRequest], Coroutine[Any, Any, TestResponse]],
        method: str,
        url: httpx.URL | str,
        **kwargs: Any,
    ) -> None:
        self._sender = sender
        super().__init__(method, url, **kwargs)

    async def execute(self) -> TestResponse:
        """Send the request (once) and return the response; later calls return the same."""
        if self._response is not None:
            return self._response
        if self._failure is not None:
            raise self._failure
        if self._was_sent():
            raise RuntimeError(f"{self._describe()} is already being executed")
        try:
            response = await self._sender(self)
        except BaseException as exc:
            if self._was_sent():
                self._finish(None, exc)
            raise
        self._finish(response, None)
        return response

    def __await__(self) -> Generator[Any, None, TestResponse]:
        return self.execute().__await__()

    def _resolve(self, name: str) -> TestResponse:
        if self._response is None:
            raise TypeError(
                f"{self._describe()} has not run yet, so it has no {name!r}: await it first, "
                f"e.g. `response = await client.{self._method.lower()}(url)`"
            )
        return self._response

    @overload
    def json(self) -> Coroutine[Any, Any, Any]: ...
    @overload
    def json(self, obj: Any, /) -> Self: ...
    def json(self, obj: Any = MISSING) -> Any:  # '/' here upsets mypy's overload check
        """``.json(obj)`` sets a JSON request body; ``await .json()`` is the response's JSON."""
        if obj is MISSING:
            return self._response_json()
        self._set_json(obj)
        return self

    async def _response_json(self) -> Any:
        return (await self.execute()).json()
