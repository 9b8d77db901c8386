"""``.env`` files (CFG-01): the syntax read, the syntax refused, and a missing file."""

from __future__ import annotations

from pathlib import Path

import pytest

from avian.config import SettingsError, load_settings, read_env_file
from avian.config.dotenv import MAX_ENV_FILE_SIZE, parse_env_text


def values(text: str) -> dict[str, str]:
    found, problems = parse_env_text(text)
    assert problems == []
    return {name: item.value for name, item in found.items()}


def test_plain_lines_comments_and_blank_lines() -> None:
    text = "# settings\n\nA=1\n   # indented comment\nB = two words  \nC=\n"
    assert values(text) == {"A": "1", "B": "two words", "C": ""}


def test_export_prefix_is_accepted() -> None:
    assert values("export A=1\nexport\tB=2\n") == {"A": "1", "B": "2"}


def test_a_variable_called_export_is_still_a_variable() -> None:
    assert values("export=1\n") == {"export": "1"}


def test_inline_comments_need_whitespace_before_the_hash() -> None:
    assert values("A=x # comment\nB=x#not-a-comment\nC=#value\n") == {
        "A": "x",
        "B": "x#not-a-comment",
        "C": "#value",
    }


def test_single_quotes_are_literal() -> None:
    assert values("A='a \\n b # c'\n") == {"A": "a \\n b # c"}


def test_double_quotes_understand_escapes() -> None:
    text = 'A="line\\nnext\\ttab \\"quoted\\" back\\\\slash \\$HOME \\q"\n'
    assert values(text) == {"A": 'line\nnext\ttab "quoted" back\\slash $HOME \\q'}


def test_quoted_values_keep_spaces_and_hashes_and_may_be_followed_by_a_comment() -> None:
    assert values("A=\"  a # b  \"  # comment\nB='x'\n") == {"A": "  a # b  ", "B": "x"}


def test_quoted_values_may_span_lines() -> None:
    text = 'KEY="-----BEGIN-----\nabc\n-----END-----"\nAFTER=1\n'
    found, problems = parse_env_text(text)
    assert problems == []
    assert found["KEY"].value == "-----BEGIN-----\nabc\n-----END-----"
    assert found["KEY"].line == 1
    assert found["AFTER"].line == 4


def test_windows_line_endings_and_a_missing_final_newline() -> None:
    assert values("A=1\r\nB=2") == {"A": "1", "B": "2"}


def test_the_last_line_for_a_name_wins() -> None:
    assert values("A=1\nA=2\n") == {"A": "2"}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("A=1\nnot a pair\n", "expected NAME=value", 2),
        ("1A=2\n", "expected NAME=value", 1),
        ("A\n", "expected NAME=value", 1),
        ("A=1\nB='open\n", "single quote is never closed", 2),
        ('B="open\n', "double quote is never closed", 1),
        ("A='x' trailing\n", "unexpected text after the closing quote", 1),
    ],
)
def test_malformed_lines_are_reported_with_their_line(text: str, message: str, line: int) -> None:
    _, problems = parse_env_text(text, "app.env")
    assert [(p.message, p.source) for p in problems] == [(message, f"app.env line {line}")]


def test_read_env_file_returns_nothing_for_a_missing_file(tmp_path: Path) -> None:
    assert read_env_file(tmp_path / "absent.env") == {}


def test_read_env_file_strips_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes("\ufeffAVIAN_DEBUG=1\n".encode())
    assert read_env_file(path)["AVIAN_DEBUG"].value == "1"


def test_read_env_file_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is not a file"):
        read_env_file(tmp_path)


def test_read_env_file_refuses_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=\xff\xfe\n")
    with pytest.raises(SettingsError, match="not UTF-8"):
        read_env_file(path)


def test_read_env_file_size_limit_on_both_sides(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    line = b"A=" + b"x" * 98 + b"\n"
    path.write_bytes(
        line * (MAX_ENV_FILE_SIZE // len(line)) + b"#" * (MAX_ENV_FILE_SIZE % len(line))
    )
    assert path.stat().st_size == MAX_ENV_FILE_SIZE
    assert read_env_file(path)["A"].value == "x" * 98
    path.write_bytes(path.read_bytes() + b"#")
    with pytest.raises(SettingsError, match="larger than"):
        read_env_file(path)


def test_read_env_file_lists_every_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("oops\nA=1\nalso wrong\n")
    with pytest.raises(SettingsError) as info:
        read_env_file(path)
    assert [p.source for p in info.value.problems] == [f"{path} line 1", f"{path} line 3"]


def test_load_settings_reads_the_env_file_and_reports_its_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text('# comment\nexport AVIAN_SERVER_PORT="8123"\nAVIAN_DEBUG=on # dev only\n')
    settings = load_settings(env={}, env_file=path)
    assert settings.server.port == 8123
    assert settings.debug is True
    path.write_text("AVIAN_DEBUG=1\nAVIAN_SERVER_PORT=eighty\n")
    with pytest.raises(SettingsError) as info:
        load_settings(env={}, env_file=path)
    (problem,) = info.value.problems
    assert problem.path == "server.port"
    assert problem.source == f"{path} line 2 (AVIAN_SERVER_PORT)"


def test_load_settings_without_an_env_file_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default ".env" does not exist here
    assert load_settings(env={}).server.port is None


def test_a_syntax_error_in_the_env_file_is_listed_with_other_problems(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("broken line\n")
    with pytest.raises(SettingsError) as info:
        load_settings(env={"AVIAN_SERVER_WORKERS": "zero"}, env_file=path)
    messages = sorted(str(p) for p in info.value.problems)
    assert len(messages) == 2
    assert any("expected NAME=value" in m and "line 1" in m for m in messages)
    assert any(m.startswith("server.workers: expected an integer") for m in messages)
