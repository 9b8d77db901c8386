"""One setting, several workers: ``uvicorn --workers 4`` with ``AVIAN_REDIS_URL``.

The same app (``scaleout_app.py``) runs in four processes sharing one socket.  Every
request opens a new connection, so requests land on different workers; each response
names its worker.  A login, a CSRF token and cached values made by one worker must be
seen by the others.  Every wait has a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from tests.support.processes import serve_uvicorn_workers
from tests.support.real_servers import (
    REDIS_URL,
    delete_prefix,
    prefixed_url,
    shared_redis_url,
    unique_prefix,
)

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
WORKERS = 4


@dataclass
class Cluster:
    url: str
    prefix: str


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Cluster]:
    """``uvicorn scaleout_app:app --workers 4`` on a free port, with a unique Redis prefix."""
    redis_url = shared_redis_url()
    prefix = unique_prefix("avian-scaleout")
    env = {"AVIAN_REDIS_URL": prefixed_url(redis_url, prefix)}
    log = tmp_path / "uvicorn.log"
    try:
        # Stopped with SIGTERM: each worker closes its Redis store, without a traceback.
        with serve_uvicorn_workers(
            "scaleout_app:app", HERE, log, workers=WORKERS, env=env
        ) as uvicorn:
            yield Cluster(uvicorn.url, prefix)
    finally:
        delete_prefix(redis_url, prefix)


Reply = tuple[int, httpx.Response]


def spread(
    send: Callable[[], httpx.Response], *, at_least: int = 24, at_most: int = 400
) -> list[Reply]:
    """Send requests (each on a new connection, 8 at a time) until at least two workers
    answered and ``at_least`` were sent; bounded by ``at_most`` requests and 30 s."""
    replies: list[Reply] = []
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(8) as pool:
        while len(replies) < at_most and time.monotonic() < deadline:
            for response in pool.map(lambda _: send(), range(8)):
                assert response.status_code == 200, response.text
                replies.append((int(response.headers["x-worker-pid"]), response))
            if len(replies) >= at_least and len({pid for pid, _ in replies}) >= 2:
                break
    return replies


def pids(replies: list[Reply]) -> set[int]:
    return {pid for pid, _ in replies}


def test_sessions_csrf_and_caches_are_shared_by_four_workers(workers: Cluster) -> None:
    url = workers.url
    health = httpx.get(url + "/health", timeout=5).json()
    assert health == {"store": "RedisStore", "ready": True}

    # One worker issues the session and its CSRF token...
    first = httpx.get(url + "/csrf", timeout=5)
    token, sid = first.json()["token"], first.cookies["sid"]
    # ...another (probably) checks the token and logs in.
    login = httpx.post(
        url + "/login",
        json={"user": "ada"},
        headers={"x-csrf-token": token, "cookie": f"sid={sid}"},
        timeout=5,
    )
    assert login.status_code == 200, login.text
    sid = login.cookies["sid"]  # rotated at login
    login_pid = int(login.headers["x-worker-pid"])

    # Many later requests, on many workers, all see the logged-in session.
    me = spread(lambda: httpx.get(url + "/me", headers={"cookie": f"sid={sid}"}, timeout=10))
    assert all(response.json() == {"user": "ada"} for _, response in me)
    assert len(pids(me)) >= 2
    assert pids(me) - {login_pid}, "no other worker than the one that logged in was reached"

    # A CSRF token issued by one worker is accepted by the others.
    token = httpx.get(url + "/csrf", headers={"cookie": f"sid={sid}"}, timeout=5).json()["token"]

    def post_with_token() -> httpx.Response:
        return httpx.post(
            url + "/note",
            json={"note": "hi"},
            headers={"x-csrf-token": token, "cookie": f"sid={sid}"},
            timeout=10,
        )

    posts = spread(post_with_token, at_least=8)
    assert all(response.json() == {"user": "ada", "note": "hi"} for _, response in posts)
    assert len(pids(posts)) >= 2
    forged = httpx.post(
        url + "/note", json={"note": "x"}, headers={"cookie": f"sid={sid}"}, timeout=5
    )
    assert forged.status_code == 403

    # A value computed once (Cache.get_or_set) is served by every worker.
    computed = spread(lambda: httpx.get(url + "/computed", timeout=10))
    bodies = {response.text for _, response in computed}
    assert len(bodies) == 1
    assert len(pids(computed)) >= 2

    # A cached response rendered by one worker is a HIT on the others.
    miss = httpx.get(url + "/page", timeout=5)
    assert miss.headers["x-cache"] == "MISS"
    pages = spread(lambda: httpx.get(url + "/page", timeout=10))
    assert {response.headers["x-cache"] for _, response in pages} == {"HIT"}
    assert {response.text for _, response in pages} == {miss.text}
    assert len(pids(pages)) >= 2

    # Everything lives in Redis under the one prefix.
    with redis.Redis.from_url(REDIS_URL) as raw:
        kinds = {
            key.decode()[len(workers.prefix) :].split(":")[0]
            for key in raw.scan_iter(match=workers.prefix + "*")
        }
    assert kinds == {"session", "csrf", "cache"}
