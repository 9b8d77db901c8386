"""A rich app for the OpenAPI tests: every parameter kind, each body model kind, response
models, groups and tags, security, deprecated and hidden routes, and model name clashes."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from typing import Annotated, TypedDict

import msgspec
import pydantic

from avian import App, Context
from avian.openapi import APIKey, HTTPBasic, HTTPBearer, OAuth2, OAuthFlow, OpenAPIConfig
from avian.params import Body, Cookie, Depends, Header, Query

from . import clash_a, clash_b, clash_c


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(msgspec.Struct):
    """An item in the catalogue."""

    id: int
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    colour: Colour = Colour.RED
    tags: list[str] = []


class NewItem(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    colour: Colour = Colour.RED


@dataclasses.dataclass
class Address:
    street: str
    city: str


class Profile(TypedDict):
    nickname: str
    age: int


class Account(pydantic.BaseModel):
    email: str
    balance: int = pydantic.Field(ge=0, le=1_000_000)


bearer = HTTPBearer(bearer_format="JWT", description="A signed token")
basic = HTTPBasic(realm="sample")
api_key = APIKey(name="X-API-Key", location="header")
query_key = APIKey(name="key", location="query", scheme_name="QueryKey")
oauth = OAuth2(
    flows={
        "password": OAuthFlow(token_url="/token", scopes={"read": "Read", "write": "Write"}),
        "authorization_code": {
            "authorizationUrl": "https://auth.example/authorize",
            "tokenUrl": "https://auth.example/token",
            "scopes": {"read": "Read"},
        },
    }
)

app = App(
    title="Sample API",
    version="2.1.0",
    description="The sample the OpenAPI tests read.",
    openapi=OpenAPIConfig(
        security_schemes={"bearer": bearer, "basic": basic, "apiKey": api_key, "oauth": oauth},
        servers=["https://api.example.com"],
        contact={"name": "Avian", "email": "team@example.com"},
        license={"name": "MIT", "identifier": "MIT"},
        tags=[{"name": "items", "description": "The catalogue"}],
        terms_of_service="https://example.com/terms",
    ),
)

ITEMS: dict[int, Item] = {1: Item(1, "kettle", Colour.BLUE, ["kitchen"])}

items = app.group("/items", name="items")


@items.get("/")
async def list_items(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size", examples=[10])] = 20,
    colour: Colour | None = None,
    tag: Annotated[list[str] | None, Query()] = None,
) -> list[Item]:
    """List the items.

    Filters combine with AND.
    """
    found = [i for i in ITEMS.values() if colour is None or i.colour == colour]
    if tag:
        found = [i for i in found if set(tag) & set(i.tags)]
    return found[:limit]


@items.get("/{item_id}", responses={404: "No such item"})
async def get_item(item_id: int) -> Item:
    """Fetch one item."""
    item = ITEMS.get(item_id)
    if item is None:
        from avian import errors

        raise errors.not_found("no such item")
    return item


@items.post("/", status=201, security=[{"bearer": []}])
async def create_item(new: NewItem, token: str = Depends(bearer)) -> Item:
    """Create an item."""
    return Item(len(ITEMS) + 1, new.name, new.colour)


@items.delete("/{item_id}", deprecated=True, security=[{"oauth": ["write"]}])
async def delete_item(item_id: int) -> None:
    """Remove an item (use archive instead)."""


people = app.group("/people", tags=["people"], security=[{"apiKey": []}])


@people.post("/{person_id:uuid}/address")
async def set_address(person_id: uuid.UUID, address: Address) -> Address:
    return address


@people.put("/{person_id:uuid}/profile")
async def set_profile(person_id: uuid.UUID, profile: Profile) -> Profile:
    return profile


@people.post("/accounts", security=[])
async def open_account(account: Account) -> Account:
    """Open an account (no key needed)."""
    return account


@app.get("/whoami", tags=["auth"])
async def whoami(
    user_agent: Annotated[str | None, Header()] = None,
    session: Annotated[str | None, Cookie()] = None,
    credentials: object = Depends(basic),
) -> dict[str, str | None]:
    return {"agent": user_agent, "session": session}


@app.get("/clash/a")
async def clash_a_route() -> clash_a.Thing:
    return clash_a.Thing(a=1)


@app.get("/clash/b")
async def clash_b_route() -> clash_b.Thing:
    return clash_b.Thing(b="x")


@app.get("/clash/pydantic")
async def clash_pydantic_route() -> clash_b.PydThing:
    return clash_b.PydThing(c=1.5)


@app.post("/clash/pydantic-thing")
async def clash_pydantic_thing(thing: clash_c.Thing) -> clash_c.Thing:
    return thing


@app.post("/echo", operation_id="echoAnything", summary="Echo", openapi_extra={"x-echo": True})
async def echo(body: Annotated[dict[str, int], Body(examples=[{"a": 1}])]) -> dict[str, int]:
    return body


@app.get("/search/key")
async def search_with_key(q: str = "", key: str = Depends(query_key)) -> list[str]:
    return [q]


@app.get("/internal", include_in_schema=False)
async def internal() -> dict[str, bool]:
    return {"ok": True}


hidden = app.group("/hidden", include_in_schema=False)


@hidden.get("/x")
async def hidden_x() -> str:
    return "x"


@app.get("/plain")
async def plain(ctx: Context) -> str:
    return "hello"
