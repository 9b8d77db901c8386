"""Typed API clients generated from an OpenAPI document: Python (httpx) and TypeScript (fetch).

``avian client generate module:app --lang python --out client.py`` is the usual way in;
:func:`generate_client` does the same from code.  Nothing here is imported by ``avian``
itself, and the generated clients do not depend on avian.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .openapi_reader import InvalidSpec, read_openapi
from .python_generator import generate_python_client
from .typescript_generator import generate_typescript_client

__all__ = [
    "LANGUAGES",
    "InvalidSpec",
    "Language",
    "generate_client",
    "generate_python_client",
    "generate_typescript_client",
    "read_openapi",
]

Language = Literal["python", "typescript"]
LANGUAGES: dict[str, Language] = {
    "python": "python",
    "py": "python",
    "typescript": "typescript",
    "ts": "typescript",
}
"""Accepted spellings of each target language."""


def generate_client(document: Mapping[str, Any], language: str) -> str:
    """The source of a client for ``document`` in ``language`` (``python``/``typescript``)."""
    target = LANGUAGES.get(language.lower())
    if target == "python":
        return generate_python_client(document)
    if target == "typescript":
        return generate_typescript_client(document)
    raise ValueError(f"unknown client language {language!r}; use 'python' or 'typescript'")
