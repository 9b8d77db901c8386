"""Several processes: workers sharing one socket, and reload in development mode."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from server_helpers import (
    APPS,
    Spawn,
    read_events,
    refuses_connections,
    start_slow_request,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e


def pids_answering(url: str, requests: int = 12) -> set[str]:
    pids = set()
    for _ in range(requests):
        with httpx.Client(timeout=5) as client:  # a new connection each time
            response = client.get(url + "/")
        assert response.status_code == 200
        pids.add(response.text.split()[2])
    return pids


def test_workers_serve_and_drain_on_sigterm(spawn: Spawn, events: Path) -> None:
    server = spawn(
        "run",
        "basic:app",
        "--app-dir",
        str(APPS),
        "--port",
        "0",
        "--workers",
        "2",
        "--no-access-log",
    )
    url = server.wait_listening()
    pids = pids_answering(url)
    assert str(server.proc.pid) not in pids  # the supervisor itself serves nothing
    thread, result = start_slow_request(url, 1.0)
    wait_until(lambda: "start" in read_events(events), what="the slow handler to start")

    server.signal(signal.SIGTERM)
    wait_until(
        lambda: refuses_connections(server.port()),
        timeout=2.0,
        what="new connections to be refused",
    )
    thread.join(10)
    response = result["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert server.wait_exit() == 0
    events_seen = sorted(read_events(events))
    assert events_seen == ["end", "shutdown", "shutdown", "start"]  # both workers' hooks ran


def test_workers_for_an_app_object_in_a_script(spawn: Spawn, events: Path) -> None:
    """serve(app_object, workers=2) from `python script.py` infers 'script:app'."""
    server = spawn(str(APPS / "script_app.py"), "workers", script=True)
    url = server.wait_listening()
    port = int(url.rsplit(":", 1)[1])
    assert httpx.get(url + "/address", timeout=5).text == repr(("127.0.0.1", port))
    assert len(pids_answering(url, requests=4)) >= 1
    server.signal(signal.SIGINT)
    assert server.wait_exit() == 0
    assert read_events(events) == ["shutdown", "shutdown", f"returned {server.proc.pid}"]


def test_second_signal_kills_busy_workers(spawn: Spawn, events: Path) -> None:
    server = spawn(
        "run",
        "basic:app",
        "--app-dir",
        str(APPS),
        "--port",
        "0",
        "--workers",
        "2",
        "--graceful-timeout",
        "30",
    )
    url = server.wait_listening()
    thread, _ = start_slow_request(url, 10)
    wait_until(lambda: "start" in read_events(events), what="the slow handler to start")
    server.signal(signal.SIGTERM)
    wait_until(lambda: read_events(events).count("shutdown") == 1, what="the idle worker to stop")
    began = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit(timeout=5) == 1
    assert time.monotonic() - began < 3
    thread.join(5)


def process_gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody reaped yet (PID 1 in containers)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_stop_when_their_supervisor_is_killed(spawn: Spawn, events: Path) -> None:
    server = spawn("run", "basic:app", "--app-dir", str(APPS), "--port", "0", "--workers", "2")
    url = server.wait_listening()
    pids = pids_answering(url, requests=4)
    server.proc.kill()  # SIGKILL: no chance to stop the workers
    server.proc.wait(5)
    wait_until(
        lambda: all(process_gone(int(pid)) for pid in pids), timeout=5, what="orphans to exit"
    )
    wait_until(lambda: read_events(events).count("shutdown") == 2, what="graceful worker shutdown")


APP_SOURCE = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"VERSION debug=" + str(getattr(app, "debug", False)).encode()})
"""


def test_development_mode_reloads_on_change_and_sets_debug(spawn: Spawn, tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(textwrap.dedent(APP_SOURCE).replace("VERSION", "one"))
    server = spawn("run", "--dev", "--port", "0", cwd=tmp_path)
    url = server.wait_listening()

    def body() -> str:
        try:
            return httpx.get(url + "/", timeout=2).text
        except httpx.HTTPError:
            return ""

    wait_until(lambda: body() == "one debug=True", timeout=10, what="the first version")
    # A different size and a later mtime: with bytecode caching on, a same-size rewrite
    # within the same second would let Python reuse the stale .pyc.
    source.write_text(textwrap.dedent(APP_SOURCE).replace("VERSION", "second"))
    later = time.time() + 2
    os.utime(source, (later, later))
    wait_until(lambda: body() == "second debug=True", timeout=15, what="the reloaded version")
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == 0


def test_app_listen_in_development_mode(spawn: Spawn, events: Path) -> None:
    """App.listen(development=True): reload child named 'avian_app:app', debug on."""
    server = spawn(str(APPS / "listen_app.py"), script=True)
    url = server.wait_listening()
    port = int(url.rsplit(":", 1)[1])

    def body() -> str:
        try:
            return httpx.get(url + "/debug", timeout=2).text
        except httpx.HTTPError:
            return ""

    wait_until(lambda: body() != "", timeout=10, what="the reload child to serve")
    assert body() == f"debug=True address=('127.0.0.1', {port})"
    assert "Started reloader process" in server.output
    server.signal(signal.SIGINT)
    assert server.wait_exit() == 0
    assert read_events(events) == ["ready", "shutdown"]
