#!/usr/bin/env python3
"""What rate limiting costs: requests/s of a plaintext route unlimited, limited in memory,
and limited in Redis (a huge limit, so every request passes and the full path is timed).

Two measurements, each bounded in time:

- ``inproc`` (the pattern of ``../shared/bench/inproc.py``): every app is driven directly
  through ASGI with synthetic scope/receive/send (no server, no sockets), apps are
  interleaved round by round, and the least CPU time per request is reported.  This
  isolates the framework's own cost, so the limiter's share looks as large as it can be.
- ``server``: each app under uvicorn (one worker, uvloop, httptools) pinned to one CPU,
  loaded by ``wrk`` pinned to the other, interleaved round by round; the server's CPU
  time per request is what a deployment pays.

Ratios are against the unlimited route (1.000 = free): the median over rounds of the ratio
within each round.  ``headers`` is the unlimited route answering with three fixed
rate-limit headers (no middleware): the part of the limiter's cost that is the framework
and the server writing the default headers, the floor under any limiter that sends them.
Usage::

    python bench/ratelimit.py                       # both modes; Redis from REDIS_URL
    python bench/ratelimit.py --mode inproc --no-redis
    python bench/ratelimit.py --mode server --duration 5 --server-rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ratelimit_app import build_app  # noqa: E402

ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Samples = dict[str, list[float]]
"""CPU seconds per request of each mode, one value per round."""
shuffle = Random(5).shuffle


# --- in-process -------------------------------------------------------------------------


async def lifespan_start(app: ASGI) -> None:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await queue.put({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()

    async def serve() -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await app(scope, receive, send)

    task = asyncio.get_running_loop().create_task(serve())
    _tasks.add(task)
    await asyncio.wait_for(started.wait(), 5)


_tasks: set[asyncio.Task[None]] = set()


def make_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/plaintext",
        "raw_path": b"/plaintext",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def run_batch(app: ASGI, n: int) -> tuple[float, int]:
    """CPU seconds per request over ``n`` sequential requests, and the last status (CPU
    time, not wall time: on a shared machine it barely moves with the load)."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    started = time.process_time()
    for _ in range(n):
        await app(make_scope(), receive, send)
    return (time.process_time() - started) / n, status


async def inproc(args: argparse.Namespace, modes: list[str]) -> Samples | None:
    apps = {mode: build_app(mode, args.redis_url) for mode in modes}
    for app in apps.values():
        await lifespan_start(app)
    for mode, app in apps.items():  # warm-up; every route must answer 200
        _, status = await run_batch(app, 200)
        if status != 200:
            print(f"inproc {mode}: status {status}, expected 200", file=sys.stderr)
            return None
    deadline = time.monotonic() + args.max_seconds / 2
    samples: dict[str, list[float]] = {mode: [] for mode in modes}
    order = list(apps)
    for _ in range(args.rounds):
        shuffle(order)  # no mode always runs right after another
        for mode in order:
            app = apps[mode]
            # Redis requests are much slower: fewer keep the rounds comparable in time.
            n = args.n if mode != "redis" else max(200, args.n // 10)
            samples[mode].append((await run_batch(app, n))[0])
        if time.monotonic() > deadline:
            break
    rounds = len(samples["plaintext"])
    print(
        f"\n## in-process ASGI: CPU time per request, best of {rounds} interleaved rounds "
        f"of {args.n} requests (Redis: {max(200, args.n // 10)})"
    )
    return samples


# --- real server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(mode: str, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "RL_BENCH_MODE": mode, "PYTHONPATH": str(HERE)}
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    command = [
        sys.executable, "-m", "uvicorn", "ratelimit_app:app", "--port", str(port),
        "--workers", "1", "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(args.server_cpu), *command]
    proc = subprocess.Popen(command, cwd=HERE, env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/plaintext", timeout=1) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server for {mode} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(pid: int, port: int, seconds: float, args: argparse.Namespace) -> float:
    """Server CPU seconds per request over one wrk run.

    CPU time rather than wall time: on a machine shared with other work, the server's
    own CPU per request barely moves while its requests/s swing with the load.
    """
    command = [
        "wrk", "-t1", f"-c{args.connections}", f"-d{seconds:g}s",
        f"http://127.0.0.1:{port}/plaintext",
    ]  # fmt: skip
    if shutil.which("taskset"):
        command = ["taskset", "-c", str(args.client_cpu), *command]
    before = cpu_seconds(pid)
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    used = cpu_seconds(pid) - before
    if "Non-2xx" in out:
        raise RuntimeError(f"non-200 answers during the run:\n{out}")
    found = re.search(r"^\s*(\d+) requests in", out, re.M)
    if not found:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return used / int(found.group(1))


def server(args: argparse.Namespace, modes: list[str]) -> Samples | None:
    if not shutil.which("wrk") or not Path("/proc/self/stat").exists():
        print("server mode needs wrk and Linux /proc; skipped", file=sys.stderr)
        return None
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for mode in modes:
            servers[mode] = start_server(mode, args)
        for proc, port in servers.values():
            run_wrk(proc.pid, port, 1, args)  # warm-up
        deadline = time.monotonic() + args.max_seconds / 2
        samples: dict[str, list[float]] = {mode: [] for mode in modes}
        order = list(servers)
        for _ in range(args.server_rounds):
            shuffle(order)
            for mode in order:
                proc, port = servers[mode]
                samples[mode].append(run_wrk(proc.pid, port, args.duration, args))
            if time.monotonic() > deadline:
                break
    finally:
        for proc, _ in servers.values():
            proc.terminate()
        for proc, _ in servers.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    rounds = len(samples["plaintext"])
    print(
        f"\n## uvicorn (1 worker, cpu {args.server_cpu}) + wrk -c{args.connections} "
        f"(cpu {args.client_cpu}): server CPU time per request, median of {rounds} "
        f"interleaved {args.duration:g} s runs (requests/s = 1 / CPU time: one core's worth)"
    )
    return samples


# --- report -----------------------------------------------------------------------------


def report(samples: Samples, *, best: bool) -> None:
    """Requests/s and ratios to the plaintext route.

    ``best``: from the least CPU time per request of each mode (in-process, where other
    work on the machine only ever adds time).  Otherwise from the median, and the ratio is
    the median over rounds of the ratio within each round (the modes of one round ran
    seconds apart, so a machine getting busier or quieter moves both sides alike).
    """
    base = samples["plaintext"]
    print("| route | requests/s | us/request | vs plaintext | limiter cost |")
    print("|---|---:|---:|---:|---:|")
    for mode, values in samples.items():
        if best:
            per_request = min(values)
            ratio = min(base) / per_request
        else:
            per_request = statistics.median(values)
            ratio = statistics.median(b / v for b, v in zip(base, values, strict=True))
        print(
            f"| {mode} | {1 / per_request:,.0f} | {per_request * 1e6:.1f} | {ratio:.3f} "
            f"| {(1 - ratio) * 100:.1f}% |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("inproc", "server", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=41, help="in-process rounds")
    parser.add_argument("--n", type=int, default=1000, help="requests per in-process round")
    parser.add_argument("--server-rounds", type=int, default=9)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-cpu", type=int, default=1)
    parser.add_argument("--client-cpu", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="bound on the run")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--no-redis", action="store_true")
    args = parser.parse_args()
    modes = ["plaintext", "headers", "memory"] + ([] if args.no_redis else ["redis"])
    print(f"rate limiting cost; python {sys.version.split()[0]}; modes: {', '.join(modes)}")
    if args.mode in ("inproc", "both"):
        try:
            import uvloop
        except ImportError:
            samples = asyncio.run(inproc(args, modes))
        else:
            samples = uvloop.run(inproc(args, modes))
        if samples:
            report(samples, best=True)
    if args.mode in ("server", "both"):
        samples = server(args, modes)
        if samples:
            report(samples, best=False)


if __name__ == "__main__":
    main()
