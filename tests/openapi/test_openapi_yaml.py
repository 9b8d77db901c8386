"""The YAML form of the document: PyYAML when installed, the built-in emitter otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from tests.openapi.apps import sample

from avian.openapi import build_openapi
from avian.openapi.yaml_output import dump_yaml, emit_yaml

TRICKY: dict[str, Any] = {
    "plain": "word",
    "reserved": ["true", "False", "null", "yes", "No", "on", "off", "y", "n", "~", "NaN", ".inf"],
    "numbers as text": ["1", "0x1F", "1e3", "-2", "012", "1_000", ".5"],
    "numbers": [0, -7, 3.25, 1e300, -2.5e-7, True, False, None],
    "punctuation": ["- item", "a: b", "#hash", "x #y", "@at", "`tick`", "*star", "&amp", "!bang"],
    "paths": {"/users/{id}": {"get": {}}, "200": "ok", "4XX": "client"},
    "spacing": [" lead", "trail ", "", "two\nlines", "tab\there", 'quote " and \\ slash'],
    "unicode": [
        "héllo",
        "日本",
        "emoji \U0001f600",
        "bom \ufeff",
        "nel \x85",
        "bell \x07",
        "c1 \x9b",
        "ls \u2028 ps \u2029",
    ],
    "empty": {"dict": {}, "list": []},
    "nested": [[1, [2, [3]]], [{"a": [{"b": {}}]}], {"k": [[], {}]}],
}


@pytest.mark.parametrize("emit", [emit_yaml, dump_yaml])
def test_yaml_parses_back_to_the_same_data(emit: Any) -> None:
    assert yaml.safe_load(emit(TRICKY)) == TRICKY


def test_the_built_in_emitter_writes_block_yaml() -> None:
    text = emit_yaml({"openapi": "3.1.0", "paths": {"/a": {"get": {"tags": ["a", "b"]}}}})
    assert text == (
        'openapi: "3.1.0"\npaths:\n  "/a":\n    get:\n      tags:\n      - a\n      - b\n'
    )
    assert emit_yaml([]) == "[]\n"
    assert emit_yaml("one") == "one\n"


def test_the_sample_document_round_trips_through_both_emitters() -> None:
    document = build_openapi(sample.app)
    expected = json.loads(json.dumps(document))
    assert yaml.safe_load(emit_yaml(document)) == expected
    assert yaml.safe_load(dump_yaml(document)) == expected
