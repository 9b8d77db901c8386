"""The per-request context handed to handlers, hooks and middleware.

``ctx.request`` is what arrived, ``ctx.response`` what will be sent, ``ctx.state`` holds
request-scoped values (isolated per request, gone afterwards).  Response helpers such as
``ctx.json()`` build a response *and* make it the request's answer, so both
``return ctx.json(data)`` and a bare ``ctx.json(data)`` work.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, NoReturn

from . import errors as _errors
from .errors import HTTPError
from .http.client_ip import ProxyConfig
from .http.limits import BodyLimits
from .http.request import Request
from .http.response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

if TYPE_CHECKING:
    from .app import App
    from .db.manager import DatabaseManager
    from .ratelimit import RateLimitResult
    from .routing.router import Route
    from .sessions import SessionData

__all__ = ["Context", "State"]

Scope = dict[str, Any]


class State:
    """An attribute namespace that also reads like a dict (``state.user``, ``state["user"]``)."""

    def __init__(self, initial: Mapping[str, Any] | None = None) -> None:
        if initial:
            self.__dict__.update(initial)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"state has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # Declared so type checkers accept ``state.anything = value``.
        self.__dict__[name] = value

    def __getitem__(self, name: str) -> Any:
        try:
            return self.__dict__[name]
        except KeyError:
            raise KeyError(name) from None

    def __setitem__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __delitem__(self, name: str) -> None:
        del self.__dict__[name]

    def __contains__(self, name: object) -> bool:
        return name in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def setdefault(self, name: str, default: Any) -> Any:
        return self.__dict__.setdefault(name, default)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"State({self.__dict__!r})"


_DEFAULT_LIMITS = BodyLimits()


class ModuleViews:
    """``ctx.module(name)``: renders views from one module's pages."""

    __slots__ = ("ctx", "name")

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.name = name

    async def render(
        self,
        view: str,
        data: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        block: str | None = None,
    ) -> Response:
        return await self.ctx.render(
            view, data, status=status, headers=headers, module=self.name, block=block
        )


class Context:
    """Everything about one request.  Middleware may add attributes (``ctx.user = ...``)."""

    if TYPE_CHECKING:
        # Set by built-in middleware when installed (declared here for type checkers).
        session: SessionData
        """``SessionMiddleware``: the lazily loaded session (``await ctx.session.load()``)."""
        uploads: dict[str, Any]
        """``Upload`` middleware: the stored files by field name."""

    __slots__ = (
        "__dict__",
        "_request",
        "_request_id",
        "_response",
        "_state",
        "app",
        "dispatched",
        "error",
        "params",
        "receive",
        "route",
        "scope",
        "send",
    )

    if TYPE_CHECKING:
        rate_limit: RateLimitResult
        """The strictest rate-limit decision for this request (set by a rate limiter)."""

    def __init__(
        self,
        app: App,
        scope: Scope,
        receive: Any,
        send: Any,
        route: Route | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.scope = scope
        self.receive = receive
        self.send = send
        self.route = route
        self.params: dict[str, Any] = params if params is not None else {}
        self._request: Request | None = None
        self._response: Response | None = None
        self._state: State | None = None
        self._request_id: str | None = None
        self.error: BaseException | None = None
        """The exception being handled, visible to error handlers, after hooks, middleware."""
        self.dispatched = False
        """True once a response was chosen with ``fire()`` or a response helper."""

    # --- request side -------------------------------------------------------------------------

    @property
    def request(self) -> Request:
        req = self._request
        if req is None:
            route = self.route
            limits = route.limits if route is not None else self.app.limits
            proxy: ProxyConfig | None = self.app.proxy
            req = self._request = Request(
                self.scope, self.receive, params=self.params, limits=limits, proxy=proxy
            )
        return req

    req = request

    @property
    def state(self) -> State:
        state = self._state
        if state is None:
            state = self._state = State()
        return state

    @property
    def core(self) -> State:
        """The app's framework services (``ctx.core.rate_limiter``...)."""
        return self.app.core

    @property
    def config(self) -> Any:
        """The app's typed settings, when it was built with ``App.from_settings``."""
        return self.app.core.get("settings")

    @property
    def db(self) -> DatabaseManager:
        """The app's database connections (``ctx.db.sql``, ``ctx.db.redis``...)."""
        return self.app.db

    @property
    def ip(self) -> str | None:
        """The client address (see :attr:`Request.ip` for proxy rules)."""
        return self.request.ip

    @property
    def request_id(self) -> str:
        """A unique id for this request: the incoming ``X-Request-ID`` when the app trusts
        it and it is well-formed, else a new random one."""
        rid = self._request_id
        if rid is None:
            header = self.app.request_id_header
            if header is not None:
                incoming = self.request.headers.get(header)
                if (
                    incoming
                    and len(incoming) <= 128
                    and incoming.isascii()
                    and incoming.isprintable()
                ):
                    rid = incoming
            if rid is None:
                rid = uuid.uuid4().hex
            self._request_id = rid
        return rid

    async def payload(self) -> dict[str, Any]:
        """Query, body and path parameters merged (te.js ``ammo.payload``): params win over
        body fields, which win over query values.  A non-object JSON body is not merged."""
        merged: dict[str, Any] = dict(self.request.query)
        req = self.request
        if req.headers.get("content-type") or req.content_length:
            body = await req.parse()
            if isinstance(body, dict):
                merged.update(body)
            elif body is not None and hasattr(body, "to_dict"):
                merged.update(body.to_dict())
        uploads = self.__dict__.get("uploads")
        if uploads:  # files stored by an Upload middleware, as te.js merges them
            merged.update(uploads)
        merged.update(self.params)
        return merged

    # --- response side ------------------------------------------------------------------------

    @property
    def response(self) -> Response:
        """The response that will be sent.  Before the handler returns it is a blank one
        whose status, headers and cookies are merged into whatever the handler returns."""
        resp = self._response
        if resp is None:
            route = self.route
            resp = self._response = Response(b"", route.status if route is not None else 200)
        return resp

    @response.setter
    def response(self, value: Response) -> None:
        """Assigning a response makes it the answer, exactly like returning it."""
        if not isinstance(value, Response):
            raise TypeError("ctx.response must be a Response")
        self.dispatch(value)

    res = response

    def dispatch(self, response: Response) -> Response:
        """Make ``response`` the answer (keeping headers/cookies already set) and return it."""
        pending = self._response
        if pending is not None and pending is not response:
            response.merge_from(pending)
        self._response = response
        self.dispatched = True
        return response

    @property
    def dispatched_data(self) -> Any:
        """What ``fire()`` sent (te.js ``dispatchedData``)."""
        return self.__dict__.get("_fired_data")

    def fire(self, *args: Any) -> Response:
        """te.js's polymorphic send: ``fire()`` 204, ``fire(data)``, ``fire(201)``,
        ``fire(201, data)``, ``fire(200, body, "text/html")``."""
        status = 200
        media_type: str | None = None
        data: Any = None
        if len(args) > 3:
            raise TypeError("fire() takes at most 3 arguments")
        if args and isinstance(args[0], int) and not isinstance(args[0], bool):
            status = args[0]
            if not 200 <= status <= 599:
                raise ValueError(f"invalid HTTP status for a response {status!r}")
            if len(args) == 1:
                data = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            else:
                data = args[1]
                if len(args) == 3:
                    media_type = args[2]
        elif len(args) == 1:
            data = args[0]
        elif len(args) > 1:
            raise TypeError("fire(data) takes one argument unless the first is a status")
        if not args:
            response = Response(b"", 204)
        elif media_type is not None:
            body = data if isinstance(data, bytes | str) else str(data)
            response = Response(body, status, media_type=media_type)
        else:
            from .pipeline import to_response

            response = to_response(data, status)
            if data is None and status != 204:
                response.status = status
        self.__dict__["_fired_data"] = data
        return self.dispatch(response)

    def send_status(self, status: int) -> Response:
        """Answer with a bare status and its reason phrase as text."""
        return self.fire(status)

    def json(
        self, data: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.dispatch(JSONResponse(data, status, headers))

    def text(
        self, text: str, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.dispatch(PlainTextResponse(text, status, headers))

    def html(
        self, html: str, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        return self.dispatch(HTMLResponse(html, status, headers))

    def binary(
        self,
        data: bytes,
        status: int = 200,
        media_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self.dispatch(Response(data, status, headers, media_type))

    def redirect(self, url: str, status: int = 302) -> Response:
        return self.dispatch(RedirectResponse(url, status))

    def stream(
        self,
        content: AsyncIterable[bytes | str] | Iterable[bytes | str],
        media_type: str = "application/octet-stream",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        return self.dispatch(StreamingResponse(content, status, headers, media_type))

    def file(
        self,
        path: str,
        *,
        filename: str | None = None,
        download: bool = False,
        media_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send a file; ``download=True`` (or a ``filename``) adds ``Content-Disposition``."""
        disposition = "attachment" if download or filename else None
        return self.dispatch(
            FileResponse(
                path,
                filename=filename,
                disposition=disposition,
                media_type=media_type,
                headers=headers,
            )
        )

    download = file

    async def render(
        self,
        view: str,
        data: Mapping[str, Any] | None = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        module: str | None = None,
        block: str | None = None,
    ) -> Response:
        """Render a view with the app's template engine (``app.templates``) as HTML;
        ``block`` renders one block only (an htmx partial, TPL-08)."""
        engine = self.app.templates
        if engine is None:
            from .errors import ConfigurationError

            raise ConfigurationError(
                "no template engine: set app.templates = TemplateEngine(...) (or any object "
                "with a render(view, data, *, ctx=None, module=None) method)"
            )
        options: dict[str, Any] = {"ctx": self, "module": module}
        if block is not None:
            options["block"] = block
        html = engine.render(view, dict(data or {}), **options)
        if inspect.isawaitable(html):
            html = await html
        return self.html(html, status, headers)

    def module(self, name: str) -> ModuleViews:
        """Views of one module (Harpia ``res.module("books").render(...)``)."""
        return ModuleViews(self, name)

    # --- errors and method checks -------------------------------------------------------------

    errors = _errors

    def throw(self, *args: Any) -> NoReturn:
        """te.js ``throw``: ``()`` 500, ``(404)``, ``(404, "msg")``, ``(error)``."""
        if not args:
            raise HTTPError(500)
        first = args[0]
        if isinstance(first, BaseException):
            raise first
        if isinstance(first, int) and not isinstance(first, bool):
            detail = args[1] if len(args) > 1 else None
            raise HTTPError(first, detail)
        raise HTTPError(500, str(first))

    def not_found(self, detail: str | None = None) -> NoReturn:
        raise _errors.not_found(detail)

    def unauthorized(self, detail: str | None = None) -> NoReturn:
        raise _errors.unauthorized(detail)

    def not_allowed(self, *allow: str) -> NoReturn:
        """405 with an ``Allow`` header listing ``allow`` (te.js ``notAllowed``)."""
        raise _errors.method_not_allowed(allow=[m.upper() for m in allow] or None)

    def only(self, *methods: str) -> None:
        """Allow only these methods on a method-agnostic route; 405 with ``Allow`` otherwise."""
        allowed = {m.upper() for m in methods}
        if "GET" in allowed:
            allowed.add("HEAD")
        if self.request.method not in allowed:
            raise _errors.method_not_allowed(allow=sorted(allowed))

    def is_method(self, *methods: str) -> bool:
        return self.request.method in {m.upper() for m in methods}

    def __repr__(self) -> str:
        return f"<Context {self.scope.get('method', 'WS')} {self.scope.get('path')}>"
