"""Loading settings (CFG-01, CFG-03): precedence of the sources, nested blocks, user
subclasses, and error messages that list every problem with its source."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import msgspec
import pytest

from avian.config import (
    LimitSettings,
    Secret,
    ServerSettings,
    Settings,
    SettingsBlock,
    SettingsError,
    describe_settings,
    load_settings,
)
from avian.errors import ConfigurationError


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


# --- precedence -------------------------------------------------------------------------------


def test_code_defaults_apply_when_nothing_is_set() -> None:
    settings = load_settings(env={}, env_file=None)
    assert settings == Settings()
    assert settings.server.host == "127.0.0.1"
    assert settings.limits.max_body_size == 1024 * 1024


def test_environment_beats_code() -> None:
    settings = load_settings(env={"AVIAN_SERVER_HOST": "0.0.0.0"}, env_file=None)
    assert settings.server.host == "0.0.0.0"


def test_env_file_beats_environment(tmp_path: Path) -> None:
    path = write_env(tmp_path, "AVIAN_SERVER_HOST=10.0.0.1\n")
    env = {"AVIAN_SERVER_HOST": "0.0.0.0", "AVIAN_SERVER_PORT": "9000"}
    settings = load_settings(env=env, env_file=path)
    assert settings.server.host == "10.0.0.1"  # the file wins...
    assert settings.server.port == 9000  # ...field by field


def test_overrides_beat_everything(tmp_path: Path) -> None:
    path = write_env(tmp_path, "AVIAN_SERVER_PORT=8001\n")
    settings = load_settings(
        env={"AVIAN_SERVER_PORT": "8000"}, env_file=path, overrides={"server": {"port": 8002}}
    )
    assert settings.server.port == 8002


def test_overrides_take_dotted_keys_text_and_whole_blocks() -> None:
    settings = load_settings(
        env={"AVIAN_LIMITS_MAX_HEADERS": "50"},
        env_file=None,
        overrides={"server.port": "8003", "limits": LimitSettings(max_body_size=10)},
    )
    assert settings.server.port == 8003
    assert settings.limits.max_body_size == 10
    assert settings.limits.max_headers == 100  # the whole block replaced the environment's value


def test_an_unknown_override_is_an_error() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={}, env_file=None, overrides={"server.prot": 1, "nope": True})
    assert sorted(p.path for p in info.value.problems) == ["nope", "server.prot"]
    assert all(p.message == "is not a setting" for p in info.value.problems)


def test_a_block_override_must_be_a_mapping_or_the_block() -> None:
    with pytest.raises(SettingsError, match="expected a mapping or a ServerSettings, got 5"):
        load_settings(env={}, env_file=None, overrides={"server": 5})


def test_env_prefix_is_configurable_and_may_be_empty() -> None:
    assert load_settings(env={"MYAPP_DEBUG": "1"}, env_prefix="MYAPP_", env_file=None).debug
    settings = load_settings(env={"DEBUG": "1", "PATH": "/bin"}, env_prefix="", env_file=None)
    assert settings.debug is True


def test_variable_names_are_case_insensitive_and_the_exact_spelling_wins() -> None:
    assert load_settings(env={"avian_debug": "1"}, env_file=None).debug is True
    env = {"avian_debug": "0", "AVIAN_DEBUG": "1"}
    assert load_settings(env=env, env_file=None).debug is True


# --- nested blocks ----------------------------------------------------------------------------


def test_every_field_of_every_block_has_a_flat_variable_name() -> None:
    names = {info.dotted: info.env_name for info in describe_settings(Settings)}
    assert names["limits.max_body_size"] == "AVIAN_LIMITS_MAX_BODY_SIZE"
    assert names["rate_limit.max_requests"] == "AVIAN_RATE_LIMIT_MAX_REQUESTS"
    assert names["redis.url"] == "AVIAN_REDIS_URL"  # the variable App itself reads
    assert names["security_headers.hsts_max_age"] == "AVIAN_SECURITY_HEADERS_HSTS_MAX_AGE"
    assert names["env"] == "AVIAN_ENV"


def test_a_block_can_be_given_whole_as_json_and_a_field_variable_wins() -> None:
    env = {
        "AVIAN_CORS": '{"enabled": true, "origins": ["https://a.example"], "max_age": 60}',
        "AVIAN_CORS_MAX_AGE": "120",
    }
    cors = load_settings(env=env, env_file=None).cors
    assert cors.enabled is True
    assert cors.origins == ("https://a.example",)
    assert cors.max_age == 120


def test_block_json_problems_name_the_variable() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={"AVIAN_SERVER": "[1]", "AVIAN_LIMITS": '{"max_bdy": 1}'}, env_file=None)
    problems = {p.path: (p.message, p.source) for p in info.value.problems}
    assert problems["server"] == (
        "expected a JSON object, got '[1]'",
        "environment variable AVIAN_SERVER",
    )
    assert problems["limits.max_bdy"] == (
        "is not a setting",
        "environment variable AVIAN_LIMITS, as JSON",
    )


def test_json_values_inside_a_block_are_converted_like_text() -> None:
    env = {"AVIAN_LIMITS": '{"max_body_size": "2KiB", "body_timeout": "1m"}'}
    limits = load_settings(env=env, env_file=None).limits
    assert (limits.max_body_size, limits.body_timeout) == (2048, 60.0)


# --- user settings ----------------------------------------------------------------------------


class StripeSettings(SettingsBlock, frozen=True, kw_only=True):
    api_key: Secret
    webhook_tolerance: float = 300.0


class MySettings(Settings, frozen=True, kw_only=True):
    stripe: StripeSettings = msgspec.field(
        default_factory=lambda: StripeSettings(api_key=Secret("sk_default_0"))
    )
    greeting: str = "hello"
    server: ServerSettings = msgspec.field(default_factory=lambda: ServerSettings(port=8080))


def test_subclasses_add_fields_and_blocks() -> None:
    env = {"AVIAN_GREETING": "hi", "AVIAN_STRIPE_API_KEY": "sk_live_123", "AVIAN_DEBUG": "1"}
    settings = load_settings(MySettings, env=env, env_file=None)
    assert isinstance(settings, MySettings)
    assert settings.greeting == "hi"
    assert settings.stripe.api_key.reveal() == "sk_live_123"
    assert settings.debug is True


def test_a_subclass_default_block_is_the_base_for_its_variables() -> None:
    settings = load_settings(MySettings, env={"AVIAN_SERVER_HOST": "::1"}, env_file=None)
    assert (settings.server.host, settings.server.port) == ("::1", 8080)
    assert load_settings(MySettings, env={}, env_file=None).stripe.webhook_tolerance == 300.0


class Required(SettingsBlock, frozen=True, kw_only=True):
    stripe: StripeSettings
    name: str


def test_required_fields_must_be_set() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(Required, env={}, env_file=None)
    assert sorted(str(p) for p in info.value.problems) == [
        "name: is required: set AVIAN_NAME [default]",
        "stripe.api_key: is required: set AVIAN_STRIPE_API_KEY [default]",
    ]
    env = {"AVIAN_NAME": "x", "AVIAN_STRIPE_API_KEY": "k"}
    loaded = load_settings(Required, env=env, env_file=None)
    assert loaded.stripe.api_key.reveal() == "k"


@dataclasses.dataclass(frozen=True)
class Cache:
    ttl: float = 1.0


@dataclasses.dataclass(frozen=True)
class PlainSettings:
    debug: bool = False
    cache: Cache = dataclasses.field(default_factory=Cache)
    hosts: tuple[str, ...] = ()


def test_dataclasses_work_as_settings_and_blocks() -> None:
    env = {"APP_DEBUG": "true", "APP_CACHE_TTL": "2.5", "APP_HOSTS": "a,b"}
    settings = load_settings(PlainSettings, env=env, env_prefix="APP_", env_file=None)
    assert settings == PlainSettings(debug=True, cache=Cache(ttl=2.5), hosts=("a", "b"))


class Clash(SettingsBlock, frozen=True, kw_only=True):
    rate_limit: int = 0
    rate: StripeSettings | None = None
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    limits_max: int = 0


class Clash2(SettingsBlock, frozen=True, kw_only=True):
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    limits_max_headers: int = 0


def test_two_fields_with_one_variable_name_are_refused() -> None:
    load_settings(Clash, env={}, env_file=None)  # no two names collide here
    with pytest.raises(ConfigurationError, match="both be set by AVIAN_LIMITS_MAX_HEADERS"):
        load_settings(Clash2, env={}, env_file=None)


def test_a_settings_class_must_be_a_struct_or_dataclass() -> None:
    with pytest.raises(ConfigurationError, match="must be a msgspec Struct or a dataclass"):
        load_settings(dict, env={}, env_file=None)


class BadDefault(SettingsBlock, frozen=True, kw_only=True):
    port: int = "80"  # type: ignore[assignment]


def test_wrong_code_defaults_are_reported_as_such() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(BadDefault, env={}, env_file=None)
    assert [str(p) for p in info.value.problems] == [
        "port: expected an integer, got '80' [default]"
    ]


# --- errors, unknown variables, secrets -------------------------------------------------------


def test_every_problem_is_listed_with_its_field_source_and_expected_type(tmp_path: Path) -> None:
    path = write_env(tmp_path, "AVIAN_LIMITS_MAX_BODY_SIZE=lots\n")
    env = {"AVIAN_SERVER_PORT": "70000", "AVIAN_SERVER_WORKERS": "two", "AVIAN_ENV": "staging"}
    with pytest.raises(SettingsError) as info:
        load_settings(env=env, env_file=path, overrides={"rate_limit.window": "soon"})
    text = str(info.value)
    assert text.startswith("5 problems in the settings:\n")
    for line in [
        "  - env: expected one of 'development', 'production', 'test', got 'staging' "
        "[environment variable AVIAN_ENV]",
        "  - server.port: expected an integer >= 0 and <= 65535, or empty for none, got "
        "'70000' [environment variable AVIAN_SERVER_PORT]",
        "  - server.workers: expected an integer > 0, got 'two' "
        "[environment variable AVIAN_SERVER_WORKERS]",
        f"  - limits.max_body_size: expected a size (bytes, or e.g. '512KiB', '10MB') > 0, got "
        f"'lots' [{path} line 1 (AVIAN_LIMITS_MAX_BODY_SIZE)]",
        "  - rate_limit.window: expected a duration (seconds, or e.g. '100ms', '30s', '5m', "
        "'2h', '1d') > 0, got 'soon' [overrides]",
    ]:
        assert line in text.splitlines()
    assert isinstance(info.value, ConfigurationError)


def test_component_errors_point_at_the_field_and_its_source() -> None:
    env = {"AVIAN_SESSIONS_SAME_SITE": "none", "AVIAN_SERVER_SSL_KEYFILE": "/k.pem"}
    with pytest.raises(SettingsError) as info:
        load_settings(env=env, env_file=None)
    problems = {p.path: p for p in info.value.problems}
    assert "needs secure=True" in problems["sessions.same_site"].message
    assert problems["sessions.same_site"].source == "environment variable AVIAN_SESSIONS_SAME_SITE"
    assert problems["server.ssl_keyfile"].message == "ssl_keyfile needs ssl_certfile"


def test_a_typo_in_a_block_variable_is_logged_with_a_suggestion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"AVIAN_SERVER_PROT": "1", "AVIAN_REQUIRE_SERVERS": "1", "HOME": "/root"}
    with caplog.at_level(logging.WARNING, "avian.config"):
        load_settings(env=env, env_file=None)
    assert caplog.messages == [
        "AVIAN_SERVER_PROT is not a setting (did you mean AVIAN_SERVER_PORT?) "
        "[environment variable AVIAN_SERVER_PROT]"
    ]  # AVIAN_REQUIRE_SERVERS belongs to something else: no warning


def test_every_unknown_prefixed_name_in_the_env_file_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_env(tmp_path, "AVIAN_COLOUR=blue\nOTHER_TOOL=1\n")
    with caplog.at_level(logging.WARNING, "avian.config"):
        load_settings(env={}, env_file=path)
    assert caplog.messages == [f"AVIAN_COLOUR is not a setting [{path} line 1 (AVIAN_COLOUR)]"]


def test_secrets_never_appear_in_errors_or_reprs() -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    env = {
        "AVIAN_SESSIONS_SECRET_KEY": secret,
        "AVIAN_SESSIONS_BACKEND": "cookie",
        "AVIAN_SESSIONS_OLD_SECRET_KEYS": f"{secret}-old",
        "AVIAN_REDIS_URL": f"redis://user:{secret}@cache.internal:6379/0",
    }
    settings = load_settings(env=env, env_file=None)
    assert secret not in repr(settings)
    assert "redis://user:***@cache.internal:6379/0" in repr(settings.redis)
    # The same values, now wrong somewhere else: the errors don't print them either.
    bad = {**env, "AVIAN_SESSIONS_SAME_SITE": "none", "AVIAN_DATABASE_SQL_URL": f"pw:{secret}"}
    bad["AVIAN_DATABASE_MONGO_OPTIONS"] = f'{{"password": "{secret}"'
    with pytest.raises(SettingsError) as info:
        load_settings(env=bad, env_file=None)
    assert secret not in str(info.value)
    assert len(info.value.problems) == 3


def test_a_wrong_secret_value_is_masked() -> None:
    class Keys(SettingsBlock, frozen=True, kw_only=True):
        keys: tuple[Secret, ...] = ()

    with pytest.raises(SettingsError) as info:
        load_settings(Keys, env={}, env_file=None, overrides={"keys": ["fine", 42]})
    assert str(info.value.problems[0]) == (
        "keys: expected a list (comma-separated or a JSON array) whose items are each a string "
        "(kept secret), got '***' (item 2: expected a string (kept secret)) [overrides]"
    )
