"""One quota across four uvicorn worker processes sharing Redis: exactly the limit passes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.support.processes import serve_uvicorn_workers

HERE = Path(__file__).parent
WORKERS = 4
LIMIT = 50
REQUESTS = 200


@pytest.fixture
def server(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[str]:
    env = {"AVIAN_REDIS_URL": redis_url, "RL_TEST_LIMIT": str(LIMIT), "RL_TEST_PREFIX": prefix}
    log = tmp_path / "uvicorn.log"
    with serve_uvicorn_workers("workers_app:app", HERE, log, workers=WORKERS, env=env) as uvicorn:
        yield uvicorn.url


def test_one_quota_across_workers(server: str) -> None:
    def hit(_: int) -> tuple[int, str]:
        # A new connection per request, so the kernel spreads them over the workers.
        response = httpx.get(server + "/hit", headers={"connection": "close"}, timeout=10)
        return response.status_code, response.headers["x-worker-pid"]

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(hit, range(REQUESTS)))
    statuses = Counter(status for status, _ in replies)
    assert statuses == {200: LIMIT, 429: REQUESTS - LIMIT}
    assert len({pid for _, pid in replies}) > 1, "every request went to one worker"
