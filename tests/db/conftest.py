"""Real servers for the database manager tests, and unique names so parallel runs don't collide.

Servers come from ``REDIS_URL``, ``DATABASE_URL`` (PostgreSQL) and ``MONGO_URL`` (local
defaults otherwise).  An unreachable server skips its tests locally, and fails them when
``AVIAN_REQUIRE_SERVERS`` is set (CI): see ``tests.support.real_servers``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest
from tests.db.servers import (
    PostgresSchema,
    plain_postgres_dsn,
    redis_url_for_db,
    unique_name,
    unreachable,
)
from tests.support.real_servers import DEFAULT_DATABASE_URL, DEFAULT_MONGO_URL, shared_redis_url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return shared_redis_url()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL

    async def probe() -> None:
        import asyncpg

        connection = await asyncpg.connect(plain_postgres_dsn(url), timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        unreachable("PostgreSQL", url, exc)
    return url


@pytest.fixture(scope="session")
def mongo_url() -> str:
    url = os.environ.get("MONGO_URL") or DEFAULT_MONGO_URL
    from pymongo import MongoClient

    client: MongoClient[Any] = MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        client.admin.command("ping")
    except Exception as exc:
        unreachable("MongoDB", url, exc)
    finally:
        client.close()
    return url


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[PostgresSchema]:
    schema = PostgresSchema(postgres_url, unique_name("avian_t"))

    async def ddl(statement: str) -> None:
        import asyncpg

        connection = await asyncpg.connect(plain_postgres_dsn(postgres_url), timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(ddl(f"CREATE SCHEMA {schema.name}"))
    try:
        yield schema
    finally:
        asyncio.run(ddl(f"DROP SCHEMA IF EXISTS {schema.name} CASCADE"))


@pytest.fixture
def mongo_db(mongo_url: str) -> Iterator[str]:
    """A database name of its own, dropped afterwards."""
    name = unique_name("avian_t")
    yield name
    from pymongo import MongoClient

    client: MongoClient[Any] = MongoClient(mongo_url, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of its own; its keys are deleted afterwards (never FLUSHDB)."""
    prefix = unique_name("avian_t") + ":"
    yield prefix
    import redis

    for database in (0, 1):
        client = redis.Redis.from_url(redis_url_for_db(redis_url, database))
        try:
            keys = list(client.scan_iter(match=prefix + "*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
