"""CSRF (CSRF-01): the Harpia token service and the middleware that protects unsafe methods.

The middleware tests run a real app over HTTP with avian's sessions middleware in front of
the CSRF one; time is a fake clock, never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.clock import FakeClock

from avian import App, ConfigurationError, Context, Response
from avian.csrf import (
    CSRF,
    CSRFError,
    CSRFMiddleware,
    csrf_exempt,
    csrf_field,
    csrf_token,
)
from avian.sessions import Session, SessionMiddleware
from avian.stores import MemoryStore
from avian.testing import TestClient, TestResponse

SECRET = "a-test-secret-that-is-long-enough"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def run(coro: Awaitable[Any]) -> Any:
    async def main() -> Any:
        return await coro

    return asyncio.run(main())


# --- the app under test -------------------------------------------------------------------------


def make_app(
    middleware: CSRFMiddleware | None = None, *, sessions: bool = True, **options: Any
) -> App:
    app = App()
    if sessions:
        app.use(SessionMiddleware(Session()))
    app.use(middleware if middleware is not None else CSRFMiddleware(**options))

    async def show_form(ctx: Context) -> dict[str, Any]:
        return {"token": ctx.state.get("csrf_token"), "field": str(csrf_field(ctx))}

    async def lazy(ctx: Context) -> dict[str, Any]:
        before = ctx.state.get("csrf_token")
        return {"before": before, "token": await csrf_token(ctx)}

    async def echo(ctx: Context) -> dict[str, Any]:
        """What the handler can still read after the middleware looked at the body."""
        media = ctx.request.content_type
        fields: dict[str, Any] = {}
        if media in FORM_TYPES:
            form = await ctx.request.form()
            for name, value in form.items():
                fields[name] = value if isinstance(value, str) else (await value.read()).decode()
        elif media == "application/json":
            fields = await ctx.request.json()
        else:
            fields = {"raw": (await ctx.request.body()).decode()}
        return {"ok": True, "fields": fields, "state_token": ctx.state.get("csrf_token")}

    async def login(ctx: Context) -> dict[str, Any]:
        session = getattr(ctx, "session", None)
        if session is not None:
            await session.rotate()  # new id at login: tokens of the old one stop working
        return {"ok": True}

    app.get("/form")(show_form)
    app.post("/login")(login)
    app.get("/lazy")(lazy)
    app.post("/submit")(echo)
    app.put("/submit")(echo)
    app.delete("/submit")(echo)
    app.post("/webhooks/{provider}", name="webhook")(echo)
    app.post("/named", name="named-route")(echo)
    app.post("/decorated")(csrf_exempt(echo_copy(echo)))
    return app


def echo_copy(
    handler: Callable[[Context], Awaitable[dict[str, Any]]],
) -> Callable[[Context], Awaitable[dict[str, Any]]]:
    """A separate function object, so marking it exempt leaves the shared one alone."""

    async def copy(ctx: Context) -> dict[str, Any]:
        return await handler(ctx)

    return copy


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def fetch_token(client: TestClient, path: str = "/form") -> str:
    response = client.get(path).execute()
    assert response.status_code == 200
    token = response.json()["token"]
    assert isinstance(token, str)
    assert token
    return token


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    """Swap one cookie for another value, as a script or a sibling subdomain could."""
    client.cookies.delete(name)
    client.cookies.set(name, value, domain="testserver.local")  # where httpx files the host's


def assert_csrf_failed(response: TestResponse, reason: str) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == "CSRF_FAILED"
    assert body["status"] == 403
    assert body["details"] == {"reason": reason}
    return body


# --- CSRF: the token service --------------------------------------------------------------------


def test_generate_then_check_accepts_the_token_and_nothing_else() -> None:
    csrf = CSRF()

    async def scenario() -> None:
        token = await csrf.generate("session-1")
        assert len(token) >= 43
        assert token.isascii()
        assert await csrf.check("session-1", token) is True
        assert not await csrf.check("session-1", token[:-1] + ("A" if token[-1] != "A" else "B"))
        assert not await csrf.check("session-1", token + "x")
        assert not await csrf.check("session-2", token)
        assert not await csrf.check("unknown", token)

    run(scenario())


def test_check_is_false_for_a_mismatch() -> None:
    csrf = CSRF()

    async def scenario() -> bool:
        await csrf.generate("s")
        return await csrf.check("s", "not-the-token")

    assert run(scenario()) is False


def test_generate_replaces_the_previous_token() -> None:
    csrf = CSRF()

    async def scenario() -> None:
        first = await csrf.generate("s")
        second = await csrf.generate("s")
        assert first != second
        assert not await csrf.check("s", first)
        assert await csrf.check("s", second)

    run(scenario())


def test_delete_forgets_the_token() -> None:
    csrf = CSRF()

    async def scenario() -> None:
        token = await csrf.generate("s")
        await csrf.delete("s")
        assert not await csrf.check("s", token)
        await csrf.delete("never-had-one")  # no error

    run(scenario())


def test_tokens_expire_after_ttl_by_the_injected_clock() -> None:
    clock = FakeClock()
    csrf = CSRF(ttl=60, clock=clock)

    async def scenario() -> None:
        token = await csrf.generate("s")
        clock.advance(59.9)
        assert await csrf.check("s", token)
        clock.advance(0.1)
        assert not await csrf.check("s", token)

    run(scenario())


def test_default_ttl_is_five_minutes() -> None:
    clock = FakeClock()
    csrf = CSRF(clock=clock)
    assert csrf.ttl == 300.0

    async def scenario() -> None:
        token = await csrf.generate("s")
        clock.advance(299)
        assert await csrf.check("s", token)
        clock.advance(1)
        assert not await csrf.check("s", token)

    run(scenario())


def test_expiry_uses_the_csrf_clock_even_when_the_store_keeps_the_value() -> None:
    """A store with its own (frozen) clock never expires the key; the CSRF clock still does."""
    clock = FakeClock()
    store = MemoryStore(clock=lambda: 0.0)
    csrf = CSRF(store, ttl=10, clock=clock)

    async def scenario() -> None:
        token = await csrf.generate("s")
        clock.advance(11)
        assert await store.get("csrf:s") is not None
        assert not await csrf.check("s", token)

    run(scenario())


def test_keys_are_namespaced_in_the_given_store() -> None:
    store = MemoryStore()
    csrf = CSRF(store)

    async def scenario() -> list[str]:
        await csrf.generate("abc")
        await store.set("abc", "someone else's value")
        return sorted(await store.keys("csrf:*"))

    assert run(scenario()) == ["csrf:abc"]
    assert CSRF(store, prefix="x:").prefix == "x:"


@pytest.mark.parametrize(
    "hostile",
    ["", "é" * 43, "\x00" * 43, "a" * 10_000, None, 42, b"bytes"],
    ids=["empty", "non-ascii", "nul", "huge", "none", "int", "bytes"],
)
def test_check_refuses_hostile_tokens_without_raising(hostile: Any) -> None:
    csrf = CSRF()

    async def scenario() -> bool:
        await csrf.generate("s")
        return await csrf.check("s", hostile)

    assert run(scenario()) is False


def test_check_with_an_empty_session_id_is_false_and_generate_refuses_it() -> None:
    csrf = CSRF()
    assert run(csrf.check("", "token")) is False
    with pytest.raises(ValueError, match="session id"):
        run(csrf.generate(""))


def test_a_corrupt_store_value_is_treated_as_no_token() -> None:
    store = MemoryStore()
    csrf = CSRF(store)

    async def scenario() -> tuple[bool, bool]:
        await store.set("csrf:a", "just-a-string")
        await store.set("csrf:b", {"token": 5, "expires": "later"})
        return await csrf.check("a", "just-a-string"), await csrf.check("b", "5")

    assert run(scenario()) == (False, False)


def test_ttl_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="ttl"):
        CSRF(ttl=0)


def test_token_reuses_the_live_token_and_renews_it_past_half_life() -> None:
    clock = FakeClock()
    csrf = CSRF(ttl=100, clock=clock)

    async def scenario() -> None:
        first = await csrf.token("s")
        assert await csrf.token("s") == first  # another tab gets the same token
        clock.advance(60)  # past half its life: saved again with a fresh expiry
        assert await csrf.token("s") == first
        clock.advance(60)  # 120 s after it was made, still valid thanks to the renewal
        assert await csrf.check("s", first)
        clock.advance(101)
        fresh = await csrf.token("s")
        assert fresh != first
        assert not await csrf.check("s", first)

    run(scenario())


# --- the middleware: safe methods and exposure --------------------------------------------------


def test_get_passes_and_exposes_a_session_bound_token(client: TestClient) -> None:
    response = client.get("/form").execute()
    assert response.status_code == 200
    body = response.json()
    assert body["token"]
    assert "sid" in response.cookies  # ensure() created the session the token is bound to
    assert body["field"] == f'<input type="hidden" name="_csrf" value="{body["token"]}">'
    assert fetch_token(client) == body["token"]  # stable across pages and tabs


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_other_safe_methods_pass_without_a_token(method: str) -> None:
    app = make_app()

    @app.route("/any", methods=["HEAD", "OPTIONS", "GET"])
    async def anything(ctx: Context) -> str:
        return "ok"

    with TestClient(app) as client:
        client.get("/form").execute()  # now the client has cookies
        assert client.request(method, "/any").execute().status_code == 200


def test_safe_methods_option_is_honoured() -> None:
    with TestClient(make_app(safe_methods=("GET", "HEAD", "OPTIONS", "TRACE", "DELETE"))) as c:
        fetch_token(c)
        assert c.delete("/submit").execute().status_code == 200
        assert_csrf_failed(c.put("/submit").execute(), "missing_token")


def test_eager_false_leaves_the_token_to_csrf_token_helper() -> None:
    with TestClient(make_app(eager=False)) as client:
        assert client.get("/form").execute().json()["token"] is None
        response = client.get("/lazy").execute()
        body = response.json()
        assert body["before"] is None
        assert body["token"]
        ok = client.post("/submit", headers={"x-csrf-token": body["token"]}).execute()
        assert ok.status_code == 200


def test_csrf_field_escapes_a_custom_field_name() -> None:
    with TestClient(make_app(field_name='x"><script>')) as client:
        field = client.get("/form").execute().json()["field"]
        assert "<script>" not in field
        assert 'name="x&#34;&gt;&lt;script&gt;"' in field


# --- the middleware: unsafe methods ---------------------------------------------------------------


def test_post_without_a_token_is_403_problem_json(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post("/submit", data={"name": "Ada"}).execute()
    body = assert_csrf_failed(response, "missing_token")
    assert body["title"] == "Forbidden"
    assert body["detail"] == "CSRF token missing from the request"
    assert token not in response.text


def test_token_in_the_header_passes(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.put("/submit", headers={"X-CSRF-Token": token}).execute()
    assert response.status_code == 200
    assert response.json()["state_token"] == token


def test_token_in_an_urlencoded_form_passes_and_the_handler_still_reads_the_form(
    client: TestClient,
) -> None:
    token = fetch_token(client)
    response = client.post("/submit", data={"_csrf": token, "name": "Ada"}).execute()
    assert response.status_code == 200
    assert response.json()["fields"] == {"_csrf": token, "name": "Ada"}


def test_token_in_a_multipart_form_passes_and_files_stay_readable(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit",
        data={"_csrf": token},
        files={"doc": ("a.txt", b"file body", "text/plain")},
    ).execute()
    assert response.status_code == 200
    assert response.json()["fields"] == {"_csrf": token, "doc": "file body"}


def test_a_file_part_named_like_the_field_is_not_a_token(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", files={"_csrf": ("t.txt", token.encode(), "text/plain")}
    ).execute()
    assert_csrf_failed(response, "missing_token")


def test_wrong_token_is_403_without_leaking_the_expected_one(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post("/submit", data={"_csrf": "guess"}).execute()
    body = assert_csrf_failed(response, "invalid_token")
    assert body["detail"] == "CSRF token invalid or expired"
    assert token not in response.text


def test_the_header_wins_over_the_form_field(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", data={"_csrf": token}, headers={"x-csrf-token": "wrong"}
    ).execute()
    assert_csrf_failed(response, "invalid_token")


def test_a_token_bound_to_another_session_is_refused() -> None:
    app = make_app()
    with TestClient(app) as alice, TestClient(app) as mallory:
        fetch_token(alice)
        mallory_token = fetch_token(mallory)
        response = alice.post("/submit", headers={"x-csrf-token": mallory_token}).execute()
        assert_csrf_failed(response, "invalid_token")


def test_an_expired_token_is_refused_and_a_fresh_page_fixes_it() -> None:
    clock = FakeClock()
    app = make_app(CSRFMiddleware(CSRF(ttl=60, clock=clock)))
    with TestClient(app) as client:
        token = fetch_token(client)
        clock.advance(61)
        assert_csrf_failed(
            client.post("/submit", headers={"x-csrf-token": token}).execute(), "invalid_token"
        )
        fresh = fetch_token(client)
        assert fresh != token
        assert client.post("/submit", headers={"x-csrf-token": fresh}).execute().status_code == 200


def test_browsing_keeps_the_token_alive() -> None:
    clock = FakeClock()
    app = make_app(CSRFMiddleware(CSRF(ttl=60, clock=clock)))
    with TestClient(app) as client:
        token = fetch_token(client)
        for _ in range(4):  # 4 x 40 s of page views: far past the 60 s TTL
            clock.advance(40)
            assert fetch_token(client) == token
        assert client.post("/submit", headers={"x-csrf-token": token}).execute().status_code == 200


def test_rotating_the_session_at_login_retires_the_old_token(client: TestClient) -> None:
    token = fetch_token(client)
    assert client.post("/login", headers={"x-csrf-token": token}).execute().status_code == 200
    stale = client.post("/submit", headers={"x-csrf-token": token}).execute()
    assert_csrf_failed(stale, "invalid_token")
    fresh = fetch_token(client)
    assert fresh != token
    assert client.post("/submit", headers={"x-csrf-token": fresh}).execute().status_code == 200


def test_post_with_cookies_but_an_unknown_session_is_refused(client: TestClient) -> None:
    client.cookies.set("sid", "forged-session-id")
    response = client.post("/submit", headers={"x-csrf-token": "anything"}).execute()
    assert_csrf_failed(response, "no_session")


def test_method_override_to_delete_is_still_checked(client: TestClient) -> None:
    token = fetch_token(client)
    assert_csrf_failed(
        client.post("/submit", data={"_method": "DELETE"}).execute(), "missing_token"
    )
    ok = client.post("/submit", data={"_method": "DELETE", "_csrf": token}).execute()
    assert ok.status_code == 200


# --- what is rejected and why: bodies that are not forms ------------------------------------------


def test_text_plain_json_body_with_the_token_field_is_refused(client: TestClient) -> None:
    """A cross-site <form enctype="text/plain"> can produce exactly this body."""
    token = fetch_token(client)
    body = json.dumps({"_csrf": token, "amount": 100})
    response = client.post(
        "/submit", content=body, headers={"content-type": "text/plain"}
    ).execute()
    assert_csrf_failed(response, "missing_token")


def test_text_plain_body_passes_when_the_header_carries_the_token(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit",
        content="hello",
        headers={"content-type": "text/plain", "x-csrf-token": token},
    ).execute()
    assert response.status_code == 200
    assert response.json()["fields"] == {"raw": "hello"}


def test_body_without_content_type_is_refused_without_a_header(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post("/submit", content=f"_csrf={token}").execute()
    assert_csrf_failed(response, "missing_token")


def test_json_body_field_is_not_a_token_source_by_default(client: TestClient) -> None:
    token = fetch_token(client)
    assert_csrf_failed(client.post("/submit", json={"_csrf": token}).execute(), "missing_token")


def test_json_body_with_the_header_token_passes(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", json={"name": "Ada"}, headers={"x-csrf-token": token}
    ).execute()
    assert response.status_code == 200
    assert response.json()["fields"] == {"name": "Ada"}


def test_allow_json_body_reads_the_field_from_a_real_json_body() -> None:
    with TestClient(make_app(allow_json_body=True)) as client:
        token = fetch_token(client)
        ok = client.post("/submit", json={"_csrf": token, "n": 1}).execute()
        assert ok.status_code == 200
        assert ok.json()["fields"] == {"_csrf": token, "n": 1}
        assert_csrf_failed(client.post("/submit", json=[token]).execute(), "missing_token")
        plain = client.post(
            "/submit", content=json.dumps({"_csrf": token}), headers={"content-type": "text/plain"}
        ).execute()
        assert_csrf_failed(plain, "missing_token")


def test_malformed_form_bodies_get_the_form_parsers_4xx(client: TestClient) -> None:
    fetch_token(client)
    response = client.post(
        "/submit",
        content=b'--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\nunterminated',
        headers={"content-type": "multipart/form-data; boundary=x"},
    ).execute()
    assert response.status_code == 400


def test_custom_header_and_field_names() -> None:
    with TestClient(make_app(header_name="X-XSRF-TOKEN", field_name="csrfmiddlewaretoken")) as c:
        token = fetch_token(c)
        assert c.post("/submit", headers={"x-xsrf-token": token}).execute().status_code == 200
        assert c.post("/submit", data={"csrfmiddlewaretoken": token}).execute().status_code == 200
        assert_csrf_failed(c.post("/submit", data={"_csrf": token}).execute(), "missing_token")


# --- exemptions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exempt", "path"),
    [
        (("webhook",), "/webhooks/stripe"),  # route name
        (("/webhooks/{provider}",), "/webhooks/stripe"),  # path pattern
        (("/webhooks/*",), "/webhooks/github"),  # glob
        (("named-route",), "/named"),
    ],
)
def test_exempt_routes_skip_the_check(exempt: tuple[str, ...], path: str) -> None:
    with TestClient(make_app(exempt=exempt)) as client:
        fetch_token(client)
        assert client.post(path, data={"a": "1"}).execute().status_code == 200
        assert_csrf_failed(client.post("/submit").execute(), "missing_token")


def test_csrf_exempt_decorator(client: TestClient) -> None:
    fetch_token(client)
    assert client.post("/decorated").execute().status_code == 200
    assert_csrf_failed(client.post("/named").execute(), "missing_token")


def test_unmatched_paths_use_the_request_path_for_exemptions() -> None:
    """App middleware also runs for 404s: an unsafe request to no route is checked first."""
    with TestClient(make_app(exempt=("/gone/*",))) as client:
        fetch_token(client)
        assert client.post("/gone/x").execute().status_code == 404
        assert_csrf_failed(client.post("/nowhere").execute(), "missing_token")


# --- cookie-less requests ----------------------------------------------------------------------


def test_cookieless_requests_pass_by_default(client: TestClient) -> None:
    response = client.post("/submit", json={"api": True}).execute()
    assert response.status_code == 200
    bearer = client.post("/submit", headers={"authorization": "Bearer abc"}).execute()
    assert bearer.status_code == 200


@pytest.mark.parametrize("scheme", ["Basic dXNlcjpwYXNz", "Negotiate abc", "digest x=1"])
def test_browser_managed_authorization_counts_as_ambient_credentials(
    client: TestClient, scheme: str
) -> None:
    response = client.post("/submit", headers={"authorization": scheme}).execute()
    assert_csrf_failed(response, "missing_token")


def test_require_for_cookieless_checks_every_unsafe_request() -> None:
    with TestClient(make_app(require_for_cookieless=True)) as client:
        assert_csrf_failed(client.post("/submit", json={}).execute(), "missing_token")


def test_an_empty_cookie_header_is_cookieless(client: TestClient) -> None:
    response = client.post("/submit", headers={"cookie": ""}).execute()
    assert response.status_code == 200


# --- Origin and Referer --------------------------------------------------------------------------


def test_foreign_origin_is_refused_even_with_a_valid_token(client: TestClient) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", headers={"x-csrf-token": token, "origin": "https://evil.example"}
    ).execute()
    body = assert_csrf_failed(response, "bad_origin")
    assert "evil" not in body["detail"]


@pytest.mark.parametrize(
    "origin",
    ["http://testserver", "HTTP://TestServer", "http://testserver:80"],
)
def test_same_origin_passes(client: TestClient, origin: str) -> None:
    token = fetch_token(client)
    response = client.post("/submit", headers={"x-csrf-token": token, "origin": origin}).execute()
    assert response.status_code == 200


@pytest.mark.parametrize(
    "origin",
    [
        "null",
        "https://testserver",  # same host, other scheme
        "http://testserver:8080",
        "http://testserver.evil.example",
        "not a url",
        "http://testserver\u00e9",
        "http://testserver:99999",  # a port out of range
        "http://[::1]",
        "javascript:alert(1)",
        "",
    ],
)
def test_mismatched_or_malformed_origins_are_refused(client: TestClient, origin: str) -> None:
    token = fetch_token(client)
    response = client.post(
        "/submit", headers=[(b"x-csrf-token", token.encode()), (b"origin", origin.encode())]
    ).execute()
    assert_csrf_failed(response, "bad_origin")


def test_origin_is_checked_before_the_body_is_read(client: TestClient) -> None:
    fetch_token(client)
    response = client.post(
        "/submit",
        content=b"--x\r\nbroken",
        headers={
            "origin": "https://evil.example",
            "content-type": "multipart/form-data; boundary=x",
        },
    ).execute()
    assert_csrf_failed(response, "bad_origin")


def test_referer_is_checked_when_origin_is_absent(client: TestClient) -> None:
    token = fetch_token(client)
    good = client.post(
        "/submit", headers={"x-csrf-token": token, "referer": "http://testserver/form?x=1"}
    ).execute()
    assert good.status_code == 200
    bad = client.post(
        "/submit", headers={"x-csrf-token": token, "referer": "https://evil.example/page"}
    ).execute()
    assert_csrf_failed(bad, "bad_referer")


def test_trusted_origins_exact_and_glob() -> None:
    app = make_app(trusted_origins=("https://app.example.com", "https://*.example.org", "null"))
    with TestClient(app) as client:
        token = fetch_token(client)
        for origin in ("https://app.example.com", "https://a.b.example.org", "null"):
            response = client.post(
                "/submit", headers={"x-csrf-token": token, "origin": origin}
            ).execute()
            assert response.status_code == 200, origin
        for origin in ("https://example.org.evil.com", "http://app.example.com"):
            response = client.post(
                "/submit", headers={"x-csrf-token": token, "origin": origin}
            ).execute()
            assert_csrf_failed(response, "bad_origin")


def test_ipv6_trusted_origin() -> None:
    with TestClient(make_app(trusted_origins=("http://[::1]:8080",))) as client:
        token = fetch_token(client)
        response = client.post(
            "/submit", headers={"x-csrf-token": token, "origin": "http://[::1]:8080"}
        ).execute()
        assert response.status_code == 200


def test_check_origin_false_only_checks_the_token() -> None:
    with TestClient(make_app(check_origin=False)) as client:
        token = fetch_token(client)
        response = client.post(
            "/submit", headers={"x-csrf-token": token, "origin": "https://evil.example"}
        ).execute()
        assert response.status_code == 200


@pytest.mark.parametrize(
    "bad", ["example.com", "https://example.com/path", "ftp://example.com", "https://u@h.com"]
)
def test_trusted_origins_must_be_origins(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="trusted origin"):
        CSRFMiddleware(trusted_origins=(bad,))


# --- double-submit mode ----------------------------------------------------------------------------


def double_submit_app(*, sessions: bool = False, **options: Any) -> App:
    return make_app(sessions=sessions, double_submit=True, secret=SECRET, **options)


def test_double_submit_sets_a_readable_strict_cookie_and_accepts_the_pair() -> None:
    with TestClient(double_submit_app()) as client:
        response = client.get("/form").execute()
        token = response.json()["token"]
        cookie = response.headers["set-cookie"]
        assert cookie.startswith(f"csrftoken={token};")
        assert "SameSite=Strict" in cookie
        assert "HttpOnly" not in cookie
        assert "Secure" not in cookie  # plain http here
        assert client.get("/form").execute().json()["token"] == token  # cookie reused
        ok = client.post("/submit", headers={"x-csrf-token": token}).execute()
        assert ok.status_code == 200
        assert client.post("/submit", data={"_csrf": token}).execute().status_code == 200


def test_double_submit_cookie_is_secure_on_https() -> None:
    with TestClient(double_submit_app(), base_url="https://testserver") as client:
        assert "Secure" in client.get("/form").execute().headers["set-cookie"]


def test_double_submit_mismatched_pair_is_refused() -> None:
    with TestClient(double_submit_app()) as client:
        fetch_token(client)
        other = TestClient(double_submit_app())
        stranger = fetch_token(other)  # validly signed, but not this browser's cookie
        other.close()
        response = client.post("/submit", headers={"x-csrf-token": stranger}).execute()
        assert_csrf_failed(response, "invalid_token")


def test_double_submit_missing_cookie_is_refused() -> None:
    with TestClient(double_submit_app()) as client:
        token = fetch_token(client)
        client.cookies.clear()
        client.cookies.set("other", "1")  # still a cookie-bearing request
        response = client.post("/submit", headers={"x-csrf-token": token}).execute()
        assert_csrf_failed(response, "invalid_cookie")


@pytest.mark.parametrize(
    "cookie",
    ["\u00e9t\u00e9", "%C3%A9t%C3%A9", "x" * 5000, ".", "a.", ".b"],
    ids=["non-ascii", "percent-encoded-non-ascii", "huge", "just-a-dot", "no-mac", "no-nonce"],
)
def test_double_submit_hostile_cookie_values_are_refused(cookie: str) -> None:
    with TestClient(double_submit_app()) as client:
        client.cookies.clear()
        raw_cookie = f"csrftoken={cookie}".encode()
        response = client.post(
            "/submit", headers=[(b"cookie", raw_cookie), (b"x-csrf-token", cookie.encode())]
        ).execute()
        assert_csrf_failed(response, "invalid_cookie")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.split(".")[0] + "." + "A" * 43,  # forged signature
        lambda t: "B" * 43 + "." + t.split(".")[1],  # signature moved to another nonce
        lambda t: t.split(".")[0],  # no signature at all
        lambda t: "planted-by-a-subdomain",
    ],
)
def test_double_submit_tampered_cookie_is_refused(tamper: Callable[[str], str]) -> None:
    with TestClient(double_submit_app()) as client:
        planted = tamper(fetch_token(client))
        replace_cookie(client, "csrftoken", planted)
        response = client.post("/submit", headers={"x-csrf-token": planted}).execute()
        assert_csrf_failed(response, "invalid_cookie")


def test_double_submit_cookie_signed_with_another_secret_is_refused() -> None:
    foreign = TestClient(make_app(sessions=False, double_submit=True, secret="x" * 32))
    token = fetch_token(foreign)
    foreign.close()
    with TestClient(double_submit_app()) as client:
        replace_cookie(client, "csrftoken", token)
        response = client.post("/submit", headers={"x-csrf-token": token}).execute()
        assert_csrf_failed(response, "invalid_cookie")
        # the next page view replaces the bad cookie with a good one
        fresh = fetch_token(client)
        assert fresh != token
        assert client.post("/submit", headers={"x-csrf-token": fresh}).execute().status_code == 200


def test_double_submit_secret_rotation_keeps_old_cookies_valid() -> None:
    old = TestClient(make_app(sessions=False, double_submit=True, secret=SECRET))
    token = fetch_token(old)
    old.close()
    rotated = make_app(sessions=False, double_submit=True, secret=["n" * 32, SECRET])
    with TestClient(rotated) as client:
        replace_cookie(client, "csrftoken", token)
        assert fetch_token(client) == token  # still verifies: not replaced
        assert client.post("/submit", headers={"x-csrf-token": token}).execute().status_code == 200


def test_double_submit_binds_the_signature_to_the_session() -> None:
    app = double_submit_app(sessions=True)
    with TestClient(app) as alice, TestClient(app) as mallory:
        fetch_token(alice)
        pair = fetch_token(mallory)
        # Mallory plants her own valid pair in Alice's browser: signed for another session.
        replace_cookie(alice, "csrftoken", pair)
        response = alice.post("/submit", headers={"x-csrf-token": pair}).execute()
        assert_csrf_failed(response, "invalid_cookie")


def test_double_submit_cookie_options() -> None:
    app = double_submit_app(cookie_name="__Host-csrf", cookie_max_age=3600, cookie_same_site="lax")
    with TestClient(app, base_url="https://testserver") as client:
        cookie = client.get("/form").execute().headers["set-cookie"]
        assert cookie.startswith("__Host-csrf=")
        for part in ("Max-Age=3600", "Path=/", "Secure", "SameSite=Lax"):
            assert part in cookie


def test_double_submit_needs_a_long_enough_secret() -> None:
    with pytest.raises(ConfigurationError, match="secret"):
        CSRFMiddleware(double_submit=True)
    with pytest.raises(ConfigurationError, match="16 bytes"):
        CSRFMiddleware(double_submit=True, secret="short")
    with pytest.raises(ConfigurationError, match="at least one secret"):
        CSRFMiddleware(double_submit=True, secret=[])
    with pytest.raises(ConfigurationError, match="__Host-"):
        CSRFMiddleware(
            double_submit=True, secret=SECRET, cookie_name="__Host-x", cookie_domain="a.com"
        )
    with pytest.raises(ConfigurationError, match="__Secure-"):
        CSRFMiddleware(
            double_submit=True, secret=SECRET, cookie_name="__Secure-x", cookie_secure=False
        )


def test_prefixed_cookie_names_are_always_secure() -> None:
    app = double_submit_app(cookie_name="__Secure-csrf")
    with TestClient(app) as client:  # plain http: Secure only because of the prefix
        assert "Secure" in client.get("/form").execute().headers["set-cookie"]


# --- other session objects --------------------------------------------------------------------------


class FixedSession:
    """A session object without ``ensure()``: only an ``id``, like a loaded session."""

    def __init__(self, sid: str | None) -> None:
        self.id = sid


class SyncEnsureSession(FixedSession):
    def ensure(self) -> None:
        """Creates the id but returns nothing: the middleware falls back to ``.id``."""
        if self.id is None:
            self.id = "made-by-ensure"


def session_app(factory: Callable[[], object]) -> App:
    app = App()

    async def attach(ctx: Context, call_next: Callable[[], Awaitable[Response]]) -> Response:
        ctx.__dict__["session"] = factory()
        return await call_next()

    app.use(attach)
    app.use(CSRFMiddleware())

    async def token(ctx: Context) -> dict[str, Any]:
        return {"token": ctx.state.get("csrf_token")}

    async def submit(ctx: Context) -> str:
        return "ok"

    app.get("/form")(token)
    app.post("/submit")(submit)
    return app


@pytest.mark.parametrize("session", [FixedSession("fixed-id"), SyncEnsureSession(None)])
def test_sessions_without_an_async_ensure_work(session: FixedSession) -> None:
    with TestClient(session_app(lambda: session)) as client:
        token = fetch_token(client)
        client.cookies.set("c", "1")
        assert client.post("/submit", headers={"x-csrf-token": token}).execute().status_code == 200
        assert_csrf_failed(client.post("/submit").execute(), "missing_token")


def test_a_session_that_never_gets_an_id_is_a_configuration_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(session_app(lambda: FixedSession(None))) as client:
        assert client.get("/form").execute().status_code == 500
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert [str(e) for e in errors] == ["the session has no id to bind a CSRF token to"]


# --- configuration errors and error handling --------------------------------------------------------


def test_session_mode_without_sessions_is_a_configuration_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with TestClient(make_app(sessions=False)) as client:
        assert client.get("/form").execute().status_code == 500
        client.cookies.set("a", "1")
        assert client.post("/submit", headers={"x-csrf-token": "t"}).execute().status_code == 500
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(errors) == 2
    assert all(isinstance(e, ConfigurationError) and "sessions" in str(e) for e in errors)


def test_empty_field_or_header_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="can't be empty"):
        CSRFMiddleware(field_name="")
    with pytest.raises(ConfigurationError, match="can't be empty"):
        CSRFMiddleware(header_name="")


def test_reprs_do_not_show_secrets_or_tokens() -> None:
    assert repr(CSRF(ttl=60)).startswith("CSRF(ttl=60.0, store=MemoryStore(")
    assert repr(CSRFMiddleware()) == "CSRFMiddleware(mode=session, field_name='_csrf')"
    ds = CSRFMiddleware(double_submit=True, secret=SECRET)
    assert repr(ds) == "CSRFMiddleware(mode=double_submit, field_name='_csrf')"


def test_csrf_token_without_the_middleware_is_a_configuration_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    async def page(ctx: Context) -> str:
        return await csrf_token(ctx)

    app.get("/")(page)

    with TestClient(app) as client:
        assert client.get("/").execute().status_code == 500
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(errors) == 1
    assert isinstance(errors[0], ConfigurationError)
    assert "needs CSRFMiddleware" in str(errors[0])


def test_csrf_field_is_empty_without_a_token() -> None:
    app = App()

    async def page(ctx: Context) -> str:
        return str(csrf_field(ctx))

    app.get("/")(page)

    with TestClient(app) as client:
        assert client.get("/").execute().text == ""


def test_an_exception_handler_can_render_csrf_failures() -> None:
    app = make_app()

    @app.exception_handler(CSRFError)
    async def on_csrf(ctx: Context, exc: CSRFError) -> Response:
        return Response(f"please reload ({exc.reason})", 403)

    with TestClient(app) as client:
        fetch_token(client)
        response = client.post("/submit").execute()
        assert response.status_code == 403
        assert response.text == "please reload (missing_token)"


def test_browsers_get_an_html_error_page(client: TestClient) -> None:
    fetch_token(client)
    response = client.post("/submit", headers={"accept": "text/html"}).execute()
    assert response.status_code == 403
    assert "CSRF_FAILED" in response.text


# --- the examples in docs/csrf.md ------------------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "csrf.md"
_BLOCK = re.compile(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", re.DOTALL)


def test_the_docs_examples_run_and_behave_as_described() -> None:
    blocks = [code for skip, code in _BLOCK.findall(DOCS_PAGE.read_text("utf-8")) if not skip]
    assert len(blocks) >= 4
    namespace: dict[str, Any] = {"__name__": "docs_csrf"}
    for code in blocks:
        exec(compile(code, "docs/csrf.md example", "exec"), namespace)

    with TestClient(namespace["app"]) as client:
        page = client.get("/profile").execute().text
        match = re.search(r'name="_csrf" value="([^"]+)"', page)
        assert match is not None
        saved = client.post("/profile", data={"_csrf": match.group(1), "name": "Ada"}).execute()
        assert saved.json() == {"saved": "Ada"}
        refused = client.post("/profile", data={"name": "Mallory"}).execute()
        assert refused.status_code == 403
        assert "expired" in refused.text  # the page from the exception handler example
        assert client.get("/api/csrf").execute().json() == {"token": match.group(1)}

    with TestClient(namespace["hooks_app"]) as client:
        client.cookies.set("sid", "whatever")
        assert client.post("/billing/stripe").execute().status_code == 200
        assert client.post("/inbound-mail").execute().status_code == 200
        assert client.post("/not-exempt").execute().status_code == 403
