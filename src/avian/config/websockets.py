"""``websockets``: the app's websocket defaults (origins, message size, back-pressure)."""

from __future__ import annotations

from typing import Any

from .block import SettingsBlock
from .field_types import PositiveSize

__all__ = ["WebSocketSettings"]


class WebSocketSettings(SettingsBlock, frozen=True, kw_only=True):
    """``App(ws_allowed_origins=, ws_max_message_size=, ws_backpressure_limit=)``; the
    server's own websocket options (ping, frame size) are in ``server``."""

    allowed_origins: tuple[str, ...] = ()
    max_message_size: PositiveSize = 1024 * 1024
    backpressure_limit: PositiveSize = 1024 * 1024

    def app_options(self) -> dict[str, Any]:
        return {
            "ws_allowed_origins": self.allowed_origins,
            "ws_max_message_size": self.max_message_size,
            "ws_backpressure_limit": self.backpressure_limit,
        }
