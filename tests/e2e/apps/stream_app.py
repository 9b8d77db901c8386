"""Streaming, downloads and lifecycle hooks, served by a plain uvicorn in the e2e tests.

``uvicorn tests.e2e.apps.stream_app:app``.  The test process and this app talk through
marker files in the folder named by ``AVIAN_E2E_DIR``; ``AVIAN_E2E_FILE`` is the file
``/download`` serves.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from avian import App, Context, FileResponse, StreamingResponse

MARKERS = Path(os.environ.get("AVIAN_E2E_DIR") or tempfile.mkdtemp(prefix="avian-e2e-"))
GATE_TIMEOUT = 10.0  # seconds /gated waits for the client before giving up

app = App()


def mark(name: str, text: str = "") -> None:
    """Write a marker file atomically, so a poller never sees it half-written."""
    partial = MARKERS / f".{name}.partial"
    partial.write_text(text)
    partial.replace(MARKERS / name)


@app.on_ready
def ready(app: App) -> None:
    app.state.ready_at = time.time()
    mark("ready", str(os.getpid()))


@app.on_shutdown
async def shutdown(app: App) -> None:
    await asyncio.sleep(0)
    mark("shutdown", str(os.getpid()))


@app.get("/health")
async def health(ctx: Context) -> dict[str, object]:
    return {"ready": ctx.app.state.get("ready_at") is not None, "pid": os.getpid()}


@app.get("/stream")
async def stream(ctx: Context) -> StreamingResponse:
    """``count`` lines, ``delay`` seconds apart, each stamped with the time it was made."""
    count = int(ctx.request.query.get("count", "5"))
    delay = float(ctx.request.query.get("delay", "0.2"))

    async def lines() -> AsyncIterator[str]:
        for i in range(count):
            if i:
                await asyncio.sleep(delay)
            yield f"{i} {time.time():.6f}\n"

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/gated")
async def gated(ctx: Context) -> StreamingResponse:
    """One line, then wait until the client creates ``release-<id>`` before the second:
    the second line can only say "released" if the first reached the client on its own."""
    gate = MARKERS / f"release-{ctx.request.query['id']}"

    async def lines() -> AsyncIterator[str]:
        yield "first\n"
        deadline = time.monotonic() + GATE_TIMEOUT
        while not gate.exists():
            if time.monotonic() > deadline:
                yield "timeout\n"
                return
            await asyncio.sleep(0.01)
        yield "released\n"

    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/endless")
async def endless(ctx: Context) -> StreamingResponse:
    """Chunks until the client goes away; the generator's cleanup leaves ``stopped-<id>``."""
    name = ctx.request.query["id"]

    async def chunks() -> AsyncIterator[bytes]:
        sent = 0
        try:
            while True:
                yield b"x" * 1024 + b"\n"
                sent += 1
                await asyncio.sleep(0.02)
        finally:
            mark(f"stopped-{name}", str(sent))

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/download")
async def download() -> FileResponse:
    return FileResponse(os.environ["AVIAN_E2E_FILE"], filename="blob.bin")
