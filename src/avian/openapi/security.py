"""Security schemes: documented in the OpenAPI document *and* usable as dependencies.

Each scheme is an object that (1) describes itself as an OpenAPI Security Scheme and (2) is
an async callable ``scheme(ctx) -> credentials`` that reads the credentials from the request
and answers 401 problem+json (with ``WWW-Authenticate`` where HTTP defines one) when they are
missing or malformed.  So one object serves the docs and the handler::

    bearer = HTTPBearer()
    app = App(openapi=OpenAPIConfig(security_schemes={"bearer": bearer}))

    @app.get("/me", security=[{"bearer": []}])
    async def me(token: str = Depends(bearer)) -> User: ...

A scheme checks that credentials are *present and well-formed*, not that they are valid:
pass ``verify=`` (sync or async ``(credentials, ctx) -> principal | None``) to check them;
a falsy result answers 403, and the principal becomes the dependency's value.
"""

from __future__ import annotations

import base64
import binascii
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..context import Context
from ..errors import ConfigurationError, HTTPError

__all__ = [
    "APIKey",
    "BasicCredentials",
    "HTTPBasic",
    "HTTPBearer",
    "OAuth2",
    "OAuthFlow",
    "OpenIdConnect",
    "SecurityScheme",
]

Verifier = Callable[[Any, Context], Any]


@dataclass(frozen=True)
class BasicCredentials:
    """What :class:`HTTPBasic` reads from ``Authorization: Basic ...``."""

    username: str
    password: str


@dataclass(eq=False)
class SecurityScheme:
    """Base of every scheme: the options every scheme takes (keyword-only, after the
    scheme's own), the OpenAPI object, and the dependency call."""

    description: str | None = field(default=None, kw_only=True)
    scheme_name: str | None = field(default=None, kw_only=True)
    """The name used when the scheme is found in a dependency but not registered."""
    auto_error: bool = field(default=True, kw_only=True)
    """``False``: missing credentials give ``None`` instead of a 401."""
    verify: Verifier | None = field(default=None, kw_only=True)
    """Checks the credentials: ``(credentials, ctx) -> principal``; falsy answers 403."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI Security Scheme Object."""
        raise NotImplementedError

    def extract(self, ctx: Context) -> Any:
        """The credentials in the request, or ``None``; raise 401 when malformed."""
        raise NotImplementedError

    def challenge(self) -> dict[str, str]:
        """Headers sent with a 401 (``WWW-Authenticate``)."""
        return {}

    def unauthorized(self, detail: str) -> HTTPError:
        return HTTPError(401, detail, code="UNAUTHORIZED", headers=self.challenge())

    async def __call__(self, ctx: Context) -> Any:
        credentials = self.extract(ctx)
        if credentials is None:
            if self.auto_error:
                raise self.unauthorized("Not authenticated")
            return None
        if self.verify is None:
            return credentials
        principal = self.verify(credentials, ctx)
        if inspect.isawaitable(principal):
            principal = await principal
        if not principal:
            raise HTTPError(403, "Invalid credentials", code="FORBIDDEN")
        return principal

    def _base(self, kind: str) -> dict[str, Any]:
        scheme: dict[str, Any] = {"type": kind}
        if self.description:
            scheme["description"] = self.description
        return scheme


def _authorization(ctx: Context, expected: str) -> str | None:
    """The credentials after ``expected`` (``Bearer``) in ``Authorization``, or ``None``."""
    header = ctx.request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != expected.lower():
        return None
    credentials = credentials.strip()
    return credentials or None


class _BearerToken(SecurityScheme):
    """Schemes whose credentials are ``Authorization: Bearer <token>`` (the value)."""

    def extract(self, ctx: Context) -> str | None:
        return _authorization(ctx, "bearer")

    def challenge(self) -> dict[str, str]:
        return {"www-authenticate": "Bearer"}


@dataclass(eq=False)
class HTTPBearer(_BearerToken):
    """``Authorization: Bearer <token>``; the dependency's value is the token string."""

    bearer_format: str | None = None
    """A hint such as ``"JWT"``."""

    def openapi(self) -> dict[str, Any]:
        scheme = self._base("http")
        scheme["scheme"] = "bearer"
        if self.bearer_format:
            scheme["bearerFormat"] = self.bearer_format
        return scheme


@dataclass(eq=False)
class HTTPBasic(SecurityScheme):
    """``Authorization: Basic base64(user:password)``; the value is :class:`BasicCredentials`."""

    realm: str | None = None

    def openapi(self) -> dict[str, Any]:
        scheme = self._base("http")
        scheme["scheme"] = "basic"
        return scheme

    def extract(self, ctx: Context) -> BasicCredentials | None:
        encoded = _authorization(ctx, "basic")
        if encoded is None:
            return None
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise self.unauthorized("Malformed Basic credentials") from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise self.unauthorized("Malformed Basic credentials")
        return BasicCredentials(username, password)

    def challenge(self) -> dict[str, str]:
        if self.realm:
            escaped = self.realm.replace("\\", "\\\\").replace('"', '\\"')
            return {"www-authenticate": f'Basic realm="{escaped}", charset="UTF-8"'}
        return {"www-authenticate": 'Basic charset="UTF-8"'}


@dataclass(eq=False)
class APIKey(SecurityScheme):
    """An API key in a header, query parameter or cookie; the value is the key string."""

    name: str = "X-API-Key"
    """The header, query parameter or cookie name."""
    location: Literal["header", "query", "cookie"] = "header"

    def __post_init__(self) -> None:
        if self.location not in ("header", "query", "cookie"):
            raise ConfigurationError(
                f"APIKey location must be 'header', 'query' or 'cookie': {self.location!r}"
            )
        if not self.name:
            raise ConfigurationError("APIKey needs a name")

    def openapi(self) -> dict[str, Any]:
        scheme = self._base("apiKey")
        scheme["name"] = self.name
        scheme["in"] = self.location
        return scheme

    def extract(self, ctx: Context) -> str | None:
        request = ctx.request
        if self.location == "header":
            value = request.headers.get(self.name.lower())
        elif self.location == "query":
            value = request.query.get(self.name)
        else:
            value = request.cookies.get(self.name)
        return value or None


@dataclass(frozen=True)
class OAuthFlow:
    """One OAuth2 flow: URLs and the scopes it grants (``{"read": "Read items"}``)."""

    authorization_url: str | None = None
    token_url: str | None = None
    refresh_url: str | None = None
    scopes: Mapping[str, str] = field(default_factory=dict)

    def openapi(self, kind: str) -> dict[str, Any]:
        flow: dict[str, Any] = {}
        needs_auth = kind in ("implicit", "authorizationCode")
        needs_token = kind in ("password", "clientCredentials", "authorizationCode")
        if needs_auth:
            if not self.authorization_url:
                raise ConfigurationError(f"OAuth2 {kind} flow needs authorization_url")
            flow["authorizationUrl"] = self.authorization_url
        if needs_token:
            if not self.token_url:
                raise ConfigurationError(f"OAuth2 {kind} flow needs token_url")
            flow["tokenUrl"] = self.token_url
        if self.refresh_url:
            flow["refreshUrl"] = self.refresh_url
        flow["scopes"] = dict(self.scopes)
        return flow


_FLOW_NAMES = {
    "implicit": "implicit",
    "password": "password",
    "client_credentials": "clientCredentials",
    "clientCredentials": "clientCredentials",
    "authorization_code": "authorizationCode",
    "authorizationCode": "authorizationCode",
}


@dataclass(eq=False)
class OAuth2(_BearerToken):
    """OAuth2 with its flows and scopes; the value is the bearer token.

    ``OAuth2(flows={"password": OAuthFlow(token_url="/token", scopes={"read": "..."})})``;
    flows may also be plain dicts with ``authorizationUrl``/``tokenUrl``/``scopes``.
    """

    flows: Mapping[str, OAuthFlow | Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.flows:
            raise ConfigurationError("OAuth2 needs at least one flow")
        for name in self.flows:
            if name not in _FLOW_NAMES:
                raise ConfigurationError(
                    f"OAuth2 flow {name!r} is unknown (implicit, password, "
                    "client_credentials, authorization_code)"
                )
        self.openapi()  # missing URLs fail now, not when the document is built

    @property
    def scopes(self) -> dict[str, str]:
        """Every scope of every flow."""
        found: dict[str, str] = {}
        for flow in self.flows.values():
            scopes = flow.scopes if isinstance(flow, OAuthFlow) else flow.get("scopes", {})
            found.update(scopes)
        return found

    def openapi(self) -> dict[str, Any]:
        scheme = self._base("oauth2")
        flows: dict[str, Any] = {}
        for name, flow in self.flows.items():
            kind = _FLOW_NAMES[name]
            if isinstance(flow, OAuthFlow):
                flows[kind] = flow.openapi(kind)
            else:
                flows[kind] = OAuthFlow(
                    authorization_url=flow.get("authorizationUrl", flow.get("authorization_url")),
                    token_url=flow.get("tokenUrl", flow.get("token_url")),
                    refresh_url=flow.get("refreshUrl", flow.get("refresh_url")),
                    scopes=flow.get("scopes", {}),
                ).openapi(kind)
        scheme["flows"] = flows
        return scheme


@dataclass(eq=False)
class OpenIdConnect(_BearerToken):
    """OpenID Connect discovery; the value is the bearer token."""

    openid_connect_url: str = ""

    def __post_init__(self) -> None:
        if not self.openid_connect_url:
            raise ConfigurationError("OpenIdConnect needs openid_connect_url")

    def openapi(self) -> dict[str, Any]:
        scheme = self._base("openIdConnect")
        scheme["openIdConnectUrl"] = self.openid_connect_url
        return scheme


def scheme_object(value: Any, name: str) -> dict[str, Any]:
    """The Security Scheme Object for a configured entry (a scheme or a raw dict)."""
    if isinstance(value, SecurityScheme):
        return value.openapi()
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        return dict(value)
    raise ConfigurationError(
        f"security scheme {name!r} must be a scheme (HTTPBearer(), APIKey(...)...) or a dict "
        f"with a 'type': {value!r}"
    )


def default_scheme_name(scheme: SecurityScheme) -> str:
    """The component name of a scheme found in a dependency but not registered."""
    return scheme.scheme_name or type(scheme).__name__
