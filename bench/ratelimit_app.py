"""The apps ``bench/ratelimit.py`` measures: one plaintext route, unlimited or behind a rate
limiter with a huge limit (so every request passes and the full limiter path is timed).

Modes: ``plaintext`` (no limiter), ``headers`` (no limiter, but a middleware adding three
fixed rate-limit headers: what the headers alone cost the framework and server),
``memory`` and ``redis``.  Under uvicorn, ``RL_BENCH_MODE`` picks the mode and
``REDIS_URL`` says where Redis is.
"""

from __future__ import annotations

import os
import uuid

from avian import App, Context, Response
from avian.routing.router import CallNext

HUGE = 10**12


def build_app(mode: str, redis_url: str | None = None) -> App:
    """The benchmark app for ``mode``."""
    app = App(openapi=False)
    if mode == "memory":
        app.rate_limit(max_requests=HUGE, window="1m")
    elif mode == "redis":
        app.rate_limit(
            max_requests=HUGE,
            window="1m",
            redis=redis_url or "redis://127.0.0.1:6379/0",
            key_prefix=f"bench:{uuid.uuid4().hex}:",
        )
    elif mode == "headers":
        fixed = [
            (b"ratelimit-limit", b"1000000000000"),
            (b"ratelimit-remaining", b"999999999999"),
            (b"ratelimit-reset", b"30"),
        ]

        @app.use
        async def headers_only(ctx: Context, call_next: CallNext) -> Response:
            response = await call_next()
            response.raw_headers.extend(fixed)
            return response

    elif mode != "plaintext":
        raise ValueError(f"unknown mode {mode!r}")

    @app.get("/plaintext")
    async def plaintext() -> str:
        return "Hello, World!"

    return app


app = build_app(os.environ.get("RL_BENCH_MODE", "plaintext"), os.environ.get("REDIS_URL"))
