"""No auto-install (DB-05): a missing driver is a ConfigurationError at registration naming
the extra to install.

A package is made unavailable with a ``None`` entry in ``sys.modules``, which is how Python
itself marks a module as not importable ("import of X halted; None in sys.modules").
"""

from __future__ import annotations

import sys

import pytest

from avian import App, ConfigurationError


def block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def test_redis_names_the_redis_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "redis", "redis.asyncio")
    app = App()
    with pytest.raises(ConfigurationError, match=r"pip install 'avian\[redis\]'"):
        app.with_redis(url="redis://127.0.0.1:6379/0")
    assert "redis" not in app.db


def test_mongo_names_the_mongo_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "pymongo")
    with pytest.raises(ConfigurationError, match=r"needs the 'pymongo' package.*avian\[mongo\]"):
        App().with_mongo(uri="mongodb://127.0.0.1:27017/")


def test_sqlalchemy_names_the_sql_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "sqlalchemy", "sqlalchemy.ext.asyncio")
    with pytest.raises(ConfigurationError, match=r"needs the 'sqlalchemy' package.*avian\[sql\]"):
        App().with_sql(url="sqlite+aiosqlite:///app.db")


def test_aiosqlite_names_the_sql_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "aiosqlite")
    with pytest.raises(ConfigurationError, match=r"needs the 'aiosqlite' package.*avian\[sql\]"):
        App().with_sql(url="sqlite+aiosqlite:///app.db")


def test_asyncpg_names_the_postgres_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "asyncpg")
    with pytest.raises(
        ConfigurationError, match=r"needs the 'asyncpg' package.*pip install 'avian\[postgres\]'"
    ):
        App().with_sql(url="postgresql://app@db.example/app")


def test_another_driver_is_named_for_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    block(monkeypatch, "aiomysql")
    with pytest.raises(
        ConfigurationError, match=r"needs the 'aiomysql' driver.*pip install aiomysql"
    ):
        App().with_sql(url="mysql://app@db.example/app")


def test_alembic_names_the_sql_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    app = App().with_sql(url="sqlite+aiosqlite:///app.db")
    block(monkeypatch, "alembic")
    from avian.db.migrations import Migrations

    with pytest.raises(ConfigurationError, match=r"needs the 'alembic' package.*avian\[sql\]"):
        Migrations(app)
