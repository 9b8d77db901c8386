"""Optional LLM assistance: documentation for undocumented routes and readable error messages.

Nothing here loads or calls anything unless configured (an OpenAI-compatible endpoint via
``base_url``/``api_key``/``model`` or ``LLM_BASE_URL``/``LLM_API_KEY``/``LLM_MODEL``).
"""

from .config import LLMConfig

__all__ = ["LLMConfig"]
