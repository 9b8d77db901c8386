"""Graceful shutdown (SRV-09, LIFE-04, LIFE-08): drain, run shutdown hooks, exit 0."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import httpx
import pytest
from server_helpers import (
    APPS,
    ServerProcess,
    Spawn,
    read_events,
    refuses_connections,
    start_slow_request,
)
from tests.support.processes import wait_until

pytestmark = pytest.mark.e2e


def serve_app(spawn: Spawn, *extra: str) -> tuple[ServerProcess, str]:
    """Serve ``apps/avian_app.py`` (an avian App with on_ready/on_shutdown hooks)."""
    server = spawn(
        "run", "avian_app:app", "--app-dir", str(APPS), "--port", "0", "--no-access-log", *extra
    )
    return server, server.wait_listening()


def test_sigterm_lets_the_request_in_flight_finish_then_runs_shutdown_hooks(
    spawn: Spawn, events: Path
) -> None:
    server, url = serve_app(spawn)
    thread, result = start_slow_request(url, 1.5)
    wait_until(lambda: "start" in read_events(events), what="the slow handler to start")

    server.signal(signal.SIGTERM)
    wait_until(
        lambda: refuses_connections(server.port()),
        timeout=1.0,
        what="new connections to be refused",
    )
    assert "end" not in read_events(events)  # still draining while new connections are refused

    thread.join(10)
    response = result["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200
    assert response.text == "slow done " + "x" * 10_000
    assert server.wait_exit() == 0
    assert read_events(events) == ["ready", "start", "end", "shutdown"]


def test_sigint_shuts_down_gracefully_too(spawn: Spawn, events: Path) -> None:
    server, _ = serve_app(spawn)
    server.signal(signal.SIGINT)
    assert server.wait_exit() == 0
    assert read_events(events) == ["ready", "shutdown"]


def test_app_request_shutdown_stops_the_server_gracefully(spawn: Spawn, events: Path) -> None:
    server, url = serve_app(spawn)
    response = httpx.post(url + "/shutdown", timeout=5)
    assert response.status_code == 200
    assert response.text == "bye"
    assert server.wait_exit() == 0
    assert read_events(events) == ["ready", "shutdown"]


def test_graceful_timeout_cuts_long_requests_short(spawn: Spawn, events: Path) -> None:
    server, url = serve_app(spawn, "--graceful-timeout", "0.5")
    thread, _ = start_slow_request(url, 10)
    wait_until(lambda: "start" in read_events(events), what="the slow handler to start")

    began = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait_exit(timeout=5) == 0
    assert time.monotonic() - began < 3
    # the shutdown hooks still run; the handler never ended
    assert read_events(events) == ["ready", "start", "shutdown"]
    thread.join(5)


def test_second_signal_forces_exit_without_waiting(spawn: Spawn, events: Path) -> None:
    server, url = serve_app(spawn, "--graceful-timeout", "30")
    thread, _ = start_slow_request(url, 10)
    wait_until(lambda: "start" in read_events(events), what="the slow handler to start")

    server.signal(signal.SIGTERM)
    wait_until(
        lambda: refuses_connections(server.port()), timeout=1.0, what="graceful shutdown to begin"
    )
    began = time.monotonic()
    server.signal(signal.SIGINT)  # either signal forces
    assert server.wait_exit(timeout=5) == 1
    assert time.monotonic() - began < 3
    assert "shutdown" not in read_events(events)
    thread.join(5)


def test_startup_failure_exits_with_status_3(spawn: Spawn, events: Path) -> None:
    server = spawn(
        "run",
        "basic:app",
        "--app-dir",
        str(APPS),
        "--port",
        "0",
        env={"AVIAN_TEST_FAIL_STARTUP": "1"},
    )
    assert server.wait_exit() == 3
    assert "avian listening" not in server.output


def test_without_auto_graceful_shutdown_the_app_stops_the_server(
    spawn: Spawn, events: Path
) -> None:
    server = spawn(str(APPS / "script_app.py"), "manual", script=True)
    url = server.wait_listening()
    assert read_events(events) == [f"listening {url}"]  # on_listening got the URL
    port = int(url.rsplit(":", 1)[1])
    assert httpx.get(url + "/address", timeout=5).text == repr(("127.0.0.1", port))

    assert httpx.get(url + "/shutdown", timeout=5).text == "bye"
    assert server.wait_exit() == 0
    assert read_events(events)[1:] == ["shutdown", f"returned {server.proc.pid}"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_without_auto_graceful_shutdown_signals_are_left_alone(spawn: Spawn, events: Path) -> None:
    server = spawn(str(APPS / "script_app.py"), "manual", script=True)
    server.wait_listening()
    server.signal(signal.SIGTERM)
    assert server.wait_exit() == -signal.SIGTERM  # no handler installed: default action
    assert "shutdown" not in read_events(events)
