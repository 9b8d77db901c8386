"""A minimal async client for OpenAI-compatible chat completions that answer in JSON."""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import AvianError, ConfigurationError
from .config import LLMConfig

__all__ = ["LLMError", "complete_json"]


class LLMError(AvianError):
    """The endpoint failed, timed out, or answered something that is not the JSON asked for."""


async def complete_json(config: LLMConfig, system: str, user: str) -> dict[str, Any]:
    """Ask one question; the answer must be a JSON object (``response_format`` asks for it,
    and a fenced or surrounded object is still accepted)."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is in the llm extra
        raise ConfigurationError("LLM features need httpx: pip install 'avian[llm]'") from None
    headers = {"content-type": "application/json"}
    if config.api_key:
        headers["authorization"] = f"Bearer {config.api_key}"
    payload = {
        "model": config.model,
        "temperature": 0,
        "max_tokens": config.max_tokens,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ],
    }
    try:
        async with httpx.AsyncClient(timeout=config.timeout) as client:
            response = await client.post(config.endpoint, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise LLMError(f"LLM request failed: {exc.__class__.__name__}: {exc}") from None
    if response.status_code != 200:
        raise LLMError(f"LLM endpoint answered {response.status_code}")
    try:
        body = msgspec.json.decode(response.content)
        content = body["choices"][0]["message"]["content"]
    except (msgspec.DecodeError, KeyError, IndexError, TypeError):
        raise LLMError("LLM endpoint answered something that is not a chat completion") from None
    return parse_json_object(content)


def parse_json_object(content: Any) -> dict[str, Any]:
    """The JSON object in a model's answer (models sometimes wrap it in prose or fences)."""
    if not isinstance(content, str):
        raise LLMError("LLM answer has no text content")
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end < start:
        raise LLMError("LLM answer contains no JSON object")
    try:
        value = msgspec.json.decode(content[start : end + 1])
    except msgspec.DecodeError:
        raise LLMError("LLM answer is not valid JSON") from None
    if not isinstance(value, dict):
        raise LLMError("LLM answer is not a JSON object")
    return value
