"""Where the OpenAI-compatible endpoint is, resolved from arguments then the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MODEL", "LLMConfig"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible chat completions endpoint.

    ``base_url`` ends before ``/chat/completions`` (``http://127.0.0.1:8080/v1``).  A config
    is *configured* once it has an API key or an explicit base URL (local servers often need
    no key); unconfigured, the LLM features do nothing and call nothing.
    """

    base_url: str | None = None
    api_key: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float = 30.0
    """Seconds for one completion; a slow endpoint never blocks longer than this."""
    max_tokens: int = 800

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise ConfigurationError(f"LLM timeout must be positive, got {self.timeout!r}")
        if self.max_tokens < 1:
            raise ConfigurationError(f"LLM max_tokens must be >= 1, got {self.max_tokens!r}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError(f"LLM base_url must be an http(s) URL: {self.base_url!r}")

    @classmethod
    def resolve(
        cls,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        model: str | None = None,
        timeout: float | None = None,
        max_tokens: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> LLMConfig:
        """Arguments first, then ``LLM_BASE_URL``, ``LLM_API_KEY`` (or ``OPENAI_API_KEY``) and
        ``LLM_MODEL``."""
        env = os.environ if env is None else env
        return cls(
            base_url=base_url or env.get("LLM_BASE_URL") or None,
            api_key=api_key or env.get("LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            model=model or env.get("LLM_MODEL") or DEFAULT_MODEL,
            timeout=30.0 if timeout is None else timeout,
            max_tokens=800 if max_tokens is None else max_tokens,
        )

    @property
    def configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def endpoint(self) -> str:
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"

    def __repr__(self) -> str:  # never print the key
        key = "***" if self.api_key else None
        return f"LLMConfig(base_url={self.base_url!r}, api_key={key!r}, model={self.model!r})"
