"""CORS (CORS-01..04): origins, preflights, per-path and group rules, hostile Origin values,
startup validation, and CORS headers on error responses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from avian import App, ConfigurationError, Context, Response, errors
from avian.middleware.cors import CORSMiddleware, CORSOptions, normalize_origin
from avian.testing import LifespanError, TestClient

A = "https://a.example"
B = "https://b.example"


def make_app(**cors: Any) -> App:
    app = App(log_exceptions=False)
    app.cors(**cors)
    add_routes(app)
    return app


def add_routes(app: App) -> None:
    @app.get("/things")
    async def things() -> dict[str, int]:
        return {"n": 1}

    @app.post("/things")
    async def create() -> dict[str, int]:
        return {"n": 2}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    @app.get("/private")
    async def private() -> None:
        raise errors.unauthorized("log in")


def as_bytes(headers: dict[str, str | bytes]) -> dict[bytes, bytes]:
    """Header values as raw bytes, so non-ASCII hostile values reach the app unchanged."""
    return {
        k.encode(): v if isinstance(v, bytes) else v.encode("latin-1") for k, v in headers.items()
    }


def get(
    app: App, path: str = "/things", origin: str | bytes | None = A, **headers: str | bytes
) -> Any:
    if origin is not None:
        headers["origin"] = origin
    with TestClient(app) as client:
        return client.get(path, headers=as_bytes(headers)).execute()


def preflight(
    app: App,
    path: str = "/things",
    origin: str | bytes | None = A,
    method: str | bytes = "PUT",
    request_headers: str | None = None,
    **extra: str,
) -> Any:
    headers: dict[str, str | bytes] = {"access-control-request-method": method, **extra}
    if origin is not None:
        headers["origin"] = origin
    if request_headers is not None:
        headers["access-control-request-headers"] = request_headers
    with TestClient(app) as client:
        return client.options(path, headers=as_bytes(headers)).execute()


def cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


def vary(response: Any) -> list[str]:
    return [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]


# --- origin "*" (the default) ------------------------------------------------------------------


def test_default_allows_any_origin_with_a_star_and_no_vary() -> None:
    app = make_app()
    r = get(app, origin="https://anyone.example")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Origin" not in vary(r)
    assert "access-control-allow-credentials" not in r.headers


def test_star_is_sent_without_an_origin_too_so_caches_never_mix_answers() -> None:
    r = get(make_app(origin="*"), origin=None)
    assert r.headers["access-control-allow-origin"] == "*"


def test_star_never_reflects_the_origin_even_a_hostile_one() -> None:
    r = get(make_app(origin="*"), origin="https://evil.example")
    assert r.headers["access-control-allow-origin"] == "*"


# --- exact origins -----------------------------------------------------------------------------


def test_listed_origin_is_echoed_with_vary_origin() -> None:
    r = get(make_app(origin=[A, B]), origin=B)
    assert r.headers["access-control-allow-origin"] == B
    assert "Origin" in vary(r)


def test_unlisted_origin_gets_no_allow_origin_header_at_all() -> None:
    r = get(make_app(origin=A), origin="https://evil.example")
    assert r.status_code == 200  # CORS is not access control: the browser blocks the read
    assert cors_headers(r) == {}
    assert "Origin" in vary(r)


def test_same_origin_request_without_origin_header_gets_vary_but_no_cors() -> None:
    r = get(make_app(origin=A), origin=None)
    assert cors_headers(r) == {}
    assert "Origin" in vary(r)


def test_origin_comparison_ignores_case_of_scheme_and_host() -> None:
    r = get(make_app(origin="https://API.Example.com"), origin="HTTPS://api.EXAMPLE.com")
    assert r.headers["access-control-allow-origin"] == "HTTPS://api.EXAMPLE.com"


def test_default_port_in_config_or_request_is_the_same_origin() -> None:
    app = make_app(origin=["https://a.example:443", "http://b.example"])
    assert get(app, origin=A).headers["access-control-allow-origin"] == A
    r = get(app, origin="http://b.example:80")
    assert r.headers["access-control-allow-origin"] == "http://b.example:80"


def test_other_port_is_another_origin() -> None:
    app = make_app(origin=A)
    assert cors_headers(get(app, origin="https://a.example:8443")) == {}
    assert cors_headers(get(app, origin="http://a.example")) == {}


HOSTILE_ORIGINS: list[str | bytes] = [
    "null",
    "",
    "https://a.example/",
    "https://a.example/path",
    "https://a.example?x=1",
    "https://a.example#frag",
    "https://user:pw@a.example",
    "https://a.example:99999",
    "https://a.example:0",
    "https://a.example:",
    "https://a.example.",
    "https://a.example,https://b.example",
    "https://a.example https://b.example",
    "https://a.example%0d%0aX-Injected: 1",
    "a.example",
    "//a.example",
    "javascript:alert(1)",
    "https://",
    "https://[::1",
    "https://\u00e9.example".encode(),
    "https://" + "a" * 2000 + ".example",
]


@pytest.mark.parametrize("origin", HOSTILE_ORIGINS)
def test_malformed_origins_are_never_echoed_even_when_any_origin_is_reflected(
    origin: str | bytes,
) -> None:
    r = get(make_app(origin=True), origin=origin)
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    assert "Origin" in vary(r)


@pytest.mark.parametrize("origin", HOSTILE_ORIGINS)
def test_malformed_origins_get_their_preflight_refused(origin: str | bytes) -> None:
    r = preflight(make_app(origin=True), origin=origin)
    assert r.status_code == 403
    assert cors_headers(r) == {}


def test_two_origin_headers_are_refused() -> None:
    app = make_app(origin=[A, B])
    with TestClient(app) as client:
        r = client.get("/things", headers=[("origin", A), ("origin", A)]).execute()
        assert "access-control-allow-origin" not in r.headers
        p = client.options(
            "/things",
            headers=[("origin", A), ("origin", B), ("access-control-request-method", "GET")],
        ).execute()
        assert p.status_code == 403
        assert cors_headers(p) == {}


def test_repeated_request_method_header_is_refused() -> None:
    app = make_app(origin=A)
    with TestClient(app) as client:
        r = client.options(
            "/things",
            headers=[
                ("origin", A),
                ("access-control-request-method", "GET"),
                ("access-control-request-method", "DELETE"),
            ],
        ).execute()
    assert r.status_code == 403
    assert cors_headers(r) == {}


def test_true_reflects_any_well_formed_origin() -> None:
    r = get(make_app(origin=True), origin="https://whoever.example:8080")
    assert r.headers["access-control-allow-origin"] == "https://whoever.example:8080"
    assert "Origin" in vary(r)


def test_origin_false_sends_no_cors_headers() -> None:
    r = get(make_app(origin=False), origin=A)
    assert cors_headers(r) == {}
    assert preflight(make_app(origin=False)).status_code == 403


# --- regexes, lists and callables --------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern", [re.compile(r"https://.*\.example\.com"), re.compile(r"^https://.*\.example\.com$")]
)
def test_regex_origins_must_match_the_whole_origin(pattern: re.Pattern[str]) -> None:
    app = make_app(origin=pattern)
    ok = get(app, origin="https://api.example.com")
    assert ok.headers["access-control-allow-origin"] == "https://api.example.com"
    for evil in (
        "https://evil.example.com.attacker.net",
        "https://api.example.com:8080",
        "http://api.example.com",
        "https://example.com.evil",
    ):
        assert "access-control-allow-origin" not in get(app, origin=evil).headers, evil


def test_regex_sees_the_lower_cased_origin() -> None:
    app = make_app(origin=re.compile(r"https://[a-z]+\.example\.com"))
    r = get(app, origin="https://API.example.com")
    assert r.headers["access-control-allow-origin"] == "https://API.example.com"


def test_origins_as_a_tuple_or_set() -> None:
    assert get(make_app(origin=(A,)), origin=A).headers["access-control-allow-origin"] == A
    assert get(make_app(origin={A, B}), origin=B).headers["access-control-allow-origin"] == B


def test_list_mixes_strings_and_regexes() -> None:
    app = make_app(origin=[A, re.compile(r"https://[a-z0-9-]+\.preview\.example")])
    assert get(app, origin=A).headers["access-control-allow-origin"] == A
    preview = "https://pr-12.preview.example"
    assert get(app, origin=preview).headers["access-control-allow-origin"] == preview
    assert "access-control-allow-origin" not in get(app, origin=B).headers


def test_sync_callable_decides_and_receives_the_normalized_origin() -> None:
    seen: list[str] = []

    def check(origin: str) -> bool:
        seen.append(origin)
        return origin.endswith(".trusted.example")

    app = make_app(origin=check)
    r = get(app, origin="https://App.Trusted.example:443")
    assert r.headers["access-control-allow-origin"] == "https://App.Trusted.example:443"
    assert "access-control-allow-origin" not in get(app, origin=B).headers
    assert seen == ["https://app.trusted.example", B]


def test_async_callable_decides() -> None:
    async def check(origin: str) -> bool:
        return origin == B

    app = make_app(origin=check)
    assert get(app, origin=B).headers["access-control-allow-origin"] == B
    assert "access-control-allow-origin" not in get(app, origin=A).headers
    assert preflight(app, origin=B).status_code == 204
    assert preflight(app, origin=A).status_code == 403


def test_callable_is_not_asked_about_malformed_origins() -> None:
    calls: list[str] = []

    def check(origin: str) -> bool:
        calls.append(origin)
        return True

    r = get(make_app(origin=check), origin="null")
    assert "access-control-allow-origin" not in r.headers
    assert calls == []


def test_callable_returning_a_non_bool_is_a_server_error_not_an_allow() -> None:
    app = make_app(origin=lambda origin: origin)  # truthy string: a classic mistake
    r = get(app, origin=A)
    assert r.status_code == 500
    assert "access-control-allow-origin" not in r.headers


# --- credentials, exposed headers --------------------------------------------------------------


def test_credentials_are_allowed_for_listed_origins_only() -> None:
    app = make_app(origin=A, credentials=True)
    r = get(app, origin=A)
    assert r.headers["access-control-allow-origin"] == A
    assert r.headers["access-control-allow-credentials"] == "true"
    assert cors_headers(get(app, origin=B)) == {}


def test_exposed_headers_on_actual_responses_not_on_preflights() -> None:
    app = make_app(origin=A, exposed_headers=["X-Total", "X-Page"])
    assert get(app).headers["access-control-expose-headers"] == "X-Total, X-Page"
    assert "access-control-expose-headers" not in preflight(app).headers
    assert "access-control-expose-headers" not in get(app, origin=B).headers


def test_exposed_headers_as_a_string_and_star() -> None:
    assert get(make_app(exposed_headers="X-A,X-B")).headers["access-control-expose-headers"] == (
        "X-A, X-B"
    )
    assert get(make_app(exposed_headers="*")).headers["access-control-expose-headers"] == "*"


# --- preflights --------------------------------------------------------------------------------


def test_preflight_is_answered_before_routing_with_204_and_the_allow_headers() -> None:
    app = make_app(origin=A, max_age=600, credentials=True)
    r = preflight(app, method="PUT", request_headers="Content-Type, X-Token")
    assert r.status_code == 204
    assert r.content == b""
    assert cors_headers(r) == {
        "access-control-allow-origin": A,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, HEAD, PUT, PATCH, POST, DELETE",
        "access-control-allow-headers": "Content-Type, X-Token",
        "access-control-max-age": "600",
    }
    assert vary(r) == ["Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"]


def test_preflight_without_requested_headers_sends_no_allow_headers() -> None:
    r = preflight(make_app(origin=A))
    assert "access-control-allow-headers" not in r.headers
    assert "access-control-max-age" not in r.headers  # max_age=None: the browser decides


def test_max_age_zero_is_sent() -> None:
    assert preflight(make_app(max_age=0)).headers["access-control-max-age"] == "0"


def test_options_success_status() -> None:
    r = preflight(make_app(origin=A, options_success_status=200))
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == A


def test_preflight_from_unlisted_origin_is_refused_without_cors_headers() -> None:
    r = preflight(make_app(origin=A), origin="https://evil.example")
    assert r.status_code == 403
    assert cors_headers(r) == {}
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "CORS_REJECTED"
    assert "evil" not in r.text  # the attacker's text is not reflected
    assert "Origin" in vary(r)


def test_configured_methods_are_announced_and_enforced() -> None:
    app = make_app(origin=A, methods=["get", "POST"])
    ok = preflight(app, method="POST")
    assert ok.headers["access-control-allow-methods"] == "GET, POST"
    refused = preflight(app, method="DELETE")
    assert refused.status_code == 403
    assert cors_headers(refused) == {}


def test_methods_as_a_single_string_or_comma_list() -> None:
    assert preflight(make_app(methods="GET"), method="GET").headers[
        "access-control-allow-methods"
    ] == ("GET")
    assert preflight(make_app(methods="GET,PUT"), method="PUT").headers[
        "access-control-allow-methods"
    ] == ("GET, PUT")


def test_methods_star_allows_any_method() -> None:
    r = preflight(make_app(methods="*"), method="PROPFIND")
    assert r.status_code == 204
    assert r.headers["access-control-allow-methods"] == "*"


def test_methods_star_with_credentials_reflects_the_method() -> None:
    # With credentials browsers read "*" literally, so the requested method is named.
    r = preflight(make_app(origin=A, credentials=True, methods="*"), method="PURGE")
    assert r.headers["access-control-allow-methods"] == "PURGE"


@pytest.mark.parametrize("method", ["G E T", "GET,PUT", "", "GET\u00e9".encode()])
def test_malformed_request_method_is_refused(method: str | bytes) -> None:
    r = preflight(make_app(origin=A, methods="*"), method=method)
    # An empty Access-Control-Request-Method is still a preflight, and a broken one.
    assert r.status_code == 403
    assert cors_headers(r) == {}


def test_allowed_headers_list_is_announced_and_enforced_case_insensitively() -> None:
    app = make_app(origin=A, allowed_headers=["Content-Type", "Authorization"])
    ok = preflight(app, request_headers="authorization,content-type")
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-headers"] == "Content-Type, Authorization"
    refused = preflight(app, request_headers="authorization, x-secret")
    assert refused.status_code == 403
    assert cors_headers(refused) == {}


def test_allowed_headers_star() -> None:
    r = preflight(make_app(allowed_headers="*"), request_headers="x-anything")
    assert r.headers["access-control-allow-headers"] == "*"


def test_allowed_headers_star_with_credentials_reflects_the_request() -> None:
    app = make_app(origin=A, credentials=True, allowed_headers="*")
    r = preflight(app, request_headers="X-One, x-two")
    assert r.headers["access-control-allow-headers"] == "X-One, x-two"


def test_reflected_headers_are_deduplicated_and_empty_items_ignored() -> None:
    r = preflight(make_app(origin=A), request_headers="x-a, , X-B,x-a")
    assert r.headers["access-control-allow-headers"] == "x-a, X-B"


@pytest.mark.parametrize("value", ["x-a; x-b", "x a", "x-a,(b)"])
def test_malformed_request_headers_are_refused(value: str) -> None:
    r = preflight(make_app(origin=A), request_headers=value)
    assert r.status_code == 403
    assert cors_headers(r) == {}


def test_star_preflight_is_answered_for_any_origin_even_null() -> None:
    # "*" is the same answer for everyone, sandboxed documents included.
    r = preflight(make_app(origin="*"), origin="null")
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "Origin" not in vary(r)


def test_options_without_request_method_is_an_ordinary_request() -> None:
    app = App()
    app.cors(origin=A)

    @app.options("/things")
    async def options_things(ctx: Context) -> Response:
        return Response("custom options", 200)

    with TestClient(app) as client:
        r = client.options("/things", headers={"origin": A}).execute()
    assert r.text == "custom options"
    assert r.headers["access-control-allow-origin"] == A
    assert "access-control-allow-methods" not in r.headers


def test_preflight_does_not_reach_the_route() -> None:
    calls: list[str] = []
    app = App()
    app.cors(origin=A)

    @app.options("/things")
    async def options_things() -> str:
        calls.append("route")
        return "route"

    r = preflight(app)
    assert r.status_code == 204
    assert calls == []


# --- preflight_continue ------------------------------------------------------------------------


def test_preflight_continue_passes_to_the_route_and_adds_headers() -> None:
    app = App()
    app.cors(origin=A, preflight_continue=True, max_age=60)

    @app.options("/things")
    async def options_things(ctx: Context) -> Response:
        ctx.response.headers.set("access-control-max-age", "5")  # the route's own choice
        return Response("handled by the route", 200)

    r = preflight(app)
    assert r.status_code == 200
    assert r.text == "handled by the route"
    assert r.headers["access-control-allow-origin"] == A
    assert r.headers["access-control-allow-methods"]
    assert r.headers["access-control-max-age"] == "5"


def test_preflight_continue_without_an_options_route_gets_the_automatic_answer() -> None:
    app = make_app(origin=A, preflight_continue=True)
    r = preflight(app)
    assert r.status_code == 204
    assert "GET" in r.headers["allow"]
    assert r.headers["access-control-allow-origin"] == A


def test_preflight_continue_refused_origin_reaches_the_route_without_cors_headers() -> None:
    app = make_app(origin=A, preflight_continue=True)
    r = preflight(app, origin=B)
    assert r.status_code == 204  # the automatic OPTIONS answer
    assert cors_headers(r) == {}


# --- headers the app set -----------------------------------------------------------------------


def test_existing_vary_is_extended_not_replaced() -> None:
    app = App()
    app.cors(origin=A)

    @app.get("/v")
    async def v(ctx: Context) -> str:
        ctx.response.headers.set("vary", "Accept-Encoding")
        return "ok"

    r = get(app, "/v")
    assert vary(r) == ["Accept-Encoding", "Origin"]


def test_vary_star_is_left_alone_and_origin_is_not_repeated() -> None:
    app = App()
    app.cors(origin=A)

    @app.get("/star")
    async def star(ctx: Context) -> str:
        ctx.response.headers.set("vary", "*")
        return "ok"

    @app.get("/twice")
    async def twice(ctx: Context) -> str:
        ctx.response.headers.set("vary", "origin")
        return "ok"

    assert get(app, "/star").headers["vary"] == "*"
    assert get(app, "/twice").headers["vary"] == "origin"


def test_allow_origin_set_by_the_handler_wins() -> None:
    app = App()
    app.cors(origin="*")

    @app.get("/own")
    async def own(ctx: Context) -> str:
        ctx.response.headers.set("access-control-allow-origin", "https://partner.example")
        return "ok"

    assert get(app, "/own").headers.get_list("access-control-allow-origin") == [
        "https://partner.example"
    ]


# --- error responses ---------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/boom", 500), ("/private", 401)])
def test_error_responses_carry_cors_headers_for_allowed_origins(path: str, status: int) -> None:
    app = make_app(origin=A, credentials=True, exposed_headers=["X-Request-Id"])
    r = get(app, path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["access-control-allow-origin"] == A
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-expose-headers"] == "X-Request-Id"


def test_method_not_allowed_carries_cors_headers() -> None:
    app = make_app(origin=A)
    with TestClient(app) as client:
        r = client.delete("/things", headers={"origin": A}).execute()
    assert r.status_code == 405
    assert r.headers["access-control-allow-origin"] == A


def test_error_responses_do_not_echo_unlisted_origins() -> None:
    r = get(make_app(origin=A), "/boom", origin=B)
    assert r.status_code == 500
    assert cors_headers(r) == {}


def test_preflight_to_an_unknown_path_is_still_answered() -> None:
    # The browser asks before it knows whether the route exists; the real request 404s.
    assert preflight(make_app(origin=A), path="/nowhere").status_code == 204


# --- per-path rules and groups -----------------------------------------------------------------


def test_most_specific_path_rule_wins() -> None:
    app = App()
    app.cors(origin=A)
    app.cors(origin=B, path="/books")
    app.cors(origin="*", path="/books/public")

    @app.get("/{path:path}")
    async def anything(path: str) -> str:
        return path

    def allow(path: str, origin: str) -> str | None:
        value: str | None = get(app, path, origin=origin).headers.get("access-control-allow-origin")
        return value

    assert allow("/other", A) == A
    assert allow("/books", A) is None
    assert allow("/books", B) == B
    assert allow("/books/1", B) == B
    assert allow("/booksx", A) == A  # a prefix matches whole segments only
    assert allow("/booksx", B) is None
    assert allow("/books/public/x", "https://c.example") == "*"
    assert allow("/books/publicity", B) == B


def test_path_rule_alone_leaves_other_paths_without_cors() -> None:
    app = App()
    app.cors(origin=A, path="/api")
    add_routes(app)

    @app.get("/api/x")
    async def api_x() -> str:
        return "x"

    assert cors_headers(get(app, "/things")) == {}
    assert "vary" not in get(app, "/things").headers
    assert get(app, "/api/x").headers["access-control-allow-origin"] == A
    # A preflight outside every rule is an ordinary OPTIONS (the automatic answer).
    r = preflight(app, "/things")
    assert r.status_code == 204
    assert cors_headers(r) == {}
    assert "allow" in r.headers


def test_group_cors_applies_to_its_routes_and_answers_preflights_without_options_routes() -> None:
    app = App()
    api = app.group("/api")
    api.cors(origin=B, allowed_headers=["Authorization"], max_age=120)

    @api.get("/items")
    async def items() -> list[int]:
        return [1]

    @app.get("/page")
    async def page() -> str:
        return "page"

    r = preflight(app, "/api/items", origin=B, method="GET", request_headers="authorization")
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == B
    assert r.headers["access-control-allow-headers"] == "Authorization"
    assert r.headers["access-control-max-age"] == "120"
    assert get(app, "/api/items", origin=B).headers["access-control-allow-origin"] == B
    assert cors_headers(get(app, "/page", origin=B)) == {}


def test_group_rule_overrides_the_app_rule_inside_the_group() -> None:
    app = App()
    app.cors(origin="*")
    admin = app.group("/admin")
    admin.cors(origin=False)  # turn CORS off below /admin

    @admin.get("/users")
    async def users() -> list[str]:
        return []

    add_routes(app)
    assert get(app, "/things").headers["access-control-allow-origin"] == "*"
    assert cors_headers(get(app, "/admin/users")) == {}
    assert preflight(app, "/admin/users").status_code == 403


def test_group_with_a_path_parameter_in_its_prefix() -> None:
    app = App()
    user = app.group("/users/{user_id}")
    user.cors(origin=A)

    @user.get("/files")
    async def files(user_id: str) -> str:
        return user_id

    assert get(app, "/users/42/files").headers["access-control-allow-origin"] == A
    assert preflight(app, "/users/42/files").status_code == 204
    assert cors_headers(get(app, "/users", origin=A)) == {}


def test_colon_and_catch_all_parameters_in_rule_paths() -> None:
    app = App()
    app.cors(origin=A, path="/teams/:team")
    app.cors(origin=B, path="/docs/{rest:path}")

    @app.get("/{path:path}")
    async def anything(path: str) -> str:
        return path

    assert get(app, "/teams/red/x").headers["access-control-allow-origin"] == A
    assert cors_headers(get(app, "/teams")) == {}
    assert cors_headers(get(app, "/teams//x")) == {}  # a parameter needs a segment
    # A catch-all parameter covers everything below it.
    assert get(app, "/docs/a/b", origin=B).headers["access-control-allow-origin"] == B
    assert get(app, "/docs", origin=B).headers["access-control-allow-origin"] == B


def test_nested_group_path_option() -> None:
    app = App()
    api = app.group("/api")
    api.cors(origin=A, path="/v2")

    @api.get("/v2/x")
    async def v2() -> str:
        return "2"

    @api.get("/v1/x")
    async def v1() -> str:
        return "1"

    assert get(app, "/api/v2/x").headers["access-control-allow-origin"] == A
    assert cors_headers(get(app, "/api/v1/x")) == {}


def test_rules_see_percent_encoded_paths_by_segment() -> None:
    app = App()
    app.cors(origin=A, path="/files")

    @app.get("/files/{name}")
    async def file(name: str) -> str:
        return name

    r = get(app, "/files/a%2Fb")
    assert r.text == "a/b"
    assert r.headers["access-control-allow-origin"] == A


def test_rules_match_below_root_path() -> None:
    app = App()
    app.cors(origin=A, path="/api")

    @app.get("/api/x")
    async def x() -> str:
        return "x"

    with TestClient(app, root_path="/mounted") as client:
        r = client.get("/api/x", headers={"origin": A}).execute()
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == A


def test_configuring_the_same_path_twice_fails_at_startup() -> None:
    app = make_app(origin=A)
    app.cors(origin=B, path="/")
    with pytest.raises(LifespanError, match="configured twice"), TestClient(app):
        pass


# --- ways of passing options -------------------------------------------------------------------


def test_options_as_dict_dataclass_or_keywords() -> None:
    app = App()
    app.cors({"origin": A, "exposed_headers": ["X-Dict"]})
    app.cors(CORSOptions(origin=B), path="/b", credentials=True)
    add_routes(app)

    @app.get("/b")
    async def b_route() -> str:
        return "b"

    r = get(app, "/things")
    assert r.headers["access-control-expose-headers"] == "X-Dict"
    r = get(app, "/b", origin=B)
    assert r.headers["access-control-allow-origin"] == B
    assert r.headers["access-control-allow-credentials"] == "true"


def test_middleware_can_be_used_directly() -> None:
    app = App()
    app.use(CORSMiddleware(origin=[A]))
    add_routes(app)
    assert get(app).headers["access-control-allow-origin"] == A
    assert CORSMiddleware({"origin": A}).options == CORSOptions(origin=A)


# --- validation at startup ---------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["*", True])
def test_any_origin_with_credentials_refuses_to_start(origin: Any) -> None:
    app = make_app(origin=origin, credentials=True)
    with pytest.raises(LifespanError, match="credentials=True"), TestClient(app):
        pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"origin": 42}, "CORS origin must be"),
        ({"origin": [A, 42]}, "list items"),
        ({"origin": [A, "*"]}, "given alone"),
        ({"origin": "null"}, "'null' cannot be allowed"),
        ({"origin": [A, "null"]}, "'null' cannot be allowed"),
        ({"origin": "https://a.example/"}, "no trailing slash"),
        ({"origin": "a.example"}, "is not an origin"),
        ({"origin": "https://*.example.com"}, "wildcards are not patterns"),
        ({"origin": re.compile(rb"https://a")}, "not bytes"),
        ({"methods": 5}, "methods must be"),
        ({"methods": []}, "must not be empty"),
        ({"methods": ["GET POST"]}, "not a valid name"),
        ({"allowed_headers": ["X A"]}, "not a valid name"),
        ({"exposed_headers": [1]}, "exposed_headers must be"),
        ({"exposed_headers": "*", "origin": A, "credentials": True}, "exposed_headers '*'"),
        ({"credentials": "yes"}, "credentials must be"),
        ({"max_age": -1}, "max_age"),
        ({"max_age": True}, "max_age"),
        ({"max_age": 1.5}, "max_age"),
        ({"preflight_continue": 1}, "preflight_continue"),
        ({"options_success_status": 404}, "2xx"),
        ({"options_success_status": True}, "2xx"),
        ({"allowedHeaders": ["X"]}, "did you mean 'allowed_headers'"),
        ({"orgin": A}, "did you mean 'origin'"),
        ({"bogus": 1}, "unknown CORS option 'bogus'"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        CORSMiddleware(**options)


def test_bad_options_surface_when_the_app_starts() -> None:
    app = make_app(origin="https://a.example/")
    with pytest.raises(LifespanError, match="trailing slash"), TestClient(app):
        pass


def test_options_must_be_a_dict_or_options_object() -> None:
    with pytest.raises(ConfigurationError, match="CORSOptions, a dict"):
        CORSMiddleware(["*"])  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="at least one rule"):
        CORSMiddleware.from_rules([])
    with pytest.raises(ConfigurationError, match="must be a string"):
        CORSMiddleware.from_rules([(None, None, {})])  # type: ignore[list-item]


def test_normalize_origin() -> None:
    assert normalize_origin("HTTPS://Example.COM:443") == "https://example.com"
    assert normalize_origin("http://example.com:8080") == "http://example.com:8080"
    assert normalize_origin("http://[::1]:3000") == "http://[::1]:3000"
    assert normalize_origin("app://local") == "app://local"
    assert normalize_origin("null") is None
    assert normalize_origin("https://example.com/") is None


# --- docs/cors.md ------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_examples(page: str) -> list[dict[str, Any]]:
    """Run each python example of a docs page in its own namespace."""
    text = (DOCS / page).read_text(encoding="utf-8")
    out = []
    for n, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.DOTALL)):
        namespace: dict[str, Any] = {"__name__": f"docs_example_{n}"}
        exec(compile(code, f"{page} example {n}", "exec"), namespace)
        out.append(namespace)
    return out


def test_docs_examples_behave_as_described() -> None:
    quick, spellings, per_path, direct = doc_examples("cors.md")
    shop = "https://shop.example"

    r = get(quick["app"], "/cart", origin=shop)
    assert r.headers["access-control-allow-origin"] == shop
    assert r.headers["access-control-allow-credentials"] == "true"
    assert cors_headers(get(quick["app"], "/cart", origin=B)) == {}

    for name in ("a", "b", "c"):
        r = preflight(spellings[name], "/anything", origin=shop)
        assert r.headers["access-control-max-age"] == "600"

    app = per_path["app"]
    reader = "https://readers.books.example"
    assert get(app, "/books/1", origin=reader).headers["access-control-allow-origin"] == reader
    assert "access-control-allow-origin" not in get(app, "/books/1", origin=shop).headers
    r = preflight(app, "/api/orders", origin=shop)
    assert r.status_code == 204
    assert r.headers["access-control-allow-credentials"] == "true"
    assert cors_headers(get(app, "/admin/users", origin=shop)) == {}
    assert get(app, "/elsewhere", origin=shop).headers["access-control-allow-origin"] == "*"

    r = get(direct["app"], "/", origin=shop)
    assert r.status_code == 404
    assert r.headers["access-control-allow-origin"] == shop
