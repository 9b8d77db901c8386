"""Models read field by field from the query string, headers or cookies; comma-separated
header lists; and embedded bodies (``Body(embed=True)``).  Good and bad input for each, the
422 naming the exact location of every issue."""

import dataclasses
import datetime
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest
from tests.support.problems import issue_locs, validation_issues

from avian import App, ConfigurationError
from avian.params import Body, Cookie, Header, Query
from avian.testing import TestClient


class Filters(msgspec.Struct, rename="camel"):
    text: str
    page_size: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20
    tags: list[str] = []
    since: datetime.date | None = None


@dataclasses.dataclass
class Paging:
    page: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if self.page * self.size > 10_000:
            raise ValueError("page * size must stay under 10000")


class Sorting(TypedDict, total=False):
    order: str
    desc: bool


class Client(msgspec.Struct):
    x_client_id: str
    x_client_version: int = 1


class Prefs(msgspec.Struct):
    theme: str = "light"
    font_size: Annotated[int, msgspec.Meta(ge=8)] = 12


class Item(msgspec.Struct):
    name: str
    price: float


class PydanticItem(pydantic.BaseModel):
    name: str
    price: float


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App()

    @app.get("/search")
    async def search(
        filters: Annotated[Filters, Query()],
        paging: Annotated[Paging | None, Query()] = None,
        sorting: Annotated[Sorting, Query()] = {},  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "filters": msgspec.to_builtins(filters),
            "paging": None if paging is None else dataclasses.asdict(paging),
            "sorting": sorting,
        }

    @app.get("/client")
    async def client_info(
        info: Annotated[Client, Header()], prefs: Annotated[Prefs, Cookie()]
    ) -> dict[str, Any]:
        return {"info": msgspec.to_builtins(info), "prefs": msgspec.to_builtins(prefs)}

    @app.get("/lists")
    async def lists(
        x_tags: Annotated[list[str], Header()] = [],  # noqa: B006
        x_ids: Annotated[list[int], Header(max_length=3)] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"tags": x_tags, "ids": x_ids}

    @app.post("/items")
    async def create_item(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    @app.post("/renamed")
    async def renamed(
        item: Annotated[PydanticItem, Body(embed=True, alias="thing")],
    ) -> dict[str, Any]:
        return item.model_dump()

    @app.post("/count")
    async def count(
        n: Annotated[int, Body(embed=True, ge=1)] = 5, q: Annotated[str, Query()] = "x"
    ) -> dict[str, Any]:
        return {"n": n, "q": q}

    with TestClient(app) as c:
        yield c


# --- query, header and cookie models ----------------------------------------------------------


def test_a_query_model_reads_each_field_by_its_wire_name(client: TestClient) -> None:
    reply = client.get(
        "/search?text=owl&pageSize=5&tags=a&tags=b&since=2024-02-29&page=3&order=name&desc=yes"
    )

    assert reply.json() == {
        "filters": {"text": "owl", "pageSize": 5, "tags": ["a", "b"], "since": "2024-02-29"},
        "paging": {"page": 3, "size": 20},
        "sorting": {"order": "name", "desc": True},
    }


def test_model_defaults_apply_and_an_optional_model_stays_none(client: TestClient) -> None:
    assert client.get("/search?text=owl").json() == {
        "filters": {"text": "owl", "pageSize": 20, "tags": [], "since": None},
        "paging": None,
        "sorting": {},
    }


def test_every_bad_model_field_is_reported_at_its_query_key(client: TestClient) -> None:
    reply = client.get("/search?pageSize=0&since=yesterday&size=big&desc=maybe")

    assert validation_issues(reply) == [
        {"loc": ["query", "text"], "msg": "Field required", "type": "missing"},
        {"loc": ["query", "pageSize"], "msg": "Expected `int` >= 1", "type": "validation_error"},
        {
            "loc": ["query", "since"],
            "msg": "Invalid RFC3339 encoded date",
            "type": "validation_error",
        },
        {"loc": ["query", "size"], "msg": "Expected `int`", "type": "validation_error"},
        {
            "loc": ["query", "desc"],
            "msg": "Expected `bool` (true/false, 1/0, yes/no, on/off)",
            "type": "validation_error",
        },
    ]


def test_a_model_refusing_the_combination_is_a_422_at_the_parameter(client: TestClient) -> None:
    reply = client.get("/search?text=a&page=1000&size=100")

    assert validation_issues(reply) == [
        {
            "loc": ["query", "paging"],
            "msg": "page * size must stay under 10000",
            "type": "validation_error",
        }
    ]


def test_header_and_cookie_models(client: TestClient) -> None:
    reply = client.get(
        "/client",
        headers={"x-client-id": "cli", "x-client-version": "3", "cookie": "font_size=14"},
    )
    assert reply.json() == {
        "info": {"x_client_id": "cli", "x_client_version": 3},
        "prefs": {"theme": "light", "font_size": 14},
    }

    bad = client.get("/client", headers={"x-client-version": "v3", "cookie": "font_size=6"})
    assert issue_locs(bad) == [
        ["header", "x-client-id"],
        ["header", "x-client-version"],
        ["cookie", "font_size"],
    ]


def test_a_model_with_a_non_scalar_field_is_refused_at_startup() -> None:
    class Nested(msgspec.Struct):
        inner: Item

    app = App(openapi=False)

    @app.get("/")
    async def handler(q: Annotated[Nested, Query()]) -> None: ...

    with pytest.raises(ConfigurationError, match="parameter 'q': field 'inner'"):
        app._freeze()


def test_a_pydantic_query_model_is_refused_at_startup() -> None:
    app = App(openapi=False)

    @app.get("/")
    async def handler(q: Annotated[PydanticItem, Query()]) -> None: ...

    with pytest.raises(ConfigurationError, match="must be a msgspec Struct, a dataclass"):
        app._freeze()


# --- comma-separated header lists -------------------------------------------------------------


def test_list_headers_split_commas_across_every_line(client: TestClient) -> None:
    reply = client.get(
        "/lists",
        headers=[
            ("x-tags", "a, b ,,c"),
            ("x-tags", '"d, e", f'),
            ("x-ids", "1,2"),
        ],
    )

    assert reply.json() == {"tags": ["a", "b", "c", "d, e", "f"], "ids": [1, 2]}


def test_bad_list_header_items_are_reported_by_index(client: TestClient) -> None:
    reply = client.get("/lists", headers=[("x-ids", "1, x"), ("x-ids", "y")])
    # Items are numbered across every line: "1, x" then "y".
    assert validation_issues(reply) == [
        {"loc": ["header", "x-ids", 1], "msg": "Expected `int`", "type": "validation_error"},
        {"loc": ["header", "x-ids", 2], "msg": "Expected `int`", "type": "validation_error"},
    ]

    too_many = client.get("/lists", headers={"x-ids": "1, 2, 3, 4"})
    assert validation_issues(too_many) == [
        {"loc": ["header", "x-ids"], "msg": "Expected at most 3 values", "type": "validation_error"}
    ]


# --- embedded bodies ---------------------------------------------------------------------------


def test_an_embedded_body_is_read_from_under_its_name(client: TestClient) -> None:
    reply = client.post("/items", json={"item": {"name": "owl", "price": 2.5}})
    assert reply.json() == {"name": "owl", "price": 2.5}

    renamed = client.post("/renamed", json={"thing": {"name": "owl", "price": 1}})
    assert renamed.json() == {"name": "owl", "price": 1.0}


def test_an_embedded_body_in_the_wrong_shape_is_a_422_inside_its_name(client: TestClient) -> None:
    not_embedded = client.post("/items", json={"name": "owl", "price": 2.5})
    assert issue_locs(not_embedded) == [["body", "item"]]

    bad_field = client.post("/items", json={"item": {"name": "owl", "price": "cheap"}})
    assert validation_issues(bad_field) == [
        {
            "loc": ["body", "item", "price"],
            "msg": "Expected `float`, got `str`",
            "type": "validation_error",
        }
    ]

    pydantic_bad = client.post("/renamed", json={"thing": {"name": 3}})
    assert issue_locs(pydantic_bad) == [["body", "thing", "name"], ["body", "thing", "price"]]


def test_an_embedded_body_with_a_default_and_constraints(client: TestClient) -> None:
    assert client.post("/count").json() == {"n": 5, "q": "x"}
    assert client.post("/count", json={}).json() == {"n": 5, "q": "x"}
    assert client.post("/count", json={"n": 9}).json() == {"n": 9, "q": "x"}

    reply = client.post("/count?q=", json={"n": 0})
    assert validation_issues(reply) == [
        {"loc": ["body", "n"], "msg": "Expected `int` >= 1", "type": "validation_error"}
    ]
    assert issue_locs(client.post("/count", json={"n": "two"})) == [["body", "n"]]
