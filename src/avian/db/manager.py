"""The app's named database connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app import App

__all__ = ["DatabaseManager"]


class DatabaseManager:
    """Named connections opened at startup and closed at shutdown."""

    def __init__(self, app: App) -> None:
        self.app = app

    def add_redis(self, name: str, **options: Any) -> None:
        raise NotImplementedError

    def add_mongo(self, name: str, **options: Any) -> None:
        raise NotImplementedError

    def add_sql(self, name: str, **options: Any) -> None:
        raise NotImplementedError
