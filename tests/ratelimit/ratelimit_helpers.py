"""Shared pieces of the rate-limit tests: ``run`` and the ``tests.support`` helpers they use
(a clock moved by hand, the shared Redis, key prefixes, private ``redis-server`` processes),
re-exported here for the rate-limit tests that import them from this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from tests.support.clock import FakeClock
from tests.support.processes import free_port
from tests.support.real_servers import (
    PrivateRedis,
    delete_prefix,
    shared_redis_url,
    unique_prefix,
)

__all__ = [
    "FakeClock",
    "PrivateRedis",
    "delete_prefix",
    "free_port",
    "require_redis",
    "run",
    "unique_prefix",
]

T = TypeVar("T")

require_redis = shared_redis_url


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
