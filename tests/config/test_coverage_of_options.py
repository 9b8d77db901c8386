"""Every option of the components the blocks configure exists as a setting, with the same
default (CFG-03): these tests fail when a component grows an option or changes a default
and its settings block is not updated."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import msgspec

from avian import App
from avian.cache import Cache
from avian.config import (
    CacheSettings,
    CORSSettings,
    CSRFSettings,
    HostSettings,
    LimitSettings,
    OpenAPISettings,
    RateLimitSettings,
    SecurityHeaderSettings,
    ServerSettings,
    SessionSettings,
    Settings,
    build_app,
)
from avian.config.validation import iter_blocks
from avian.csrf import CSRF, CSRFMiddleware
from avian.http.client_ip import ProxyConfig
from avian.http.limits import BodyLimits, HeaderLimits
from avian.middleware.cors import CORSOptions
from avian.middleware.hosts import AllowedHostsMiddleware, HTTPSRedirectMiddleware
from avian.middleware.shield import DEFAULT_HSTS, ShieldOptions
from avian.openapi.config import OpenAPIConfig
from avian.ratelimit.options import RateLimitOptions
from avian.server import ServerConfig
from avian.sessions import CookieSession, Session
from avian.sessions.backend import SessionBackend, SessionOptions


def fields_of(block: type[msgspec.Struct]) -> dict[str, Any]:
    """Field name -> default of a settings block."""
    instance = block()
    return {name: getattr(instance, name) for name in block.__struct_fields__}


def parameters(fn: Callable[..., Any], *skip: str) -> dict[str, Any]:
    """Keyword parameter -> default (``inspect.Parameter.empty`` when none)."""
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if name not in ("self", *skip) and p.kind is not p.VAR_KEYWORD
    }


def same(a: Any, b: Any) -> bool:
    """Equal, treating lists/tuples and empty collections/None alike."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return list(a) == list(b)
    return a == b or (not a and not b and a is not False and b is not False)


def test_app_options_are_all_reachable_from_settings() -> None:
    contributed: set[str] = set()
    for _, block in iter_blocks(Settings()):
        contributed |= set(block.app_options())
    code_only = {  # objects, not values: given to build_app(...) as overrides
        "middleware", "routers", "on_ready", "on_shutdown", "on_error", "dependencies",
        "tags", "security",
    }  # fmt: skip
    assert set(parameters(App.__init__)) - code_only == contributed


def test_a_default_settings_app_equals_a_default_app() -> None:
    built, plain = build_app(Settings()), App()
    for name in (
        "debug", "limits", "header_limits", "proxy", "redirect_slashes", "method_override",
        "method_override_header", "allowed_methods", "request_id_header", "log_exceptions",
        "default_entry", "ws_allowed_origins", "ws_max_message_size", "ws_backpressure_limit",
        "title", "version", "description",
    ):  # fmt: skip
        assert getattr(built, name) == getattr(plain, name), name


def test_limits_cover_body_and_header_limits() -> None:
    settings = fields_of(LimitSettings)
    for f in dataclasses.fields(BodyLimits):
        assert same(settings.pop(f.name), getattr(BodyLimits(), f.name)), f.name
    for f in dataclasses.fields(HeaderLimits):
        name = f.name.replace("max_", "max_header_") if f.name != "max_headers" else f.name
        assert settings.pop(name) == getattr(HeaderLimits(), f.name), f.name
    assert settings == {}


def test_server_covers_serve_and_the_proxy_rules() -> None:
    settings = fields_of(ServerSettings)
    config = ServerConfig()
    for f in dataclasses.fields(ServerConfig):
        if f.name in ("on_listening", "uvicorn_options"):  # code objects
            continue
        assert same(settings.pop(f.name), getattr(config, f.name)), f.name
    proxy = ProxyConfig()
    assert settings.pop("trusted_proxies") == tuple(proxy.trusted_proxies)
    assert settings.pop("proxy_header_preference") == tuple(proxy.header_preference)
    assert settings.pop("proxy_max_chain_length") == proxy.max_chain_length
    assert settings.pop("proxy_allow_private_ips") == proxy.allow_private_ips
    assert settings == {"trust_proxy": False, "root_path": ""}


def test_sessions_cover_every_backend_option() -> None:
    settings = fields_of(SessionSettings)
    shared = parameters(SessionBackend.__init__, "cookie_name", "clock")
    assert set(SessionOptions.__annotations__) - {"clock"} == set(shared)
    for name, default in shared.items():
        assert settings.pop(name) == default, name
    assert settings.pop("key_prefix") == parameters(Session.__init__)["key_prefix"]
    assert settings.pop("salt") == parameters(CookieSession.__init__)["salt"]
    assert settings == {
        "enabled": False, "backend": "server", "secret_key": None, "old_secret_keys": (),
        "cookie_name": None,
    }  # fmt: skip


def test_csrf_covers_the_middleware_and_the_token_service() -> None:
    settings = fields_of(CSRFSettings)
    for name, default in parameters(CSRFMiddleware.__init__, "csrf").items():
        target = "secret" if name == "secret" else name
        assert same(settings.pop(target), default), name
    token = parameters(CSRF.__init__, "store", "clock")
    assert settings.pop("ttl") == token["ttl"]
    assert settings.pop("key_prefix") == token["prefix"]
    assert settings == {"enabled": False, "old_secrets": ()}


def test_cors_covers_its_options() -> None:
    settings = fields_of(CORSSettings)
    options = CORSOptions()
    for f in dataclasses.fields(CORSOptions):
        if f.name.startswith("_"):
            continue
        if f.name == "origin":
            assert settings.pop("origins") == (options.origin,)
        elif f.name == "allowed_headers":
            assert settings.pop(f.name) == ()
            assert options.allowed_headers is None
        else:
            assert same(settings.pop(f.name), getattr(options, f.name)), f.name
    assert settings == {"enabled": False, "origin_patterns": (), "paths": ()}


def test_security_headers_cover_the_shield() -> None:
    settings = fields_of(SecurityHeaderSettings)
    options = ShieldOptions()
    for f in dataclasses.fields(ShieldOptions):
        if f.name.startswith("_") or f.name in ("csp", "hsts"):
            continue
        value = settings.pop(f.name)
        expected = getattr(options, f.name)
        assert same(
            value,
            (expected,) if isinstance(expected, str) and f.name == "referrer_policy" else expected,
        ), f.name
    assert settings.pop("csp") is options.csp is True
    assert settings.pop("hsts") is options.hsts is True
    assert settings.pop("hsts_max_age") == DEFAULT_HSTS["max_age"]
    assert settings.pop("hsts_include_subdomains") == DEFAULT_HSTS["include_subdomains"]
    assert settings.pop("hsts_preload") == DEFAULT_HSTS["preload"]
    assert settings == {"enabled": False, "csp_directives": {}}


def test_hosts_cover_both_middleware() -> None:
    settings = fields_of(HostSettings)
    assert (
        settings.pop("www_redirect") == parameters(AllowedHostsMiddleware.__init__)["www_redirect"]
    )
    redirect = parameters(HTTPSRedirectMiddleware.__init__, "host")
    assert settings.pop("https_redirect_status") == redirect["status"]
    assert settings.pop("https_port") == redirect["https_port"]
    assert settings == {"allowed": (), "https_redirect": False}


def test_cache_covers_its_options() -> None:
    settings = fields_of(CacheSettings)
    cache = parameters(Cache.__init__, "store")
    assert settings.pop("default_ttl") == cache["default_ttl"]
    assert settings.pop("prefix") == cache["prefix"]
    assert settings == {"enabled": False}


def test_rate_limit_covers_every_value_option() -> None:
    code_only = {"limit", "key", "redis", "on_limited", "skip"}  # functions and clients
    names = set(RateLimitOptions.__annotations__) - code_only
    assert names == set(fields_of(RateLimitSettings)) - {"enabled"}


def test_openapi_covers_its_config() -> None:
    settings = fields_of(OpenAPISettings)
    config = OpenAPIConfig()
    for f in dataclasses.fields(OpenAPIConfig):
        value = settings.pop(f.name)
        if f.name in ("title", "version", "description"):
            continue  # App(title=..., ...) holds them; the config defers to it
        if f.name == "scalar":
            assert value == {}
            continue
        assert same(value, getattr(config, f.name)), f.name
    assert settings == {}
