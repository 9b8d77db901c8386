"""The document as bytes: compact JSON for the endpoint, indented JSON or YAML for files."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from .yaml_output import dump_yaml

__all__ = ["document_json", "document_text", "document_yaml"]


def document_json(document: dict[str, Any]) -> bytes:
    """Compact JSON, as served at ``/openapi.json``."""
    return msgspec.json.encode(document)


def document_yaml(document: dict[str, Any]) -> bytes:
    """YAML, as served at ``/openapi.yaml``."""
    return dump_yaml(document).encode("utf-8")


def document_text(document: dict[str, Any], fmt: str) -> str:
    """What ``avian docs export`` writes: indented JSON or YAML, ending with a newline."""
    if fmt == "yaml":
        return dump_yaml(document)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
