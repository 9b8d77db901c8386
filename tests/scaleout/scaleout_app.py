"""The app the scale-out test runs under ``uvicorn --workers 4``.

Nothing in it mentions Redis: the one setting, ``AVIAN_REDIS_URL``, moves sessions, CSRF
tokens and both caches there.  Every response says which worker process served it.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from avian import App, Context
from avian.cache import Cache, cache_response
from avian.csrf import CSRFMiddleware, csrf_token
from avian.http.response import Response
from avian.routing.router import CallNext
from avian.sessions import Session, SessionMiddleware, session_of

app = App()
cache = Cache(app.store)


async def worker_pid(ctx: Context, call_next: CallNext) -> Response:
    """Outermost, so even a response served from the cache names the worker that sent it."""
    response = await call_next()
    response.headers.set("x-worker-pid", str(os.getpid()))
    return response


app.use(worker_pid, SessionMiddleware(Session()), CSRFMiddleware())


@app.get("/health")
async def health() -> dict[str, Any]:
    return {"store": type(app.store).__name__, "ready": await app.store.ready()}


@app.get("/csrf")
async def csrf(ctx: Context) -> dict[str, str]:
    return {"token": await csrf_token(ctx)}


@app.post("/login")
async def login(ctx: Context) -> dict[str, bool]:
    session = await session_of(ctx).load()
    await session.rotate()
    session["user"] = (await ctx.request.json())["user"]
    return {"ok": True}


@app.post("/note")
async def note(ctx: Context) -> dict[str, Any]:
    """An unsafe request: the CSRF middleware checks its token first."""
    session = await session_of(ctx).load()
    return {"user": session.get("user"), "note": (await ctx.request.json())["note"]}


@app.get("/me")
async def me(ctx: Context) -> dict[str, Any]:
    session = await session_of(ctx).load()
    return {"user": session.get("user")}


@app.get("/computed")
async def computed() -> Any:
    """A value computed once, by whichever worker is first, then served by all."""
    return await cache.get_or_set(
        "computed", lambda: {"by_pid": os.getpid(), "nonce": uuid.uuid4().hex}, ttl=60
    )


@app.get("/page", middleware=[cache_response(60)])
async def page() -> dict[str, Any]:
    return {"rendered_by": os.getpid(), "nonce": uuid.uuid4().hex}
