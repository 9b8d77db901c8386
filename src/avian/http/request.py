"""The incoming request: a lazy view over the ASGI scope plus body readers.

Nothing is parsed until asked for.  The body is read once and cached, so middleware, the
handler and error handlers can all read it; :meth:`Request.stream` hands out chunks without
caching (for large uploads), after which the body cannot be read again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..errors import BodyError
from .body import check_declared_length, iter_body, read_body
from .client_ip import ProxyConfig, resolve_client_ip
from .cookies import RequestCookies
from .headers import Headers
from .jsoncodec import decode_json
from .limits import BodyLimits
from .media import parse_content_type
from .query import QueryParams

if TYPE_CHECKING:
    from .forms import FormData

__all__ = ["Request", "is_json_media_type"]

Scope = dict[str, Any]
Receive = Any

_DEFAULT_LIMITS = BodyLimits()


def is_json_media_type(media_type: str) -> bool:
    """``application/json`` and any ``+json`` suffix type (``application/problem+json``)."""
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class Request:
    """What the client sent: method, URL parts, headers, cookies, client address and body."""

    __slots__ = (
        "_body",
        "_cookies",
        "_form",
        "_headers",
        "_ip",
        "_json",
        "_query",
        "_streamed",
        "limits",
        "params",
        "proxy",
        "receive",
        "scope",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        *,
        params: dict[str, Any] | None = None,
        limits: BodyLimits = _DEFAULT_LIMITS,
        proxy: ProxyConfig | None = None,
    ) -> None:
        self.scope = scope
        self.receive = receive
        self.params: dict[str, Any] = params if params is not None else {}
        self.limits = limits
        self.proxy = proxy
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: RequestCookies | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._ip: str | object | None = _UNSET
        self._streamed = False

    # --- URL and method -------------------------------------------------------------------

    @property
    def method(self) -> str:
        """The request method (after ``_method`` override, see :attr:`original_method`)."""
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def original_method(self) -> str:
        """The method on the wire, before any method override."""
        original = self.scope.get("avian.original_method")
        return str(original) if original else self.method

    @property
    def path(self) -> str:
        """Decoded path, without the query string (te.js ``endpoint``)."""
        return self.scope["path"]  # type: ignore[no-any-return]

    endpoint = path

    @property
    def raw_path(self) -> bytes:
        raw = self.scope.get("raw_path")
        return raw if raw else self.scope["path"].encode()  # type: ignore[no-any-return]

    @property
    def query_string(self) -> str:
        return self.scope.get("query_string", b"").decode("latin-1")  # type: ignore[no-any-return]

    @property
    def path_with_query(self) -> str:
        """Path plus ``?query`` when there is one (te.js ``path``)."""
        qs = self.query_string
        return self.path + ("?" + qs if qs else "")

    @property
    def scheme(self) -> str:
        return self.scope.get("scheme", "http")  # type: ignore[no-any-return]

    protocol = scheme

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    @property
    def http_version(self) -> str:
        return self.scope.get("http_version", "1.1")  # type: ignore[no-any-return]

    @property
    def host(self) -> str:
        """``Host`` header (host[:port]), falling back to the server address."""
        host = self.headers.get("host")
        if host:
            return host
        server = self.scope.get("server")
        if server:
            h, p = server[0], server[1]
            return f"{h}:{p}" if p not in (None, 80, 443) else str(h)
        return "localhost"

    @property
    def hostname(self) -> str:
        """The host without port."""
        host = self.host
        if host.startswith("["):
            return host[: host.index("]") + 1] if "]" in host else host
        return host.rsplit(":", 1)[0] if host.count(":") == 1 else host

    @property
    def url(self) -> str:
        """The full URL (te.js ``fullURL``); ASGI's ``path`` already holds ``root_path``."""
        return f"{self.scheme}://{self.host}{self.path_with_query}"

    full_url = url

    # --- headers, query, cookies -------------------------------------------------------------

    @property
    def headers(self) -> Headers:
        h = self._headers
        if h is None:
            h = self._headers = Headers(self.scope["headers"])
        return h

    @property
    def query(self) -> QueryParams:
        q = self._query
        if q is None:
            q = self._query = QueryParams.from_string(
                self.scope.get("query_string", b""), self.limits.form_max_fields
            )
        return q

    @property
    def cookies(self) -> RequestCookies:
        c = self._cookies
        if c is None:
            # HTTP/2 may split cookies over several header fields (RFC 9113 8.2.3).
            fields = self.headers.get_all("cookie")
            header = fields[0] if len(fields) == 1 else "; ".join(fields) or None
            c = self._cookies = RequestCookies(header)
        return c

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-cased, without parameters (``""`` if absent)."""
        value = self.headers.get("content-type")
        return parse_content_type(value)[0] if value else ""

    @property
    def content_length(self) -> int | None:
        """The declared body size, or ``None`` when absent or malformed."""
        value = self.headers.get("content-length")
        # isdigit() alone accepts non-ASCII digits such as "²", which int() rejects.
        return int(value) if value and value.isascii() and value.isdigit() else None

    # --- client -------------------------------------------------------------------------------

    @property
    def client(self) -> tuple[str, int] | None:
        """The socket peer (host, port) as the server saw it."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def ip(self) -> str | None:
        """The client's address, honouring forwarding headers only from trusted proxies."""
        ip = self._ip
        if ip is _UNSET:
            client = self.scope.get("client")
            peer = client[0] if client else None
            proxy = self.proxy
            if proxy is None:
                ip = peer
            else:
                wanted = proxy.header_preference
                found: dict[str, list[str]] = {}
                for k, v in self.scope["headers"]:
                    name = k.decode("latin-1").lower()
                    if name in wanted:
                        found.setdefault(name, []).append(v.decode("latin-1"))
                ip = resolve_client_ip(peer, found, proxy)
            self._ip = ip
        return ip  # type: ignore[return-value]

    # --- body ---------------------------------------------------------------------------------

    async def body(self) -> bytes:
        """The whole body (cached).  413 above ``max_body_size``, 408 after ``body_timeout``."""
        body = self._body
        if body is None:
            if self._streamed:
                raise RuntimeError("the request body was already consumed with stream()")
            check_declared_length(self.headers.get("content-length"), self.limits)
            body = self._body = await read_body(self.receive, self.limits)
        elif len(body) > self.limits.max_body_size:
            # Read earlier under wider limits (a method override picks the route after
            # reading the form); the route's own limit still applies.
            raise BodyError(413, f"request body larger than {self.limits.max_body_size} bytes")
        return body

    raw_body = body

    async def stream(self) -> AsyncIterator[bytes]:
        """Body chunks as they arrive, not cached; yields the cached body if already read."""
        if self._body is not None:
            if self._body:
                yield self._body
            return
        if self._streamed:
            raise RuntimeError("the request body was already consumed with stream()")
        check_declared_length(self.headers.get("content-length"), self.limits)
        self._streamed = True
        async for chunk in iter_body(self.receive, self.limits):
            yield chunk

    async def json(self) -> Any:
        """The body decoded as JSON: 415 unless the type is JSON, 400 if malformed."""
        value = self._json
        if value is _UNSET:
            media = self.content_type
            if not is_json_media_type(media):
                raise BodyError(415, f"expected a JSON body, got {media or 'no content type'!r}")
            value = self._json = decode_json(await self.body(), self.limits)
        return value

    async def form(self) -> FormData:
        """The body as form data (urlencoded or multipart); 415 for other types."""
        form = self._form
        if form is not None:
            return form
        from .forms import parse_multipart, parse_urlencoded

        header = self.headers.get("content-type") or ""
        media = parse_content_type(header)[0] if header else ""
        if media == "application/x-www-form-urlencoded":
            form = parse_urlencoded(await self.body(), self.limits)
        elif media == "multipart/form-data":
            form = await parse_multipart(self.stream(), header, self.limits)
        else:
            raise BodyError(415, f"expected form data, got {media or 'no content type'!r}")
        self._form = form
        return form

    async def parse(self) -> Any:
        """The body parsed by its content type: JSON, form, or 415 (te.js automatic parsing).

        An empty body with no content type gives ``None``.
        """
        header = self.headers.get("content-type")
        if not header:
            if not await self.body():
                return None
            raise BodyError(415, "request body has no content type")
        media = parse_content_type(header)[0]
        if is_json_media_type(media):
            return await self.json()
        if media in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return await self.form()
        raise BodyError(415, f"unsupported content type {media!r}")

    async def close(self) -> None:
        """Release what the request holds (uploaded temporary files)."""
        if self._form is not None:
            await self._form.close()

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path_with_query}>"


class _Unset:
    __slots__ = ()


_UNSET: Any = _Unset()
