"""Body limits and hardened parsing, each limit tested at and one past its value
(SRV-06, BDY-01, BDY-02, BDY-03)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypedDict

import msgspec
import pytest

from avian import App, BodyLimits, ConfigurationError, Context
from avian.testing import AsyncTestClient, TestClient

JSON = {"content-type": "application/json"}


def limited_app(**limits: Any) -> App:
    """An app with ``/body`` (raw bytes), ``/json`` and ``/stream`` under ``limits``."""
    app = App(limits=BodyLimits(**limits))

    @app.post("/body")
    async def body(ctx: Context) -> int:
        return len(await ctx.request.body())

    @app.post("/json")
    async def json_body(ctx: Context) -> Any:
        return {"value": await ctx.request.json()}

    @app.post("/stream")
    async def stream(ctx: Context) -> int:
        return sum([len(chunk) async for chunk in ctx.request.stream()])

    return app


@pytest.fixture
def small() -> Iterator[TestClient]:
    """max_body_size=100 bytes."""
    with TestClient(limited_app(max_body_size=100)) as client:
        yield client


def assert_problem(response: Any, status: int, detail_part: str = "") -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert detail_part in problem["detail"]


# -- max_body_size ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/body", "/stream"])
def test_body_exactly_at_the_limit_passes(small: TestClient, path: str) -> None:
    response = small.post(path, content=b"x" * 100)

    assert response.status_code == 200
    assert response.json() == 100


@pytest.mark.parametrize("path", ["/body", "/stream"])
def test_body_one_byte_over_the_limit_is_a_413(small: TestClient, path: str) -> None:
    assert_problem(small.post(path, content=b"x" * 101), 413, "larger than 100 bytes")


def test_chunked_body_is_counted_as_it_arrives(small: TestClient) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 10):
            yield b"x" * 10

    assert small.post("/body", content=chunks(100)).json() == 100
    assert_problem(small.post("/body", content=chunks(110)), 413)
    assert_problem(small.post("/stream", content=chunks(110)), 413)


def test_lying_small_content_length_does_not_raise_the_limit(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 10

    response = small.post("/body", content=chunks(), headers={"content-length": "5"})

    assert_problem(response, 413)


def test_declared_content_length_over_the_limit_is_refused_before_reading() -> None:
    app = limited_app(max_body_size=100)

    async def never_finishes() -> AsyncIterator[bytes]:
        yield b"x"
        await asyncio.Event().wait()  # the rest never comes: only an early answer returns

    async def scenario() -> tuple[Any, Any]:
        async with AsyncTestClient(app, timeout=5) as client:
            at_limit = await client.post(
                "/body", content=b"x" * 100, headers={"content-length": "100"}
            )
            over = await client.post(
                "/body", content=never_finishes(), headers={"content-length": "101"}
            )
            return at_limit, over

    at_limit, over = asyncio.run(scenario())

    assert at_limit.json() == 100
    assert_problem(over, 413, "larger than 100 bytes")


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "1.0", "1e3", " ", "0x10"])
@pytest.mark.parametrize("path", ["/body", "/stream"])
def test_malformed_content_length_is_a_400(small: TestClient, path: str, value: str) -> None:
    response = small.post(path, content=b"x", headers={"content-length": value})

    assert_problem(response, 400, "Content-Length")


# -- body_timeout -----------------------------------------------------------------------------


async def trickle(chunks: int, pause: float) -> AsyncIterator[bytes]:
    for _ in range(chunks):
        yield b"x"
        await asyncio.sleep(pause)


async def post_async(app: App, path: str, body: AsyncIterator[bytes]) -> tuple[Any, float]:
    async with AsyncTestClient(app) as client:
        started = time.monotonic()
        response = await client.post(path, content=body, headers=JSON)
        return response, time.monotonic() - started


@pytest.mark.parametrize("path", ["/body", "/stream", "/json"])
def test_trickling_body_is_a_408(path: str) -> None:
    app = limited_app(body_timeout=0.2)

    # 40 bytes, one every 50 ms: each chunk is quick, the whole body is not.
    response, elapsed = asyncio.run(post_async(app, path, trickle(40, 0.05)))

    assert_problem(response, 408, "not received within 0.2 s")
    assert elapsed < 1.5  # answered at the deadline, not after the whole body


def test_body_arriving_within_the_timeout_passes() -> None:
    app = limited_app(body_timeout=0.5)

    response, _ = asyncio.run(post_async(app, "/body", trickle(3, 0.01)))

    assert response.status_code == 200
    assert response.json() == 3


# -- JSON hardening -----------------------------------------------------------------------------


@pytest.fixture
def tight_json() -> Iterator[TestClient]:
    app = limited_app(
        json_max_depth=3, json_max_keys=3, json_max_array_length=3, json_max_string_length=5
    )
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("at_limit", "over_limit", "detail"),
    [
        (b"[[[1]]]", b"[[[[1]]]]", "nested deeper than 3 levels"),
        (b'{"a":{"b":[]}}', b'{"a":{"b":[{}]}}', "nested deeper than 3 levels"),
        (b'{"a":1,"b":2,"c":3}', b'{"a":1,"b":2,"c":3,"d":4}', "more than 3 keys"),
        (b'{"x":{"a":1,"b":2,"c":3}}', b'{"x":{"a":1,"b":2,"c":3,"d":4}}', "more than 3 keys"),
        (b"[1,2,3]", b"[1,2,3,4]", "more than 3 items"),
        (b'{"x":[1,2,3]}', b'{"x":[1,2,3,4]}', "more than 3 items"),
        (b'"abcde"', b'"abcdef"', "string longer than 5"),
        (b'{"abcde":1}', b'{"abcdef":1}', "key longer than 5"),
        (
            b'["\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"]',
            b'["\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9!"]',
            "longer than 5",
        ),
    ],
)
def test_json_limits_at_and_over(
    tight_json: TestClient, at_limit: bytes, over_limit: bytes, detail: str
) -> None:
    ok = tight_json.post("/json", content=at_limit, headers=JSON)
    refused = tight_json.post("/json", content=over_limit, headers=JSON)

    assert ok.status_code == 200
    assert ok.json() == {"value": msgspec.json.decode(at_limit)}
    assert_problem(refused, 400, detail)


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_very_deep_json_is_a_400_not_a_crash(depth: int) -> None:
    with TestClient(limited_app()) as client:
        response = client.post("/json", content=b"[" * depth + b"]" * depth, headers=JSON)

    assert_problem(response, 400, "nested deeper than 32 levels")


def test_deep_json_beyond_the_interpreter_limit_with_a_huge_max_depth_is_a_400() -> None:
    with TestClient(limited_app(json_max_depth=10**9)) as client:
        response = client.post("/json", content=b"[" * 100_000 + b"]" * 100_000, headers=JSON)

    assert_problem(response, 400, "nested deeper")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "empty body"),
        (b'{"a":', "malformed JSON"),
        (b"{'a': 1}", "malformed JSON"),
        (b'{"a": 1} trailing', "malformed JSON"),
        (b'{"a": 1}{"b": 2}', "malformed JSON"),
        (b"NaN", "malformed JSON"),
        (b"[Infinity]", "malformed JSON"),
        (b'{"a": -Infinity}', "malformed JSON"),
        (b"[1,]", "malformed JSON"),
        (b"// comment\n{}", "malformed JSON"),
        (b"\xef\xbb\xbf{}", "malformed JSON"),
        (b'"\xff"', "malformed JSON"),
        (b'{"\xc3": 1}', "malformed JSON"),
    ],
)
def test_malformed_or_non_strict_json_is_a_400(small: TestClient, body: bytes, detail: str) -> None:
    assert_problem(small.post("/json", content=body, headers=JSON), 400, detail)


# -- typed bodies -----------------------------------------------------------------------------


class UserStruct(msgspec.Struct):
    name: str
    age: int


@dataclasses.dataclass
class UserDataclass:
    name: str
    age: int


class UserDict(TypedDict):
    name: str
    age: int


@pytest.fixture
def typed() -> Iterator[TestClient]:
    app = App(limits=BodyLimits(json_max_depth=4))

    @app.post("/struct")
    async def struct(user: UserStruct) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user.name, "age": user.age}

    @app.post("/dataclass")
    async def dc(user: UserDataclass) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user.name, "age": user.age}

    @app.post("/typeddict")
    async def td(user: UserDict) -> dict[str, Any]:
        return {"type": type(user).__name__, "name": user["name"], "age": user["age"]}

    with TestClient(app) as client:
        yield client


TYPED = [("/struct", "UserStruct"), ("/dataclass", "UserDataclass"), ("/typeddict", "dict")]


@pytest.mark.parametrize(("path", "type_name"), TYPED)
def test_typed_body_is_decoded(typed: TestClient, path: str, type_name: str) -> None:
    got = typed.post(path, json={"name": "Ada", "age": 36}).json()

    assert got == {"type": type_name, "name": "Ada", "age": 36}


@pytest.mark.parametrize(("path", "type_name"), TYPED)
def test_invalid_typed_body_is_a_422_naming_the_field(
    typed: TestClient, path: str, type_name: str
) -> None:
    response = typed.post(path, json={"name": "Ada", "age": "old"})

    assert_problem(response, 422)
    problem = response.json()
    assert problem["code"] == "VALIDATION_ERROR"
    issue = problem["details"]["issues"][0]
    assert issue["loc"] == ["body", "age"]
    assert "int" in issue["msg"]


@pytest.mark.parametrize(("path", "type_name"), TYPED)
def test_typed_body_missing_a_field_is_a_422(typed: TestClient, path: str, type_name: str) -> None:
    response = typed.post(path, json={"name": "Ada"})

    assert_problem(response, 422)
    issue = response.json()["details"]["issues"][0]
    assert "age" in issue["msg"]
    assert issue["loc"] == ["body", "age"]


@pytest.mark.parametrize(("path", "type_name"), TYPED)
@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, {}])
def test_typed_body_with_a_non_json_type_is_a_415(
    typed: TestClient, path: str, type_name: str, headers: dict[str, str]
) -> None:
    response = typed.post(path, content=b'{"name": "Ada", "age": 36}', headers=headers)

    assert_problem(response, 415)


@pytest.mark.parametrize(("path", "type_name"), TYPED)
def test_typed_body_still_obeys_json_limits(typed: TestClient, path: str, type_name: str) -> None:
    deep = b'{"name": "Ada", "age": 1, "x": [[[[[1]]]]]}'

    assert_problem(typed.post(path, content=deep, headers=JSON), 400, "nested deeper")
    assert_problem(typed.post(path, content=b'{"name": "\xff"}', headers=JSON), 400, "malformed")


# -- per-route overrides ----------------------------------------------------------------------


def test_route_limits_override_the_apps() -> None:
    app = App(limits=BodyLimits(max_body_size=10, json_max_keys=1))

    @app.post("/default")
    async def default(ctx: Context) -> int:
        return len(await ctx.request.body())

    @app.post("/bigger", limits={"max_body_size": 50})
    async def bigger(ctx: Context) -> int:
        return len(await ctx.request.body())

    @app.post("/smaller", limits=BodyLimits(max_body_size=5))
    async def smaller(ctx: Context) -> int:
        return len(await ctx.request.body())

    @app.post("/wide", limits={"json_max_keys": 3, "max_body_size": 100})
    async def wide(ctx: Context) -> Any:
        return await ctx.request.json()

    with TestClient(app) as client:
        assert client.post("/default", content=b"x" * 10).json() == 10
        assert client.post("/default", content=b"x" * 11).status_code == 413
        assert client.post("/bigger", content=b"x" * 50).json() == 50
        assert client.post("/bigger", content=b"x" * 51).status_code == 413
        assert client.post("/smaller", content=b"x" * 5).json() == 5
        assert client.post("/smaller", content=b"x" * 6).status_code == 413
        assert client.post("/wide", json={"a": 1, "b": 2, "c": 3}).status_code == 200
        assert client.post("/wide", json={"a": 1, "b": 2, "c": 3, "d": 4}).status_code == 400


def test_route_override_keeps_the_other_app_limits() -> None:
    app = App(limits=BodyLimits(json_max_array_length=2))

    @app.post("/r", limits={"max_body_size": 1000})
    async def r(ctx: Context) -> Any:
        return await ctx.request.json()

    with TestClient(app) as client:
        assert client.post("/r", json=[1, 2]).status_code == 200
        assert client.post("/r", json=[1, 2, 3]).status_code == 400


# -- configuration errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "max_body_size",
        "body_timeout",
        "json_max_depth",
        "json_max_keys",
        "json_max_array_length",
        "json_max_string_length",
        "form_max_fields",
    ],
)
@pytest.mark.parametrize("value", [0, -1])
def test_non_positive_body_limits_are_configuration_errors(field: str, value: int) -> None:
    with pytest.raises(ConfigurationError, match=field):
        BodyLimits(**{field: value})


def test_unknown_route_limit_is_a_configuration_error() -> None:
    app = App()

    @app.post("/x", limits={"max_body_sise": 10})
    async def x() -> None:
        return None

    with pytest.raises(ConfigurationError, match="max_body_sise"):
        asyncio.run(app.startup())


def test_invalid_route_limit_value_is_a_configuration_error() -> None:
    app = App()

    @app.post("/x", limits={"max_body_size": 0})
    async def x() -> None:
        return None

    with pytest.raises(ConfigurationError, match="max_body_size"):
        asyncio.run(app.startup())
