"""Validation at startup (CFG-05 for CFG-01..03): errors that stop the app, and warnings
logged on ``avian.config`` for risky limits and risky combinations."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from avian.config import (
    Settings,
    SettingsBlock,
    SettingsChecks,
    SettingsError,
    load_settings,
    validate_settings,
)
from avian.config.limits import RISKY_LIMITS

MiB = 1024 * 1024
KEY = "a-long-enough-signing-key-for-tests"


def warnings_for(env: Mapping[str, str], caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, "avian.config"):
        load_settings(env=dict(env), env_file=None)
    return [r.getMessage() for r in caplog.records if r.name == "avian.config"]


def errors_for(env: Mapping[str, str]) -> dict[str, str]:
    with pytest.raises(SettingsError) as info:
        load_settings(env=dict(env), env_file=None)
    return {p.path: p.message for p in info.value.problems}


def test_defaults_are_quiet(caplog: pytest.LogCaptureFixture) -> None:
    assert warnings_for({}, caplog) == []


# --- risky limits -----------------------------------------------------------------------------


def test_a_body_limit_above_100_mib_is_risky_and_exactly_100_mib_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert warnings_for({"AVIAN_LIMITS_MAX_BODY_SIZE": "100MiB"}, caplog) == []
    assert warnings_for({"AVIAN_LIMITS_MAX_BODY_SIZE": str(100 * MiB + 1)}, caplog) == [
        "limits.max_body_size: 100 MiB is above 100 MiB: a few clients could tie up the "
        "server; raise the limit on the routes that need it instead "
        "[environment variable AVIAN_LIMITS_MAX_BODY_SIZE]"
    ]


@pytest.mark.parametrize("name", sorted(RISKY_LIMITS))
def test_every_risky_limit_warns_just_above_its_threshold(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    threshold = RISKY_LIMITS[name]
    variable = f"AVIAN_LIMITS_{name.upper()}"
    at = str(threshold) if name == "body_timeout" else str(int(threshold))
    above = str(threshold + 1) if name == "body_timeout" else str(int(threshold) + 1)
    extra = {}
    if name == "multipart_max_file_size":  # keep the spool warning out of the way
        extra = {"AVIAN_LIMITS_MULTIPART_SPOOL_SIZE": "1KiB"}
    assert warnings_for({variable: at, **extra}, caplog) == []
    (message,) = warnings_for({variable: above, **extra}, caplog)
    assert message.startswith(f"limits.{name}: ")
    assert message.endswith(f"[environment variable {variable}]")


def test_a_spool_size_above_the_file_size_keeps_uploads_in_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"AVIAN_LIMITS_MULTIPART_SPOOL_SIZE": "20MiB"}
    assert warnings_for(env, caplog) == [
        "limits.multipart_spool_size: is larger than multipart_max_file_size, so uploads are "
        "always held in memory [environment variable AVIAN_LIMITS_MULTIPART_SPOOL_SIZE]"
    ]


def test_non_positive_limits_are_errors() -> None:
    errors = errors_for({"AVIAN_LIMITS_MAX_HEADERS": "0", "AVIAN_LIMITS_BODY_TIMEOUT": "0s"})
    assert errors["limits.max_headers"] == "expected an integer > 0, got '0'"
    assert errors["limits.body_timeout"].startswith("expected a duration")


# --- risky combinations -----------------------------------------------------------------------


def test_debug_on_a_public_interface(caplog: pytest.LogCaptureFixture) -> None:
    assert warnings_for({"AVIAN_DEBUG": "1"}, caplog) == []
    assert warnings_for({"AVIAN_DEBUG": "1", "AVIAN_SERVER_HOST": "0.0.0.0"}, caplog) == [
        "debug: is on while the server listens on '0.0.0.0': tracebacks are shown to anyone "
        "on the network [environment variable AVIAN_DEBUG]"
    ]


def test_production_warnings(caplog: pytest.LogCaptureFixture) -> None:
    env = {
        "AVIAN_ENV": "production",
        "AVIAN_DEBUG": "true",
        "AVIAN_SERVER_RELOAD": "1",
        "AVIAN_SESSIONS_ENABLED": "1",
        "AVIAN_CSRF_ENABLED": "1",
        "AVIAN_CSRF_DOUBLE_SUBMIT": "1",
        "AVIAN_CSRF_SECRET": KEY,
    }
    messages = warnings_for(env, caplog)
    paths = [m.split(":", 1)[0] for m in messages]
    assert paths == [
        "debug",
        "server.reload",
        "sessions.secure",
        "csrf.cookie_secure",
        "rate_limit.enabled",
        "security_headers.enabled",
    ]
    assert "the session cookie is only marked Secure when the app itself sees https" in messages[2]
    assert "nothing stops one client from flooding the app" in messages[4]


def test_a_production_setup_done_right_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    env = {
        "AVIAN_ENV": "production",
        "AVIAN_SESSIONS_ENABLED": "1",
        "AVIAN_SESSIONS_SECURE": "1",
        "AVIAN_RATE_LIMIT_ENABLED": "1",
        "AVIAN_SECURITY_HEADERS_ENABLED": "1",
    }
    assert warnings_for(env, caplog) == []


def test_several_workers_without_redis_share_nothing(caplog: pytest.LogCaptureFixture) -> None:
    env = {"AVIAN_SERVER_WORKERS": "4", "AVIAN_SESSIONS_ENABLED": "1", "AVIAN_CACHE_ENABLED": "1"}
    assert warnings_for(env, caplog) == [
        "server.workers: each of the 4 workers keeps its own sessions, cache in memory: set "
        "redis.url to share them [environment variable AVIAN_SERVER_WORKERS]"
    ]
    assert warnings_for({**env, "AVIAN_REDIS_URL": "redis://127.0.0.1:6379/0"}, caplog) == []
    assert warnings_for({"AVIAN_SERVER_WORKERS": "4"}, caplog) == []


def test_trusting_every_proxy_is_risky(caplog: pytest.LogCaptureFixture) -> None:
    env = {"AVIAN_SERVER_TRUST_PROXY": "1", "AVIAN_SERVER_TRUSTED_PROXIES": "*"}
    assert [m.split(":")[0] for m in warnings_for(env, caplog)] == ["server.trusted_proxies"]
    env = {"AVIAN_SERVER_PROXY_HEADERS": "1", "AVIAN_SERVER_FORWARDED_ALLOW_IPS": "*"}
    assert [m.split(":")[0] for m in warnings_for(env, caplog)] == ["server.forwarded_allow_ips"]


def test_options_of_another_algorithm_are_pointed_out(caplog: pytest.LogCaptureFixture) -> None:
    env = {"AVIAN_RATE_LIMIT_BURST_SIZE": "5", "AVIAN_RATE_LIMIT_STRICT_WINDOW": "1"}
    assert warnings_for(env, caplog) == [
        "rate_limit.burst_size: only applies to the token bucket, not sliding_window "
        "[environment variable AVIAN_RATE_LIMIT_BURST_SIZE]",
        "rate_limit.strict_window: only applies to the fixed window, not sliding_window "
        "[environment variable AVIAN_RATE_LIMIT_STRICT_WINDOW]",
    ]
    env = {"AVIAN_RATE_LIMIT_ALGORITHM": "token_bucket", "AVIAN_RATE_LIMIT_BURST_SIZE": "5"}
    assert warnings_for(env, caplog) == []


def test_other_warnings(caplog: pytest.LogCaptureFixture) -> None:
    env = {
        "AVIAN_SECURITY_HEADERS_ENABLED": "1",
        "AVIAN_SECURITY_HEADERS_REPORT_ONLY": "1",
        "AVIAN_HOSTS_WWW_REDIRECT": "1",
    }
    assert [m.split(":")[0] for m in warnings_for(env, caplog)] == [
        "security_headers.report_only",
        "hosts.www_redirect",
    ]


# --- errors -----------------------------------------------------------------------------------


def test_csrf_needs_sessions_or_double_submit() -> None:
    assert errors_for({"AVIAN_CSRF_ENABLED": "1"}) == {
        "csrf.enabled": "CSRF tokens are kept per session: enable sessions, or use double_submit"
    }
    load_settings(env={"AVIAN_CSRF_ENABLED": "1", "AVIAN_SESSIONS_ENABLED": "1"}, env_file=None)


def test_secrets_that_must_be_set() -> None:
    errors = errors_for({"AVIAN_SESSIONS_BACKEND": "cookie", "AVIAN_CSRF_DOUBLE_SUBMIT": "1"})
    assert sorted(errors) == ["csrf.secret", "sessions.secret_key"]
    errors = errors_for({"AVIAN_SESSIONS_BACKEND": "cookie", "AVIAN_SESSIONS_SECRET_KEY": "short"})
    assert "at least 16" in errors["sessions.secret_key"]


def test_cors_any_origin_with_credentials_is_an_error() -> None:
    errors = errors_for({"AVIAN_CORS_CREDENTIALS": "1"})
    assert errors == {
        "cors.credentials": "with origins '*' would let every site read responses made with "
        "the user's cookies: list the allowed origins"
    }
    errors = errors_for({"AVIAN_CORS_ORIGINS": "*,https://a.example"})
    assert errors["cors.origins"] == "CORS origins '*' can't be combined with other origins"
    errors = errors_for({"AVIAN_CORS_ORIGINS": "not an origin"})
    assert "is not an origin" in errors["cors.origins"]


def test_component_validation_reaches_every_block() -> None:
    errors = errors_for(
        {
            "AVIAN_SERVER_ROOT_PATH": "api/",
            "AVIAN_HTTP_ALLOWED_METHODS": "GET,P0ST",
            "AVIAN_DATABASE_SQL_URL": "app.db",
            "AVIAN_DATABASE_MONGO_URL": "http://x",
            "AVIAN_DATABASE_SQL_OPTIONS": '{"url": "x"}',
            "AVIAN_REDIS_URL": "localhost:6379",
            "AVIAN_OPENAPI_DOCS_URL": "docs",
            "AVIAN_HOSTS_ALLOWED": "bad host!",
            "AVIAN_SECURITY_HEADERS_XSS_PROTECTION": "2",
        }
    )
    assert sorted(errors) == [
        "database.mongo_url",
        "database.sql_options",
        "database.sql_url",
        "hosts.allowed",
        "http.allowed_methods",
        "openapi.docs_url",
        "redis.url",
        "security_headers.xss_protection",
        "server.root_path",
    ]
    assert errors["http.allowed_methods"] == "'P0ST' is not an HTTP method name"
    assert errors["database.sql_options"] == "may not set url: use the fields"


# --- user checks ------------------------------------------------------------------------------


class Billing(SettingsBlock, frozen=True, kw_only=True):
    currency: str = "EUR"
    max_refund: int = 100

    def check(self, checks: SettingsChecks) -> None:
        if len(self.currency) != 3:
            checks.error("currency", "must be a three-letter ISO code")
        if self.max_refund > 1000:
            checks.warn("max_refund", "is unusually high")


class AppSettings(Settings, frozen=True, kw_only=True):
    billing: Billing = Billing()

    def check(self, checks: SettingsChecks) -> None:
        super().check(checks)
        if self.billing.max_refund and not self.sessions.enabled:
            checks.error("billing.max_refund", "refunds need sessions")


def test_user_blocks_and_subclasses_report_through_the_same_checks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {"AVIAN_BILLING_CURRENCY": "euro", "AVIAN_BILLING_MAX_REFUND": "5000"}
    with caplog.at_level(logging.WARNING, "avian.config"), pytest.raises(SettingsError) as info:
        load_settings(AppSettings, env=env, env_file=None)
    assert [str(p) for p in info.value.problems] == [
        "billing.currency: must be a three-letter ISO code "
        "[environment variable AVIAN_BILLING_CURRENCY]",
        "billing.max_refund: refunds need sessions [environment variable AVIAN_BILLING_MAX_REFUND]",
    ]
    assert caplog.messages == [
        "billing.max_refund: is unusually high [environment variable AVIAN_BILLING_MAX_REFUND]"
    ]


def test_settings_made_in_code_are_validated_too() -> None:
    from avian.config import SessionSettings

    settings = Settings(sessions=SessionSettings(enabled=True, backend="cookie"))
    with pytest.raises(SettingsError, match=r"sessions\.secret_key: the cookie backend"):
        validate_settings(settings)
    wrong: Any = Settings(debug="yes")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match=r"debug: expected a boolean .* got 'yes' \[default\]"):
        validate_settings(wrong)
