"""Response models: the return annotation or ``response_model=`` shapes what is sent."""

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest

from avian import App, Context, Response
from avian.params import ResponseValidationError
from avian.testing import TestClient


class PublicUser(msgspec.Struct):
    name: str
    age: int


class PrivateUser(PublicUser):
    password: str = "secret"


@dataclasses.dataclass
class DataclassUser:
    name: str
    age: int


class TypedDictUser(TypedDict):
    name: str
    age: int


class PydanticUser(pydantic.BaseModel):
    name: str
    age: int


class OrmRow:
    """What an ORM hands back: attributes, not a mapping."""

    def __init__(self) -> None:
        self.name = "row"
        self.age = 9
        self.password = "hunter2"


FULL = {"name": "Ada", "age": 36, "password": "hunter2"}


@pytest.fixture
def reported() -> list[BaseException]:
    return []


@pytest.fixture
def client(reported: list[BaseException]) -> Iterator[TestClient]:
    app = App(log_exceptions=False)
    app.on_error(lambda error, ctx: reported.append(error))

    @app.get("/struct")
    async def struct() -> PublicUser:
        return FULL  # type: ignore[return-value]

    @app.get("/subclass")
    async def subclass() -> PublicUser:
        return PrivateUser("Ada", 36)

    @app.get("/exact")
    async def exact() -> PublicUser:
        return PublicUser("Ada", 36)

    @app.get("/dataclass")
    async def dataclass_() -> DataclassUser:
        return FULL  # type: ignore[return-value]

    @app.get("/typeddict")
    async def typeddict() -> TypedDictUser:
        return FULL  # type: ignore[return-value]

    @app.get("/pydantic")
    async def pydantic_() -> PydanticUser:
        return FULL  # type: ignore[return-value]

    @app.get("/pydantic-list")
    async def pydantic_list() -> list[PydanticUser]:
        return [FULL, OrmRow()]  # type: ignore[list-item]

    @app.get("/orm")
    async def orm() -> PublicUser:
        return OrmRow()  # type: ignore[return-value]

    @app.get("/list")
    async def list_() -> list[PublicUser]:
        return [FULL, PrivateUser("b", 2), OrmRow()]  # type: ignore[list-item]

    @app.get("/dict")
    async def dict_() -> dict[str, PublicUser]:
        return {"a": FULL}  # type: ignore[dict-item]

    @app.get("/optional")
    async def optional(missing: bool = False) -> PublicUser | None:
        return None if missing else FULL  # type: ignore[return-value]

    @app.get("/option", response_model=PublicUser)
    async def option() -> dict[str, Any]:
        return FULL

    @app.get("/option-none", response_model=None)
    async def option_none() -> PublicUser:
        return FULL  # type: ignore[return-value]

    @app.get("/plain")
    async def plain() -> dict[str, Any]:
        return FULL

    @app.get("/any")
    async def any_() -> Any:
        return FULL

    @app.get("/response")
    async def response(ctx: Context) -> PublicUser | Response:
        return ctx.json(FULL)

    @app.get("/wrong")
    async def wrong() -> PublicUser:
        return {"name": "Ada"}  # type: ignore[return-value]

    @app.get("/wrong-pydantic")
    async def wrong_pydantic() -> PydanticUser:
        return {"name": "Ada"}  # type: ignore[return-value]

    @app.post("/created", status=201)
    async def created(user: PublicUser) -> PublicUser:
        return user

    @app.get("/sync")
    def sync() -> PublicUser:
        return FULL  # type: ignore[return-value]

    @app.get("/path/{id}")
    async def path(id: int) -> PublicUser:
        return {"name": str(id), "age": id, "password": "x"}  # type: ignore[return-value]

    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    "path",
    ["/struct", "/subclass", "/exact", "/dataclass", "/typeddict", "/pydantic", "/option", "/sync"],
)
def test_output_is_filtered_to_the_model(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.json() == {"name": "Ada", "age": 36}


def test_objects_are_read_by_attribute(client: TestClient) -> None:
    assert client.get("/orm").json() == {"name": "row", "age": 9}


def test_containers_of_models_are_filtered(client: TestClient) -> None:
    assert client.get("/list").json() == [
        {"name": "Ada", "age": 36},
        {"name": "b", "age": 2},
        {"name": "row", "age": 9},
    ]
    assert client.get("/dict").json() == {"a": {"name": "Ada", "age": 36}}
    assert client.get("/pydantic-list").json() == [
        {"name": "Ada", "age": 36},
        {"name": "row", "age": 9},
    ]


def test_optional_model(client: TestClient) -> None:
    assert client.get("/optional").json() == {"name": "Ada", "age": 36}
    assert client.get("/optional?missing=1").status_code == 204


def test_non_model_annotations_are_not_touched(client: TestClient) -> None:
    assert client.get("/plain").json() == FULL
    assert client.get("/any").json() == FULL
    assert client.get("/option-none").json() == FULL


def test_a_response_object_passes_through(client: TestClient) -> None:
    assert client.get("/response").json() == FULL


def test_route_status_and_direct_shapes_keep_working(client: TestClient) -> None:
    response = client.post("/created", json={"name": "a", "age": 1})
    assert response.status_code == 201
    assert response.json() == {"name": "a", "age": 1}

    assert client.get("/path/4").json() == {"name": "4", "age": 4}


@pytest.mark.parametrize("path", ["/wrong", "/wrong-pydantic"])
def test_a_value_that_does_not_fit_is_a_logged_500(
    client: TestClient,
    reported: list[BaseException],
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    response = client.get(path)

    assert response.status_code == 500
    assert "Ada" not in response.text
    assert len(reported) == 1
    assert isinstance(reported[0], ResponseValidationError)
    assert "response model" in str(reported[0])


def test_response_validation_errors_are_logged_by_default(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.get("/wrong")
    async def wrong() -> PublicUser:
        return {"name": "x"}  # type: ignore[return-value]

    with caplog.at_level(logging.ERROR), TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/wrong")

    assert response.status_code == 500
    assert "does not match the response model PublicUser" in caplog.text
