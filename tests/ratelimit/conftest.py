"""Fixtures of the rate-limit tests (implemented in ``ratelimit_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ratelimit_helpers import FakeClock, PrivateRedis, delete_prefix, require_redis, unique_prefix


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_url() -> str:
    """The shared Redis server (checked to answer)."""
    return require_redis()


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own, emptied afterwards."""
    value = unique_prefix()
    yield value
    delete_prefix(redis_url, value)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server this test may stop and restart."""
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
