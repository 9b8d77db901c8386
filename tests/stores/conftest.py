"""Fixtures shared by the store tests: the shared Redis and private, stoppable ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.real_servers import PrivateRedis, shared_redis_url


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The shared Redis server's URL, after checking it answers."""
    return shared_redis_url()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server this test may stop and restart; stopped afterwards."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
