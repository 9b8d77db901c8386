"""Text and Python values converted to each field type, valid and invalid (CFG-01)."""

from __future__ import annotations

import enum
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import pytest

from avian.config import (
    ByteSize,
    ConversionError,
    Seconds,
    Secret,
    SettingsBlock,
    SettingsError,
    convert,
    describe,
    load_settings,
    parse_size,
)
from avian.errors import ConfigurationError


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(msgspec.Struct):
    x: int
    y: int = 0


class Typed(SettingsBlock, frozen=True, kw_only=True):
    flag: bool = False
    count: int = 0
    ratio: float = 0.0
    name: str = ""
    size: ByteSize = 0
    timeout: Seconds = 1.0
    names: tuple[str, ...] = ()
    numbers: list[int] = []
    tags: frozenset[str] = frozenset()
    labels: dict[str, int] = {}
    maybe: int | None = None
    maybe_text: str | None = "x"
    mode: Literal["fast", "slow"] = "fast"
    colour: Colour = Colour.RED
    path: Path = Path(".")
    token: Secret | None = None
    point: Point | None = None
    pair: tuple[int, str] = (0, "")
    percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 50
    short: Annotated[str, msgspec.Meta(min_length=2, max_length=4, pattern="^[a-z]+$")] = "ab"


def load(name: str, text: str) -> Any:
    return getattr(load_settings(Typed, env={f"AVIAN_{name.upper()}": text}, env_file=None), name)


def problem(name: str, text: str) -> str:
    with pytest.raises(SettingsError) as info:
        load_settings(Typed, env={f"AVIAN_{name.upper()}": text}, env_file=None)
    (found,) = info.value.problems
    assert found.path == name
    assert found.source == f"environment variable AVIAN_{name.upper()}"
    return found.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("Yes", True), (" ON ", True),
     ("0", False), ("false", False), ("NO", False), ("off", False)],
)  # fmt: skip
def test_booleans(text: str, expected: bool) -> None:
    assert load("flag", text) is expected


@pytest.mark.parametrize("text", ["2", "y", "enabled", ""])
def test_booleans_refuse_other_words(text: str) -> None:
    assert problem("flag", text).startswith("expected a boolean (1/true/yes/on or 0/false/no/off)")


@pytest.mark.parametrize(
    ("text", "expected"), [("42", 42), (" -7 ", -7), ("1_000", 1000), ("0o17", 15), ("0x1F", 31)]
)
def test_integers(text: str, expected: int) -> None:
    assert load("count", text) == expected


@pytest.mark.parametrize("text", ["4.5", "ten", "", "1e3"])
def test_integers_refuse_other_text(text: str) -> None:
    assert problem("count", text) == f"expected an integer, got {text!r}"


@pytest.mark.parametrize(("text", "expected"), [("0.25", 0.25), ("3", 3.0), ("-1e-3", -0.001)])
def test_floats(text: str, expected: float) -> None:
    assert load("ratio", text) == expected


@pytest.mark.parametrize("text", ["nan", "inf", "half", ""])
def test_floats_refuse_non_finite_and_other_text(text: str) -> None:
    assert problem("ratio", text).startswith("expected a number")


def test_strings_are_taken_as_written() -> None:
    assert load("name", "  spaced  ") == "  spaced  "


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1048576", 1048576), ("512KiB", 524288), ("10MB", 10_000_000), ("10 mib", 10485760),
     ("1.5GiB", 1610612736), ("2kb", 2000), ("7B", 7), ("1TiB", 1024**4), ("0", 0)],
)  # fmt: skip
def test_sizes(text: str, expected: int) -> None:
    assert load("size", text) == expected
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["10M", "-1KB", "1.5B", "ten MB", "MB", "1e3", ""])
def test_sizes_refuse_other_text(text: str) -> None:
    assert problem("size", text).startswith("expected a size (bytes, or e.g. '512KiB', '10MB')")
    with pytest.raises(ConfigurationError):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30", 30.0), ("2.5", 2.5), ("100ms", 0.1), ("30s", 30.0), ("5m", 300.0), ("2h", 7200.0),
     ("1d", 86400.0), ("1h30m", 5400.0)],
)  # fmt: skip
def test_durations(text: str, expected: float) -> None:
    assert load("timeout", text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["5 minutes", "-1s", "30x", "m5", ""])
def test_durations_refuse_other_text(text: str) -> None:
    assert problem("timeout", text).startswith("expected a duration (seconds, or e.g.")


def test_lists_comma_separated_or_json() -> None:
    assert load("names", "a, b ,,c,") == ("a", "b", "c")
    assert load("names", '["a,b", "c"]') == ("a,b", "c")
    assert load("names", "") == ()
    assert load("numbers", "1,2, 3") == [1, 2, 3]
    assert load("numbers", "[4, 5]") == [4, 5]
    assert load("tags", "x,y,x") == frozenset({"x", "y"})


def test_lists_report_the_item_that_is_wrong() -> None:
    message = problem("numbers", "1,two,3")
    assert message.startswith("expected a list (comma-separated or a JSON array) whose items")
    assert message.endswith("(item 2: expected an integer)")
    assert "not valid JSON" in problem("numbers", "[1, 2")
    assert "item 1: expected an integer" in problem("numbers", '[{"a": 1}]')


def test_fixed_length_tuples() -> None:
    assert load("pair", "3,x") == (3, "x")
    assert "3 items instead of 2" in problem("pair", "1,2,3")


def test_mappings_are_json_objects() -> None:
    assert load("labels", '{"a": 1, "b": "2"}') == {"a": 1, "b": 2}
    assert problem("labels", "a=1").startswith("expected a JSON object whose values are each")
    assert "at 'b': expected an integer" in problem("labels", '{"b": "x"}')
    assert "not valid JSON" in problem("labels", "{oops}")


def test_optional_fields_read_empty_text_as_none() -> None:
    assert load("maybe", "5") == 5
    assert load("maybe", "") is None
    assert load("maybe", "none") is None
    assert load("maybe", "NULL") is None
    assert problem("maybe", "five") == "expected an integer, or empty for none, got 'five'"
    # For optional text, only empty text is "none": the words are ordinary strings.
    assert load("maybe_text", "") is None
    assert load("maybe_text", "none") == "none"


def test_literals_match_case_insensitively_and_give_the_declared_spelling() -> None:
    assert load("mode", "SLOW") == "slow"
    assert problem("mode", "medium") == "expected one of 'fast', 'slow', got 'medium'"


def test_enums_by_value_or_name() -> None:
    assert load("colour", "blue") is Colour.BLUE
    assert load("colour", "RED") is Colour.RED
    assert problem("colour", "green") == "expected one of 'red', 'blue', got 'green'"


def test_paths() -> None:
    assert load("path", "/srv/app") == Path("/srv/app")
    assert problem("path", "") == "expected a file system path, got ''"


def test_secrets_are_wrapped_and_never_shown() -> None:
    token = load("token", "hunter2-hunter2")
    assert isinstance(token, Secret)
    assert token.reveal() == "hunter2-hunter2"
    assert "hunter2" not in repr(token)
    assert "hunter2" not in str(token)


def test_nested_records_from_json() -> None:
    assert load("point", '{"x": 1}') == Point(x=1, y=0)
    assert "unknown field 'z'" in problem("point", '{"x": 1, "z": 2}')
    assert "x: expected an integer" in problem("point", '{"x": "one"}')
    assert "Missing required argument 'x'" in problem("point", '{"y": 1}')


def test_constraints_are_checked_and_described() -> None:
    assert load("percent", "100") == 100
    assert problem("percent", "101") == "expected an integer >= 0 and <= 100, got '101'"
    assert load("short", "abcd") == "abcd"
    for bad in ("a", "abcde", "AB"):
        assert problem("short", bad).startswith("expected a string at least 2 long and at most 4")


def test_python_values_are_checked_not_parsed_for_code_defaults() -> None:
    assert convert(5, int, parse_text=False) == 5
    with pytest.raises(ConversionError):
        convert("5", int, parse_text=False)
    with pytest.raises(ConversionError):
        convert(True, int)
    with pytest.raises(ConversionError):
        convert("abc", Secret, parse_text=False)
    assert convert(timedelta(minutes=2), Seconds) == 120.0
    assert convert(2, Seconds) == 2.0
    with pytest.raises(ConversionError):
        convert(True, Seconds)
    with pytest.raises(ConversionError):
        convert(1.5, ByteSize)
    assert convert((1, "2"), tuple[int, ...]) == (1, 2)
    with pytest.raises(ConversionError):
        convert(object(), tuple[int, ...])
    assert convert({"x": 3}, Point) == Point(x=3)


def test_unknown_types_go_through_msgspec() -> None:
    assert convert("2024-02-29", date) == date(2024, 2, 29)
    assert convert('["2024-02-29"]', list[date]) == [date(2024, 2, 29)]
    with pytest.raises(ConversionError) as info:
        convert("2023-02-29", date)
    assert info.value.expected == "a value of type date"


def test_describe_names_every_kind_of_type() -> None:
    assert describe(bool).startswith("a boolean")
    assert describe(int | None) == "an integer, or empty for none"
    assert describe(Literal["a", "b"]) == "one of 'a', 'b'"
    assert describe(dict[str, int]) == "a JSON object whose values are each an integer"
    assert describe(Point) == "a JSON object with the fields of Point"
    assert describe(Any) == "any value"
    assert describe(tuple[int, str]) == "a list of 2 items: an integer, a string"
