"""The app ``test_ratelimit_workers`` serves with ``uvicorn --workers 4``.

Nothing here names Redis: ``AVIAN_REDIS_URL`` makes it the limiter's default storage, so
the four worker processes share one quota.  Every response names the worker that sent it.
"""

from __future__ import annotations

import os

from avian import App, Context
from avian.http.response import Response
from avian.routing.router import CallNext

app = App(openapi=False)


@app.use
async def worker_pid(ctx: Context, call_next: CallNext) -> Response:
    """Outermost, so refusals name their worker too."""
    response = await call_next()
    response.headers.set("x-worker-pid", str(os.getpid()))
    return response


def is_health_check(ctx: Context) -> bool:
    return ctx.request.path == "/health"


app.rate_limit(
    max_requests=int(os.environ.get("RL_TEST_LIMIT", "50")),
    window="1h",
    key_prefix=os.environ.get("RL_TEST_PREFIX", "rl:"),
    skip=is_health_check,
)


@app.get("/health")
async def health() -> str:
    return "ok"


@app.get("/hit")
async def hit() -> str:
    return "hit"
