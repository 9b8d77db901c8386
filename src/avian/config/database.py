"""``database``: connections opened at startup (``ctx.db.sql``, ``ctx.db.mongo``, ``ctx.db.redis``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block import SettingsBlock
from .field_types import PositiveSeconds
from .redis import check_url

if TYPE_CHECKING:
    from ..app import App
    from .checks import SettingsChecks

__all__ = ["DatabaseSettings"]


class DatabaseSettings(SettingsBlock, frozen=True, kw_only=True):
    """Each URL that is set registers a connection (``app.with_sql(url=...)`` and so on)
    under the default name; ``*_options`` are passed on as keyword arguments (engine
    options for SQLAlchemy, client options for PyMongo and redis-py).  ``required``
    connections must open at startup; ``startup_timeout`` bounds each attempt."""

    sql_url: str | None = None
    sql_options: dict[str, Any] = {}
    sql_migrations: str = "migrations"
    mongo_url: str | None = None
    mongo_options: dict[str, Any] = {}
    redis_url: str | None = None
    redis_options: dict[str, Any] = {}
    required: bool = True
    startup_timeout: PositiveSeconds = 10.0

    def install(self, app: App, settings: Any) -> None:
        common: dict[str, Any] = {
            "required": self.required,
            "startup_timeout": self.startup_timeout,
        }
        if self.sql_url is not None:
            app.with_sql(
                url=self.sql_url, migrations=self.sql_migrations, **common, **self.sql_options
            )
        if self.mongo_url is not None:
            app.with_mongo(uri=self.mongo_url, options=self.mongo_options, **common)
        if self.redis_url is not None:
            app.with_redis(url=self.redis_url, **common, **self.redis_options)

    def check(self, checks: SettingsChecks) -> None:
        if self.sql_url is not None and "://" not in self.sql_url:
            checks.error("sql_url", "must be a URL such as sqlite+aiosqlite:///app.db")
        check_url(checks, "mongo_url", self.mongo_url, ("mongodb://", "mongodb+srv://"))
        check_url(checks, "redis_url", self.redis_url, ("redis://", "rediss://", "unix://"))
        reserved = {"url", "uri", "options", "required", "startup_timeout", "migrations", "name"}
        for field in ("sql_options", "mongo_options", "redis_options"):
            clash = reserved & set(getattr(self, field))
            if clash:
                checks.error(field, f"may not set {', '.join(sorted(clash))}: use the fields")
