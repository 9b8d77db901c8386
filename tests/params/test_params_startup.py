"""What is decided at startup: bad signatures fail there, and every route gets its specs."""

import dataclasses
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import pytest

from avian import App, ConfigurationError, UploadFile
from avian.params import (
    Body,
    BodySpec,
    Constraints,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    ParamSpec,
    Path,
    Query,
    ResponseSpec,
)
from avian.testing import LifespanError, TestClient


class Item(msgspec.Struct):
    name: str


@dataclasses.dataclass
class Other:
    x: int


def startup_error(register: Callable[[App], None]) -> str:
    app = App(openapi=False)
    register(app)
    with pytest.raises(ConfigurationError) as info:
        app._freeze()
    return str(info.value)


# --- bad signatures ----------------------------------------------------------------------------


def test_unknown_parameter_without_default_names_the_path_parameters() -> None:
    def register(app: App) -> None:
        @app.get("/users/{user_id}")
        async def handler(id: int) -> None: ...

    message = startup_error(register)
    assert "route GET /users/{user_id:int}" not in message or "user_id" in message
    assert "cannot tell where parameter 'id' comes from (path parameters: user_id)" in message
    assert "Query()" in message


def test_unannotated_parameter_without_default_is_unknowable() -> None:
    def register(app: App) -> None:
        @app.get("/")
        async def handler(thing) -> None: ...  # type: ignore[no-untyped-def]

    assert "cannot tell where parameter 'thing'" in startup_error(register)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda app: app.get("/")(lambda *args: None),
            "*args/**kwargs are not supported",
        ),
        (
            lambda app: app.post("/")(_two_bodies),
            "only one body",
        ),
        (
            lambda app: app.post("/")(_json_and_form),
            "a JSON body and form fields cannot be mixed",
        ),
        (
            lambda app: app.get("/")(_marker_twice),
            "marker both in Annotated and as its default",
        ),
        (
            lambda app: app.get("/")(_two_defaults),
            "two defaults",
        ),
        (
            lambda app: app.get("/")(_query_model),
            "query values must be scalars",
        ),
        (
            lambda app: app.get("/")(_bad_constraint),
            "Can only set `ge` on a numeric type",
        ),
        (
            lambda app: app.get("/")(_path_not_in_route),
            "Path() parameter 'nope' is not in the route's path",
        ),
        (
            lambda app: app.get("/")(_depends_without_class),
            "Depends() without a provider needs a class annotation",
        ),
        (
            lambda app: app.post("/")(_file_not_upload),
            "must be an UploadFile",
        ),
        (
            lambda app: app.get("/", dependencies=[42])(_ok),
            "dependencies must be Depends(...) or callables",
        ),
        (
            lambda app: app.get("/")(_bad_provider_signature),
            "dependency",
        ),
    ],
)
def test_bad_signatures_fail_at_startup(build: Callable[[App], Any], message: str) -> None:
    assert message in startup_error(build)


def test_depends_needs_a_callable() -> None:
    with pytest.raises(ConfigurationError, match="needs a callable"):
        Depends(42)  # type: ignore[arg-type]


def test_startup_errors_come_out_of_the_test_client() -> None:
    app = App()

    @app.get("/")
    async def handler(x: Annotated[dict[str, int], Query()]) -> None: ...

    with pytest.raises(LifespanError, match="route GET /: parameter 'x'"), TestClient(app):
        pass


async def _ok() -> None: ...


async def _two_bodies(a: Item, b: Other) -> None: ...


async def _json_and_form(a: Item, b: Annotated[str, Form()]) -> None: ...


async def _marker_twice(q: Annotated[int, Query()] = Query(1)) -> None: ...


async def _two_defaults(q: Annotated[int, Query(3)] = 4) -> None: ...


class Nested(msgspec.Struct):
    item: Item


async def _query_model(q: Annotated[Nested, Query()]) -> None: ...


async def _bad_constraint(q: Annotated[str, Query(ge=1)]) -> None: ...


async def _path_not_in_route(n: Annotated[int, Path(alias="nope")]) -> None: ...


async def _depends_without_class(x: Annotated[int | None, Depends()]) -> None: ...


async def _file_not_upload(f: Annotated[str, File()]) -> None: ...


def _bad_provider(*args: Any) -> None: ...


async def _bad_provider_signature(x: Annotated[None, Depends(_bad_provider)]) -> None: ...


def test_a_dependency_cycle_made_by_an_override_is_refused() -> None:
    def first() -> None: ...

    def second(x: Annotated[None, Depends(first)]) -> None: ...

    app = App(openapi=False)

    @app.get("/")
    async def handler(x: Annotated[None, Depends(first)]) -> None: ...

    app.dependency_overrides[first] = second
    with pytest.raises(ConfigurationError, match="dependency cycle"):
        app._freeze()


# --- specs for OpenAPI and clients ------------------------------------------------------------


def test_plans_describe_params_body_and_response() -> None:
    def paging(
        page: Annotated[int, Query(ge=1, description="page number")] = 1,
        x_trace: Annotated[str | None, Header(deprecated=True)] = None,
    ) -> int:
        return page

    app = App(openapi=False)
    group = app.group("/t/{tenant}")

    @group.post("/items/{item_id}", status=201)
    async def create(
        item_id: Annotated[int, Path(ge=1)],
        item: Annotated[Item, Body(description="the item", examples=[{"name": "x"}])],
        sid: Annotated[str, Cookie(alias="session", include_in_schema=False)],
        tags: Annotated[list[str], Query(alias="tag", examples=["a"])] = [],  # noqa: B006
        page: int = Depends(paging),
    ) -> Item:
        return item

    @app.get("/plain/{ident}")
    async def plain(ident: uuid.UUID) -> None: ...

    @app.post("/upload")
    async def upload(
        title: Annotated[str, Form()], files: list[UploadFile], note: str = Form("")
    ) -> str:
        return title

    app._freeze()
    routes = {r.name: r for rs in app._routes_by_name.values() for r in rs}
    plan = routes["create"].plan
    assert plan is not None
    assert plan.params == (
        ParamSpec(name="tenant", source="path", alias="tenant", annotation=str, required=True),
        ParamSpec(
            name="item_id",
            source="path",
            alias="item_id",
            annotation=int,
            required=True,
            constraints=Constraints(ge=1),
        ),
        ParamSpec(
            name="sid",
            source="cookie",
            alias="session",
            annotation=str,
            required=True,
            include_in_schema=False,
        ),
        ParamSpec(
            name="tags",
            source="query",
            alias="tag",
            annotation=list[str],
            required=False,
            default=[],
            examples=("a",),
        ),
        ParamSpec(
            name="page",
            source="query",
            alias="page",
            annotation=int,
            required=False,
            default=1,
            description="page number",
            constraints=Constraints(ge=1),
        ),
        ParamSpec(
            name="x_trace",
            source="header",
            alias="x-trace",
            annotation=str,
            required=False,
            default=None,
            nullable=True,
            deprecated=True,
        ),
    )
    assert plan.body == BodySpec(
        name="item",
        annotation=Item,
        description="the item",
        examples=({"name": "x"},),
    )
    assert plan.response == ResponseSpec(annotation=Item, status=201)

    plain_plan = routes["plain"].plan
    assert plain_plan is not None
    assert plain_plan.params == (
        ParamSpec(name="ident", source="path", alias="ident", annotation=uuid.UUID, required=True),
    )
    assert plain_plan.body is None
    assert plain_plan.response == ResponseSpec(None, 204, "", empty=True)

    upload_plan = routes["upload"].plan
    assert upload_plan is not None
    assert upload_plan.body is not None
    assert upload_plan.body.media_types == ("multipart/form-data",)
    assert upload_plan.body.files == ("files",)
    fields = msgspec.structs.fields(upload_plan.body.annotation)
    assert [(f.name, f.type, f.required) for f in fields] == [
        ("title", str, True),
        ("files", list[bytes], True),
        ("note", str, False),
    ]


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, ResponseSpec(str, 200, "text/plain")),
        (bytes, ResponseSpec(bytes, 200, "application/octet-stream")),
        (dict[str, int], ResponseSpec(dict[str, int], 200)),
        (Any, ResponseSpec(None, 200)),
        (list[Item], ResponseSpec(list[Item], 200)),
    ],
)
def test_response_specs(annotation: Any, expected: ResponseSpec) -> None:
    app = App(openapi=False)

    async def handler() -> Any: ...

    handler.__annotations__["return"] = annotation
    app.get("/")(handler)
    app._freeze()
    assert app._routes_by_name["handler"][0].plan.response == expected  # type: ignore[union-attr]


def test_the_response_model_option_is_the_spec() -> None:
    app = App(openapi=False)

    @app.get("/", response_model=list[Item])
    async def handler() -> Any: ...

    app._freeze()
    plan = app._routes_by_name["handler"][0].plan
    assert plan is not None
    assert plan.response == ResponseSpec(list[Item], 200)


def test_response_model_none_means_no_model_and_none_returns_mean_204() -> None:
    app = App(openapi=False)

    @app.get("/none-option", response_model=None)
    async def none_option() -> Item: ...

    @app.post("/none-option-201", response_model=None, status=201)
    async def none_option_created() -> Item: ...

    @app.delete("/gone")
    async def gone() -> None: ...

    @app.post("/gone-202", status=202)
    async def gone_accepted() -> None: ...

    app._freeze()

    def response(name: str) -> Any:
        plan = app._routes_by_name[name][0].plan
        assert plan is not None
        return plan.response

    assert response("none_option") == ResponseSpec(None, 200)
    assert response("none_option_created") == ResponseSpec(None, 201)
    assert response("gone") == ResponseSpec(None, 204, "", empty=True)
    assert response("gone_accepted") == ResponseSpec(None, 202, "", empty=True)


def test_generated_body_models_are_named_after_the_handler() -> None:
    app = App(openapi=False)

    @app.post("/login")
    async def login(user: Annotated[str, Form()]) -> None: ...

    @app.post("/items")
    async def create_item(item: Annotated[Item, Body(embed=True)]) -> None: ...

    app._freeze()
    login_body = app._routes_by_name["login"][0].plan.body  # type: ignore[union-attr]
    item_body = app._routes_by_name["create_item"][0].plan.body  # type: ignore[union-attr]
    assert login_body is not None
    assert item_body is not None
    assert (login_body.annotation.__name__, login_body.generated) == ("LoginForm", True)
    assert (item_body.annotation.__name__, item_body.generated) == ("CreateItemBody", True)
    assert [(f.encode_name, f.type) for f in msgspec.structs.fields(item_body.annotation)] == [
        ("item", Item)
    ]
