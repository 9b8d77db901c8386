"""One quota across four uvicorn worker processes sharing Redis: exactly the limit passes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from ratelimit_helpers import free_port

HERE = Path(__file__).parent
WORKERS = 4
LIMIT = 50
REQUESTS = 200


@pytest.fixture
def server(redis_url: str, prefix: str) -> Iterator[str]:
    port = free_port()
    env = dict(os.environ)
    env.update(
        AVIAN_REDIS_URL=redis_url,
        RL_TEST_LIMIT=str(LIMIT),
        RL_TEST_PREFIX=prefix,
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [
            *[sys.executable, "-m", "uvicorn", "workers_app:app", "--app-dir", str(HERE)],
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
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
        log = "".join(output)
        assert "Traceback" not in log, log


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
