"""RPC routers (RTE-11/12): procedures at ``POST /<namespace>.<name>`` with typed input and
output, their errors, kinds, shared middleware, and the mistakes refused early."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest

from avian import App, ConfigurationError, Context, HTTPError, Response, errors
from avian.handler_kinds import HandlerKind, handler_kind, register_kind
from avian.rpc import RPCRouter
from avian.testing import TestClient


class GetUser(msgspec.Struct):
    id: int


class User(msgspec.Struct):
    id: int
    name: str


class NewUser(msgspec.Struct):
    name: str
    age: int


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Move(TypedDict):
    dx: int


class Signup(pydantic.BaseModel):
    email: str
    age: int = pydantic.Field(ge=18)


USERS = {1: User(1, "Ada"), 2: User(2, "Grace")}


def users_router(**options: Any) -> RPCRouter:
    users = RPCRouter("users", **options)

    @users.procedure("get")
    async def get_user(input: GetUser) -> User:
        user = USERS.get(input.id)
        if user is None:
            raise errors.not_found(f"no user {input.id}")
        return user

    @users.procedure("list")
    async def list_users() -> list[User]:
        return list(USERS.values())

    @users.procedure("create", status=201)
    async def create(input: NewUser, ctx: Context) -> User:
        return User(99, f"{input.name} ({ctx.request.method})")

    return users


def serve(*routers: Any, **include: Any) -> TestClient:
    app = App()
    for router in routers:
        app.include(router, **include)
    return TestClient(app)


# --- the basics ----------------------------------------------------------------------------


def test_a_procedure_is_served_at_post_namespace_dot_name() -> None:
    with serve(users_router()) as client:
        response = client.post("/users.get", json={"id": 1})
        assert response.status_code == 200
        assert response.json() == {"id": 1, "name": "Ada"}
        assert client.post("/users.list").json() == [
            {"id": 1, "name": "Ada"},
            {"id": 2, "name": "Grace"},
        ]
        created = client.post("/users.create", json={"name": "Alan", "age": 41})
        assert created.status_code == 201
        assert created.json() == {"id": 99, "name": "Alan (POST)"}


def test_other_methods_get_405_with_allow() -> None:
    with serve(users_router()) as client:
        for method in ("GET", "PUT", "DELETE"):
            response = client.request(method, "/users.get")
            assert response.status_code == 405
            assert response.headers["allow"] == "POST, OPTIONS"
            assert response.headers["content-type"] == "application/problem+json"


def test_invalid_input_is_422_listing_the_issue() -> None:
    with serve(users_router()) as client:
        wrong_type = client.post("/users.get", json={"id": "one"})
        assert wrong_type.status_code == 422
        problem = wrong_type.json()
        assert problem["code"] == "VALIDATION_ERROR"
        assert problem["details"]["issues"][0]["loc"] == ["body", "id"]
        missing = client.post("/users.create", json={"name": "x"})
        assert missing.status_code == 422
        assert missing.json()["details"]["issues"][0]["loc"] == ["body", "age"]


def test_invalid_input_status_400_as_donkeylabs_answers() -> None:
    with serve(users_router(invalid_input_status=400)) as client:
        response = client.post("/users.get", json={"id": "one"})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 400
        assert problem["code"] == "VALIDATION_ERROR"
        assert problem["details"]["issues"][0]["loc"] == ["body", "id"]
        # Errors that are not validation keep their status.
        assert client.post("/users.get", json={"id": 7}).status_code == 404
        assert client.post("/users.get", json={"id": 1}).status_code == 200


def test_invalid_input_status_only_takes_400_or_422() -> None:
    with pytest.raises(ConfigurationError, match="400 or 422"):
        RPCRouter("users", invalid_input_status=500)


def test_malformed_or_missing_json_is_a_client_error() -> None:
    with serve(users_router()) as client:
        malformed = client.post(
            "/users.get", content=b"{", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400
        assert malformed.headers["content-type"] == "application/problem+json"
        empty = client.post("/users.get", content=b"", headers={"content-type": "application/json"})
        assert empty.status_code == 400
        not_json = client.post(
            "/users.get", content=b"id=1", headers={"content-type": "text/plain"}
        )
        assert not_json.status_code == 415


def test_errors_raised_by_procedures_are_problem_json() -> None:
    with serve(users_router()) as client:
        response = client.post("/users.get", json={"id": 404})
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "no user 404"
        assert response.json()["instance"] == "/users.get"
        assert client.post("/users.nothing", json={}).status_code == 404


def test_every_input_model_kind_is_decoded() -> None:
    geo = RPCRouter("geo")

    @geo.procedure("norm")
    async def norm(input: Point) -> dict[str, int]:
        return {"norm": abs(input.x) + abs(input.y)}

    @geo.procedure("move")
    def move(input: Move) -> dict[str, int]:  # a sync procedure runs in the thread pool
        return {"moved": input["dx"]}

    @geo.procedure("sum")
    async def total(body: list[int]) -> int:
        return sum(body)

    with serve(geo) as client:
        assert client.post("/geo.norm", json={"x": -2, "y": 3}).json() == {"norm": 5}
        assert client.post("/geo.norm", json={"x": "a", "y": 3}).status_code == 422
        assert client.post("/geo.move", json={"dx": 4}).json() == {"moved": 4}
        assert client.post("/geo.move", json={"dx": "4"}).status_code == 422
        assert client.post("/geo.sum", json=[1, 2, 3]).json() == 6
        assert client.post("/geo.sum", json=[1, "x"]).status_code == 422


def test_pydantic_input_models() -> None:
    accounts = RPCRouter("accounts")

    @accounts.procedure("signup")
    async def signup(input: Signup) -> dict[str, Any]:
        return {"email": input.email, "age": input.age}

    with serve(accounts) as client:
        ok = client.post("/accounts.signup", json={"email": "a@b.c", "age": 30})
        assert ok.json() == {"email": "a@b.c", "age": 30}
        young = client.post("/accounts.signup", json={"email": "a@b.c", "age": 12})
        assert young.status_code == 422
        assert young.json()["details"]["issues"][0]["loc"] == ["body", "age"]


def test_the_return_annotation_shapes_the_output() -> None:
    shop = RPCRouter("shop")

    @shop.procedure("item")
    async def item() -> User:
        return {"id": 1, "name": "Lamp", "secret": "cost price"}  # type: ignore[return-value]

    with serve(shop) as client:
        assert client.post("/shop.item").json() == {"id": 1, "name": "Lamp"}


# --- names, prefixes, structure ------------------------------------------------------------


def test_names_prefixes_and_url_for() -> None:
    bare = RPCRouter()

    @bare.procedure("ping")
    async def ping() -> str:
        return "pong"

    files = RPCRouter("files", prefix="/rpc")

    @files.procedure("download.link")
    async def link(input: GetUser) -> str:
        return f"/files/{input.id}"

    app = App()
    app.include(bare).include(files).include(users_router(), prefix="/api")
    with TestClient(app) as client:
        assert client.post("/ping").text == "pong"
        assert client.post("/rpc/files.download.link", json={"id": 3}).text == "/files/3"
        assert client.post("/api/users.get", json={"id": 2}).json()["name"] == "Grace"
    assert app.url_for("users.get") == "/api/users.get"
    assert app.url_for("files.download.link") == "/rpc/files.download.link"
    assert set(files.procedures) == {"files.download.link"}
    assert files.full_name("x") == "files.x"


def test_invalid_and_duplicate_names_are_refused_when_registered() -> None:
    users = users_router()
    with pytest.raises(ConfigurationError, match="already registered"):
        users.procedure("get", lambda: None)
    for bad in ("", "has space", "a..b", ".get", "get/x", "1abc"):
        with pytest.raises(ConfigurationError, match="invalid procedure name"):
            users.procedure(bad, lambda: None)
    with pytest.raises(ConfigurationError, match="invalid RPC namespace"):
        RPCRouter("users/admin")
    with pytest.raises(ConfigurationError, match=r"route name is 'users\.other'"):
        users.procedure("other", lambda: None, name="x")


def test_two_routers_with_one_namespace_collide_at_startup() -> None:
    app = App()
    app.include(users_router()).include(users_router())
    with pytest.raises(Exception, match=r"route collision: POST /users\.get"), TestClient(app):
        pass


def test_parameters_an_rpc_call_cannot_fill_are_refused_when_registered() -> None:
    users = RPCRouter("users")

    async def by_id(id: int) -> None: ...

    with pytest.raises(ConfigurationError, match="parameter 'id' has no source"):
        users.procedure("by_id", by_id)

    async def two_inputs(a: GetUser, b: NewUser) -> None: ...

    with pytest.raises(ConfigurationError, match="only one input"):
        users.procedure("two", two_inputs)


def test_hooks_and_middleware_of_the_router_and_of_using() -> None:
    events: list[str] = []

    async def audit(ctx: Context) -> None:
        events.append(f"audit {ctx.route.name if ctx.route else None}")

    async def require_token(ctx: Context, call_next: Any) -> Response:
        if ctx.request.headers.get("authorization") != "Bearer t":
            raise errors.unauthorized("token required")
        return await call_next()

    users = RPCRouter("users", before=[audit])

    @users.procedure("public")
    async def public() -> str:
        return "public"

    admin = users.using(require_token)

    @admin.procedure("delete")
    async def remove(input: GetUser) -> dict[str, int]:
        return {"deleted": input.id}

    with pytest.raises(ConfigurationError, match="already registered"):
        admin.procedure("public", public)  # one namespace, one name table

    with serve(users) as client:
        assert client.post("/users.public").text == "public"
        denied = client.post("/users.delete", json={"id": 1})
        assert denied.status_code == 401
        allowed = client.post(
            "/users.delete", json={"id": 1}, headers={"authorization": "Bearer t"}
        )
        assert allowed.json() == {"deleted": 1}
    assert events == ["audit users.public", "audit users.delete", "audit users.delete"]
    assert set(users.procedures) == {"users.public", "users.delete"}


def test_tags_default_to_the_namespace() -> None:
    users = users_router()
    assert users.name == "users"
    tagged = RPCRouter("orders", tags=["shop"])
    assert tagged.tags == ["shop"]


def test_route_options_pass_through_and_methods_can_be_widened() -> None:
    reports = RPCRouter("reports")

    @reports.procedure("today", methods=["GET", "POST"], summary="Today's report")
    async def today() -> dict[str, int]:
        return {"sales": 3}

    app = App()
    app.include(reports)
    with TestClient(app) as client:
        assert client.get("/reports.today").json() == {"sales": 3}
        assert client.post("/reports.today").json() == {"sales": 3}
    definitions = {d.name: d for _, d, _ in app.walk()}
    assert definitions["reports.today"].options["summary"] == "Today's report"


# --- kinds ---------------------------------------------------------------------------------


def test_raw_stream_and_html_procedures() -> None:
    files = RPCRouter("files")

    @files.raw("proxy")
    async def proxy(request: Any) -> Response:
        body = await request.body()
        return Response(b"proxied " + body, 202, media_type="text/plain")

    @files.stream("lines", media_type="application/x-ndjson")
    async def lines(input: GetUser) -> AsyncIterator[dict[str, int]]:
        for i in range(input.id):
            yield {"line": i}

    @files.html("card")
    async def card(ctx: Context) -> str:
        return f"<div>{ctx.request.method}</div>"

    with serve(files) as client:
        proxied = client.put("/files.proxy", content=b"abc")  # raw: every method
        assert (proxied.status_code, proxied.text) == (202, "proxied abc")
        streamed = client.post("/files.lines", json={"id": 2})
        assert streamed.headers["content-type"] == "application/x-ndjson"
        assert streamed.text == '{"line":0}\n{"line":1}\n'
        assert client.post("/files.lines", json={"id": "x"}).status_code == 422
        for method in ("GET", "POST"):
            card_response = client.request(method, "/files.card")
            assert card_response.text == f"<div>{method}</div>"
            assert card_response.headers["content-type"] == "text/html; charset=utf-8"
        assert client.delete("/files.card").status_code == 405


def test_custom_kinds_by_object_and_by_registered_name() -> None:
    @handler_kind("shout", methods=("POST",))
    async def shout(ctx: Context, handle: Any) -> Response:
        text = (await ctx.request.body()).decode()
        result = await handle(text)
        return Response(result.upper().encode(), media_type="text/plain")

    register_kind(shout)
    register_kind(shout)  # the same kind again is fine
    with pytest.raises(ConfigurationError, match="already registered"):
        register_kind(HandlerKind("shout", lambda fn: fn))

    echo = RPCRouter("echo")

    @echo.procedure("loud", kind="shout")
    async def loud(text: str) -> str:
        return f"{text}!"

    @echo.procedure("louder", kind=shout)
    async def louder(text: str) -> str:
        return f"{text}!!"

    with pytest.raises(ConfigurationError, match="unknown handler kind 'whisper'"):
        echo.procedure("x", kind="whisper")

    with serve(echo) as client:
        assert client.post("/echo.loud", content=b"hi").text == "HI!"
        assert client.post("/echo.louder", content=b"hi").text == "HI!!"
        assert client.get("/echo.loud").status_code == 405


def test_errors_in_a_procedure_of_any_kind_are_problem_json() -> None:
    jobs = RPCRouter("jobs")

    @jobs.raw("boom")
    async def boom(ctx: Context) -> Response:
        raise HTTPError(409, "busy")

    with serve(jobs) as client:
        response = client.post("/jobs.boom")
        assert response.status_code == 409
        assert response.json()["detail"] == "busy"
