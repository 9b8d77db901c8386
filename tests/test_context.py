"""The per-request context: state, extension by middleware, request ids, errors and method
checks (CTX-01, CTX-02, CTX-03, CTX-06, CTX-07, CTX-14)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from avian import App, Context, HTTPError, Request, Response, errors
from avian.testing import AsyncTestClient, TestClient


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    c = TestClient(app)
    yield c
    c.close()


# -- state ----------------------------------------------------------------------------------


def test_state_is_fresh_for_every_request(app: App, client: TestClient) -> None:
    @app.get("/count")
    async def count(ctx: Context) -> dict[str, Any]:
        before = ctx.state.to_dict()
        ctx.state.visits = ctx.state.get("visits", 0) + 1
        return {"before": before, "visits": ctx.state.visits}

    assert client.get("/count").json() == {"before": {}, "visits": 1}
    assert client.get("/count").json() == {"before": {}, "visits": 1}


def test_state_is_isolated_between_concurrent_requests() -> None:
    app = App()
    both_inside = asyncio.Event()
    inside: list[str] = []

    @app.get("/user/{name}")
    async def user(ctx: Context, name: str) -> str:
        ctx.state.name = name
        inside.append(name)
        if len(inside) == 2:
            both_inside.set()
        await asyncio.wait_for(both_inside.wait(), 5)  # both requests overlap here
        return str(ctx.state.name)

    async def scenario() -> list[str]:
        async with AsyncTestClient(app) as client:
            responses = await asyncio.gather(client.get("/user/ada"), client.get("/user/bob"))
            return [r.text for r in responses]

    assert asyncio.run(scenario()) == ["ada", "bob"]


def test_state_reads_like_attributes_and_a_dict(app: App, client: TestClient) -> None:
    @app.get("/s")
    async def s(ctx: Context) -> dict[str, Any]:
        state = ctx.state
        state.a = 1
        state["b"] = 2
        state.setdefault("a", 99)
        del state["b"]
        missing_attr = False
        try:
            _ = state.nope
        except AttributeError:
            missing_attr = True
        return {
            "a": state["a"],
            "has_a": "a" in state,
            "has_b": "b" in state,
            "keys": list(state),
            "len": len(state),
            "missing_attr": missing_attr,
            "get_default": state.get("nope", "d"),
        }

    assert client.get("/s").json() == {
        "a": 1,
        "has_a": True,
        "has_b": False,
        "keys": ["a"],
        "len": 1,
        "missing_attr": True,
        "get_default": "d",
    }


def test_state_is_shared_along_the_request_lifecycle(app: App, client: TestClient) -> None:
    def step(name: str) -> Any:
        def hook(ctx: Context) -> None:
            ctx.state.setdefault("trail", []).append(name)

        return hook

    app.before_all(step("before_all"))
    app.after_all(step("after_all"))

    @app.use
    async def outer(ctx: Context, call_next: Any) -> Response:
        step("middleware in")(ctx)
        response = await call_next()
        step("middleware out")(ctx)
        response.headers.set("x-trail", ",".join(ctx.state.trail))
        return response

    @app.get("/x", before=[step("before")], after=[step("after")])
    async def x(ctx: Context) -> None:
        step("handler")(ctx)

    response = client.get("/x")

    assert response.headers["x-trail"] == (
        "middleware in,before_all,before,handler,after,after_all,middleware out"
    )


# -- extending the context (CTX-03) ------------------------------------------------------------


def test_middleware_can_add_attributes_to_ctx(app: App, client: TestClient) -> None:
    @app.use
    async def auth(ctx: Context, call_next: Any) -> Response:
        ctx.user = {"name": ctx.request.headers.get("x-user", "anonymous")}  # type: ignore[attr-defined]
        return await call_next()

    @app.get("/me")
    async def me(ctx: Context) -> Any:
        return ctx.user  # type: ignore[attr-defined]

    assert client.get("/me", headers={"x-user": "ada"}).json() == {"name": "ada"}
    assert client.get("/me").json() == {"name": "anonymous"}


def test_attributes_added_to_ctx_do_not_leak_into_the_next_request(
    app: App, client: TestClient
) -> None:
    @app.get("/set")
    async def set_(ctx: Context) -> None:
        ctx.marker = "set"  # type: ignore[attr-defined]

    @app.get("/read")
    async def read(ctx: Context) -> dict[str, Any]:
        return {"marker": getattr(ctx, "marker", None)}

    client.get("/set").execute()
    assert client.get("/read").json() == {"marker": None}


def test_ctx_exposes_app_request_response_and_aliases(app: App, client: TestClient) -> None:
    @app.get("/items/{id}")
    async def item(ctx: Context, id: int) -> dict[str, Any]:
        return {
            "app": ctx.app is app,
            "req_alias": ctx.req is ctx.request,
            "res_alias": ctx.res is ctx.response,
            "request_type": isinstance(ctx.request, Request),
            "params": ctx.params,
            "request_params": ctx.request.params,
            "scope_type": ctx.scope["type"],
        }

    assert client.get("/items/7").json() == {
        "app": True,
        "req_alias": True,
        "res_alias": True,
        "request_type": True,
        "params": {"id": 7},
        "request_params": {"id": 7},
        "scope_type": "http",
    }


def test_assigning_a_response_makes_it_the_answer(app: App, client: TestClient) -> None:
    @app.get("/r")
    async def r(ctx: Context) -> None:
        ctx.response.cookies.set("kept", "1")
        ctx.response = Response("replaced", 202, media_type="text/plain")

    @app.get("/wrong")
    async def wrong(ctx: Context) -> None:
        ctx.response = {"not": "a response"}  # type: ignore[assignment]

    response = client.get("/r")

    assert (response.status_code, response.text) == (202, "replaced")
    assert response.headers["set-cookie"].startswith("kept=1;")
    assert client.get("/wrong").status_code == 500


# -- early termination (CTX-14) -----------------------------------------------------------------


def test_before_hook_that_fires_stops_the_chain(app: App, client: TestClient) -> None:
    ran: list[str] = []

    def gate(ctx: Context) -> None:
        if ctx.request.headers.get("x-key") != "secret":
            ctx.fire(401, {"error": "no key"})

    @app.get("/guarded", before=[gate])
    async def guarded() -> str:
        ran.append("handler")
        return "in"

    denied = client.get("/guarded")
    allowed = client.get("/guarded", headers={"x-key": "secret"})

    assert (denied.status_code, denied.json()) == (401, {"error": "no key"})
    assert (allowed.status_code, allowed.text) == (200, "in")
    assert ran == ["handler"]


def test_before_hook_returning_a_value_stops_the_chain(app: App, client: TestClient) -> None:
    ran: list[str] = []

    @app.get("/cached", before=[lambda ctx: {"from": "hook"}])
    async def cached() -> str:
        ran.append("handler")
        return "handler"

    assert client.get("/cached").json() == {"from": "hook"}
    assert ran == []


# -- request ids (CTX-06) -----------------------------------------------------------------------


def request_id_client(**options: Any) -> TestClient:
    app = App(**options)

    @app.get("/id")
    async def rid(ctx: Context) -> dict[str, str]:
        first = ctx.request_id
        assert ctx.request_id == first  # stable within the request
        return {"id": first}

    return TestClient(app)


def test_request_id_is_random_hex_and_unique() -> None:
    with request_id_client() as client:
        ids = [client.get("/id").json()["id"] for _ in range(20)]

    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == 20


@pytest.mark.parametrize("incoming", ["abc-123", "req_7f3a", "a" * 128, "with space", "x"])
def test_valid_incoming_request_id_is_honoured(incoming: str) -> None:
    with request_id_client() as client:
        assert client.get("/id", headers={"X-Request-ID": incoming}).json()["id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [b"a" * 129, b"bad\x01id", b"tab\tid", b"caf\xe9", b""],
    ids=["too-long", "control", "tab", "non-ascii", "empty"],
)
def test_invalid_incoming_request_id_is_replaced(incoming: bytes) -> None:
    with request_id_client() as client:
        got = client.get("/id", headers={"x-request-id": incoming}).json()["id"]

    assert re.fullmatch(r"[0-9a-f]{32}", got)


def test_request_id_header_can_be_renamed() -> None:
    with request_id_client(request_id_header="X-Correlation-ID") as client:
        renamed = client.get("/id", headers={"x-correlation-id": "corr-1"}).json()["id"]
        old_name = client.get("/id", headers={"x-request-id": "req-1"}).json()["id"]

    assert renamed == "corr-1"
    assert old_name != "req-1"


def test_request_id_header_none_never_trusts_the_client() -> None:
    with request_id_client(request_id_header=None) as client:
        got = client.get("/id", headers={"x-request-id": "chosen-by-client"}).json()["id"]

    assert re.fullmatch(r"[0-9a-f]{32}", got)


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status", "detail"),
    [
        ((), 500, "Internal Server Error"),
        ((404,), 404, "Not Found"),
        ((404, "No such user"), 404, "No such user"),
        ((409, "Taken"), 409, "Taken"),
        (("plain message",), 500, "plain message"),
        ((HTTPError(418, "teapot"),), 418, "teapot"),
        ((errors.gone("moved on"),), 410, "moved on"),
    ],
)
def test_throw_forms(
    app: App, client: TestClient, args: tuple[Any, ...], status: int, detail: str
) -> None:
    @app.get("/t")
    async def t(ctx: Context) -> None:
        ctx.throw(*args)

    response = client.get("/t")

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail


def test_throw_with_a_plain_exception_is_an_unhandled_500(app: App, client: TestClient) -> None:
    reported: list[BaseException] = []
    app.on_error(lambda error, ctx: reported.append(error))

    @app.get("/t")
    async def t(ctx: Context) -> None:
        ctx.throw(KeyError("secret detail"))

    response = client.get("/t")

    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert isinstance(reported[0], KeyError)


def test_not_found_and_unauthorized_shortcuts(app: App, client: TestClient) -> None:
    @app.get("/nf")
    async def nf(ctx: Context) -> None:
        ctx.not_found("User not found")

    @app.get("/unauth")
    async def unauth(ctx: Context) -> None:
        ctx.unauthorized()

    nf_response = client.get("/nf")
    unauth_response = client.get("/unauth")

    assert nf_response.status_code == 404
    assert nf_response.json()["detail"] == "User not found"
    assert nf_response.json()["code"] == "NOT_FOUND"
    assert unauth_response.status_code == 401
    assert unauth_response.json()["code"] == "UNAUTHORIZED"


def test_ctx_errors_are_the_error_factories(app: App, client: TestClient) -> None:
    @app.get("/e")
    async def e(ctx: Context) -> None:
        raise ctx.errors.not_found("No such book", details={"id": 7})

    problem = client.get("/e").json()

    assert problem["status"] == 404
    assert problem["detail"] == "No such book"
    assert problem["details"] == {"id": 7}
    assert problem["instance"] == "/e"


def test_ctx_error_holds_the_exception_for_after_hooks(app: App, client: TestClient) -> None:
    def expose(ctx: Context) -> None:
        ctx.response.headers.set("x-error", type(ctx.error).__name__)

    @app.get("/e", after=[expose])
    async def e(ctx: Context) -> None:
        raise errors.conflict("twice")

    response = client.get("/e")

    assert response.status_code == 409
    assert response.headers["x-error"] == "HTTPError"


# -- method checks --------------------------------------------------------------------------------


def test_only_and_is_method_on_a_method_agnostic_route(app: App, client: TestClient) -> None:
    @app.all("/any")
    async def any_method(ctx: Context) -> dict[str, Any]:
        ctx.only("get", "post")
        return {"is_post": ctx.is_method("post"), "method": ctx.request.method}

    assert client.get("/any").json() == {"is_post": False, "method": "GET"}
    assert client.post("/any").json() == {"is_post": True, "method": "POST"}
    assert client.head("/any").status_code == 200
    refused = client.delete("/any")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, HEAD, POST"


def test_not_allowed_sets_the_allow_header(app: App, client: TestClient) -> None:
    @app.all("/x")
    async def x(ctx: Context) -> None:
        ctx.not_allowed("get", "put")

    response = client.patch("/x")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT"
