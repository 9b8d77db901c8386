"""What the document says about types and shapes: formats, handler kinds' media types,
models avian generates (forms, embedded bodies), models read as query parameters, routes
without a response model, and security schemes found deep in the dependency tree."""

import dataclasses
import datetime
import decimal
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from helpers import component, document, operation

from avian import App, Router
from avian.handler_kinds import handler_kind, html, stream
from avian.http.uploads import UploadFile
from avian.openapi import APIKey, HTTPBearer
from avian.params import Body, Depends, File, Form, Header, Query
from avian.rpc import RPCRouter
from avian.testing import TestClient

STRING_FORMATS = {
    "at": {"type": "string", "format": "date-time"},
    "day": {"type": "string", "format": "date"},
    "clock": {"type": "string", "format": "time"},
    "ident": {"type": "string", "format": "uuid"},
    "amount": {"type": "string", "format": "decimal"},
}


class Event(msgspec.Struct):
    at: datetime.datetime
    day: datetime.date
    clock: datetime.time
    ident: uuid.UUID
    amount: decimal.Decimal
    seen: list[datetime.datetime] = []
    ends: datetime.datetime | None = None


@dataclasses.dataclass
class Meeting:
    starts: datetime.datetime
    by_room: dict[str, datetime.time]


def test_dates_uuids_and_decimals_carry_their_format_in_models_and_parameters() -> None:
    app = App()

    @app.get("/events/{ident}")
    async def find(
        ident: uuid.UUID,
        at: Annotated[datetime.datetime, Query()],
        day: datetime.date | None = None,
        clock: Annotated[datetime.time | None, Header()] = None,
        amount: decimal.Decimal = decimal.Decimal("1.5"),
        around: Annotated[list[datetime.datetime], Query()] = [],  # noqa: B006
    ) -> Event:
        raise NotImplementedError

    @app.post("/meetings")
    async def plan(meeting: Meeting) -> list[Event]:
        raise NotImplementedError

    doc = document(app)
    params = {
        p["name"]: p["schema"] for p in operation(doc, "GET", "/events/{ident}")["parameters"]
    }
    assert params["ident"] == STRING_FORMATS["ident"]
    assert params["at"] == STRING_FORMATS["at"]
    assert params["day"] == STRING_FORMATS["day"]
    assert params["clock"] == STRING_FORMATS["clock"]
    assert params["amount"] == {**STRING_FORMATS["amount"], "default": "1.5"}
    assert params["around"]["items"] == STRING_FORMATS["at"]

    event = doc["components"]["schemas"]["Event"]["properties"]
    for name, schema in STRING_FORMATS.items():
        assert event[name] == schema
    assert event["seen"]["items"] == STRING_FORMATS["at"]
    assert event["ends"]["anyOf"] == [STRING_FORMATS["at"], {"type": "null"}]
    meeting = doc["components"]["schemas"]["Meeting"]["properties"]
    assert meeting["starts"] == STRING_FORMATS["at"]
    assert meeting["by_room"]["additionalProperties"] == STRING_FORMATS["clock"]


def test_stream_html_and_custom_kinds_are_documented_with_their_media_type() -> None:
    app = App()

    @app.get("/lines")
    @stream(media_type="application/x-ndjson")
    async def lines() -> AsyncIterator[dict[str, int]]:
        yield {"n": 1}

    @app.get("/csv")
    @stream(media_type="text/csv")
    async def csv() -> AsyncIterator[str]:
        yield "a,b\n"

    @app.get("/fragment")
    @html
    async def fragment() -> str:
        return "<p>hi</p>"

    @handler_kind("xmlish", media_type="application/xml", methods=("GET",))
    async def xmlish(ctx: Any, handle: Any) -> Any:
        return await handle()

    @app.get("/xml")
    @xmlish
    async def xml() -> str:
        return "<r/>"

    rpc = RPCRouter("files")

    @rpc.stream("feed", media_type="application/x-ndjson")
    async def feed() -> AsyncIterator[dict[str, int]]:
        yield {"n": 1}

    app.include(rpc)

    doc = document(app)

    def success(method: str, path: str) -> dict[str, Any]:
        content: dict[str, Any] = operation(doc, method, path)["responses"]["200"]["content"]
        return content

    assert success("GET", "/lines") == {"application/x-ndjson": {"schema": {}}}
    assert success("GET", "/csv") == {"text/csv": {"schema": {"type": "string"}}}
    assert success("GET", "/fragment") == {"text/html": {"schema": {"type": "string"}}}
    # A custom kind takes over the handler: only its media type is known.
    assert success("GET", "/xml") == {"application/xml": {"schema": {}}}
    assert success("POST", "/files.feed") == {"application/x-ndjson": {"schema": {}}}

    with TestClient(app) as client:  # what is documented is what is sent
        assert client.get("/lines").headers["content-type"].startswith("application/x-ndjson")
        assert client.get("/fragment").headers["content-type"].startswith("text/html")


class LoginForm(msgspec.Struct):
    """A user model that happens to have the name avian would generate."""

    token: str


def test_generated_form_models_get_readable_unique_names() -> None:
    app = App()

    @app.post("/session")
    async def login(
        user: Annotated[str, Form(min_length=2)],
        password: Annotated[str, Form()],
        remember: Annotated[bool, Form()] = False,
    ) -> dict[str, str]:
        return {"user": user}

    app.post("/session-again")(login)  # the same handler: the same component

    @app.post("/tokens")
    async def tokens(form: Annotated[LoginForm, Form()]) -> dict[str, str]:
        return {"token": form.token}

    @app.post("/avatar")
    async def upload_avatar(
        picture: Annotated[UploadFile, File()],
        extras: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    ) -> dict[str, str]:
        return {}

    doc = document(app)
    schemas = doc["components"]["schemas"]

    def body_schema(path: str, media: str) -> dict[str, Any]:
        content = operation(doc, "POST", path)["requestBody"]["content"]
        schema: dict[str, Any] = content[media]["schema"]
        return schema

    ref = body_schema("/session", "application/x-www-form-urlencoded")
    # The user's LoginForm keeps its name; the generated one takes the next free one.
    assert ref == {"$ref": "#/components/schemas/LoginForm2"}
    assert body_schema("/session", "multipart/form-data") == ref
    assert body_schema("/session-again", "multipart/form-data") == ref
    assert body_schema("/tokens", "multipart/form-data") == {
        "$ref": "#/components/schemas/LoginForm"
    }
    assert schemas["LoginForm"]["properties"] == {"token": {"type": "string"}}
    assert schemas["LoginForm2"] == {
        "title": "LoginForm2",
        "type": "object",
        "properties": {
            "user": {"type": "string", "minLength": 2},
            "password": {"type": "string"},
            "remember": {"type": "boolean", "default": False},
        },
        "required": ["user", "password"],
    }
    avatar = component(doc, body_schema("/avatar", "multipart/form-data"))
    assert avatar["title"] == "UploadAvatarForm"
    assert avatar["properties"] == {
        "picture": {"type": "string", "format": "binary"},
        "extras": {"type": "array", "items": {"type": "string", "format": "binary"}},
    }
    assert not any(name.startswith("Form_") for name in schemas)


class Filters(msgspec.Struct, rename="camel"):
    text: str
    page_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    tags: list[str] = []
    since: datetime.date | None = None


class Item(msgspec.Struct):
    name: str


def test_query_models_are_separate_parameters_and_embedded_bodies_an_object() -> None:
    app = App()

    @app.get("/search")
    async def search(filters: Annotated[Filters, Query()]) -> list[str]:
        return []

    @app.post("/items")
    async def create_item(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    doc = document(app)
    params = operation(doc, "GET", "/search")["parameters"]
    assert [(p["name"], p["in"], p["required"]) for p in params] == [
        ("text", "query", True),
        ("pageSize", "query", False),
        ("tags", "query", False),
        ("since", "query", False),
    ]
    assert params[1]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert params[2]["schema"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert params[3]["schema"] == {"type": "string", "format": "date"}

    body = operation(doc, "POST", "/items")["requestBody"]
    assert body["required"] is True
    envelope = component(doc, body["content"]["application/json"]["schema"])
    assert envelope == {
        "title": "CreateItemBody",
        "type": "object",
        "properties": {"item": {"$ref": "#/components/schemas/Item"}},
        "required": ["item"],
    }


def test_response_model_none_documents_no_output_and_none_returns_are_204() -> None:
    app = App()

    @app.get("/raw", response_model=None)
    async def raw() -> Item:
        return {"name": "x", "extra": 1}  # type: ignore[return-value]

    @app.delete("/items/{name}")
    async def delete(name: str) -> None:
        return None

    doc = document(app)
    assert operation(doc, "GET", "/raw")["responses"]["200"] == {
        "description": "Successful Response"
    }
    assert "Item" not in doc.get("components", {}).get("schemas", {})
    assert operation(doc, "DELETE", "/items/{name}")["responses"]["204"] == {
        "description": "No Content"
    }
    with TestClient(app) as client:
        raw_reply = client.get("/raw")
        assert (raw_reply.status_code, raw_reply.json()) == (200, {"name": "x", "extra": 1})
        assert client.delete("/items/a").status_code == 204


def test_security_schemes_are_found_in_nested_and_group_dependencies() -> None:
    bearer = HTTPBearer(scheme_name="bearer")
    key = APIKey(name="X-Key", scheme_name="key")

    async def current_user(token: Annotated[str, Depends(bearer)]) -> str:
        return f"user:{token}"

    app = App()
    admin = Router("/admin", dependencies=[Depends(key)])

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    @admin.get("/stats")
    async def stats(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    app.include(admin)

    doc = document(app)
    assert operation(doc, "GET", "/me")["security"] == [{"bearer": []}]
    # Both dependencies run: both schemes are required together.
    assert operation(doc, "GET", "/admin/stats")["security"] == [{"key": [], "bearer": []}]
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"},
        "key": {"type": "apiKey", "name": "X-Key", "in": "header"},
    }
    with TestClient(app) as client:
        assert client.get("/me").status_code == 401
        assert client.get("/me", headers={"authorization": "Bearer t"}).text == "user:t"
        assert client.get("/admin/stats", headers={"authorization": "Bearer t"}).status_code == (
            401
        )
        ok = client.get("/admin/stats", headers={"authorization": "Bearer t", "x-key": "k"})
        assert ok.text == "user:t"


def test_a_scheme_without_auto_error_is_an_optional_requirement() -> None:
    bearer = HTTPBearer(scheme_name="bearer")
    maybe_key = APIKey(name="X-Key", scheme_name="key", auto_error=False)
    app = App()

    @app.get("/optional")
    async def optional(key: Annotated[str | None, Depends(maybe_key)]) -> str:
        return key or "anonymous"

    @app.get("/mixed")
    async def mixed(
        token: Annotated[str, Depends(bearer)], key: Annotated[str | None, Depends(maybe_key)]
    ) -> str:
        return f"{token}:{key}"

    doc = document(app)
    assert operation(doc, "GET", "/optional")["security"] == [{"key": []}, {}]
    assert operation(doc, "GET", "/mixed")["security"] == [
        {"bearer": [], "key": []},
        {"bearer": []},
    ]
    with TestClient(app) as client:
        assert client.get("/optional").text == "anonymous"
        assert client.get("/mixed", headers={"authorization": "Bearer t"}).text == "t:None"


def test_a_scheme_subclass_inherits_the_dependency_call() -> None:
    class TeamBearer(HTTPBearer):
        """A subclass that defines no ``__call__`` of its own."""

        def openapi(self) -> dict[str, Any]:
            return {**super().openapi(), "description": "Team tokens"}

    scheme = TeamBearer(scheme_name="team")
    app = App()

    @app.get("/team")
    async def team(token: Annotated[str, Depends(scheme)]) -> str:
        return token

    doc = document(app)
    assert doc["components"]["securitySchemes"]["team"]["description"] == "Team tokens"
    with TestClient(app) as client:
        assert client.get("/team").status_code == 401
        assert client.get("/team", headers={"authorization": "Bearer abc"}).text == "abc"
