"""``parse_duration``: the duration strings windows and TTLs accept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from avian import ConfigurationError
from avian.durations import DurationError, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("100ms", 0.1),
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("1m30s500ms", 90.5),
        ("2.5s", 2.5),
        (".5s", 0.5),
        ("30", 30.0),
        ("0.25", 0.25),
        ("  5m  ", 300.0),
        ("5M", 300.0),
        ("0s", 0.0),
    ],
)
def test_strings(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "seconds"), [(12, 12.0), (0.5, 0.5), (0, 0.0), (timedelta(minutes=2), 120.0)]
)
def test_numbers_and_timedeltas(value: float | timedelta, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "5x", "5 m", "-1s", "-5", "1.2.3s", "30m1h", "1m1m", "ms", "inf", "nan", "1e3s"],
)
def test_unreadable_strings(bad: str) -> None:
    with pytest.raises(DurationError, match="duration"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", [-1, -0.001, float("inf"), float("nan"), True, None, [1], b"5s"])
def test_bad_values(bad: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(bad)  # type: ignore[arg-type]


def test_the_error_is_both_a_configuration_and_a_value_error() -> None:
    with pytest.raises(ConfigurationError):
        parse_duration("soon")
    with pytest.raises(ValueError, match="largest first"):
        parse_duration("30s1m")
