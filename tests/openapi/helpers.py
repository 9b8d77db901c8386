"""Shared helpers of the OpenAPI tests."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from avian import App
from avian.openapi import build_openapi


def document(app: App) -> dict[str, Any]:
    """The app's document, checked against the OpenAPI 3.1 schema."""
    doc = build_openapi(app)
    validate(doc)
    return doc


def operation(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][path][method.lower()]
    return found


def component(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[1]
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found
