"""Errors as users see them: factories, problem+json and HTML pages, exception handlers,
the not-found handler, unhandled errors, ``on_error`` and logging (ERR-01..10, SRV-12).

Every test builds a small app and talks to it over HTTP through the test client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from avian import (
    App,
    ConfigurationError,
    Context,
    HTTPError,
    PlainTextResponse,
    Response,
    StreamingResponse,
    errors,
)
from avian.errors import ClientDisconnect
from avian.testing import TestClient

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "instance"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def problem(response: Any) -> dict[str, Any]:
    """The problem+json body of ``response`` (asserting its media type)."""
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert isinstance(body, dict)
    return body


def raising(error: BaseException) -> App:
    """An app whose ``GET /boom`` raises ``error``."""
    app = App(log_exceptions=False)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    return app


# --------------------------------------------------------------------------------------------
# HTTPError and the factories (ERR-02, ERR-06)

FACTORIES = [
    ("bad_request", 400, "BAD_REQUEST", "Bad Request"),
    ("unauthorized", 401, "UNAUTHORIZED", "Unauthorized"),
    ("payment_required", 402, "PAYMENT_REQUIRED", "Payment Required"),
    ("forbidden", 403, "FORBIDDEN", "Forbidden"),
    ("not_found", 404, "NOT_FOUND", "Not Found"),
    ("method_not_allowed", 405, "METHOD_NOT_ALLOWED", "Method Not Allowed"),
    ("not_acceptable", 406, "NOT_ACCEPTABLE", "Not Acceptable"),
    ("request_timeout", 408, "REQUEST_TIMEOUT", "Request Timeout"),
    ("conflict", 409, "CONFLICT", "Conflict"),
    ("gone", 410, "GONE", "Gone"),
    ("precondition_failed", 412, "PRECONDITION_FAILED", "Precondition Failed"),
    ("payload_too_large", 413, "REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large"),
    ("unsupported_media_type", 415, "UNSUPPORTED_MEDIA_TYPE", "Unsupported Media Type"),
    ("unprocessable_entity", 422, "UNPROCESSABLE_ENTITY", "Unprocessable Entity"),
    ("too_many_requests", 429, "TOO_MANY_REQUESTS", "Too Many Requests"),
    (
        "request_header_fields_too_large",
        431,
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
        "Request Header Fields Too Large",
    ),
    ("internal_server", 500, "INTERNAL_SERVER_ERROR", "Internal Server Error"),
    ("not_implemented", 501, "NOT_IMPLEMENTED", "Not Implemented"),
    ("bad_gateway", 502, "BAD_GATEWAY", "Bad Gateway"),
    ("service_unavailable", 503, "SERVICE_UNAVAILABLE", "Service Unavailable"),
    ("gateway_timeout", 504, "GATEWAY_TIMEOUT", "Gateway Timeout"),
]


@pytest.fixture(scope="module")
def factory_client() -> Any:
    """``GET /raise/{name}`` raises ``errors.<name>()``; query ``detail`` passes a message."""
    app = App(log_exceptions=False)

    @app.get("/raise/{name}")
    async def raise_named(ctx: Context, name: str) -> None:
        factory = getattr(errors, name)
        detail = ctx.request.query.get("detail")
        raise factory(detail) if detail is not None else factory()

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(("name", "status", "code", "title"), FACTORIES)
def test_factory_defaults(factory_client: Any, name: str, status: int, code: str, title: str):
    response = factory_client.get(f"/raise/{name}")

    assert response.status_code == status
    assert problem(response) == {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": title,  # the reason phrase when no message is given
        "code": code,
        "instance": f"/raise/{name}",
    }


@pytest.mark.parametrize(("name", "status"), [(f[0], f[1]) for f in FACTORIES])
def test_factory_message(factory_client: Any, name: str, status: int):
    response = factory_client.get(f"/raise/{name}", params={"detail": "Something specific"})

    assert response.status_code == status
    assert problem(response)["detail"] == "Something specific"


def test_every_public_factory_is_covered():
    covered = {name for name, *_ in FACTORIES}
    others = {
        "AvianError",
        "BodyError",
        "ClientDisconnect",
        "ConfigurationError",
        "ErrorFactory",
        "HTTPError",
        "code_for_status",
        "custom",
        "register",
        "registered",
    }
    assert set(errors.__all__) - others == covered


def test_factory_details_cause_and_headers():
    root = KeyError("user 7")
    app = App()

    @app.get("/users/7")
    async def user() -> None:
        raise errors.not_found("User not found", {"id": 7}, root, headers={"X-Retry": "never"})

    @app.exception_handler(errors.HTTPError)
    async def show_cause(ctx: Context, exc: HTTPError) -> Response:
        response = Response(
            msgspec.json.encode({"cause": repr(exc.__cause__), "details": exc.details}),
            exc.status,
            media_type="application/json",
        )
        response.headers.update(exc.headers)
        return response

    with TestClient(app) as client:
        response = client.get("/users/7")

    assert response.status_code == 404
    assert response.json() == {"cause": "KeyError('user 7')", "details": {"id": 7}}
    assert response.headers["x-retry"] == "never"


def test_factory_keyword_code():
    app = raising(errors.forbidden("Read-only account", code="READ_ONLY"))
    with TestClient(app) as client:
        body = problem(client.get("/boom"))
    assert (body["status"], body["code"], body["title"]) == (403, "READ_ONLY", "Forbidden")


def test_headers_of_a_raised_error_reach_the_response():
    app = raising(errors.too_many_requests("Slow down", headers={"Retry-After": "30"}))
    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"


@pytest.mark.parametrize(
    ("allow", "expected"),
    [(["GET", "POST"], "GET, POST"), (("DELETE",), "DELETE")],
)
def test_method_not_allowed_sets_allow(allow: Any, expected: str):
    app = raising(errors.method_not_allowed(allow=allow, headers={"X-Extra": "1"}))
    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 405
    assert response.headers["allow"] == expected
    assert response.headers["x-extra"] == "1"
    assert problem(response)["code"] == "METHOD_NOT_ALLOWED"


def test_method_not_allowed_without_allow_sends_no_allow_header():
    app = raising(errors.method_not_allowed("No"))
    with TestClient(app) as client:
        response = client.get("/boom")
    assert response.status_code == 405
    assert "allow" not in response.headers


@pytest.mark.parametrize("status", [100, 200, 204, 302, 399, 600, 0, -404])
def test_http_error_rejects_non_error_statuses(status: int):
    with pytest.raises(ValueError, match="4xx or 5xx"):
        HTTPError(status)


def test_http_error_type_and_title_reach_the_body():
    error = HTTPError(
        409,
        "That name is taken",
        code="NAME_TAKEN",
        title="Duplicate name",
        type="https://example.com/problems/duplicate",
    )
    with TestClient(raising(error)) as client:
        body = problem(client.get("/boom"))
    assert body == {
        "type": "https://example.com/problems/duplicate",
        "title": "Duplicate name",
        "status": 409,
        "detail": "That name is taken",
        "code": "NAME_TAKEN",
        "instance": "/boom",
    }


def test_unknown_status_gets_a_generic_title_and_code():
    with TestClient(raising(HTTPError(499))) as client:
        body = problem(client.get("/boom"))
    assert (body["status"], body["title"], body["code"]) == (499, "Error", "HTTP_499")


@pytest.mark.parametrize(
    ("status", "code", "title"),
    [
        (413, "REQUEST_ENTITY_TOO_LARGE", "Request Entity Too Large"),
        (414, "REQUEST_URI_TOO_LONG", "Request-URI Too Long"),
        (416, "REQUESTED_RANGE_NOT_SATISFIABLE", "Requested Range Not Satisfiable"),
        (422, "UNPROCESSABLE_ENTITY", "Unprocessable Entity"),
    ],
)
def test_codes_do_not_depend_on_the_python_version(status: int, code: str, title: str):
    # Python 3.13 renamed these HTTPStatus members (CONTENT_TOO_LARGE, ...); the machine
    # codes clients match on must stay the same on every supported Python.
    assert errors.code_for_status(status) == code
    with TestClient(raising(HTTPError(status))) as client:
        body = problem(client.get("/boom"))
    assert (body["code"], body["title"]) == (code, title)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_non_string_detail_becomes_text(accept: str):
    app = App(log_exceptions=False)

    @app.get("/boom")
    async def boom(ctx: Context) -> None:
        ctx.throw(400, ValueError("age must be positive"))

    with TestClient(app) as client:
        response = client.get("/boom", headers={"accept": accept})

    assert response.status_code == 400
    assert "age must be positive" in response.text


# --------------------------------------------------------------------------------------------
# ctx.throw and its shortcuts (ERR-03)


@pytest.mark.parametrize(
    ("args", "status", "detail"),
    [
        ((), 500, "Internal Server Error"),
        ((404,), 404, "Not Found"),
        ((404, "No such book"), 404, "No such book"),
        ((errors.gone("Archived"),), 410, "Archived"),
        (("plain message",), 500, "plain message"),
    ],
)
def test_ctx_throw_forms(args: tuple[Any, ...], status: int, detail: str):
    app = App(log_exceptions=False)

    @app.get("/throw")
    async def throw(ctx: Context) -> None:
        ctx.throw(*args)

    with TestClient(app) as client:
        response = client.get("/throw")
    assert response.status_code == status
    assert problem(response)["detail"] == detail


def test_ctx_throw_with_a_plain_exception_is_an_unhandled_500():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.get("/throw")
    async def throw(ctx: Context) -> None:
        ctx.throw(RuntimeError("database password is hunter2"))

    with TestClient(app) as client:
        response = client.get("/throw")
    assert response.status_code == 500
    assert "hunter2" not in response.text
    assert [type(e) for e in reported] == [RuntimeError]


def test_ctx_shortcuts():
    app = App()

    @app.get("/nf")
    async def nf(ctx: Context) -> None:
        ctx.not_found("No page")

    @app.get("/auth")
    async def auth(ctx: Context) -> None:
        ctx.unauthorized()

    @app.all("/only")
    async def only(ctx: Context) -> str:
        ctx.only("GET", "POST")
        return ctx.request.method

    @app.all("/never")
    async def never(ctx: Context) -> None:
        ctx.not_allowed("get", "put")

    with TestClient(app) as client:
        assert problem(client.get("/nf"))["detail"] == "No page"
        assert client.get("/auth").status_code == 401
        assert client.post("/only").text == "POST"
        refused = client.delete("/only")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD, POST"
        never_response = client.get("/never")
        assert never_response.status_code == 405
        assert never_response.headers["allow"] == "GET, PUT"


# --------------------------------------------------------------------------------------------
# Custom and registered errors (ERR-07)


def test_custom_error():
    with TestClient(raising(errors.custom(402, "TOP_UP", "Add credit", {"balance": 0}))) as client:
        response = client.get("/boom")
    assert response.status_code == 402
    assert problem(response) == {
        "type": "about:blank",
        "title": "Payment Required",
        "status": 402,
        "detail": "Add credit",
        "code": "TOP_UP",
        "instance": "/boom",
        "details": {"balance": 0},
    }


def test_custom_error_headers_and_default_detail():
    error = errors.custom(503, "MAINTENANCE", headers={"Retry-After": "60"})
    with TestClient(raising(error)) as client:
        response = client.get("/boom")
    assert response.headers["retry-after"] == "60"
    assert problem(response)["detail"] == "Service Unavailable"


def test_custom_error_rejects_non_error_status():
    with pytest.raises(ValueError, match="4xx or 5xx"):
        errors.custom(302, "MOVED", "elsewhere")


def test_registered_error_from_module_and_ctx():
    quota = errors.register(
        "errtest_quota_exceeded", status=429, default_message="Monthly quota used up"
    )
    app = App()

    @app.get("/module")
    async def from_module() -> None:
        raise errors.errtest_quota_exceeded()

    @app.get("/ctx")
    async def from_ctx(ctx: Context) -> None:
        raise ctx.errors.errtest_quota_exceeded("Try again in May", {"used": 1000})

    with TestClient(app) as client:
        module_body = problem(client.get("/module"))
        ctx_body = problem(client.get("/ctx"))

    assert errors.errtest_quota_exceeded is quota
    assert errors.registered()["errtest_quota_exceeded"] is quota
    assert module_body == {
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Monthly quota used up",
        "code": "ERRTEST_QUOTA_EXCEEDED",
        "instance": "/module",
    }
    assert ctx_body["detail"] == "Try again in May"
    assert ctx_body["details"] == {"used": 1000}


def test_registered_error_with_explicit_code_and_no_default_message():
    errors.register("errtest_locked", status=423, code="ACCOUNT_LOCKED")
    from avian.errors import errtest_locked  # type: ignore[attr-defined]

    with TestClient(raising(errtest_locked(headers={"X-Unlock": "email"}))) as client:
        response = client.get("/boom")
    body = problem(response)
    assert (response.status_code, body["code"], body["detail"]) == (423, "ACCOUNT_LOCKED", "Locked")
    assert response.headers["x-unlock"] == "email"


def test_registering_the_same_definition_twice_is_allowed():
    first = errors.register("errtest_twice", status=409, code="TWICE", default_message="m")
    second = errors.register("errtest_twice", status=409, code="TWICE", default_message="m")
    assert first is second


@pytest.mark.parametrize(
    "changes",
    [{"status": 410}, {"code": "OTHER"}, {"default_message": "other"}],
)
def test_registering_a_different_definition_fails(changes: dict[str, Any]):
    definition: dict[str, Any] = {"status": 409, "code": "CLASH", "default_message": "m"}
    errors.register("errtest_clash", **definition)
    with pytest.raises(ConfigurationError, match="already registered"):
        errors.register("errtest_clash", **{**definition, **changes})


@pytest.mark.parametrize("name", ["Bad", "with-dash", "1st", "", "has space", "camelCase"])
def test_register_rejects_bad_names(name: str):
    with pytest.raises(ConfigurationError, match="lower_snake_case"):
        errors.register(name, status=400)


@pytest.mark.parametrize("name", ["not_found", "bad_request", "custom", "register"])
def test_register_rejects_names_of_built_ins(name: str):
    with pytest.raises(ConfigurationError, match="clashes"):
        errors.register(name, status=400)
    assert getattr(errors, name).__module__ == "avian.errors"


@pytest.mark.parametrize("status", [200, 302, 600])
def test_register_rejects_non_error_statuses(status: int):
    with pytest.raises(ConfigurationError, match="4xx or 5xx"):
        errors.register("errtest_bad_status", status=status)


@pytest.mark.parametrize("code", ["lower", "Mixed_Case", "1ST", "WITH-DASH"])
def test_register_rejects_bad_codes(code: str):
    with pytest.raises(ConfigurationError, match="UPPER_SNAKE_CASE"):
        errors.register("errtest_bad_code", status=400, code=code)


def test_unknown_error_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="errtest_never_registered"):
        errors.errtest_never_registered  # noqa: B018


# --------------------------------------------------------------------------------------------
# The problem+json shape and the HTML page


def test_problem_body_has_details_only_when_given():
    app = App()

    @app.get("/with")
    async def with_details() -> None:
        raise errors.bad_request("Bad input", {"field": "email"})

    @app.get("/without")
    async def without_details() -> None:
        raise errors.bad_request("Bad input")

    with TestClient(app) as client:
        with_body = problem(client.get("/with", params={"q": "1"}))
        without_body = problem(client.get("/without"))

    assert set(with_body) == PROBLEM_KEYS | {"details"}
    assert with_body["details"] == {"field": "email"}
    assert with_body["instance"] == "/with"  # the path, without the query string
    assert set(without_body) == PROBLEM_KEYS


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("application/problem+json", False),
        ("text/html, application/json", False),  # JSON asked for explicitly
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("TEXT/HTML", True),  # media types are case-insensitive
    ],
)
def test_content_negotiation(accept: str | None, html: bool):
    app = raising(errors.not_found("No such page"))
    headers = {"accept": accept} if accept is not None else {}
    with TestClient(app) as client:
        response = client.get("/boom", headers=headers)

    assert response.status_code == 404
    if html:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>404 Not Found</h1>" in response.text
        assert "No such page" in response.text
        assert "NOT_FOUND" in response.text
    else:
        assert problem(response)["detail"] == "No such page"


def test_html_page_escapes_the_detail():
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    app = raising(errors.bad_request(attack, headers={"X-Kept": "yes"}))
    with TestClient(app) as client:
        response = client.get("/boom", headers={"accept": BROWSER_ACCEPT})

    assert response.status_code == 400
    assert response.headers["x-kept"] == "yes"
    assert "<script>" not in response.text
    assert "<img" not in response.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.text


def test_html_page_escapes_title_and_code():
    error = HTTPError(400, "d", code="C<b>", title="<i>Title</i>")
    with TestClient(raising(error)) as client:
        page = client.get("/boom", headers={"accept": "text/html"}).text
    assert "<i>" not in page
    assert "<b>" not in page
    assert "&lt;i&gt;Title&lt;/i&gt;" in page


def test_head_request_gets_the_error_status_without_a_body():
    with TestClient(raising(errors.not_found())) as client:
        response = client.head("/boom")
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["content-type"] == "application/problem+json"


class NewUser(msgspec.Struct):
    name: str


def test_validation_errors_are_problems_with_issues():
    app = App()

    @app.post("/users")
    async def create(body: NewUser) -> dict[str, str]:
        return {"name": body.name}

    with TestClient(app) as client:
        response = client.post("/users", json={"name": 42})

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"]["issues"][0]["loc"] == ["body", "name"]


# --------------------------------------------------------------------------------------------
# Unhandled errors: 500 without internals, on_error, debug, logging (ERR-01, ERR-05, ERR-09)


def test_unhandled_error_is_a_500_without_internals():
    app = App(log_exceptions=False)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("connection string postgres://admin:s3cret@db")

    with TestClient(app) as client:
        response = client.get("/boom")
        html_response = client.get("/boom", headers={"accept": BROWSER_ACCEPT})
        after = client.get("/missing")  # the app keeps serving

    assert response.status_code == 500
    assert problem(response) == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "Internal Server Error",
        "code": "INTERNAL_SERVER_ERROR",
        "instance": "/boom",
    }
    for text in (response.text, html_response.text):
        assert "s3cret" not in text
        assert "ValueError" not in text
        assert "Traceback" not in text
    assert html_response.status_code == 500
    assert after.status_code == 404


def test_sync_and_async_handlers_are_both_caught():
    reported: list[str] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(str(error))])

    @app.get("/sync")
    def sync_handler() -> None:
        raise RuntimeError("sync")

    @app.get("/async")
    async def async_handler() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("async")

    with TestClient(app) as client:
        statuses = [client.get("/sync").status_code, client.get("/async").status_code]

    assert statuses == [500, 500]
    assert reported == ["sync", "async"]


def test_on_error_receives_the_error_and_the_request_context():
    seen: list[tuple[BaseException, str, str, Any]] = []
    app = App(log_exceptions=False)
    failure = LookupError("no row")

    @app.on_error
    async def report(error: BaseException, ctx: Context | None) -> None:
        assert ctx is not None
        seen.append((error, ctx.request.method, ctx.request.path, ctx.state.get("user")))

    @app.post("/orders/{id}")
    async def order(ctx: Context, id: str) -> None:
        ctx.state.user = "ada"
        raise failure

    with TestClient(app) as client:
        assert client.post("/orders/9").status_code == 500

    assert seen == [(failure, "POST", "/orders/9", "ada")]


def test_on_error_hooks_run_in_order_and_a_failing_hook_breaks_nothing(
    caplog: pytest.LogCaptureFixture,
):
    calls: list[str] = []

    def first(error: BaseException, ctx: Context | None) -> None:
        calls.append("first")

    async def broken(error: BaseException, ctx: Context | None) -> None:
        calls.append("broken")
        raise RuntimeError("the error tracker is down")

    def last(error: BaseException, ctx: Context | None) -> None:
        calls.append("last")

    app = App(log_exceptions=False, on_error=[first, broken])
    app.on_error(last)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("x")

    with caplog.at_level(logging.ERROR, logger="avian"), TestClient(app) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert problem(response)["code"] == "INTERNAL_SERVER_ERROR"
    assert calls == ["first", "broken", "last"]
    assert any("on_error hook" in r.getMessage() for r in caplog.records)


def test_http_errors_are_not_reported():
    reported: list[BaseException] = []
    app = App(on_error=[lambda error, ctx: reported.append(error)])

    @app.get("/nf")
    async def nf() -> None:
        raise errors.not_found()

    with TestClient(app) as client:
        assert client.get("/nf").status_code == 404
        assert client.get("/unmatched").status_code == 404
    assert reported == []


def test_debug_mode_includes_the_traceback():
    app = App(debug=True, log_exceptions=False)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("debug <details>")

    with TestClient(app) as client:
        body = problem(client.get("/boom"))
        page = client.get("/boom", headers={"accept": BROWSER_ACCEPT}).text

    assert body["status"] == 500
    assert body["detail"] == "Internal Server Error"
    assert body["traceback"].startswith("Traceback (most recent call last):")
    assert "ValueError: debug <details>" in body["traceback"]
    assert "<pre>" in page
    assert "ValueError: debug &lt;details&gt;" in page


def test_debug_mode_adds_no_traceback_to_http_errors():
    app = App(debug=True)

    @app.get("/nf")
    async def nf() -> None:
        raise errors.not_found()

    with TestClient(app) as client:
        assert set(problem(client.get("/nf"))) == PROBLEM_KEYS


@pytest.mark.parametrize("log_exceptions", [True, False])
def test_log_exceptions_toggle(caplog: pytest.LogCaptureFixture, log_exceptions: bool):
    app = App(log_exceptions=log_exceptions)
    failure = ValueError("logged?")

    @app.get("/boom")
    async def boom() -> None:
        raise failure

    with caplog.at_level(logging.DEBUG, logger="avian"), TestClient(app) as client:
        assert client.get("/boom").status_code == 500

    records = [r for r in caplog.records if r.name == "avian" and r.levelno >= logging.ERROR]
    if log_exceptions:
        assert len(records) == 1
        assert records[0].getMessage() == "unhandled error during GET /boom"
        assert records[0].exc_info is not None
        assert records[0].exc_info[1] is failure
    else:
        assert records == []


def test_errors_in_middleware_are_caught():
    reported: list[str] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(str(error))])

    @app.use
    async def async_mw(ctx: Context, call_next: Any) -> Response:
        if ctx.request.path == "/async-mw":
            raise RuntimeError("async middleware")
        return await call_next()

    def sync_mw(ctx: Context, call_next: Any) -> Any:
        if ctx.request.path == "/sync-mw":
            raise RuntimeError("sync middleware")
        return call_next()

    app.use(sync_mw)

    @app.use
    async def bad_mw(ctx: Context, call_next: Any) -> Any:
        await call_next()
        if ctx.request.path == "/no-response":
            return "not a response"
        return ctx.response

    @app.route("/{name}")
    async def page(name: str) -> str:
        return name

    with TestClient(app) as client:
        assert client.get("/fine").text == "fine"
        assert client.get("/async-mw").status_code == 500
        assert client.get("/sync-mw").status_code == 500
        assert client.get("/no-response").status_code == 500
        assert client.get("/fine").text == "fine"

    assert reported[:2] == ["async middleware", "sync middleware"]
    assert "must return a Response" in reported[2]


def test_middleware_sees_the_error_response_of_inner_layers():
    seen: list[tuple[int, str | None]] = []
    app = App(log_exceptions=False)

    @app.use
    async def observe(ctx: Context, call_next: Any) -> Response:
        response: Response = await call_next()
        seen.append((response.status, type(ctx.error).__name__ if ctx.error else None))
        response.headers.set("x-observed", "1")
        return response

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("x")

    with TestClient(app) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert response.headers["x-observed"] == "1"
    assert seen == [(500, "ValueError")]


def test_errors_in_before_and_after_hooks():
    reported: list[str] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(str(error))])

    def failing_before(ctx: Context) -> None:
        raise RuntimeError("before hook")

    async def failing_after(ctx: Context) -> None:
        raise RuntimeError("after hook")

    def forbidding_after(ctx: Context) -> None:
        raise errors.forbidden("Not after all")

    @app.get("/before", before=[failing_before])
    async def before_route() -> str:
        return "unreachable"

    @app.get("/after", after=[failing_after])
    async def after_route() -> str:
        return "ok"

    @app.get("/after-http", after=[forbidding_after])
    async def after_http_route() -> str:
        return "ok"

    with TestClient(app) as client:
        before_response = client.get("/before")
        after_response = client.get("/after")
        forbidden_response = client.get("/after-http")

    assert before_response.status_code == 500
    assert after_response.status_code == 500
    assert "ok" not in after_response.text
    assert forbidden_response.status_code == 403
    assert problem(forbidden_response)["detail"] == "Not after all"
    assert reported == ["before hook", "after hook"]


def test_app_after_hooks_see_error_responses():
    seen: list[int] = []
    app = App(log_exceptions=False)

    @app.after_all
    def record(ctx: Context) -> None:
        seen.append(ctx.response.status)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("x")

    with TestClient(app) as client:
        client.get("/boom").execute()
        client.get("/unmatched").execute()
    assert seen == [500, 404]


def test_client_disconnect_sends_nothing_and_is_not_reported():
    reported: list[BaseException] = []
    app = App(on_error=[lambda error, ctx: reported.append(error)])

    @app.post("/upload")
    async def upload() -> None:
        raise ClientDisconnect()

    with (
        TestClient(app) as client,
        pytest.raises(RuntimeError, match=r"without sending 'http\.response\.start'"),
    ):
        client.post("/upload", content=b"partial").execute()
    assert reported == []


def test_error_while_streaming_is_reported():
    reported: list[BaseException] = []
    failure = OSError("disk went away")
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    async def chunks() -> AsyncIterator[bytes]:
        yield b"first "
        raise failure

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(chunks())

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/stream")

    assert response.status_code == 200  # the status line had already been sent
    assert response.content == b"first "
    assert reported == [failure]


# --------------------------------------------------------------------------------------------
# Exception handlers: by status, by class, return values (STYLE §7)


def test_status_handler_serves_raised_and_unmatched_404s():
    app = App()

    @app.exception_handler(404)
    async def not_found_page(ctx: Context, exc: HTTPError) -> dict[str, Any]:
        return {"missing": ctx.request.path, "why": exc.detail}

    @app.get("/users/{id}")
    async def user(id: str) -> None:
        raise errors.not_found(f"user {id}")

    with TestClient(app) as client:
        raised = client.get("/users/7")
        unmatched = client.get("/nowhere")
        other = client.post("/users/7")  # 405 is not a 404

    assert raised.status_code == 404
    assert raised.headers["content-type"] == "application/json"
    assert raised.json() == {"missing": "/users/7", "why": "user 7"}
    assert unmatched.status_code == 404
    assert unmatched.json()["missing"] == "/nowhere"
    assert other.status_code == 405
    assert problem(other)["code"] == "METHOD_NOT_ALLOWED"


def test_class_handler_handles_subclasses_and_the_most_specific_wins():
    class AppFailure(Exception):
        pass

    class PaymentFailure(AppFailure):
        pass

    class CardDeclined(PaymentFailure):
        pass

    app = App()

    @app.exception_handler(AppFailure)
    def app_failure(ctx: Context, exc: Exception) -> Response:
        return PlainTextResponse("app failure", 503)

    @app.exception_handler(PaymentFailure)
    def payment_failure(ctx: Context, exc: Exception) -> Response:
        return PlainTextResponse(f"payment failure: {type(exc).__name__}", 402)

    raised = {"app": AppFailure(), "payment": PaymentFailure(), "card": CardDeclined()}

    @app.get("/{kind}")
    async def fail(kind: str) -> None:
        raise raised[kind]

    with TestClient(app) as client:
        assert (client.get("/app").status_code, client.get("/app").text) == (503, "app failure")
        assert client.get("/payment").text == "payment failure: PaymentFailure"
        card = client.get("/card")
    assert (card.status_code, card.text) == (402, "payment failure: CardDeclined")


def test_exception_class_handler_catches_everything_unhandled():
    reported: list[BaseException] = []
    app = App(on_error=[lambda error, ctx: reported.append(error)])

    @app.exception_handler(Exception)
    async def everything(ctx: Context, exc: Exception) -> Response:
        return PlainTextResponse(f"handled {type(exc).__name__}", 500)

    @app.get("/boom")
    async def boom() -> None:
        raise ZeroDivisionError

    with TestClient(app) as client:
        response = client.get("/boom")
    assert (response.status_code, response.text) == (500, "handled ZeroDivisionError")
    assert reported == []  # handled errors are not reported


def test_status_handler_wins_over_class_handler_for_http_errors():
    app = App()

    @app.exception_handler(HTTPError)
    async def any_http(ctx: Context, exc: HTTPError) -> str:
        return "class"

    @app.exception_handler(409)
    async def conflict(ctx: Context, exc: HTTPError) -> str:
        return "status"

    @app.get("/conflict")
    async def make_conflict() -> None:
        raise errors.conflict()

    @app.get("/gone")
    async def make_gone() -> None:
        raise errors.gone()

    with TestClient(app) as client:
        conflict_response = client.get("/conflict")
        gone_response = client.get("/gone")
    assert (conflict_response.status_code, conflict_response.text) == (409, "status")
    assert (gone_response.status_code, gone_response.text) == (410, "class")


def test_handler_return_values():
    app = App()

    @app.exception_handler(400)
    def as_dict(ctx: Context, exc: HTTPError) -> dict[str, str]:
        return {"error": exc.code}

    @app.exception_handler(401)
    def as_text(ctx: Context, exc: HTTPError) -> str:
        return "please log in"

    @app.exception_handler(403)
    def as_response(ctx: Context, exc: HTTPError) -> Response:
        return ctx.redirect("/login", 303)

    @app.exception_handler(410)
    def as_nothing(ctx: Context, exc: HTTPError) -> None:
        return None

    @app.exception_handler(KeyError)
    def as_dict_for_plain_error(ctx: Context, exc: Exception) -> dict[str, str]:
        return {"missing": str(exc)}

    factories = {
        "400": errors.bad_request,
        "401": errors.unauthorized,
        "403": errors.forbidden,
        "410": errors.gone,
    }

    @app.get("/{status}")
    async def fail(status: str) -> None:
        if status == "key":
            raise KeyError("k")
        raise factories[status]()

    with TestClient(app, follow_redirects=False) as client:
        as_json = client.get("/400")
        text = client.get("/401")
        redirect = client.get("/403")
        nothing = client.get("/410")
        plain = client.get("/key")

    assert (as_json.status_code, as_json.json()) == (400, {"error": "BAD_REQUEST"})
    assert as_json.headers["content-type"] == "application/json"
    assert (text.status_code, text.text) == (401, "please log in")
    assert text.headers["content-type"].startswith("text/plain")
    assert (redirect.status_code, redirect.headers["location"]) == (303, "/login")
    assert (nothing.status_code, nothing.content) == (410, b"")
    assert (plain.status_code, plain.json()) == (500, {"missing": "'k'"})


def test_handler_that_raises_becomes_a_reported_500():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.exception_handler(404)
    async def broken(ctx: Context, exc: HTTPError) -> None:
        raise RuntimeError("handler bug with secret 42")

    with TestClient(app) as client:
        response = client.get("/missing")

    assert response.status_code == 500
    assert problem(response)["detail"] == "Internal Server Error"
    assert "secret 42" not in response.text
    assert [str(e) for e in reported] == ["handler bug with secret 42"]


def test_add_exception_handler():
    app = App()
    app.add_exception_handler(418, lambda ctx, exc: "short and stout")

    @app.get("/tea")
    async def tea() -> None:
        raise HTTPError(418)

    with TestClient(app) as client:
        response = client.get("/tea")
    assert (response.status_code, response.text) == (418, "short and stout")


@pytest.mark.parametrize("key", [200, 302, 600, "404", ValueError("instance"), int])
def test_exception_handler_rejects_bad_keys(key: Any):
    with pytest.raises(ConfigurationError, match="exception_handler key"):
        App().exception_handler(key)


def test_handler_result_keeps_the_error_status_after_ctx_response_was_touched():
    app = App()

    @app.exception_handler(404)
    async def not_found_json(ctx: Context, exc: HTTPError) -> dict[str, str]:
        return {"missing": exc.detail}

    @app.get("/users/{id}")
    async def user(ctx: Context, id: str) -> None:
        ctx.response.headers.set("x-request-seen", "1")
        raise errors.not_found(f"user {id}")

    with TestClient(app) as client:
        response = client.get("/users/7")

    assert response.headers["x-request-seen"] == "1"
    assert response.json() == {"missing": "user 7"}
    assert response.status_code == 404


def test_500_handler_renders_unhandled_exceptions():
    app = App(log_exceptions=False)

    @app.exception_handler(500)
    async def error_page(ctx: Context, exc: Exception) -> Response:
        return PlainTextResponse("Sorry, something broke", 500)

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("x")

    with TestClient(app) as client:
        response = client.get("/boom")
    assert (response.status_code, response.text) == (500, "Sorry, something broke")


def test_unencodable_details_become_a_reported_500():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.get("/boom")
    async def boom() -> None:
        raise errors.bad_request("Bad", details={"when": object()})

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")

    assert response.status_code == 500
    assert problem(response)["code"] == "INTERNAL_SERVER_ERROR"
    assert [type(e) for e in reported] == [TypeError]


# --------------------------------------------------------------------------------------------
# The not-found handler (ERR-10) and the default entry page (SRV-12)


def test_not_found_handler_serves_every_unmatched_method():
    app = App()

    @app.get("/known")
    async def known() -> str:
        return "known"

    @app.not_found
    async def missing(ctx: Context) -> dict[str, str]:
        return {"missing": f"{ctx.request.method} {ctx.request.path}"}

    with TestClient(app) as client:
        get = client.get("/a/b")
        post = client.post("/nothing")
        known_response = client.get("/known")
        wrong_method = client.delete("/known")

    assert (get.status_code, get.json()) == (404, {"missing": "GET /a/b"})
    assert (post.status_code, post.json()) == (404, {"missing": "POST /nothing"})
    assert known_response.text == "known"
    assert wrong_method.status_code == 405  # a known path with another method is not "not found"


def test_not_found_handler_return_values():
    app = App()
    app.not_found(lambda ctx: "Nothing here")
    other = App()
    other.not_found(lambda ctx: ctx.html("<h1>Lost?</h1>", status=404))
    third = App()
    third.not_found(lambda ctx: ctx.redirect("/"))

    with TestClient(app) as client:
        text = client.get("/x")
    with TestClient(other) as client:
        page = client.get("/x")
    with TestClient(third, follow_redirects=False) as client:
        redirect = client.get("/x")

    assert (text.status_code, text.text) == (404, "Nothing here")
    assert text.headers["content-type"].startswith("text/plain")
    assert (page.status_code, page.text) == (404, "<h1>Lost?</h1>")
    assert (redirect.status_code, redirect.headers["location"]) == (302, "/")


def test_not_found_handler_restricted_to_methods():
    app = App()
    app.not_found(lambda ctx: "custom page", methods=["get"])

    with TestClient(app) as client:
        get = client.get("/nowhere")
        post = client.post("/nowhere")

    assert (get.status_code, get.text) == (404, "custom page")
    assert post.status_code == 404
    assert problem(post)["detail"] == "no route for POST /nowhere"


def test_only_one_not_found_handler():
    app = App()
    app.not_found(lambda ctx: "first")
    with pytest.raises(ConfigurationError, match="already set"):
        app.not_found(lambda ctx: "second")
    with pytest.raises(ConfigurationError, match="already set"):
        app.set_not_found(lambda ctx: "third", methods=["GET"])


def test_not_found_handler_that_raises():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.not_found
    def missing(ctx: Context) -> None:
        if ctx.request.path == "/gone":
            raise errors.gone("Moved out")
        raise RuntimeError("not-found handler bug")

    with TestClient(app) as client:
        gone = client.get("/gone")
        broken = client.get("/other")

    assert (gone.status_code, problem(gone)["detail"]) == (410, "Moved out")
    assert broken.status_code == 500
    assert [str(e) for e in reported] == ["not-found handler bug"]


def test_not_found_handler_keeps_404_when_a_hook_touched_the_response():
    app = App()

    @app.before_all
    def add_header(ctx: Context) -> None:
        ctx.response.headers.set("x-frame-options", "DENY")

    app.not_found(lambda ctx: {"missing": ctx.request.path})

    with TestClient(app) as client:
        response = client.get("/nowhere")

    assert response.headers["x-frame-options"] == "DENY"
    assert response.json() == {"missing": "/nowhere"}
    assert response.status_code == 404


def test_default_entry_page():
    app = App(default_entry=True)
    plain = App()
    routed = App(default_entry=True)

    @routed.get("/")
    async def home() -> str:
        return "home"

    with TestClient(app) as client:
        page = client.get("/")
        head = client.head("/")
        other = client.get("/other")
        post = client.post("/")
    with TestClient(plain) as client:
        plain_response = client.get("/")
    with TestClient(routed) as client:
        routed_response = client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "avian is running" in page.text
    assert (head.status_code, head.content) == (200, b"")
    assert other.status_code == 404
    assert post.status_code == 404
    assert plain_response.status_code == 404
    assert routed_response.text == "home"


def test_not_found_handler_takes_precedence_over_a_404_handler():
    app = App(default_entry=True)
    app.not_found(lambda ctx: "not-found handler")

    @app.exception_handler(404)
    def status_handler(ctx: Context, exc: HTTPError) -> str:
        return "404 handler"

    @app.get("/raises")
    async def raises() -> None:
        raise errors.not_found()

    with TestClient(app) as client:
        unmatched = client.get("/nowhere")
        root = client.get("/")
        raised = client.get("/raises")

    assert (unmatched.status_code, unmatched.text) == (404, "not-found handler")
    assert (root.status_code, root.text) == (404, "not-found handler")
    assert (raised.status_code, raised.text) == (404, "404 handler")


def test_405_handler_answers_known_paths_with_other_methods():
    app = App()

    @app.exception_handler(405)
    def wrong_method(ctx: Context, exc: HTTPError) -> dict[str, str]:
        return {"allowed": exc.headers["Allow"]}

    @app.get("/items")
    async def items() -> list[int]:
        return []

    with TestClient(app) as client:
        response = client.delete("/items")
    assert (response.status_code, response.json()) == (405, {"allowed": "GET, HEAD, OPTIONS"})


def test_report_error_for_background_work(caplog: pytest.LogCaptureFixture):
    reported: list[tuple[BaseException, Any]] = []
    app = App(on_error=[lambda error, ctx: reported.append((error, ctx))])
    failure = TimeoutError("nightly export timed out")

    @app.post("/export")
    async def export() -> dict[str, str]:
        async def job() -> None:
            try:
                raise failure
            except TimeoutError as exc:
                await app.report_error(exc)

        await job()
        return {"status": "accepted"}

    with caplog.at_level(logging.ERROR, logger="avian"), TestClient(app) as client:
        assert client.post("/export").json() == {"status": "accepted"}

    assert reported == [(failure, None)]
    assert [r.getMessage() for r in caplog.records if r.name == "avian"] == ["unhandled error"]
