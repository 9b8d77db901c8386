"""One setting, several workers: ``uvicorn --workers 4`` with ``AVIAN_REDIS_URL``.

The same app (``scaleout_app.py``) runs in four processes sharing one socket.  Every
request opens a new connection, so requests land on different workers; each response
names its worker.  A login, a CSRF token and cached values made by one worker must be
seen by the others.  Every wait has a deadline.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WORKERS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    url: str
    prefix: str
    output: list[str]


def require_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if os.environ.get("AVIAN_REQUIRE_SERVERS"):
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        client.close()


@pytest.fixture
def workers() -> Iterator[Cluster]:
    """``uvicorn scaleout_app:app --workers 4`` on a free port, with a unique Redis prefix."""
    require_redis()
    prefix = f"avian-scaleout:{uuid.uuid4().hex}:"
    port = free_port()
    env = dict(os.environ)
    env["AVIAN_REDIS_URL"] = f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix={prefix}"
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "uvicorn", "scaleout_app:app", "--app-dir", str(HERE)],
            *["--workers", str(WORKERS), "--host", "127.0.0.1", "--port", str(port)],
            *["--no-access-log", "--timeout-graceful-shutdown", "5"],
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or ()), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "uvicorn exited:\n" + "".join(output)
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "workers did not start:\n" + "".join(output)
            time.sleep(0.1)
        yield Cluster(url, prefix, output)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # graceful: each worker closes its Redis store
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
        log = "".join(output)
        assert "Traceback" not in log, log  # every worker shut down and closed Redis cleanly
        with redis.Redis.from_url(REDIS_URL) as raw:
            for key in raw.scan_iter(match=prefix + "*", count=500):
                raw.delete(key)


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
