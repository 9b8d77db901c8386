"""The generated OpenAPI 3.1 document: validity, and what each route contributes."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import msgspec
import pytest
from helpers import component, document, operation
from tests.openapi.apps import clash_a, clash_c, sample

from avian import App, ConfigurationError, JSONResponse, Router
from avian.http.uploads import UploadFile
from avian.openapi import HTTPBearer, OpenAPIConfig, build_openapi
from avian.openapi import document as document_module
from avian.params import File, Form, Path, Query
from avian.testing import TestClient


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document(sample.app)


class Pet(msgspec.Struct):
    name: str


def test_the_sample_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {
        "title": "Sample API",
        "version": "2.1.0",
        "description": "The sample the OpenAPI tests read.",
        "termsOfService": "https://example.com/terms",
        "contact": {"name": "Avian", "email": "team@example.com"},
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    assert doc["servers"] == [{"url": "https://api.example.com"}]


def test_docstrings_give_summary_and_description(doc: dict[str, Any]) -> None:
    listing = operation(doc, "GET", "/items")
    assert listing["summary"] == "List the items."
    assert listing["description"] == "Filters combine with AND."
    assert operation(doc, "GET", "/items/{item_id}")["summary"] == "Fetch one item."
    assert "description" not in operation(doc, "GET", "/items/{item_id}")
    # Explicit metadata wins; without a docstring the name is the summary.
    assert operation(doc, "POST", "/echo")["summary"] == "Echo"
    assert operation(doc, "GET", "/plain")["summary"] == "Plain"


def test_tags_come_from_groups_named_groups_and_routes(doc: dict[str, Any]) -> None:
    assert operation(doc, "GET", "/items")["tags"] == ["items"]  # a named group
    assert operation(doc, "POST", "/people/accounts")["tags"] == ["people"]
    assert operation(doc, "GET", "/whoami")["tags"] == ["auth"]
    assert "tags" not in operation(doc, "GET", "/plain")
    # Configured tag metadata first, then the others in first-use order.
    assert doc["tags"] == [
        {"name": "items", "description": "The catalogue"},
        {"name": "auth"},
        {"name": "people"},
    ]


def test_every_parameter_kind_is_described(doc: dict[str, Any]) -> None:
    params = {p["name"]: p for p in operation(doc, "GET", "/items")["parameters"]}
    assert params["limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "default": 20,
            "examples": [10],
        },
        "description": "Page size",
        "example": 10,
    }
    assert component(doc, params["colour"]["schema"]) == {
        "title": "Colour",
        "enum": ["blue", "red"],
    }
    assert params["tag"]["schema"] == {"type": "array", "items": {"type": "string"}}
    path = operation(doc, "GET", "/items/{item_id}")["parameters"]
    assert path == [
        {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    uuid_param = operation(doc, "POST", "/people/{person_id}/address")["parameters"][0]
    assert uuid_param["schema"] == {"type": "string", "format": "uuid"}
    whoami = {(p["in"], p["name"]) for p in operation(doc, "GET", "/whoami")["parameters"]}
    assert whoami == {("header", "user-agent"), ("cookie", "session")}


def test_bodies_of_each_model_kind(doc: dict[str, Any]) -> None:
    def body_schema(method: str, path: str) -> dict[str, Any]:
        body = operation(doc, method, path)["requestBody"]
        assert body["required"] is True
        return component(doc, body["content"]["application/json"]["schema"])

    assert body_schema("POST", "/items")["required"] == ["name"]  # msgspec Struct
    assert set(body_schema("POST", "/people/{person_id}/address")["properties"]) == {
        "street",
        "city",
    }  # dataclass
    assert sorted(body_schema("PUT", "/people/{person_id}/profile")["required"]) == [
        "age",
        "nickname",
    ]
    account = body_schema("POST", "/people/accounts")  # pydantic
    assert account["properties"]["balance"]["maximum"] == 1_000_000
    echo = operation(doc, "POST", "/echo")["requestBody"]["content"]["application/json"]
    assert echo == {
        "schema": {"type": "object", "additionalProperties": {"type": "integer"}},
        "examples": {"example1": {"value": {"a": 1}}},
    }


def test_response_models_statuses_and_media_types(doc: dict[str, Any]) -> None:
    created = operation(doc, "POST", "/items")["responses"]["201"]
    assert created["description"] == "Successful Response"
    item = component(doc, created["content"]["application/json"]["schema"])
    assert item["required"] == ["id", "name"]
    listing = operation(doc, "GET", "/items")["responses"]["200"]["content"]["application/json"]
    assert listing["schema"]["type"] == "array"
    deleted = operation(doc, "DELETE", "/items/{item_id}")["responses"]
    assert deleted["204"] == {"description": "No Content"}
    plain = operation(doc, "GET", "/plain")["responses"]["200"]["content"]
    assert plain == {"text/plain": {"schema": {"type": "string"}}}


def test_operations_with_input_document_the_422_problem(doc: dict[str, Any]) -> None:
    responses = operation(doc, "POST", "/items")["responses"]
    schema = responses["422"]["content"]["application/problem+json"]["schema"]
    validation = component(doc, schema)
    assert validation["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
    issue = doc["components"]["schemas"]["ValidationIssue"]
    assert issue["required"] == ["loc", "msg"]
    assert doc["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
        "detail",
        "code",
    ]
    # A path parameter alone is matched by the router (404), not validated (422).
    assert "422" not in operation(doc, "GET", "/items/{item_id}")["responses"]
    # The documented shape is what a bad request gets.
    with TestClient(sample.app) as client:
        reply = client.post("/people/accounts", json={"email": "a@b.c", "balance": -1})
    assert reply.status_code == 422
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["details"]["issues"][0]["loc"][:2] == ["body", "balance"]


def test_explicit_responses_deprecated_operation_id_and_extra(doc: dict[str, Any]) -> None:
    not_found = operation(doc, "GET", "/items/{item_id}")["responses"]["404"]
    assert not_found["description"] == "No such item"
    assert "application/problem+json" in not_found["content"]
    assert operation(doc, "DELETE", "/items/{item_id}")["deprecated"] is True
    echo = operation(doc, "POST", "/echo")
    assert echo["operationId"] == "echoAnything"
    assert echo["x-echo"] is True
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_hidden_routes_groups_docs_routes_and_websockets_are_left_out(
    doc: dict[str, Any],
) -> None:
    for path in ("/internal", "/hidden/x", "/openapi.json", "/openapi.yaml", "/docs"):
        assert path not in doc["paths"]
    app = App()

    @app.ws("/live")
    async def live(ws: Any) -> None:
        await ws.close()

    @app.get("/seen")
    async def seen() -> dict[str, int]:
        return {}

    assert list(document(app)["paths"]) == ["/seen"]


def test_models_with_the_same_name_get_distinct_deterministic_names(
    doc: dict[str, Any],
) -> None:
    schemas = doc["components"]["schemas"]

    def response_schema(path: str) -> dict[str, Any]:
        content = operation(doc, "GET", path)["responses"]["200"]["content"]
        return component(doc, content["application/json"]["schema"])

    assert response_schema("/clash/a")["properties"] == {"a": {"type": "integer"}}
    assert response_schema("/clash/b")["properties"] == {"b": {"type": "string"}}
    names = {n for n in schemas if n.endswith("Thing")}
    assert names == {
        "tests.openapi.apps.clash_a.Thing",
        "tests.openapi.apps.clash_b.Thing",
        "Thing",  # the pydantic one
        "PydThing",
    }
    assert schemas["Thing"]["properties"] == {"d": {"title": "D", "type": "boolean"}}


def test_a_pydantic_model_clashing_with_a_msgspec_one_is_renamed() -> None:
    app = App()

    @app.get("/a")
    async def a() -> clash_a.Thing:
        return clash_a.Thing(1)

    @app.post("/c")
    async def c(thing: clash_c.Thing) -> dict[str, bool]:
        return {}

    schemas = document(app)["components"]["schemas"]
    assert schemas["Thing"]["properties"] == {"a": {"type": "integer"}}
    assert schemas["tests.openapi.apps.clash_c.Thing"]["properties"]["d"]["type"] == "boolean"


def test_the_same_routes_give_the_same_document() -> None:
    def build() -> dict[str, Any]:
        app = App()
        for group in ("one", "two"):
            router = app.group(f"/{group}", name=group)

            @router.get("/pets")
            async def list_pets() -> list[Pet]:
                return []

        return build_openapi(app)

    first, second = build(), build()
    assert first == second
    ids = [op["get"]["operationId"] for op in first["paths"].values()]
    assert ids == ["list_pets", "get_two_pets"]


def test_explicit_operation_ids_must_be_unique() -> None:
    app = App()

    @app.get("/a", operation_id="same")
    async def a() -> None: ...

    @app.get("/b", operation_id="same")
    async def b() -> None: ...

    with pytest.raises(ConfigurationError, match="operation_id 'same'"):
        build_openapi(app)


def test_explicit_responses_forms() -> None:
    app = App()

    @app.get(
        "/pet",
        responses={
            200: {"description": "The pet", "headers": {"X-Count": "How many"}},
            "4XX": {"description": "Client error"},
            409: Pet,
            410: {"content": {"text/plain": {"schema": {"type": "string"}}}},
            418: {"model": Pet, "examples": {"tea": {"name": "teapot"}}},
        },
        response_description="ignored when 200 says otherwise",
    )
    async def pet() -> Pet:
        return Pet("rex")

    responses = operation(document(app), "GET", "/pet")["responses"]
    assert responses["200"]["description"] == "The pet"
    assert responses["200"]["headers"] == {
        "X-Count": {"description": "How many", "schema": {"type": "string"}}
    }
    assert responses["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    assert "application/problem+json" in responses["4XX"]["content"]
    assert responses["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Pet")
    assert responses["410"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert responses["418"]["content"]["application/json"]["examples"] == {
        "tea": {"value": {"name": "teapot"}}
    }

    bad = App()

    @bad.get("/x", responses={"oops": "no"})
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="not a status code"):
        build_openapi(bad)


def test_validation_responses_can_be_switched_off() -> None:
    app = App(openapi=OpenAPIConfig(validation_responses=False))

    @app.get("/find")
    async def find(q: Annotated[str, Query()]) -> list[str]:
        return [q]

    responses = operation(document(app), "GET", "/find")["responses"]
    assert list(responses) == ["200"]


def test_method_agnostic_and_head_routes() -> None:
    app = App()

    @app.all("/any")
    async def anything() -> dict[str, str]:
        return {}

    @app.route("/page", methods=["GET", "HEAD"])
    async def page() -> str:
        return "page"

    @app.head("/ping")
    async def ping() -> None: ...

    paths = document(app)["paths"]
    assert list(paths["/any"]) == ["get", "post", "put", "patch", "delete"]
    assert paths["/any"]["post"]["operationId"] == "anything_post"
    assert list(paths["/page"]) == ["get"]
    assert list(paths["/ping"]) == ["head"]


def test_path_markers_and_form_uploads() -> None:
    app = App()

    @app.get("/users/{user_id}")
    async def user(user_id: Annotated[int, Path(ge=1, description="The user")]) -> dict[str, int]:
        return {"id": user_id}

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()], file: Annotated[UploadFile, File()]
    ) -> dict[str, str]:
        return {"title": title}

    doc = document(app)
    param = operation(doc, "GET", "/users/{user_id}")["parameters"][0]
    assert param["schema"] == {"type": "integer", "minimum": 1}
    assert param["description"] == "The user"
    body = operation(doc, "POST", "/upload")["requestBody"]["content"]
    form = component(doc, body["multipart/form-data"]["schema"])
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["properties"]["title"] == {"type": "string"}


def test_limit_constraints_on_lists_become_item_counts() -> None:
    app = App()

    @app.get("/pick")
    async def pick(ids: Annotated[list[int], Query(min_length=1, max_length=5)]) -> list[int]:
        return ids

    schema = operation(document(app), "GET", "/pick")["parameters"][0]["schema"]
    assert schema == {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 5}


def test_metadata_from_config_overrides_the_app() -> None:
    app = App(
        title="app title",
        version="1",
        openapi=OpenAPIConfig(
            title="Doc title",
            version="9",
            description="From config",
            summary="One line",
            external_docs={"url": "https://docs.example"},
            extra={"x-owner": "team"},
        ),
    )
    doc = document(app)
    assert doc["info"] == {
        "title": "Doc title",
        "version": "9",
        "summary": "One line",
        "description": "From config",
    }
    assert doc["externalDocs"] == {"url": "https://docs.example"}
    assert doc["x-owner"] == "team"


def test_the_document_is_built_on_first_use_and_cached() -> None:
    app = App()

    @app.get("/pets")
    async def pets() -> list[Pet]:
        return []

    with TestClient(app) as client:
        assert client.get("/pets").status_code == 200
        assert app not in document_module._cache  # startup and other requests: not built
        first = client.get("/openapi.json").json()
        assert app in document_module._cache
        assert client.get("/openapi.json").json() == first
    assert build_openapi(app) is build_openapi(app)


def test_an_app_with_docs_switched_off_still_builds_its_document() -> None:
    app = App(openapi=False)

    @app.get("/pets")
    async def pets() -> list[Pet]:
        return []

    assert list(document(app)["paths"]) == ["/pets"]


def test_five_hundred_routes_build_a_valid_document() -> None:
    app = App()
    for index in range(100):
        router = Router(f"/r{index}", tags=[f"t{index % 7}"])

        @router.get("/{item_id}")
        async def get_one(item_id: int, q: str | None = None) -> Pet:
            return Pet("x")

        @router.post("/")
        async def create(pet: Pet) -> Pet:
            return pet

        @router.put("/{item_id}")
        async def replace(item_id: int, pet: Pet) -> Pet:
            return pet

        @router.delete("/{item_id}")
        async def remove(item_id: int) -> None: ...

        @router.get("/")
        async def listing(limit: int = 10) -> list[Pet]:
            return []

        app.include(router)
    doc = document(app)
    assert sum(len(item) for item in doc["paths"].values()) == 500


def test_a_response_class_return_is_not_a_model() -> None:
    app = App()

    @app.get("/raw")
    async def raw() -> JSONResponse:
        return JSONResponse({"a": 1})

    assert operation(document(app), "GET", "/raw")["responses"]["200"] == {
        "description": "Successful Response"
    }


def test_openapi_extra_must_be_a_dict() -> None:
    app = App()

    @app.get("/x", openapi_extra=["no"])
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="openapi_extra"):
        build_openapi(app)


@dataclasses.dataclass
class Owner:
    pet: Pet


def test_nested_models_are_components_referenced_once() -> None:
    app = App()

    @app.get("/owner")
    async def owner() -> Owner:
        return Owner(Pet("rex"))

    @app.get("/pet")
    async def pet() -> Pet:
        return Pet("rex")

    schemas = document(app)["components"]["schemas"]
    assert schemas["Owner"]["properties"]["pet"] == {"$ref": "#/components/schemas/Pet"}
    assert list(schemas).count("Pet") == 1


def test_security_scheme_found_in_a_dependency_is_registered() -> None:
    from avian.params import Depends

    token = HTTPBearer(scheme_name="token")
    app = App()

    @app.get("/me")
    async def me(value: str = Depends(token)) -> dict[str, str]:
        return {"token": value}

    doc = document(app)
    assert doc["components"]["securitySchemes"] == {"token": {"type": "http", "scheme": "bearer"}}
    me_op = operation(doc, "GET", "/me")
    assert me_op["security"] == [{"token": []}]
    assert "401" in me_op["responses"]
