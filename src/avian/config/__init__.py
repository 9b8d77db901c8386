"""Typed settings for an avian app, loaded from code, the environment and a ``.env`` file.

::

    from avian.config import build_app, load_settings

    settings = load_settings()          # defaults < AVIAN_* variables < .env < overrides
    app = build_app(settings)           # an App with every block applied

    if __name__ == "__main__":
        app.listen(**settings.server.serve_options())

See ``docs/configuration.md`` for every block, field and variable name.
"""

from .block import SettingsBlock
from .build import build_app
from .cache import CacheSettings
from .checks import SettingsChecks
from .conversion import ConversionError, convert, describe
from .cors import CORSSettings
from .csrf import CSRFSettings
from .database import DatabaseSettings
from .dotenv import read_env_file
from .field_types import ByteSize, Port, PositiveInt, PositiveSeconds, PositiveSize, Seconds
from .hosts import HostSettings
from .http import HTTPSettings
from .limits import LimitSettings
from .loader import load_settings
from .logs import LoggingSettings
from .openapi import OpenAPISettings
from .problems import Problem, SettingsError
from .rate_limit import RateLimitSettings
from .redis import RedisSettings
from .schema import SettingInfo, describe_settings
from .secret import Secret
from .security_headers import SecurityHeaderSettings
from .server import ServerSettings
from .sessions import SessionSettings
from .settings import Settings
from .sizes import parse_size
from .validation import validate_settings
from .websockets import WebSocketSettings

__all__ = [
    "ByteSize",
    "CORSSettings",
    "CSRFSettings",
    "CacheSettings",
    "ConversionError",
    "DatabaseSettings",
    "HTTPSettings",
    "HostSettings",
    "LimitSettings",
    "LoggingSettings",
    "OpenAPISettings",
    "Port",
    "PositiveInt",
    "PositiveSeconds",
    "PositiveSize",
    "Problem",
    "RateLimitSettings",
    "RedisSettings",
    "Seconds",
    "Secret",
    "SecurityHeaderSettings",
    "ServerSettings",
    "SessionSettings",
    "SettingInfo",
    "Settings",
    "SettingsBlock",
    "SettingsChecks",
    "SettingsError",
    "WebSocketSettings",
    "build_app",
    "convert",
    "describe",
    "describe_settings",
    "load_settings",
    "parse_size",
    "read_env_file",
    "validate_settings",
]
