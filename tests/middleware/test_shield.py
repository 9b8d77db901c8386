"""Shield (SEC-01..03): default security headers, CSP merging and nonces, HSTS on https only,
per-route overrides, and headers on every response, errors and 404s included."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from avian import App, ConfigurationError, Context, Response, StreamingResponse, errors
from avian.middleware.shield import (
    DEFAULT_CSP,
    ShieldMiddleware,
    ShieldOptions,
    csp_nonce,
    shield_override,
)
from avian.testing import TestClient

HTTPS = "https://testserver"

DEFAULT_CSP_HTTP = (
    "default-src 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'self'; "
    "form-action 'self'; img-src 'self' data:; script-src 'self'; script-src-attr 'none'; "
    "style-src 'self'"
)

DEFAULT_HEADERS = {
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "x-xss-protection": "0",
    "origin-agent-cluster": "?1",
    "x-dns-prefetch-control": "off",
    "x-permitted-cross-domain-policies": "none",
}

SECURITY_HEADERS = (
    *DEFAULT_HEADERS,
    "content-security-policy",
    "content-security-policy-report-only",
    "cross-origin-embedder-policy",
    "strict-transport-security",
    "permissions-policy",
)


def make_app(*args: Any, **options: Any) -> App:
    app = App(log_exceptions=False)
    app.shield(*args, **options)

    @app.get("/")
    async def home() -> str:
        return "home"

    @app.get("/nonce")
    async def nonce(ctx: Context) -> dict[str, Any]:
        return {"state": ctx.state.get("csp_nonce"), "helper": csp_nonce(ctx)}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    return app


def fetch(
    app: App, path: str = "/", base_url: str = "http://testserver", method: str = "GET"
) -> Any:
    with TestClient(app, base_url=base_url) as client:
        return client.request(method, path).execute()


def csp(response: Any) -> dict[str, list[str]]:
    """The CSP header as ``{directive: [sources]}``."""
    out: dict[str, list[str]] = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def security(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k in SECURITY_HEADERS}


# --- defaults ----------------------------------------------------------------------------------


def test_defaults_over_http() -> None:
    r = fetch(make_app())
    assert r.status_code == 200
    assert security(r) == {**DEFAULT_HEADERS, "content-security-policy": DEFAULT_CSP_HTTP}


def test_defaults_over_https_add_hsts_and_upgrade_insecure_requests() -> None:
    r = fetch(make_app(), base_url=HTTPS)
    assert r.headers["strict-transport-security"] == "max-age=15552000; includeSubDomains"
    assert r.headers["content-security-policy"] == (
        DEFAULT_CSP_HTTP + "; upgrade-insecure-requests"
    )


def test_default_csp_constant_matches_what_is_sent() -> None:
    sent = csp(fetch(make_app(), base_url=HTTPS))
    assert sent == {k: list(v) for k, v in DEFAULT_CSP.items()}


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [("/missing", "GET", 404), ("/boom", "GET", 500), ("/", "DELETE", 405), ("/", "OPTIONS", 204)],
)
def test_every_response_gets_the_headers_errors_and_automatic_answers_included(
    path: str, method: str, status: int
) -> None:
    r = fetch(make_app(), path, method=method)
    assert r.status_code == status
    assert security(r) == {**DEFAULT_HEADERS, "content-security-policy": DEFAULT_CSP_HTTP}


def test_http_errors_raised_by_hooks_get_the_headers() -> None:
    app = make_app()

    async def refuse(ctx: Context) -> None:
        raise errors.forbidden("no")

    @app.get("/guarded", before=[refuse])
    async def guarded() -> str:
        return "never"

    r = fetch(app, "/guarded")
    assert r.status_code == 403
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_streaming_and_head_responses_get_the_headers() -> None:
    app = make_app()

    @app.get("/stream")
    async def stream() -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"a"
            yield b"b"

        return StreamingResponse(chunks())

    r = fetch(app, "/stream")
    assert r.content == b"ab"
    assert r.headers["x-content-type-options"] == "nosniff"
    head = fetch(app, "/", method="HEAD")
    assert head.content == b""
    assert head.headers["content-security-policy"] == DEFAULT_CSP_HTTP


def test_headers_set_by_the_handler_are_not_overwritten() -> None:
    app = make_app()

    @app.get("/own")
    async def own(ctx: Context) -> str:
        ctx.response.headers.set("x-frame-options", "DENY")
        ctx.response.headers.set("content-security-policy", "default-src 'none'")
        return "own"

    r = fetch(app, "/own")
    assert r.headers.get_list("x-frame-options") == ["DENY"]
    assert r.headers.get_list("content-security-policy") == ["default-src 'none'"]
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"


# --- CSP ---------------------------------------------------------------------------------------


def test_csp_directives_replace_remove_and_add() -> None:
    app = make_app(
        csp={
            "script-src": ["'self'", "https://cdn.example"],
            "object-src": None,
            "script-src-attr": False,
            "connect-src": "'self' https://api.example",
            "Block-All-Mixed-Content": True,
            "report-uri": ["/csp-report"],
        }
    )
    directives = csp(fetch(app))
    assert directives["script-src"] == ["'self'", "https://cdn.example"]
    assert "object-src" not in directives
    assert "script-src-attr" not in directives
    assert directives["connect-src"] == ["'self'", "https://api.example"]
    assert directives["block-all-mixed-content"] == []
    assert directives["report-uri"] == ["/csp-report"]
    assert directives["default-src"] == ["'self'"]  # the other defaults stay


def test_csp_false_sends_no_policy() -> None:
    r = fetch(make_app(csp=False))
    assert "content-security-policy" not in r.headers
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_csp_without_any_directive_sends_no_header() -> None:
    removed = dict.fromkeys(DEFAULT_CSP)
    assert "content-security-policy" not in fetch(make_app(csp=removed), base_url=HTTPS).headers


def test_report_only() -> None:
    r = fetch(make_app(report_only=True))
    assert "content-security-policy" not in r.headers
    assert r.headers["content-security-policy-report-only"] == DEFAULT_CSP_HTTP


def test_upgrade_insecure_requests_only_over_https() -> None:
    app = make_app()
    assert "upgrade-insecure-requests" not in fetch(app).headers["content-security-policy"]
    assert (
        "upgrade-insecure-requests" in fetch(app, base_url=HTTPS).headers["content-security-policy"]
    )


# --- nonces ------------------------------------------------------------------------------------

NONCE_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def test_nonce_is_in_state_before_the_handler_and_in_the_policy() -> None:
    app = make_app(use_nonce=True)
    r = fetch(app, "/nonce")
    nonce = r.json()["state"]
    assert NONCE_RE.fullmatch(nonce)
    assert r.json()["helper"] == nonce
    directives = csp(r)
    assert directives["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert directives["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert f"'nonce-{nonce}'" not in directives["default-src"]


def test_nonce_is_fresh_for_every_request() -> None:
    app = make_app(use_nonce=True)
    with TestClient(app) as client:
        nonces = [client.get("/nonce").json()["state"] for _ in range(20)]
    assert len(set(nonces)) == 20


def test_nonce_also_on_error_responses() -> None:
    r = fetch(make_app(use_nonce=True), "/missing")
    assert r.status_code == 404
    assert re.search(
        r"script-src 'self' 'nonce-[A-Za-z0-9_-]{22}'", r.headers["content-security-policy"]
    )


def test_no_nonce_unless_asked() -> None:
    r = fetch(make_app(), "/nonce")
    assert r.json() == {"state": None, "helper": None}
    assert "nonce-" not in r.headers["content-security-policy"]


def test_nonce_with_a_removed_script_src_extends_default_src_sources() -> None:
    app = make_app(use_nonce=True, csp={"script-src": None, "default-src": ["'self'", "data:"]})
    r = fetch(app, "/nonce")
    nonce = r.json()["state"]
    assert csp(r)["script-src"] == ["'self'", "data:", f"'nonce-{nonce}'"]
    assert csp(r)["default-src"] == ["'self'", "data:"]


def test_nonce_in_report_only_mode() -> None:
    r = fetch(make_app(use_nonce=True, report_only=True), "/nonce")
    nonce = r.json()["state"]
    assert f"'nonce-{nonce}'" in r.headers["content-security-policy-report-only"]


# --- HSTS --------------------------------------------------------------------------------------


def test_hsts_is_never_sent_over_http() -> None:
    assert "strict-transport-security" not in fetch(make_app(hsts={"max_age": 60})).headers


def test_hsts_settings() -> None:
    app = make_app(hsts={"max_age": 31536000, "include_subdomains": True, "preload": True})
    r = fetch(app, base_url=HTTPS)
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    r = fetch(make_app(hsts={"include_subdomains": False}), base_url=HTTPS)
    assert r.headers["strict-transport-security"] == "max-age=15552000"


def test_hsts_off() -> None:
    assert "strict-transport-security" not in fetch(make_app(hsts=False), base_url=HTTPS).headers


# --- the other headers -------------------------------------------------------------------------


def test_each_header_can_be_changed_or_turned_off() -> None:
    app = make_app(
        coop="same-origin-allow-popups",
        coep="require-corp",
        corp="cross-origin",
        referrer_policy=["no-referrer", "strict-origin-when-cross-origin"],
        frame_options="deny",
        xss_protection="1; mode=block",
        dns_prefetch_control=True,
        permitted_cross_domain_policies="master-only",
        permissions_policy={
            "camera": [],
            "geolocation": ["self", "https://Maps.example"],
            "fullscreen": "*",
            "autoplay": "self",
        },
    )
    r = fetch(app)
    assert r.headers["cross-origin-opener-policy"] == "same-origin-allow-popups"
    assert r.headers["cross-origin-embedder-policy"] == "require-corp"
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"
    assert r.headers["referrer-policy"] == "no-referrer, strict-origin-when-cross-origin"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-xss-protection"] == "1; mode=block"
    assert r.headers["x-dns-prefetch-control"] == "on"
    assert r.headers["x-permitted-cross-domain-policies"] == "master-only"
    assert r.headers["permissions-policy"] == (
        'camera=(), geolocation=(self "https://maps.example"), fullscreen=*, autoplay=(self)'
    )


def test_everything_off() -> None:
    app = make_app(
        csp=False,
        coop=None,
        corp=None,
        hsts=False,
        referrer_policy=None,
        nosniff=False,
        frame_options=None,
        xss_protection=None,
        origin_agent_cluster=False,
        dns_prefetch_control=None,
        permitted_cross_domain_policies=None,
    )
    assert security(fetch(app, base_url=HTTPS)) == {}


def test_options_as_dict_dataclass_and_keyword_overrides() -> None:
    r = fetch(make_app({"frame_options": "DENY"}))
    assert r.headers["x-frame-options"] == "DENY"
    r = fetch(make_app(ShieldOptions(frame_options="DENY"), coop=None))
    assert r.headers["x-frame-options"] == "DENY"
    assert "cross-origin-opener-policy" not in r.headers
    assert ShieldMiddleware({"coop": None}).options == ShieldOptions(coop=None)


# --- per-route overrides -----------------------------------------------------------------------


def test_shield_override_changes_one_route_only() -> None:
    app = make_app()
    embed = shield_override(
        frame_options=None, csp={"frame-ancestors": ["https://partner.example"]}
    )

    @app.get("/embed", middleware=[embed])
    async def embeddable() -> str:
        return "widget"

    r = fetch(app, "/embed")
    assert "x-frame-options" not in r.headers
    assert csp(r)["frame-ancestors"] == ["https://partner.example"]
    assert csp(r)["default-src"] == ["'self'"]
    assert r.headers["x-content-type-options"] == "nosniff"
    other = fetch(app, "/")
    assert other.headers["x-frame-options"] == "SAMEORIGIN"
    assert csp(other)["frame-ancestors"] == ["'self'"]


def test_shield_override_merges_into_the_apps_own_csp_and_hsts() -> None:
    app = make_app(csp={"img-src": ["'self'", "https://img.example"]}, hsts={"max_age": 100})
    relaxed = shield_override(csp={"connect-src": ["*"]}, hsts={"include_subdomains": False})

    @app.get("/relaxed", middleware=[relaxed])
    async def r_route() -> str:
        return "ok"

    r = fetch(app, "/relaxed", base_url=HTTPS)
    assert csp(r)["img-src"] == ["'self'", "https://img.example"]
    assert csp(r)["connect-src"] == ["*"]
    assert r.headers["strict-transport-security"] == "max-age=100"


def test_shield_override_on_a_group_and_on_errors() -> None:
    app = make_app()
    widgets = app.group("/widgets", middleware=[shield_override(csp=False, corp="cross-origin")])

    @widgets.get("/fail")
    async def fail() -> None:
        raise errors.bad_request("nope")

    r = fetch(app, "/widgets/fail")
    assert r.status_code == 400
    assert "content-security-policy" not in r.headers
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"


def test_shield_override_can_turn_the_nonce_on_for_one_route() -> None:
    app = make_app()

    @app.get("/page", middleware=[shield_override(use_nonce=True)])
    async def page(ctx: Context) -> str:
        return csp_nonce(ctx) or ""

    r = fetch(app, "/page")
    assert NONCE_RE.fullmatch(r.text)
    assert csp(r)["script-src"] == ["'self'", f"'nonce-{r.text}'"]
    assert "nonce-" not in fetch(app, "/").headers["content-security-policy"]


def test_shield_override_can_turn_the_nonce_off_for_one_route() -> None:
    app = make_app(use_nonce=True)

    @app.get("/plain", middleware=[shield_override(use_nonce=False)])
    async def plain() -> str:
        return "plain"

    assert "nonce-" not in fetch(app, "/plain").headers["content-security-policy"]


def test_shield_override_is_reused_across_requests() -> None:
    app = make_app()
    override = shield_override(frame_options="DENY")

    @app.get("/a", middleware=[override])
    async def a() -> str:
        return "a"

    with TestClient(app) as client:
        values = [client.get("/a").headers["x-frame-options"] for _ in range(3)]
    assert values == ["DENY"] * 3
    assert "frame_options='DENY'" in repr(override)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"csp": "default-src 'self'"}, "csp must be True, False or a dict"),
        ({"csp": {"script-src": ["self"]}}, "must be quoted"),
        ({"csp": {"script-src": "'self' none"}}, "must be quoted"),
        ({"csp": {"script-src": ["a;b"]}}, "invalid source"),
        ({"csp": {"script-src": ["a,b"]}}, "invalid source"),
        ({"csp": {"script-src": ["caf\u00e9"]}}, "invalid source"),
        ({"csp": {"script-src": 5}}, "sources must be"),
        ({"csp": {"bad directive": ["'self'"]}}, "directive name"),
        ({"csp": {"directives": {"script-src": ["'self'"]}}}, "pass the directives themselves"),
        ({"hsts": 5}, "hsts must be"),
        ({"hsts": {"maxAge": 5}}, "unknown hsts setting"),
        ({"hsts": {"max_age": -1}}, "max_age"),
        ({"hsts": {"include_subdomains": "yes"}}, "include_subdomains"),
        ({"hsts": {"preload": True}}, "preload needs"),
        ({"hsts": {"preload": True, "max_age": 31536000, "include_subdomains": False}}, "preload"),
        ({"coop": "same-site"}, "coop must be"),
        ({"coep": "require"}, "coep must be"),
        ({"corp": "everyone"}, "corp must be"),
        ({"referrer_policy": "none"}, "referrer_policy"),
        ({"referrer_policy": []}, "referrer_policy"),
        ({"frame_options": "ALLOW-FROM https://a.example"}, "frame_options"),
        ({"xss_protection": "1; report=evil"}, "xss_protection"),
        ({"nosniff": "yes"}, "nosniff"),
        ({"use_nonce": 1}, "use_nonce"),
        ({"report_only": None}, "report_only"),
        ({"origin_agent_cluster": 1}, "origin_agent_cluster"),
        ({"dns_prefetch_control": "off"}, "dns_prefetch_control"),
        ({"permitted_cross_domain_policies": "any"}, "permitted_cross_domain_policies"),
        ({"permissions_policy": ["camera"]}, "feature -> allowlist"),
        ({"permissions_policy": {"Camera!": []}}, "feature 'Camera!'"),
        ({"permissions_policy": {"camera": ["example.com"]}}, "not 'self', 'src' or an origin"),
        ({"permissions_policy": {"camera": 5}}, "allowlist must be"),
        ({"contentSecurityPolicy": {}}, "did you mean 'csp'"),
        ({"x_frame_options": "DENY"}, "did you mean 'frame_options'"),
        ({"frame_option": "DENY"}, "did you mean 'frame_options'"),
        ({"bogus": 1}, "unknown shield option 'bogus'"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        ShieldMiddleware(**options)


def test_app_shield_validates_when_called() -> None:
    app = App()
    with pytest.raises(ConfigurationError, match="frame_options"):
        app.shield(frame_options="sometimes")


def test_options_must_be_a_dict_or_options_object() -> None:
    with pytest.raises(ConfigurationError, match="ShieldOptions, a dict"):
        ShieldMiddleware("strict")  # type: ignore[arg-type]


def test_shield_override_validates_at_once() -> None:
    with pytest.raises(ConfigurationError, match="at least one option"):
        shield_override()
    with pytest.raises(ConfigurationError, match="unknown shield option"):
        shield_override(frame="DENY")
    with pytest.raises(ConfigurationError, match="coop must be"):
        shield_override(coop="nope")


# --- templates and the docs --------------------------------------------------------------------


def test_templates_generate_nonce_is_the_policy_nonce() -> None:
    from jinja2 import DictLoader

    from avian.templates import Jinja2Engine

    app = App()
    app.shield(use_nonce=True)
    page = '<script nonce="{{ generate_nonce() }}"></script><style nonce="{{ generate_nonce() }}">'
    app.templates = Jinja2Engine(DictLoader({"page.html": page}))

    @app.get("/page")
    async def render(ctx: Context) -> Response:
        return await ctx.render("page")

    r = fetch(app, "/page")
    nonces = re.findall(r'nonce="([^"]+)"', r.text)
    assert len(nonces) == 2
    assert nonces[0] == nonces[1]
    assert csp(r)["script-src"] == ["'self'", f"'nonce-{nonces[0]}'"]


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


def call(app: App, path: str, base_url: str, host: str | None = None) -> Any:
    with TestClient(app, base_url=base_url, follow_redirects=False) as client:
        headers = {"host": host} if host else None
        return client.get(path, headers=headers).execute()


def test_docs_examples_behave_as_described() -> None:
    intro, csp_example, nonce_example, legacy, overrides, hosts = doc_examples(
        "security-headers.md"
    )

    app = intro["app"]
    r = call(app, "/", "https://example.com")
    assert r.text == "hello"
    assert r.headers["strict-transport-security"] == "max-age=15552000; includeSubDomains"
    assert call(app, "/", "https://api.example.com").status_code == 200
    assert call(app, "/", "https://evil.example").status_code == 400
    r = call(app, "/?a=1", "http://example.com")
    assert r.status_code == 308
    assert r.headers["location"] == "https://example.com/?a=1"

    r = call(csp_example["app"], "/", "https://testserver")
    directives = csp(r)
    assert directives["script-src"] == ["'self'", "https://cdn.example"]
    assert directives["connect-src"] == ["'self'", "https://api.example"]
    assert "object-src" not in directives
    assert directives["report-uri"] == ["/csp-reports"]
    assert r.headers["strict-transport-security"].endswith("; preload")
    assert r.headers["permissions-policy"] == (
        'camera=(), geolocation=(self "https://maps.example")'
    )

    r = call(nonce_example["app"], "/page", "http://testserver")
    nonce = re.search(r'nonce="([^"]+)"', r.text)
    assert nonce is not None
    assert f"'nonce-{nonce[1]}'" in csp(r)["script-src"]

    assert call(legacy["app"], "/legacy", "http://t").headers["x-frame-options"] == "DENY"

    r = call(overrides["app"], "/widget", "http://t")
    assert "x-frame-options" not in r.headers
    assert csp(r)["frame-ancestors"] == ["https://partner.example"]
    public = call(overrides["app"], "/public/missing", "http://t")
    assert public.status_code == 404
    assert public.headers["cross-origin-resource-policy"] == "same-origin"  # no route there

    app = hosts["app"]
    r = call(app, "/x?y=1", "http://example.com")
    assert r.status_code == 308
    assert r.headers["location"] == "http://www.example.com/x?y=1"
    assert call(app, "/", "http://api.example.com").status_code == 404
    assert call(app, "/", "http://other.example").status_code == 400


def test_shield_headers_are_on_cors_preflight_answers_too() -> None:
    app = App()
    app.shield()
    app.cors(origin="https://a.example")
    app.get("/x")(lambda: "x")

    with TestClient(app) as client:
        allowed = client.options(
            "/x",
            headers={"origin": "https://a.example", "access-control-request-method": "GET"},
        )
        refused = client.options(
            "/x",
            headers={"origin": "https://evil.example", "access-control-request-method": "GET"},
        )

    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://a.example"
    assert allowed.headers["x-content-type-options"] == "nosniff"
    assert refused.status_code == 403
    assert refused.headers["x-content-type-options"] == "nosniff"
