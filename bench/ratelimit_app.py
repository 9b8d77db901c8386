"""The apps ``bench/ratelimit.py`` measures: one plaintext route, unlimited or behind a rate
limiter with a huge limit (so every request passes and the full limiter path is timed).

Modes: ``plaintext`` (no limiter), ``headers`` (no limiter, but the route's response carries
three fixed rate-limit headers: what writing the default headers costs the framework and
the server, the floor under any limiter that writes them), ``memory`` and ``redis``.  Under
uvicorn, ``RL_BENCH_MODE`` picks the mode and ``REDIS_URL`` says where Redis is.
"""

from __future__ import annotations

import os
import uuid

from avian import App, Response

HUGE = 10**12
FIXED_HEADERS = (
    (b"ratelimit-limit", b"1000000000000"),
    (b"ratelimit-remaining", b"999999999999"),
    (b"ratelimit-reset", b"30"),
)


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

        @app.get("/plaintext")
        async def plaintext_with_headers() -> Response:
            # What the plaintext route's str becomes, plus the three headers.
            response = Response.make(b"Hello, World!", 200, "text/plain")
            response.raw_headers += FIXED_HEADERS
            return response

        return app
    elif mode != "plaintext":
        raise ValueError(f"unknown mode {mode!r}")

    @app.get("/plaintext")
    async def plaintext() -> str:
        return "Hello, World!"

    return app


app = build_app(os.environ.get("RL_BENCH_MODE", "plaintext"), os.environ.get("REDIS_URL"))
