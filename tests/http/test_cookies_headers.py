"""Cookies in both directions (CK-01, CK-02) and request header limits (SRV-11)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from avian import App, ConfigurationError, Context, HeaderLimits, errors
from avian.testing import TestClient


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def reported(app: App) -> list[BaseException]:
    seen: list[BaseException] = []
    app.on_error(lambda error, ctx: seen.append(error))
    return seen


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    c = TestClient(app)
    yield c
    c.close()


def set_cookie_route(app: App, action: Callable[[Context], Any]) -> None:
    @app.get("/set")
    async def set_cookie(ctx: Context) -> dict[str, bool]:
        action(ctx)
        return {"ok": True}


# -- request cookies ------------------------------------------------------------------------------


def test_request_cookies_get_get_all_and_to_dict(app: App, client: TestClient) -> None:
    @app.get("/read")
    async def read(ctx: Context) -> dict[str, Any]:
        cookies = ctx.request.cookies
        return {
            "get": cookies.get("a"),
            "item": cookies["b"],
            "all": cookies.get_all("a"),
            "missing": cookies.get("zzz"),
            "contains": "c" in cookies,
            "dict": cookies.to_dict(),
            "len": len(cookies),
        }

    header = 'a=1; b="quoted value"; a=2; novalue; =anon; c=%41%20b; d=; bad name=x; e=x=y'
    got = client.get("/read", headers={"cookie": header}).json()

    assert got == {
        "get": "1",
        "item": "quoted value",
        "all": ["1", "2"],
        "missing": None,
        "contains": True,
        "dict": {"a": "1", "b": "quoted value", "c": "A b", "d": "", "e": "x=y"},
        "len": 5,
    }


def test_no_cookie_header_means_no_cookies(app: App, client: TestClient) -> None:
    @app.get("/read")
    async def read(ctx: Context) -> dict[str, str]:
        return ctx.request.cookies.to_dict()

    assert client.get("/read").json() == {}


def test_cookies_split_over_several_headers_are_all_read(app: App, client: TestClient) -> None:
    # HTTP/2 allows one cookie-header field per cookie (RFC 9113 section 8.2.3).
    @app.get("/read")
    async def read(ctx: Context) -> dict[str, str]:
        return ctx.request.cookies.to_dict()

    headers = [("cookie", "a=1; b=2"), ("cookie", "c=3")]

    assert client.get("/read", headers=headers).json() == {"a": "1", "b": "2", "c": "3"}


def test_malformed_percent_escapes_are_kept(app: App, client: TestClient) -> None:
    @app.get("/read")
    async def read(ctx: Context) -> dict[str, str]:
        return ctx.request.cookies.to_dict()

    assert client.get("/read", headers={"cookie": "a=100%; b=%zz"}).json() == {
        "a": "100%",
        "b": "%zz",
    }


# -- Set-Cookie -----------------------------------------------------------------------------------


def test_default_cookie_options_are_the_safe_ones(app: App, client: TestClient) -> None:
    set_cookie_route(app, lambda ctx: ctx.response.cookies.set("sid", "abc"))

    response = client.get("/set")

    assert response.headers["set-cookie"] == "sid=abc; Path=/; HttpOnly; SameSite=Lax"


def test_every_cookie_option_on_the_wire(app: App, client: TestClient) -> None:
    set_cookie_route(
        app,
        lambda ctx: ctx.response.cookies.set(
            "full",
            "v",
            path="/app",
            domain="example.com",
            max_age=3600,
            expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
            http_only=True,
            secure=True,
            same_site="strict",
            partitioned=True,
        ),
    )

    response = client.get("/set")

    assert response.headers["set-cookie"] == (
        "full=v; Max-Age=3600; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Domain=example.com; "
        "Path=/app; Secure; HttpOnly; SameSite=Strict; Partitioned"
    )


@pytest.mark.parametrize(
    ("options", "attributes"),
    [
        ({"http_only": False, "same_site": None, "path": None}, ""),
        ({"same_site": "lax"}, "; Path=/; HttpOnly; SameSite=Lax"),
        ({"same_site": "Strict"}, "; Path=/; HttpOnly; SameSite=Strict"),
        ({"same_site": "none", "secure": True}, "; Path=/; Secure; HttpOnly; SameSite=None"),
        ({"max_age": 0, "same_site": None}, "; Max-Age=0; Path=/; HttpOnly"),
        (
            {"expires": 1_700_000_000, "same_site": None},
            "; Expires=Tue, 14 Nov 2023 22:13:20 GMT; Path=/; HttpOnly",
        ),
        (
            {"expires": 1_700_000_000.9, "same_site": None},
            "; Expires=Tue, 14 Nov 2023 22:13:20 GMT; Path=/; HttpOnly",
        ),
        (  # a naive datetime is taken as UTC
            {"expires": datetime(2030, 1, 2, 3, 4, 5), "same_site": None},
            "; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; HttpOnly",
        ),
        (  # other offsets are converted to GMT
            {
                "expires": datetime(2030, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
                "same_site": None,
            },
            "; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; HttpOnly",
        ),
        ({"domain": ".example.org", "same_site": None}, "; Domain=.example.org; Path=/; HttpOnly"),
    ],
)
def test_cookie_options(
    app: App, client: TestClient, options: dict[str, Any], attributes: str
) -> None:
    set_cookie_route(app, lambda ctx: ctx.response.cookies.set("c", "v", **options))

    assert client.get("/set").headers["set-cookie"] == "c=v" + attributes


def test_several_cookies_are_several_headers(app: App, client: TestClient) -> None:
    def action(ctx: Context) -> None:
        ctx.response.cookies.set("a", "1")
        ctx.response.cookies.set("b", "2")

    set_cookie_route(app, action)

    values = client.get("/set").headers.get_list("set-cookie")

    assert [v.split(";")[0] for v in values] == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda c: c.set("x", "v", same_site="none"), "requires secure=True"),
        (lambda c: c.set("x", "v", partitioned=True), "require secure=True"),
        (lambda c: c.set("x", "v", same_site="sometimes"), "same_site"),  # type: ignore[arg-type]
        (lambda c: c.set("bad name", "v"), "invalid cookie name"),
        (lambda c: c.set("x;y", "v"), "invalid cookie name"),
        (lambda c: c.set("x", "v", path="/a;Domain=evil"), "invalid cookie path"),
        (lambda c: c.set("x", "v", domain="a.com\r\nX-Evil: 1"), "invalid cookie domain"),
        (lambda c: c.delete("x", same_site="none"), "requires secure=True"),
    ],
)
def test_unsafe_cookie_settings_are_errors(
    app: App,
    client: TestClient,
    reported: list[BaseException],
    action: Callable[[Any], None],
    message: str,
) -> None:
    set_cookie_route(app, lambda ctx: action(ctx.response.cookies))

    response = client.get("/set")

    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    assert isinstance(reported[0], ValueError)
    assert message in str(reported[0])


def test_delete_expires_the_cookie_now(app: App, client: TestClient) -> None:
    set_cookie_route(app, lambda ctx: ctx.response.cookies.delete("sid"))

    response = client.get("/set")

    assert response.headers["set-cookie"] == (
        "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; HttpOnly; SameSite=Lax"
    )


def test_delete_matches_path_domain_and_partition(app: App, client: TestClient) -> None:
    set_cookie_route(
        app,
        lambda ctx: ctx.response.cookies.delete(
            "sid", path="/app", domain="example.com", secure=True, partitioned=True
        ),
    )

    response = client.get("/set")

    assert response.headers["set-cookie"] == (
        "sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com; "
        "Path=/app; Secure; HttpOnly; SameSite=Lax; Partitioned"
    )


def test_delete_removes_the_cookie_from_the_client(app: App, client: TestClient) -> None:
    @app.get("/login")
    async def login(ctx: Context) -> None:
        ctx.response.cookies.set("sid", "abc")

    @app.get("/logout")
    async def logout(ctx: Context) -> None:
        ctx.response.cookies.delete("sid")

    @app.get("/who")
    async def who(ctx: Context) -> dict[str, str | None]:
        return {"sid": ctx.request.cookies.get("sid")}

    client.get("/login").execute()
    assert client.get("/who").json() == {"sid": "abc"}
    client.get("/logout").execute()
    assert client.get("/who").json() == {"sid": None}


@pytest.mark.parametrize(
    "value",
    [
        "two words",
        "semi;colon",
        'quote"d',
        "comma,here",
        "back\\slash",
        "100%",
        "%41",
        "café ☕",
        "",
    ],
)
def test_any_value_round_trips_through_a_cookie_jar(
    app: App, client: TestClient, value: str
) -> None:
    set_cookie_route(app, lambda ctx: ctx.response.cookies.set("v", value))

    @app.get("/read")
    async def read(ctx: Context) -> dict[str, str | None]:
        return {"v": ctx.request.cookies.get("v")}

    raw = client.get("/set").headers["set-cookie"]

    assert raw.isascii()
    assert ";" not in raw.split("; ")[0]
    assert client.get("/read").json() == {"v": value}


def test_cookies_set_before_an_http_error_are_sent(app: App, client: TestClient) -> None:
    @app.get("/denied")
    async def denied(ctx: Context) -> None:
        ctx.response.cookies.set("attempts", "1")
        ctx.response.headers.set("x-not-kept", "1")
        raise errors.forbidden("no")

    response = client.get("/denied")

    assert response.status_code == 403
    assert response.headers["set-cookie"].startswith("attempts=1;")
    assert "x-not-kept" not in response.headers


def test_cookies_set_before_a_crash_are_sent(app: App, client: TestClient) -> None:
    @app.get("/crash")
    async def crash(ctx: Context) -> None:
        ctx.response.cookies.set("seen", "1")
        raise RuntimeError("boom")

    response = client.get("/crash")

    assert response.status_code == 500
    assert response.headers["set-cookie"].startswith("seen=1;")


def test_cookies_set_in_a_before_hook_survive_the_handlers_error(
    app: App, client: TestClient
) -> None:
    def mark(ctx: Context) -> None:
        ctx.response.cookies.set("hook", "1")

    @app.get("/x", before=[mark])
    async def x() -> None:
        raise errors.not_found("gone")

    response = client.get("/x")

    assert response.status_code == 404
    assert response.headers["set-cookie"].startswith("hook=1;")


def test_cookies_set_with_ctx_helpers_are_merged(app: App, client: TestClient) -> None:
    @app.get("/x")
    async def x(ctx: Context) -> None:
        ctx.response.cookies.set("first", "1")
        ctx.json({"ok": True}).cookies.set("second", "2")

    values = client.get("/x").headers.get_list("set-cookie")

    assert [v.split(";")[0] for v in values] == ["first=1", "second=2"]


# -- header limits (SRV-11) -----------------------------------------------------------------------


@pytest.fixture
def limited() -> Iterator[tuple[TestClient, int]]:
    """A client of an app with HeaderLimits(10, 20, 30) and how many headers it sends itself."""
    app = App(header_limits=HeaderLimits(max_headers=10, max_name_length=20, max_value_length=30))

    @app.get("/h")
    async def h(ctx: Context) -> int:
        return len(ctx.request.headers.multi_items())

    with TestClient(app) as client:
        own = client.get("/h").json()
        assert own < 10
        yield client, own


def test_header_count_at_and_over_the_limit(limited: tuple[TestClient, int]) -> None:
    client, own = limited
    extra = [(f"x-{i}", "v") for i in range(10 - own)]

    assert client.get("/h", headers=extra).json() == 10
    over = client.get("/h", headers=[*extra, ("x-one-more", "v")])

    assert over.status_code == 431
    assert over.headers["content-type"] == "application/problem+json"
    assert "more than 10 headers" in over.json()["detail"]


def test_header_name_length_at_and_over_the_limit(limited: tuple[TestClient, int]) -> None:
    client, _ = limited

    assert client.get("/h", headers={"x" * 20: "v"}).status_code == 200
    assert client.get("/h", headers={"x" * 21: "v"}).status_code == 431


def test_header_value_length_at_and_over_the_limit(limited: tuple[TestClient, int]) -> None:
    client, _ = limited

    assert client.get("/h", headers={"x-v": "v" * 30}).status_code == 200
    assert client.get("/h", headers={"x-v": "v" * 31}).status_code == 431
    assert client.get("/h", headers={"cookie": "a=" + "v" * 29}).status_code == 431


def test_header_limits_apply_before_routing(limited: tuple[TestClient, int]) -> None:
    client, _ = limited

    assert client.get("/no-such-route", headers={"x-v": "v" * 31}).status_code == 431


def test_default_header_limits() -> None:
    with TestClient(App()) as client:
        assert client.get("/", headers={"x-v": "v" * 8192}).status_code == 404
        assert client.get("/", headers={"x-v": "v" * 8193}).status_code == 431
        assert client.get("/", headers={"x" * 200: "v"}).status_code == 404
        assert client.get("/", headers={"x" * 201: "v"}).status_code == 431
        many = [(f"x-{i}", "v") for i in range(100)]
        assert client.get("/", headers=many).status_code == 431


def test_duplicate_host_header_is_a_400(app: App, client: TestClient) -> None:
    app.get("/h")(lambda: "ok")

    response = client.get("/h", headers=[("host", "a.example"), ("Host", "b.example")])

    assert response.status_code == 400
    assert response.json()["detail"] == "more than one Host header"


@pytest.mark.parametrize("field", ["max_headers", "max_name_length", "max_value_length"])
@pytest.mark.parametrize("value", [0, -5])
def test_non_positive_header_limits_are_configuration_errors(field: str, value: int) -> None:
    with pytest.raises(ConfigurationError, match=field):
        HeaderLimits(**{field: value})
