"""``logging``: how much avian logs, and whether unhandled errors are logged."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from .block import SettingsBlock

if TYPE_CHECKING:
    from ..app import App

__all__ = ["LoggingSettings"]


class LoggingSettings(SettingsBlock, frozen=True, kw_only=True):
    """``level`` sets the ``avian`` logger's level (``None`` leaves logging alone);
    ``log_exceptions`` is ``App(log_exceptions=...)``.  The server's access log and log
    level are in ``server``."""

    level: Literal["critical", "error", "warning", "info", "debug"] | None = None
    log_exceptions: bool = True

    def app_options(self) -> dict[str, Any]:
        return {"log_exceptions": self.log_exceptions}

    def install(self, app: App, settings: Any) -> None:
        if self.level is not None:
            logging.getLogger("avian").setLevel(self.level.upper())
