"""The app ``tests/middleware/test_compression.py`` serves with a real uvicorn process.

``/gated/{id}`` streams a first line, then waits until ``/release/{id}`` is called before it
sends the last one, so a test can prove the first line was delivered (and decodable) while
the generator was still running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from avian import App, StreamingResponse
from avian.middleware.compression import CompressionMiddleware

WAIT_LIMIT = 10.0  # a gated stream gives up after this long, so nothing hangs for ever
BIG_TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(2000))

app = App()
app.use(CompressionMiddleware())

_gates: dict[str, asyncio.Event] = {}


def _gate(name: str) -> asyncio.Event:
    return _gates.setdefault(name, asyncio.Event())


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/big")
async def big() -> str:
    return BIG_TEXT


@app.get("/gated/{name}")
async def gated(name: str) -> StreamingResponse:
    gate = _gate(name)

    async def lines() -> AsyncIterator[str]:
        yield "first line\n"
        try:
            await asyncio.wait_for(gate.wait(), WAIT_LIMIT)
        except TimeoutError:
            yield "timed out\n"
            return
        finally:
            _gates.pop(name, None)
        yield "released\n"

    return StreamingResponse(lines(), media_type="text/plain")


@app.post("/release/{name}")
async def release(name: str) -> dict[str, bool]:
    _gate(name).set()
    return {"released": True}
