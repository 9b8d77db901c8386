"""Readable messages for unhandled errors, inferred by an LLM from the failing code (ERR-04).

Off unless enabled with ``app.with_llm_errors(...)``.  When an error reaches the client
without an explicit message, the model is shown the exception and the application frames
around it and asked for a status and a message in the configured tone (``end_user``:
plain words, no internals; ``developer``: what broke and where).  An explicit status or
message always wins, a failing or slow endpoint falls back to the default answer, and
outside production a ``_dev`` insight (bug or environment, suggested fix) is added.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigurationError, HTTPError
from .client import LLMError, complete_json
from .config import LLMConfig
from .source import error_context

if TYPE_CHECKING:
    from ..context import Context

__all__ = ["LLMErrorMessages", "MessageType"]

MessageType = Literal["end_user", "developer"]

_TONES: dict[str, str] = {
    "end_user": (
        "The message is shown to the end user of the application: plain, polite words "
        "saying what went wrong and what they can do; never mention code, files, "
        "exceptions, servers or internals."
    ),
    "developer": (
        "The message is shown to a developer: say precisely what failed and where "
        "(function, line), in one or two sentences."
    ),
}
_SYSTEM = (
    "You explain an error raised while serving an HTTP request. "
    'Answer with a JSON object {"status": <HTTP status 400-599>, "message": "...", '
    '"kind": "bug" or "environment", "fix": "one sentence"}. The status is the most '
    "fitting HTTP status for the client (500 when the server is at fault). "
)
_MEMO_SIZE = 256


def _is_production(env: dict[str, str] | os._Environ[str]) -> bool:
    value = env.get("AVIAN_ENV") or env.get("ENV") or ""
    return value.lower() in ("prod", "production")


class LLMErrorMessages:
    """Infers the status and message of errors that have none of their own."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        message_type: MessageType = "end_user",
        production: bool | None = None,
    ) -> None:
        if message_type not in _TONES:
            raise ConfigurationError(
                f"message_type must be 'end_user' or 'developer', got {message_type!r}"
            )
        self.config = config
        self.message_type: MessageType = message_type
        self.production = _is_production(os.environ) if production is None else production
        self._memo: OrderedDict[str, dict[str, Any]] = OrderedDict()
        """Answers by error site, so a recurring failure costs one call."""

    @staticmethod
    def applies(exc: Exception) -> bool:
        """True when nothing explicit was said: a plain exception, or a 5xx ``HTTPError``
        carrying only its default message."""
        if isinstance(exc, HTTPError):
            return exc.status >= 500 and exc.detail == exc.title and exc.details is None
        return True

    async def infer(self, exc: Exception, ctx: Context | None) -> HTTPError | None:
        """The error to answer with, or ``None`` to keep the default one."""
        if not self.config.configured or not self.applies(exc):
            return None
        context = error_context(exc)
        where = f"{ctx.scope.get('method', '')} {ctx.scope.get('path', '')}" if ctx else ""
        question = (
            f"Request: {where}\nException: {type(exc).__module__}.{type(exc).__qualname__}: "
            f"{str(exc)[:500]}\n\nApplication code (innermost last):\n{context or '(none)'}"
        )
        key = f"{self.message_type}\x00{question}"
        answer = self._memo.get(key)
        if answer is None:
            try:
                answer = await complete_json(
                    self.config, _SYSTEM + _TONES[self.message_type], question
                )
            except LLMError:
                return None
            self._memo[key] = answer
            if len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        else:
            self._memo.move_to_end(key)
        return self._error_from(exc, answer)

    def _error_from(self, exc: Exception, answer: dict[str, Any]) -> HTTPError | None:
        message = answer.get("message")
        if not isinstance(message, str) or not message.strip():
            return None
        status = 500
        if isinstance(exc, HTTPError):
            status = exc.status  # an explicit status always wins
        else:
            proposed = answer.get("status")
            if type(proposed) is int and 400 <= proposed <= 599:
                status = proposed
        details = None
        if not self.production:
            details = {
                "_dev": {
                    "kind": answer.get("kind")
                    if answer.get("kind") in ("bug", "environment")
                    else "bug",
                    "fix": str(answer.get("fix") or "")[:500],
                    "exception": f"{type(exc).__name__}: {str(exc)[:200]}",
                }
            }
        return HTTPError(status, message.strip()[:500], details=details, cause=exc)
