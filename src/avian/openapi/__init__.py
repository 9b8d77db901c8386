"""OpenAPI 3.1 documents generated from the app's routes, and the docs UIs that show them.

``build_openapi(app)`` returns the document; ``OpenAPIConfig`` (``App(openapi=...)``) sets
its metadata, where it is served and which docs UIs are shown; :mod:`.security` holds the
security schemes, which are dependencies as well.  See ``docs/openapi.md``.
"""

from .config import OpenAPIConfig, ScalarOptions
from .document import build_openapi
from .security import (
    APIKey,
    BasicCredentials,
    HTTPBasic,
    HTTPBearer,
    OAuth2,
    OAuthFlow,
    OpenIdConnect,
    SecurityScheme,
)

__all__ = [
    "APIKey",
    "BasicCredentials",
    "HTTPBasic",
    "HTTPBearer",
    "OAuth2",
    "OAuthFlow",
    "OpenAPIConfig",
    "OpenIdConnect",
    "ScalarOptions",
    "SecurityScheme",
    "build_openapi",
]
