"""serve()'s options are validated before anything binds; import strings are inferred."""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Iterator
from typing import Any, get_type_hints

import pytest

from avian import App, ConfigurationError, HTTPError
from avian.server import (
    AppLoadError,
    ServeOptions,
    ServerConfig,
    import_app,
    infer_import_string,
    resolve_port,
    serve,
)


def test_serve_options_and_server_config_list_the_same_options() -> None:
    fields = {f.name for f in dataclasses.fields(ServerConfig)}
    assert set(get_type_hints(ServeOptions)) == fields


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 70000}, "port must be an integer in 0..65535"),
        ({"port": True}, "port must be an integer"),
        ({"workers": 0}, "workers must be a positive number"),
        ({"max_port_attempts": 0}, "max_port_attempts must be a positive number"),
        ({"keep_alive_timeout": 0}, "keep_alive_timeout must be a positive number"),
        ({"graceful_shutdown_timeout": -1}, "graceful_shutdown_timeout must be >= 0"),
        ({"log_level": "loud"}, "log_level must be one of"),
        ({"ssl_keyfile": __file__}, "ssl_keyfile needs ssl_certfile"),
        (
            {"ssl_certfile": "/nonexistent/cert.pem"},
            "ssl_certfile '/nonexistent/cert.pem' does not exist",
        ),
        ({"uds": "/tmp/x.sock", "reuse_port": True}, "reuse_port applies to TCP ports"),
        ({"uvicorn_options": {"port": 1}}, "uvicorn_options may not set port"),
        ({"on_listening": "print"}, "on_listening must be callable"),
    ],
)
def test_invalid_options_raise_configuration_error(options: dict[str, Any], message: str) -> None:
    with pytest.raises(
        ConfigurationError, match="^" + message.replace("(", r"\(").replace(".", r"\.")
    ):
        ServerConfig(**options)


def test_unknown_option_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unexpected keyword argument 'prot'"):
        serve(App(), prot=3000)  # type: ignore[call-arg]


def test_port_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    assert resolve_port(None) == 3000
    monkeypatch.setenv("PORT", "8123")
    assert resolve_port(None) == 8123
    assert resolve_port(0) == 0
    assert resolve_port(9000) == 9000
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(ConfigurationError, match="PORT environment variable must be a port number"):
        resolve_port(None)


@pytest.fixture
def fake_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("avian_test_fake_module")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_infer_import_string_finds_the_module_attribute(fake_module: types.ModuleType) -> None:
    app = App()
    fake_module.api = app  # type: ignore[attr-defined]
    assert infer_import_string(app) == "avian_test_fake_module:api"
    assert import_app("avian_test_fake_module:api") is app


def test_infer_import_string_fails_clearly_for_unnamed_apps() -> None:
    with pytest.raises(ConfigurationError, match="pass 'module:attr' instead of the app object"):
        infer_import_string(App())


def test_workers_need_a_nameable_app() -> None:
    with pytest.raises(ConfigurationError, match="workers and reload need it as an import string"):
        serve(App(), workers=2)


def test_import_app_errors() -> None:
    with pytest.raises(AppLoadError, match="app must look like 'module:attribute'"):
        import_app(":app")
    with pytest.raises(AppLoadError, match="has no attribute 'nope'"):
        import_app("avian:nope")
    assert import_app("avian:errors.HTTPError") is HTTPError  # dotted attributes
