"""Filling the gaps of an OpenAPI document with an LLM (te.js's enhancement levels).

Level 1 shows the model each undocumented handler's source; level 2 adds the source of the
application functions it calls; level 3 also asks for the tags ordered by importance and an
``API_OVERVIEW.md``.  Only what explicit metadata (route options, docstrings) left empty is
filled, and answers are cached by the hash of everything shown, so an unchanged handler is
never sent twice.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import ConfigurationError
from ..openapi.document import compiled_routes, openapi_path
from .cache import AnswerCache, answer_key
from .client import LLMError, complete_json
from .config import LLMConfig
from .source import called_sources, handler_source

if TYPE_CHECKING:
    from ..app import App

__all__ = ["DEFAULT_CACHE_PATH", "DocsEnhancement", "enhance_openapi"]

DEFAULT_CACHE_PATH = ".avian/llm-docs-cache.json"
HTTP_VERBS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_OPERATION_PROMPT = (
    "You write OpenAPI documentation for one HTTP endpoint from its Python source. "
    'Answer with a JSON object {"summary": "...", "description": "..."}: the summary is one '
    "short imperative phrase (at most 80 characters, no trailing period); the description "
    "is one to three sentences of Markdown saying what the endpoint does, its inputs, and "
    "its outcomes (including error statuses the code can produce). Describe only what the "
    "code shows."
)
_OVERVIEW_PROMPT = (
    "You organise the documentation of an HTTP API. Given its tags and the summaries of "
    'their operations, answer with a JSON object {"tag_order": [...], "tag_descriptions": '
    '{"tag": "one sentence"}, "overview": "..."}: tag_order lists every given tag, most '
    "important first; overview is a Markdown page (a title, what the API is for, then a "
    "section per tag) for API_OVERVIEW.md."
)


@dataclass
class DocsEnhancement:
    """The enhanced document and what it cost."""

    document: dict[str, Any]
    overview: str | None
    """The ``API_OVERVIEW.md`` text (level 3)."""
    asked: int
    """Questions sent to the endpoint."""
    cached: int
    """Questions answered from the cache."""
    failed: list[str]
    """Operations left as they were because the endpoint failed (``"GET /x: reason"``)."""


def _operations(app: App) -> list[tuple[str, str, Callable[..., Any], dict[str, Any]]]:
    """``(method, path, handler, route options)`` for every HTTP route, spelled as the
    document spells them (operations missing from it are skipped by the caller)."""
    app._freeze()
    found = []
    for route, definition in compiled_routes(app):
        path = openapi_path(route)
        methods = definition.methods or tuple(v.upper() for v in HTTP_VERBS)
        for method in methods:
            found.append((method.lower(), path, definition.handler, definition.options))
    return found


def _operation_question(
    method: str, path: str, handler: Callable[..., Any], level: int
) -> str | None:
    source = handler_source(handler)
    if not source:
        return None
    parts = [f"Endpoint: {method.upper()} {path}", "Handler source:", source]
    if level >= 2:
        for name, related in called_sources(handler):
            parts += [f"Source of {name} (called by the handler):", related]
    return "\n\n".join(parts)


async def enhance_openapi(
    app: App,
    document: dict[str, Any],
    *,
    level: int = 1,
    config: LLMConfig | None = None,
    cache_path: str | os.PathLike[str] | None = DEFAULT_CACHE_PATH,
    offline: bool = False,
) -> DocsEnhancement:
    """A copy of ``document`` with empty summaries/descriptions written by the LLM.

    Without a configured endpoint, or with ``offline=True`` (CI), nothing is called: only
    answers already in the cache are applied, so a committed cache gives the same document
    everywhere.  At level 3 the result also carries the ``API_OVERVIEW.md`` text (the caller writes it).
    """
    if level not in (1, 2, 3):
        raise ConfigurationError(f"LLM docs level must be 1, 2 or 3, got {level!r}")
    config = config or LLMConfig.resolve()
    result = copy.deepcopy(document)
    outcome = DocsEnhancement(result, None, 0, 0, [])
    offline = offline or not config.configured
    cache = AnswerCache(cache_path)
    if offline and not cache.loaded:
        return outcome
    cache.offline = offline
    paths: dict[str, Any] = result.get("paths", {})
    for method, path, handler, options in _operations(app):
        operation = paths.get(path, {}).get(method)
        if not isinstance(operation, dict):
            continue  # not in the schema (include_in_schema=False, docs routes...)
        # Explicit = route options or the docstring; a summary the generator derived from
        # the handler's name ("Get user") is only a placeholder the LLM may replace.
        doc_summary, doc_description = _docstring_parts(handler)
        explicit_summary = options.get("summary") or doc_summary
        explicit_description = options.get("description") or doc_description
        if explicit_summary and explicit_description:
            continue
        question = _operation_question(method, path, handler, level)
        if question is None:
            continue
        answer = await _ask(config, cache, outcome, _OPERATION_PROMPT, question, level)
        if answer is None:
            outcome.failed.append(f"{method.upper()} {path}")
            continue
        summary, description = answer.get("summary"), answer.get("description")
        if not explicit_summary and isinstance(summary, str) and summary.strip():
            operation["summary"] = summary.strip()[:120]
        if not explicit_description and isinstance(description, str) and description.strip():
            operation["description"] = description.strip()
    if level == 3:
        outcome.overview = await _organise(config, cache, outcome, result)
    if not offline:
        cache.save()
    return outcome


def _docstring_parts(handler: Callable[..., Any]) -> tuple[str, str]:
    """``(first line, rest)`` of the handler's docstring, empty strings when absent."""
    doc = inspect.getdoc(handler) or ""
    first, _, rest = doc.strip().partition("\n")
    return first.strip(), rest.strip()


async def _ask(
    config: LLMConfig,
    cache: AnswerCache,
    outcome: DocsEnhancement,
    system: str,
    question: str,
    level: int,
) -> dict[str, Any] | None:
    key = answer_key(config.model, str(level), system, question)
    cached = cache.get(key)
    if isinstance(cached, dict):
        outcome.cached += 1
        return cached
    if cache.offline:
        return None
    outcome.asked += 1
    try:
        answer = await complete_json(config, system, question)
    except LLMError:
        return None
    cache.put(key, answer)
    return answer


async def _organise(
    config: LLMConfig, cache: AnswerCache, outcome: DocsEnhancement, document: dict[str, Any]
) -> str | None:
    """Level 3: order the tags by importance and write the overview."""
    by_tag: dict[str, list[str]] = {}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_VERBS or not isinstance(operation, dict):
                continue
            line = f"{method.upper()} {path}: {operation.get('summary', '')}"
            for tag in operation.get("tags") or ["default"]:
                by_tag.setdefault(tag, []).append(line)
    if not by_tag:
        return None
    info = document.get("info", {})
    question = msgspec.json.encode(
        {"title": info.get("title"), "description": info.get("description"), "tags": by_tag}
    ).decode()
    answer = await _ask(config, cache, outcome, _OVERVIEW_PROMPT, question, 3)
    if answer is None:
        outcome.failed.append("overview")
        return None
    existing = {t["name"]: t for t in document.get("tags", []) if isinstance(t, dict)}
    order = [t for t in answer.get("tag_order", []) if isinstance(t, str) and t in by_tag]
    order += [t for t in sorted(by_tag) if t not in order]  # never drop a tag
    descriptions = answer.get("tag_descriptions")
    tags = []
    for name in order:
        entry = dict(existing.get(name, {"name": name}))
        text = descriptions.get(name) if isinstance(descriptions, dict) else None
        if not entry.get("description") and isinstance(text, str) and text.strip():
            entry["description"] = text.strip()
        tags.append(entry)
    tags += [t for n, t in existing.items() if n not in by_tag]
    document["tags"] = tags
    overview = answer.get("overview")
    return overview if isinstance(overview, str) and overview.strip() else None
