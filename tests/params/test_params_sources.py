"""Typed handler inputs from the path, query string, headers and cookies (RTE-14, ERR-08).

Every kind is checked with good input and with bad input, where the 422 must name the exact
location of each issue.
"""

import datetime
import decimal
import enum
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import msgspec
import pytest
from tests.support.problems import issue_locs, validation_issues

from avian import App, Context
from avian.params import Cookie, Header, Path, Query
from avian.testing import TestClient


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = App()

    @app.get("/scalars")
    async def scalars(
        i: Annotated[int, Query()],
        f: Annotated[float, Query()],
        s: Annotated[str, Query()],
        b: Annotated[bool, Query()],
    ) -> dict[str, Any]:
        return {"i": i, "f": f, "s": s, "b": b}

    @app.get("/rich")
    async def rich(
        day: Annotated[datetime.date, Query()],
        at: Annotated[datetime.datetime, Query()],
        clock: Annotated[datetime.time, Query()],
        wait: Annotated[datetime.timedelta, Query()],
        ident: Annotated[uuid.UUID, Query()],
        price: Annotated[decimal.Decimal, Query()],
        color: Annotated[Color, Query()],
        level: Annotated[Level, Query()],
        mode: Annotated[Literal["fast", "slow"], Query()],
    ) -> dict[str, Any]:
        return {
            "day": day.isoformat(),
            "at": at.isoformat(),
            "clock": clock.isoformat(),
            "wait": wait.total_seconds(),
            "ident": ident.hex,
            "price": str(price),
            "color": color.name,
            "level": level.name,
            "mode": mode,
            "types": [type(v).__name__ for v in (day, at, clock, wait, ident, price)],
        }

    @app.get("/defaults")
    async def defaults(
        limit: int = 10,
        q: str | None = None,
        flag: bool = False,
        tags: list[str] | None = None,
        ids: list[int] | None = None,
    ) -> dict[str, Any]:
        return {"limit": limit, "q": q, "flag": flag, "tags": tags, "ids": ids}

    @app.get("/optional-int")
    async def optional_int(n: int | None = None) -> dict[str, Any]:
        return {"n": n}

    @app.get("/repeated")
    async def repeated(
        ids: Annotated[list[int], Query()],
        names: Annotated[tuple[str, ...], Query(alias="name")] = (),
        unique: Annotated[set[int], Query()] = frozenset(),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        return {"ids": ids, "names": list(names), "unique": sorted(unique)}

    @app.get("/constrained")
    async def constrained(
        page: Annotated[int, Query(ge=1, le=100)] = 1,
        ratio: Annotated[float, Query(gt=0, lt=1)] = 0.5,
        step: Annotated[int, Query(multiple_of=5)] = 5,
        code: Annotated[str, Query(min_length=2, max_length=4, pattern="^[a-z]+$")] = "ab",
        picks: Annotated[list[int], Query(ge=0, min_length=1, max_length=3)] | None = None,
        meta: Annotated[int, msgspec.Meta(lt=10)] = 0,
    ) -> dict[str, Any]:
        return {"page": page, "ratio": ratio, "step": step, "code": code, "picks": picks}

    @app.get("/alias")
    async def alias(
        item_id: Annotated[int, Query(alias="item-id")],
        order: str = Query("asc", alias="sort"),
    ) -> dict[str, Any]:
        return {"item_id": item_id, "order": order}

    @app.get("/as-default")
    async def as_default(limit: int = Query(10, ge=1)) -> dict[str, int]:
        return {"limit": limit}

    @app.get("/headers")
    async def headers(
        user_agent: Annotated[str, Header()],
        x_count: Annotated[int, Header()] = 0,
        raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
        token: Annotated[str | None, Header(alias="X-Api-Token")] = None,
        x_tag: Annotated[list[str], Header()] = [],  # noqa: B006 - never mutated
    ) -> dict[str, Any]:
        return {
            "user_agent": user_agent,
            "x_count": x_count,
            "raw_name": raw_name,
            "token": token,
            "x_tag": x_tag,
        }

    @app.get("/cookies")
    async def cookies(
        session_id: Annotated[str, Cookie()],
        visits: Annotated[int, Cookie(ge=0)] = 0,
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ) -> dict[str, Any]:
        return {"session_id": session_id, "visits": visits, "theme": theme}

    @app.get("/items/{item_id}")
    async def item(item_id: Annotated[int, Path(ge=1, le=1000)]) -> dict[str, int]:
        return {"item_id": item_id}

    @app.get("/colors/{color}")
    async def color(color: Color) -> dict[str, str]:
        return {"color": color.name}

    @app.get("/days/{day}")
    async def day(day: datetime.date) -> dict[str, str]:
        return {"day": day.isoformat()}

    @app.get("/codes/{code}")
    async def codes(code: Annotated[str, Path(min_length=3)]) -> dict[str, str]:
        return {"code": code}

    @app.get("/everything/{n}")
    async def everything(
        ctx: Context,
        n: Annotated[int, Path(gt=0)],
        q: Annotated[int, Query()],
        x_num: Annotated[int, Header()],
        c: Annotated[int, Cookie()],
    ) -> dict[str, Any]:
        return {"n": n, "q": q, "x_num": x_num, "c": c, "path": ctx.request.path}

    with TestClient(app) as c:
        yield c


# --- scalars ---------------------------------------------------------------------------------


def test_builtin_scalars_are_converted(client: TestClient) -> None:
    response = client.get("/scalars", params={"i": "-7", "f": "2.5", "s": "hi", "b": "yes"})

    assert response.json() == {"i": -7, "f": 2.5, "s": "hi", "b": True}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("t", True),
        ("Y", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("off", False),
        ("F", False),
        ("n", False),
    ],
)
def test_bool_accepts_the_usual_spellings(client: TestClient, raw: str, expected: bool) -> None:
    response = client.get("/scalars", params={"i": "1", "f": "1", "s": "x", "b": raw})

    assert response.json()["b"] is expected


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("i", "abc"),
        ("i", "1.5"),
        ("i", " 1"),
        ("i", "+1"),
        ("i", "1_000"),
        ("i", "٣"),
        ("f", "abc"),
        ("b", "maybe"),
        ("b", ""),
    ],
)
def test_bad_scalar_is_a_422_at_its_location(client: TestClient, field: str, bad: str) -> None:
    params = {"i": "1", "f": "1", "s": "x", "b": "true", field: bad}

    response = client.get("/scalars", params=params)

    assert issue_locs(response) == [["query", field]]
    assert validation_issues(response)[0]["type"] == "validation_error"


def test_missing_required_values_are_all_listed(client: TestClient) -> None:
    response = client.get("/scalars", params={"s": "x"})

    found = validation_issues(response)
    assert [i["loc"] for i in found] == [["query", "i"], ["query", "f"], ["query", "b"]]
    assert {i["type"] for i in found} == {"missing"}
    assert found[0]["msg"] == "Field required"


RICH_GOOD = {
    "day": "2024-02-29",
    "at": "2024-02-29T10:20:30Z",
    "clock": "10:20:30",
    "wait": "PT90S",
    "ident": "12345678-1234-5678-1234-567812345678",
    "price": "19.90",
    "color": "green",
    "level": "2",
    "mode": "slow",
}


def test_rich_types_are_converted(client: TestClient) -> None:
    response = client.get("/rich", params=RICH_GOOD)

    assert response.json() == {
        "day": "2024-02-29",
        "at": "2024-02-29T10:20:30+00:00",
        "clock": "10:20:30",
        "wait": 90.0,
        "ident": "12345678123456781234567812345678",
        "price": "19.90",
        "color": "GREEN",
        "level": "HIGH",
        "mode": "slow",
        "types": ["date", "datetime", "time", "timedelta", "UUID", "Decimal"],
    }


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("day", "2024-02-30"),
        ("at", "yesterday"),
        ("clock", "25:00:00"),
        ("wait", "soon"),
        ("ident", "not-a-uuid"),
        ("price", "cheap"),
        ("color", "blue"),
        ("level", "3"),
        ("mode", "medium"),
    ],
)
def test_rich_types_reject_bad_values(client: TestClient, field: str, bad: str) -> None:
    response = client.get("/rich", params={**RICH_GOOD, field: bad})

    assert issue_locs(response) == [["query", field]]


def test_every_bad_rich_value_is_reported_at_once(client: TestClient) -> None:
    bad = {"day": "x", "at": "x", "clock": "x", "wait": "x", "ident": "x", "price": "x"}

    response = client.get("/rich", params={**RICH_GOOD, **bad})

    assert issue_locs(response) == [["query", name] for name in bad]


# --- defaults, optional, lists ---------------------------------------------------------------


def test_defaults_apply_when_absent(client: TestClient) -> None:
    assert client.get("/defaults").json() == {
        "limit": 10,
        "q": None,
        "flag": False,
        "tags": None,
        "ids": None,
    }


def test_scalar_parameters_with_defaults_are_query_parameters(client: TestClient) -> None:
    response = client.get(
        "/defaults",
        params=[("limit", "3"), ("q", "x"), ("flag", "on"), ("tags", "a"), ("tags", "b")],
    )

    assert response.json() == {"limit": 3, "q": "x", "flag": True, "tags": ["a", "b"], "ids": None}


def test_bad_defaulted_value_is_still_a_422(client: TestClient) -> None:
    response = client.get("/defaults", params=[("limit", "many"), ("ids", "1"), ("ids", "x")])

    assert issue_locs(response) == [["query", "limit"], ["query", "ids", 1]]


def test_optional_value_may_be_empty(client: TestClient) -> None:
    assert client.get("/optional-int?n=").json() == {"n": None}
    assert client.get("/optional-int?n=4").json() == {"n": 4}
    assert issue_locs(client.get("/optional-int?n=four")) == [["query", "n"]]


def test_repeated_keys_fill_collections(client: TestClient) -> None:
    response = client.get("/repeated?ids=3&ids=1&name=a&name=b&unique=2&unique=2&unique=1")

    assert response.json() == {"ids": [3, 1], "names": ["a", "b"], "unique": [1, 2]}


def test_required_list_must_be_present(client: TestClient) -> None:
    response = client.get("/repeated")

    assert validation_issues(response) == [
        {"loc": ["query", "ids"], "msg": "Field required", "type": "missing"}
    ]


def test_each_bad_list_item_is_reported_with_its_index(client: TestClient) -> None:
    response = client.get("/repeated?ids=1&ids=x&ids=3&ids=y&unique=z")

    assert issue_locs(response) == [
        ["query", "ids", 1],
        ["query", "ids", 3],
        ["query", "unique", 0],
    ]


# --- constraints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"page": "1"},
        {"page": "100"},
        {"ratio": "0.01"},
        {"ratio": "0.99"},
        {"step": "0"},
        {"step": "15"},
        {"code": "ab"},
        {"code": "abcd"},
        {"picks": ["0"]},
        {"picks": ["1", "2", "3"]},
        {"meta": "9"},
    ],
)
def test_values_inside_the_constraints_pass(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/constrained", params=params)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("params", "loc", "msg"),
    [
        ({"page": "0"}, ["query", "page"], "Expected `int` >= 1"),
        ({"page": "101"}, ["query", "page"], "Expected `int` <= 100"),
        ({"ratio": "0"}, ["query", "ratio"], "Expected `float` > 0.0"),
        ({"ratio": "1"}, ["query", "ratio"], "Expected `float` < 1.0"),
        ({"step": "7"}, ["query", "step"], "Expected `int` that's a multiple of 5"),
        ({"code": "a"}, ["query", "code"], "Expected `str` of length >= 2"),
        ({"code": "abcde"}, ["query", "code"], "Expected `str` of length <= 4"),
        ({"code": "AB"}, ["query", "code"], "Expected `str` matching regex '^[a-z]+$'"),
        ({"picks": ["1", "2", "3", "4"]}, ["query", "picks"], "Expected at most 3 values"),
        ({"picks": ["1", "-1"]}, ["query", "picks", 1], "Expected `int` >= 0"),
        ({"meta": "10"}, ["query", "meta"], "Expected `int` <= 9"),
    ],
)
def test_values_outside_the_constraints_are_422(
    client: TestClient, params: dict[str, Any], loc: list[Any], msg: str
) -> None:
    response = client.get("/constrained", params=params)

    assert validation_issues(response) == [{"loc": loc, "msg": msg, "type": "validation_error"}]


def test_every_constraint_violation_is_listed(client: TestClient) -> None:
    response = client.get("/constrained", params={"page": "0", "ratio": "2", "code": "x"})

    assert issue_locs(response) == [["query", "page"], ["query", "ratio"], ["query", "code"]]


# --- aliases and markers as defaults ---------------------------------------------------------


def test_alias_is_the_wire_name(client: TestClient) -> None:
    assert client.get("/alias?item-id=5&sort=desc").json() == {"item_id": 5, "order": "desc"}
    assert issue_locs(client.get("/alias?item_id=5")) == [["query", "item-id"]]


def test_marker_as_default_gives_default_and_constraints(client: TestClient) -> None:
    assert client.get("/as-default").json() == {"limit": 10}
    assert client.get("/as-default?limit=2").json() == {"limit": 2}
    assert issue_locs(client.get("/as-default?limit=0")) == [["query", "limit"]]


# --- headers and cookies -----------------------------------------------------------------------


def test_headers_by_converted_name(client: TestClient) -> None:
    response = client.get(
        "/headers",
        headers=[
            ("User-Agent", "probe/1"),
            ("X-Count", "3"),
            ("raw_name", "kept"),
            ("x-api-token", "t0k"),
            ("X-Tag", "a"),
            ("X-Tag", "b"),
        ],
    )

    assert response.json() == {
        "user_agent": "probe/1",
        "x_count": 3,
        "raw_name": "kept",
        "token": "t0k",
        "x_tag": ["a", "b"],
    }


def test_convert_underscores_false_does_not_read_the_dashed_name(client: TestClient) -> None:
    response = client.get("/headers", headers={"user-agent": "x", "raw-name": "dashed"})

    assert response.json()["raw_name"] is None


def test_bad_and_missing_headers_are_422(client: TestClient) -> None:
    response = client.get("/headers", headers={"user-agent": "", "x-count": "lots"})
    assert issue_locs(response) == [["header", "x-count"]]

    client.headers.pop("user-agent", None)
    response = client.get("/headers", headers={"x-count": "lots"})
    assert response.status_code == 422


def test_cookies_by_name(client: TestClient) -> None:
    response = client.get("/cookies", headers={"cookie": "session_id=abc; visits=4; ui-theme=dark"})

    assert response.json() == {"session_id": "abc", "visits": 4, "theme": "dark"}


def test_bad_and_missing_cookies_are_422(client: TestClient) -> None:
    response = client.get("/cookies", headers={"cookie": "visits=-1"})

    assert validation_issues(response) == [
        {"loc": ["cookie", "session_id"], "msg": "Field required", "type": "missing"},
        {"loc": ["cookie", "visits"], "msg": "Expected `int` >= 0", "type": "validation_error"},
    ]


# --- path --------------------------------------------------------------------------------------


def test_path_constraints(client: TestClient) -> None:
    assert client.get("/items/7").json() == {"item_id": 7}
    assert validation_issues(client.get("/items/0")) == [
        {"loc": ["path", "item_id"], "msg": "Expected `int` >= 1", "type": "validation_error"}
    ]
    assert issue_locs(client.get("/items/1001")) == [["path", "item_id"]]
    # Not an int at all: the route's converter does not match (as for any `id: int` route).
    assert client.get("/items/seven").status_code == 404


def test_path_values_convert_into_any_scalar_type(client: TestClient) -> None:
    assert client.get("/colors/red").json() == {"color": "RED"}
    assert issue_locs(client.get("/colors/blue")) == [["path", "color"]]
    assert client.get("/days/2024-01-31").json() == {"day": "2024-01-31"}
    assert issue_locs(client.get("/days/2024-02-31")) == [["path", "day"]]
    assert client.get("/codes/abc").json() == {"code": "abc"}
    assert issue_locs(client.get("/codes/ab")) == [["path", "code"]]


# --- everything at once --------------------------------------------------------------------------


def test_issues_are_collected_across_every_source(client: TestClient) -> None:
    response = client.get("/everything/0?q=x", headers={"x-num": "y", "cookie": "c=z"})

    assert issue_locs(response) == [
        ["path", "n"],
        ["query", "q"],
        ["header", "x-num"],
        ["cookie", "c"],
    ]


def test_every_source_at_once(client: TestClient) -> None:
    response = client.get("/everything/2?q=3", headers={"x-num": "4", "cookie": "c=5"})

    assert response.json() == {"n": 2, "q": 3, "x_num": 4, "c": 5, "path": "/everything/2"}


def test_request_annotation_and_path_alias() -> None:
    from avian import Request

    app = App()

    @app.get("/users/{userId}")
    async def user(
        request: Request, uid: Annotated[int, Path(alias="userId", ge=1)]
    ) -> dict[str, Any]:
        return {"path": request.path, "uid": uid}

    with TestClient(app) as c:
        assert c.get("/users/5").json() == {"path": "/users/5", "uid": 5}
        assert validation_issues(c.get("/users/0"))[0]["loc"] == ["path", "userId"]
        assert c.get("/users/abc").status_code == 404  # the alias took the int converter


def test_unresolvable_annotations_only_matter_where_they_are_needed() -> None:
    from avian import ConfigurationError

    app = App(openapi=False)

    async def fine(ctx, page=1):  # type: ignore[no-untyped-def]
        return {"page": page}

    fine.__annotations__ = {"ctx": "NotImportable", "page": "int"}
    app.get("/fine")(fine)
    with TestClient(app) as c:
        assert c.get("/fine?page=3").json() == {"page": 3}

    broken = App(openapi=False)

    async def needs_it(thing):  # type: ignore[no-untyped-def]
        return None

    needs_it.__annotations__ = {"thing": "NotImportable"}
    broken.get("/")(needs_it)
    with pytest.raises(ConfigurationError, match="'NotImportable' cannot be resolved"):
        broken._freeze()
