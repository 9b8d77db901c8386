"""Typed request bodies: models of every kind, ``Body()`` on any type, forms and files."""

import dataclasses
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import msgspec
import pydantic
import pytest
from tests.support.problems import validation_issues

from avian import App, UploadFile
from avian.params import Body, File, Form, Query
from avian.testing import TestClient


class StructUser(msgspec.Struct):
    name: str
    age: int
    tags: list[str] = []


@dataclasses.dataclass
class DataclassUser:
    name: str
    age: int


class TypedDictUser(TypedDict):
    name: str
    age: int


class PydanticUser(pydantic.BaseModel):
    name: str
    age: int = pydantic.Field(ge=0)


class Address(msgspec.Struct):
    city: str
    zip: str


class Customer(msgspec.Struct):
    name: str
    addresses: list[Address]


class Signup(msgspec.Struct):
    email: str
    age: int
    interests: list[str] = []


class PydanticSignup(pydantic.BaseModel):
    email: str
    age: int


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App()

    @app.post("/struct")
    async def struct(user: StructUser) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user.name, "age": user.age}

    @app.post("/dataclass")
    async def dataclass_(user: DataclassUser) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user.name, "age": user.age}

    @app.post("/typeddict")
    async def typeddict(user: TypedDictUser) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user["name"], "age": user["age"]}

    @app.post("/pydantic")
    async def pydantic_(user: PydanticUser) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user.name, "age": user.age}

    @app.post("/pydantic-list")
    async def pydantic_list(users: Annotated[list[PydanticUser], Body()]) -> dict[str, Any]:
        return {"names": [u.name for u in users]}

    @app.post("/nested")
    async def nested(customer: Customer) -> dict[str, Any]:
        return {"cities": [a.city for a in customer.addresses]}

    @app.post("/ids")
    async def ids(ids: Annotated[list[int], Body(max_length=3)]) -> dict[str, Any]:
        return {"sum": sum(ids)}

    @app.post("/optional")
    async def optional(user: StructUser | None = None) -> dict[str, Any]:
        return {"user": None if user is None else user.name}

    @app.post("/untyped")
    async def untyped(body: Any) -> dict[str, Any]:
        return {"body": body if not hasattr(body, "to_dict") else body.to_dict()}

    @app.post("/with-query")
    async def with_query(user: StructUser, dry: Annotated[bool, Query()]) -> dict[str, Any]:
        return {"name": user.name, "dry": dry}

    @app.post("/form")
    async def form(
        name: Annotated[str, Form()],
        age: Annotated[int, Form(ge=0)],
        colors: Annotated[list[str], Form(alias="color")] = [],  # noqa: B006 - never mutated
        nickname: Annotated[str | None, Form()] = None,
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "colors": colors, "nickname": nickname}

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()],
        document: UploadFile,
        extras: Annotated[list[UploadFile], File(alias="extra")] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {
            "title": title,
            "document": [document.filename, (await document.read()).decode()],
            "extras": [e.filename for e in extras],
        }

    @app.post("/form-model")
    async def form_model(signup: Annotated[Signup, Form()]) -> dict[str, Any]:
        return msgspec.to_builtins(signup)  # type: ignore[no-any-return]

    @app.post("/form-pydantic")
    async def form_pydantic(signup: Annotated[PydanticSignup, Form()]) -> dict[str, Any]:
        return signup.model_dump()

    with TestClient(app) as c:
        yield c


MODEL_ROUTES = [
    ("/struct", "StructUser"),
    ("/dataclass", "DataclassUser"),
    ("/typeddict", "dict"),
    ("/pydantic", "PydanticUser"),
]


@pytest.mark.parametrize(("path", "type_name"), MODEL_ROUTES)
def test_model_body_is_decoded(client: TestClient, path: str, type_name: str) -> None:
    response = client.post(path, json={"name": "Ada", "age": 36})

    assert response.json() == {"type": type_name, "name": "Ada", "age": 36}


@pytest.mark.parametrize(("path", "type_name"), MODEL_ROUTES)
def test_model_body_with_a_wrong_type_is_a_422(
    client: TestClient, path: str, type_name: str
) -> None:
    found = validation_issues(client.post(path, json={"name": "Ada", "age": "old"}))

    assert [i["loc"] for i in found] == [["body", "age"]]


@pytest.mark.parametrize(("path", "type_name"), MODEL_ROUTES)
def test_model_body_missing_a_field_is_a_422(client: TestClient, path: str, type_name: str) -> None:
    found = validation_issues(client.post(path, json={"name": "Ada"}))

    assert [i["loc"] for i in found] == [["body", "age"]]


@pytest.mark.parametrize(("path", "type_name"), MODEL_ROUTES)
def test_model_body_needs_json(client: TestClient, path: str, type_name: str) -> None:
    response = client.post(path, content=b'{"name": "Ada", "age": 1}')

    assert response.status_code == 415


def test_pydantic_lists_every_issue_with_its_own_type(client: TestClient) -> None:
    found = validation_issues(client.post("/pydantic", json={"name": 5, "age": -1}))

    assert [(i["loc"], i["type"]) for i in found] == [
        (["body", "name"], "string_type"),
        (["body", "age"], "greater_than_equal"),
    ]
    assert all("input" not in i for i in found)


def test_list_of_pydantic_models(client: TestClient) -> None:
    response = client.post("/pydantic-list", json=[{"name": "a", "age": 1}, {"name": "b"}])
    assert [i["loc"] for i in validation_issues(response)] == [["body", 1, "age"]]

    response = client.post("/pydantic-list", json=[{"name": "a", "age": 1}])
    assert response.json() == {"names": ["a"]}


def test_nested_issue_location(client: TestClient) -> None:
    body = {"name": "x", "addresses": [{"city": "a", "zip": "1"}, {"city": "b", "zip": 2}]}

    found = validation_issues(client.post("/nested", json=body))

    assert found == [
        {
            "loc": ["body", "addresses", 1, "zip"],
            "msg": "Expected `str`, got `int`",
            "type": "validation_error",
        }
    ]


def test_body_marker_on_a_plain_type_with_a_constraint(client: TestClient) -> None:
    assert client.post("/ids", json=[1, 2, 3]).json() == {"sum": 6}
    assert [i["loc"] for i in validation_issues(client.post("/ids", json=[1, "x"]))] == [
        ["body", 1]
    ]
    assert validation_issues(client.post("/ids", json=[1, 2, 3, 4]))[0]["loc"] == ["body"]


def test_optional_body_may_be_left_out(client: TestClient) -> None:
    assert client.post("/optional").json() == {"user": None}
    assert client.post("/optional", json={"name": "a", "age": 1}).json() == {"user": "a"}
    assert validation_issues(client.post("/optional", json={"name": "a"}))[0]["loc"] == [
        "body",
        "age",
    ]
    assert (
        client.post("/optional", content=b"x", headers={"content-type": "text/plain"}).status_code
        == 415
    )


def test_untyped_body_is_parsed_by_content_type(client: TestClient) -> None:
    assert client.post("/untyped", json={"a": 1}).json() == {"body": {"a": 1}}
    assert client.post("/untyped", data={"a": "1"}).json() == {"body": {"a": "1"}}


def test_body_and_query_issues_are_reported_together(client: TestClient) -> None:
    response = client.post("/with-query?dry=perhaps", json={"name": "a", "age": "x"})

    assert [i["loc"] for i in validation_issues(response)] == [["query", "dry"], ["body", "age"]]


def test_malformed_json_is_still_a_400(client: TestClient) -> None:
    response = client.post(
        "/struct", content=b'{"name": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 400


# --- forms ---------------------------------------------------------------------------------------


def test_form_fields(client: TestClient) -> None:
    response = client.post(
        "/form", data={"name": "Ada", "age": "36", "color": ["red", "blue"], "nickname": ""}
    )

    assert response.json() == {
        "name": "Ada",
        "age": 36,
        "colors": ["red", "blue"],
        "nickname": "",
    }


def test_bad_form_fields_are_all_listed(client: TestClient) -> None:
    response = client.post("/form", data={"age": "-1"})

    assert validation_issues(response) == [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "age"], "msg": "Expected `int` >= 0", "type": "validation_error"},
    ]


def test_form_fields_need_a_form(client: TestClient) -> None:
    assert client.post("/form", json={"name": "x", "age": 1}).status_code == 415


def test_uploaded_files(client: TestClient) -> None:
    response = client.post(
        "/upload",
        data={"title": "report"},
        files=[
            ("document", ("a.txt", b"hello", "text/plain")),
            ("extra", ("b.txt", b"1", "text/plain")),
            ("extra", ("c.txt", b"2", "text/plain")),
        ],
    )

    assert response.json() == {
        "title": "report",
        "document": ["a.txt", "hello"],
        "extras": ["b.txt", "c.txt"],
    }


def test_missing_file_and_text_in_place_of_a_file_are_422(client: TestClient) -> None:
    response = client.post(
        "/upload", data={"title": "t"}, files=[("extra", ("b.txt", b"1", "text/plain"))]
    )
    assert validation_issues(response) == [
        {"loc": ["body", "document"], "msg": "Field required", "type": "missing"}
    ]

    response = client.post(
        "/upload",
        data={"title": "t", "document": "not a file"},
        files=[("extra", ("b.txt", b"1", "text/plain"))],
    )
    assert validation_issues(response)[0]["loc"] == ["body", "document"]


def test_form_into_a_model(client: TestClient) -> None:
    response = client.post(
        "/form-model", data={"email": "a@b.c", "age": "30", "interests": ["x", "y"]}
    )
    assert response.json() == {"email": "a@b.c", "age": 30, "interests": ["x", "y"]}

    assert validation_issues(client.post("/form-model", data={"email": "a@b.c", "age": "old"}))[0][
        "loc"
    ] == [
        "body",
        "age",
    ]


def test_form_into_a_pydantic_model(client: TestClient) -> None:
    response = client.post("/form-pydantic", data={"email": "a@b.c", "age": "30"})
    assert response.json() == {"email": "a@b.c", "age": 30}

    assert validation_issues(client.post("/form-pydantic", data={"email": "a@b.c"}))[0]["loc"] == [
        "body",
        "age",
    ]
