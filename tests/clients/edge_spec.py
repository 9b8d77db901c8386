"""An OpenAPI document full of awkward cases: names that clash with keywords and with the
client's own names, recursive models, unions msgspec cannot decode as written, odd enums,
tuples, documentation text that could break a comment, and operations without ids."""

from __future__ import annotations

from typing import Any

PROBLEM_REF = {"$ref": "#/components/schemas/ValidationError"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "OK", **_json(schema)}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


EDGE_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Edge */ API", "version": "0.0.1", "description": 'Text with """ and \\.'},
    "paths": {
        "/things/{thing-id}": {
            "get": {
                "tags": ["Admin Tools"],
                "parameters": [
                    {
                        "name": "thing-id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    {"name": "headers", "in": "query", "schema": {"type": "string"}},
                    {"name": "timeout", "in": "query", "schema": {"type": "integer"}},
                    {"name": "body", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "self", "in": "query", "schema": {"type": "string"}},
                    {"name": "Accept-Language", "in": "header", "schema": {"type": "string"}},
                    {
                        "name": "when",
                        "in": "query",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                ],
                "responses": {
                    "200": {"description": "OK", **_json(_ref("Client"))},
                    "204": {"description": "Nothing"},
                },
            },
            "put": {
                "operationId": "import",
                "description": 'Ends a comment */ and a docstring """ and has a \\ in it.',
                "parameters": [
                    {
                        "name": "thing-id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "requestBody": {"required": False, **_json(_ref("Tree"))},
                "responses": {
                    "201": {"description": "Made", **_json(_ref("Tree"))},
                    "202": {"description": "Queued", **_json(_ref("Shape"))},
                },
            },
        },
        "/class": {
            "post": {
                "operationId": "class_create",
                "tags": ["class"],
                "requestBody": {"required": True, **_json(_ref("Mixed"))},
                "responses": {
                    **_ok(_ref("Json")),
                    "422": {"description": "Invalid", **_json(PROBLEM_REF)},
                },
            },
            "get": {
                "operationId": "class_list",
                "tags": ["class"],
                "parameters": [
                    {"name": "level", "in": "query", "schema": _ref("Level")},
                    {"name": "ratio", "in": "query", "schema": _ref("Ratio")},
                    {
                        "name": "ids",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "integer"}},
                    },
                ],
                "responses": _ok({"type": "array", "items": _ref("Pair")}),
            },
        },
        "/search": {
            "get": {
                "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "page-size", "in": "query", "schema": {"type": "integer"}},
                ],
                "responses": _ok({"type": "array", "items": {"type": "string"}}),
            }
        },
        "/close": {
            "delete": {
                "operationId": "close",
                "responses": _ok(_ref("Bag")),
            }
        },
    },
    "components": {
        "schemas": {
            "Client": {
                "type": "object",
                "properties": {
                    "class": {"type": "string"},
                    "from": {"type": "integer"},
                    "first-name": {"type": "string", "description": "Ends a comment */ here."},
                    "datetime": {"type": "string", "format": "date-time"},
                    "self": {"type": "boolean"},
                    "Tree": {"type": "integer"},
                    "flag": _ref("Flag"),
                    "weird": _ref("weird.name-1"),
                },
                "required": ["class", "from"],
            },
            "Tree": {
                "type": "object",
                "description": 'A node: """quoted""" and a backslash \\',
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "array", "items": _ref("Tree")},
                },
                "required": ["value"],
            },
            "Json": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "number"},
                    {"type": "boolean"},
                    {"type": "null"},
                    {"type": "array", "items": _ref("Json")},
                    {"type": "object", "additionalProperties": _ref("Json")},
                ]
            },
            "Square": {
                "type": "object",
                "properties": {"side": {"type": "number"}},
                "required": ["side"],
            },
            "Circle": {
                "type": "object",
                "properties": {"radius": {"type": "number"}},
                "required": ["radius"],
            },
            "Shape": {"oneOf": [_ref("Square"), _ref("Circle")]},
            "Mixed": {
                "anyOf": [
                    {"type": "string", "format": "date-time"},
                    {"type": "string", "format": "uuid"},
                    {"type": "integer"},
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "array", "items": {"type": "integer"}},
                ]
            },
            "Level": {"type": "integer", "enum": [1, 2, 3]},
            "Ratio": {"type": "number", "enum": [0.5, 1.5]},
            "Flag": {"const": True},
            "Pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "Bag": {"type": "object", "additionalProperties": {"type": "integer"}},
            "weird.name-1": {"type": "string", "enum": ["a b", 'c"d', "e'f"]},
            "ValidationError": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
            },
            "WithExtra": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
                "required": ["id"],
                "additionalProperties": {"type": "string"},
            },
        }
    },
}
