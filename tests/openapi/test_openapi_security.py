"""Security schemes as dependencies (over HTTP) and as OpenAPI objects."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from helpers import document, operation

from avian import App, ConfigurationError, Context
from avian.openapi import (
    APIKey,
    BasicCredentials,
    HTTPBasic,
    HTTPBearer,
    OAuth2,
    OAuthFlow,
    OpenAPIConfig,
    OpenIdConnect,
)
from avian.params import Depends
from avian.testing import TestClient


def guarded(scheme: Any) -> App:
    app = App(openapi=OpenAPIConfig(security_schemes={"auth": scheme}))

    @app.get("/secret", security=[{"auth": []}])
    async def secret(
        credentials: Any = Depends(scheme),
    ) -> dict[str, Any]:
        if isinstance(credentials, BasicCredentials):
            return {"user": credentials.username, "password": credentials.password}
        return {"credentials": credentials}

    return app


def basic_header(text: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def test_bearer_reads_the_token_and_answers_401_without_one() -> None:
    with TestClient(guarded(HTTPBearer())) as client:
        missing = client.get("/secret")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["code"] == "UNAUTHORIZED"
        assert client.get("/secret", headers={"authorization": "Basic abc"}).status_code == 401
        assert client.get("/secret", headers={"authorization": "Bearer "}).status_code == 401
        ok = client.get("/secret", headers={"authorization": "bearer tok.en"})
        assert ok.json() == {"credentials": "tok.en"}


def test_basic_reads_user_and_password_and_refuses_malformed_ones() -> None:
    with TestClient(guarded(HTTPBasic(realm='the "zone"'))) as client:
        missing = client.get("/secret")
        assert missing.status_code == 401
        assert (
            missing.headers["www-authenticate"] == 'Basic realm="the \\"zone\\"", charset="UTF-8"'
        )
        assert client.get("/secret", headers={"authorization": "Basic !!!"}).status_code == 401
        assert client.get("/secret", headers=basic_header("no-colon")).status_code == 401
        ok = client.get("/secret", headers=basic_header("ann:pa:ss"))
        assert ok.json() == {"user": "ann", "password": "pa:ss"}


@pytest.mark.parametrize(
    ("location", "send"),
    [
        ("header", {"headers": {"x-api-key": "k1"}}),
        ("query", {"params": {"X-API-Key": "k1"}}),
        ("cookie", {"cookies": {"X-API-Key": "k1"}}),
    ],
)
def test_api_key_in_each_location(location: Any, send: dict[str, Any]) -> None:
    scheme = APIKey(name="X-API-Key", location=location)
    with TestClient(guarded(scheme)) as client:
        assert client.get("/secret").status_code == 401
        assert client.get("/secret", **send).json() == {"credentials": "k1"}
    assert scheme.openapi() == {"type": "apiKey", "name": "X-API-Key", "in": location}


def test_oauth2_and_openid_connect_read_a_bearer_token() -> None:
    flows = {"client_credentials": OAuthFlow(token_url="/token", scopes={"read": "Read"})}
    for scheme in (OAuth2(flows=flows), OpenIdConnect(openid_connect_url="https://id.example")):
        with TestClient(guarded(scheme)) as client:
            assert client.get("/secret").status_code == 401
            reply = client.get("/secret", headers={"authorization": "Bearer t"})
            assert reply.json() == {"credentials": "t"}


def test_auto_error_off_gives_none() -> None:
    with TestClient(guarded(HTTPBearer(auto_error=False))) as client:
        assert client.get("/secret").json() == {"credentials": None}


def test_verify_turns_credentials_into_a_principal_or_a_403() -> None:
    async def check(token: str, ctx: Context) -> dict[str, str] | None:
        return {"name": "ann"} if token == "good" else None

    with TestClient(guarded(HTTPBearer(verify=check))) as client:
        bad = client.get("/secret", headers={"authorization": "Bearer bad"})
        assert (bad.status_code, bad.json()["code"]) == (403, "FORBIDDEN")
        good = client.get("/secret", headers={"authorization": "Bearer good"})
        assert good.json() == {"credentials": {"name": "ann"}}

    def sync_check(creds: BasicCredentials, ctx: Context) -> str:
        return creds.username if creds.password == "pw" else ""

    with TestClient(guarded(HTTPBasic(verify=sync_check))) as client:
        assert client.get("/secret", headers=basic_header("ann:no")).status_code == 403


def test_scheme_objects_in_the_document() -> None:
    oauth = OAuth2(
        flows={
            "implicit": {"authorizationUrl": "https://a.example/auth", "scopes": {"x": "X"}},
            "password": OAuthFlow(token_url="/token", refresh_url="/refresh"),
        },
        description="Log in",
    )
    assert oauth.scopes == {"x": "X"}
    schemes = {
        "bearer": HTTPBearer(bearer_format="JWT"),
        "basic": HTTPBasic(),
        "oauth": oauth,
        "oidc": OpenIdConnect(openid_connect_url="https://id.example/.well-known"),
        "raw": {"type": "apiKey", "name": "k", "in": "query"},
    }
    app = App(openapi=OpenAPIConfig(security_schemes=schemes, security=[{"bearer": []}]))

    @app.get("/default")
    async def default() -> None: ...

    @app.get("/scoped", security=[{"oauth": ["x"]}, {"raw": []}])
    async def scoped() -> None: ...

    @app.get("/public", security=[])
    async def public() -> None: ...

    group = app.group("/admin", security=[{"basic": []}])

    @group.get("/panel")
    async def panel() -> None: ...

    doc = document(app)
    declared = doc["components"]["securitySchemes"]
    assert declared["bearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert declared["oauth"] == {
        "type": "oauth2",
        "description": "Log in",
        "flows": {
            "implicit": {"authorizationUrl": "https://a.example/auth", "scopes": {"x": "X"}},
            "password": {"tokenUrl": "/token", "refreshUrl": "/refresh", "scopes": {}},
        },
    }
    assert declared["oidc"]["openIdConnectUrl"] == "https://id.example/.well-known"
    assert operation(doc, "GET", "/default")["security"] == [{"bearer": []}]
    assert operation(doc, "GET", "/scoped")["security"] == [{"oauth": ["x"]}, {"raw": []}]
    assert "security" not in operation(doc, "GET", "/public")
    assert "401" not in operation(doc, "GET", "/public")["responses"]
    assert operation(doc, "GET", "/admin/panel")["security"] == [{"basic": []}]


def test_app_wide_security_from_the_app_itself() -> None:
    app = App(
        security=[{"bearer": []}],
        openapi=OpenAPIConfig(security_schemes={"bearer": HTTPBearer()}),
    )

    @app.get("/x")
    async def x() -> None: ...

    assert operation(document(app), "GET", "/x")["security"] == [{"bearer": []}]


def test_an_undeclared_scheme_name_is_a_configuration_error() -> None:
    from avian.openapi import build_openapi

    app = App()

    @app.get("/x", security=[{"nope": []}])
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="'nope' is not declared"):
        build_openapi(app)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OAuth2(), "at least one flow"),
        (lambda: OAuth2(flows={"magic": {}}), "unknown"),
        (lambda: OAuth2(flows={"password": OAuthFlow()}), "token_url"),
        (lambda: OAuth2(flows={"implicit": OAuthFlow()}), "authorization_url"),
        (lambda: APIKey(name="k", location="body"), "location"),  # type: ignore[arg-type]
        (lambda: APIKey(name=""), "needs a name"),
        (lambda: OpenIdConnect(), "openid_connect_url"),
        (lambda: OpenAPIConfig(security_schemes={"x": 1}) and guarded_doc({"x": 1}), "scheme"),
    ],
)
def test_bad_scheme_definitions_fail_early(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make()


def guarded_doc(schemes: dict[str, Any]) -> dict[str, Any]:
    from avian.openapi import build_openapi

    return build_openapi(App(openapi=OpenAPIConfig(security_schemes=schemes)))
