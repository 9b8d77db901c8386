"""Allowed hosts and HTTPS redirects: exact and wildcard hosts, ports and case, hostile and
missing ``Host`` headers, the www redirect, and redirecting http to https."""

from __future__ import annotations

import re
from typing import Any

import pytest

from avian import App, ConfigurationError
from avian.middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware, parse_host
from avian.testing import TestClient


def make_app(*middleware: Any, shield: bool = False) -> App:
    app = App(log_exceptions=False)
    if shield:
        app.shield()
    app.use(*middleware)

    @app.get("/")
    async def home() -> str:
        return "home"

    @app.post("/submit")
    async def submit() -> str:
        return "submitted"

    @app.get("/{rest:path}")
    async def anything(rest: str) -> str:
        return rest

    return app


def with_host(
    app: App, host: str | bytes, path: str = "/", base_url: str = "http://testserver"
) -> Any:
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        raw = host if isinstance(host, bytes) else host.encode("latin-1")
        return client.get(path, headers={b"host": raw}).execute()


def hosts_app(*hosts: str, **options: Any) -> App:
    return make_app(AllowedHostsMiddleware(list(hosts), **options))


# --- allowed hosts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["example.com", "EXAMPLE.com", "example.com:8080", "Example.COM:443", "example.com."],
)
def test_listed_host_passes_whatever_its_case_and_port(host: str) -> None:
    r = with_host(hosts_app("example.com"), host)
    assert r.status_code == 200
    assert r.text == "home"


def test_unlisted_host_is_a_400_problem_that_does_not_echo_the_host() -> None:
    r = with_host(hosts_app("example.com"), "attacker.example")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "INVALID_HOST"
    assert "attacker" not in r.text


@pytest.mark.parametrize("host", ["api.example.com", "a.b.example.com", "API.Example.com:3000"])
def test_wildcard_matches_subdomains_at_any_depth(host: str) -> None:
    assert with_host(hosts_app("*.example.com"), host).status_code == 200


@pytest.mark.parametrize(
    "host", ["example.com", "evilexample.com", "example.com.evil.net", "example.co"]
)
def test_wildcard_does_not_match_the_bare_domain_or_lookalikes(host: str) -> None:
    assert with_host(hosts_app("*.example.com"), host).status_code == 400


def test_exact_and_wildcard_together() -> None:
    app = hosts_app("example.com", "*.example.com")
    assert with_host(app, "example.com").status_code == 200
    assert with_host(app, "www.example.com").status_code == 200
    assert with_host(app, "example.org").status_code == 400


def test_ip_addresses() -> None:
    app = hosts_app("127.0.0.1", "[::1]")
    assert with_host(app, "127.0.0.1:8000").status_code == 200
    assert with_host(app, "[::1]:8000").status_code == 200
    assert with_host(app, "[::1]").status_code == 200
    assert with_host(app, "127.0.0.2").status_code == 400


HOSTILE_HOSTS: list[str | bytes] = [
    "",
    " ",
    "example.com@evil.example",
    "evil.example/example.com",
    "example.com:99999",
    "example.com:0",
    "example.com:abc",
    "example.com:",
    "exa mple.com",
    "example.com, evil.example",
    "example..com",
    "[::1",
    "example.com\t",
    "\u00e9xample.com".encode(),
    "a" * 400 + ".example.com",
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_malformed_hosts_are_refused_even_when_any_host_is_allowed(host: str | bytes) -> None:
    r = with_host(hosts_app("*", "example.com"), host)
    assert r.status_code == 400


def test_star_allows_any_well_formed_host() -> None:
    assert with_host(hosts_app("*"), "whatever.example:1234").status_code == 200


def test_missing_host_is_refused() -> None:
    app = hosts_app("example.com")

    async def strip_host(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"host"]}
        await app(scope, receive, send)

    with TestClient(strip_host) as client:
        r = client.get("/").execute()
    assert r.status_code == 400


def test_two_host_headers_are_refused() -> None:
    app = hosts_app("example.com")
    with TestClient(app) as client:
        r = client.get("/", headers=[("host", "example.com"), ("host", "evil.example")]).execute()
    assert r.status_code == 400


def test_hosts_are_checked_before_routing_answers_404() -> None:
    r = with_host(hosts_app("example.com"), "evil.example", "/no/such/page")
    assert r.status_code == 400


def test_the_400_carries_security_headers() -> None:
    app = make_app(AllowedHostsMiddleware(["example.com"]), shield=True)
    r = with_host(app, "evil.example")
    assert r.status_code == 400
    assert r.headers["x-content-type-options"] == "nosniff"


def test_www_redirect_sends_the_bare_domain_to_www() -> None:
    app = hosts_app("www.example.com", www_redirect=True)
    r = with_host(app, "example.com:8080", "/a%20b?x=1&y=%26")
    assert r.status_code == 308
    assert r.headers["location"] == "http://www.example.com:8080/a%20b?x=1&y=%26"
    r = with_host(app, "Example.com", "/", base_url="https://testserver")
    assert r.headers["location"] == "https://www.example.com/"
    assert with_host(app, "www.example.com").status_code == 200


def test_www_redirect_only_where_www_is_allowed() -> None:
    app = hosts_app("www.example.com", www_redirect=True)
    assert with_host(app, "example.org").status_code == 400
    assert with_host(app, "www.www.example.com").status_code == 400
    assert with_host(hosts_app("www.example.com"), "example.com").status_code == 400


@pytest.mark.parametrize(
    ("hosts", "message"),
    [
        ("example.com", "must be a list"),
        ([], "must not be empty"),
        (["example.com:8080"], "without a port"),
        (["*example.com"], "is not a host name"),
        (["ex*ample.com"], "is not a host name"),
        (["*.*.example.com"], "is not a host name"),
        (["*."], "is not a host name"),
        (["https://example.com"], "is not a host name"),
        ([42], "is not a string"),
    ],
)
def test_bad_host_lists_are_configuration_errors(hosts: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        AllowedHostsMiddleware(hosts)


def test_www_redirect_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="www_redirect"):
        AllowedHostsMiddleware(["example.com"], www_redirect="yes")  # type: ignore[arg-type]


def test_parse_host() -> None:
    assert parse_host("Example.COM.:8080") == ("example.com", 8080)
    assert parse_host("[::1]") == ("[::1]", None)
    assert parse_host("example.com:65536") is None
    assert parse_host("") is None


# --- HTTPS redirect ----------------------------------------------------------------------------


def request(
    app: App, method: str, path: str, base_url: str = "http://testserver", **kw: Any
) -> Any:
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        return client.request(method, path, **kw).execute()


def test_http_is_redirected_to_https_keeping_path_and_query() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/docs/page?x=1&y=two")
    assert r.status_code == 308
    assert r.headers["location"] == "https://testserver/docs/page?x=1&y=two"


def test_https_requests_pass() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/", base_url="https://testserver")
    assert r.status_code == 200
    assert r.text == "home"


def test_all_methods_are_redirected_with_308_keeping_the_method() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "POST", "/submit", content=b"data")
    assert r.status_code == 308
    assert r.headers["location"] == "https://testserver/submit"


def test_following_the_redirect_reaches_the_handler() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    with TestClient(app) as client:
        r = client.get("/page?q=1").execute()
    assert r.status_code == 200
    assert r.text == "page"
    assert str(r.url) == "https://testserver/page?q=1"


def test_other_statuses() -> None:
    r = request(make_app(HTTPSRedirectMiddleware(301)), "GET", "/")
    assert r.status_code == 301


def test_escapes_in_path_and_query_are_kept_as_sent() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/a%2Fb/%C3%A9?next=%2Fhome%3Fx%3D1")
    assert r.headers["location"] == "https://testserver/a%2Fb/%C3%A9?next=%2Fhome%3Fx%3D1"


def test_servers_without_raw_path_get_the_path_encoded() -> None:
    app = make_app(HTTPSRedirectMiddleware())

    async def no_raw_path(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {k: v for k, v in scope.items() if k != "raw_path"}
        await app(scope, receive, send)

    with TestClient(no_raw_path, follow_redirects=False) as client:
        r = client.get("/caf%C3%A9 x").execute()
    assert r.headers["location"] == "https://testserver/caf%C3%A9%20x"


def test_double_slash_path_stays_on_this_host() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "http://testserver//evil.example/x")
    assert r.headers["location"] == "https://testserver//evil.example/x"


def test_port_of_the_http_host_is_dropped_and_https_port_used() -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/", headers={"host": "testserver:8000"})
    assert r.headers["location"] == "https://testserver/"
    app = make_app(HTTPSRedirectMiddleware(https_port=8443))
    assert request(app, "GET", "/").headers["location"] == "https://testserver:8443/"
    app = make_app(HTTPSRedirectMiddleware(https_port=443))
    assert request(app, "GET", "/").headers["location"] == "https://testserver/"


def test_fixed_host_ignores_the_request_host() -> None:
    app = make_app(HTTPSRedirectMiddleware(host="Example.com"))
    r = request(app, "GET", "/x", headers={"host": "attacker.example"})
    assert r.headers["location"] == "https://example.com/x"


@pytest.mark.parametrize("host", ["", "evil.example/x", "a b", "example.com@evil.example"])
def test_malformed_host_is_refused_not_redirected(host: str) -> None:
    app = make_app(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/", headers={"host": host})
    assert r.status_code == 400
    assert "location" not in r.headers


def test_unknown_paths_are_redirected_too() -> None:
    app = App()
    app.use(HTTPSRedirectMiddleware())
    r = request(app, "GET", "/missing")
    assert r.status_code == 308


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 200}, "301, 302, 303, 307, 308"),
        ({"status": True}, "301, 302, 303, 307, 308"),
        ({"host": "example.com:443"}, "without port"),
        ({"host": "https://example.com"}, "without port"),
        ({"host": 5}, "without port"),
        ({"https_port": 0}, "https_port"),
        ({"https_port": "443"}, "https_port"),
    ],
)
def test_bad_redirect_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        HTTPSRedirectMiddleware(**kwargs)
