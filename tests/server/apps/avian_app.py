"""An avian App for the server tests: the shutdown sequence and the route table."""

import asyncio
import os

from basic import app as raw_asgi_app
from basic import record

from avian import App, Context

app = App()


@app.get("/", name="home")
async def home(ctx: Context) -> str:
    return f"hello from {os.getpid()} via {ctx.request.scheme}"


@app.get("/debug")
async def debug(ctx: Context) -> str:
    return f"debug={ctx.app.debug} address={ctx.app.server_address}"


@app.get("/slow")
async def slow(ctx: Context) -> str:
    record("start")
    await asyncio.sleep(float(ctx.request.query.get("seconds", "1")))
    record("end")
    return "slow done " + "x" * 10_000


@app.post("/shutdown")
async def shutdown(ctx: Context) -> str:
    ctx.app.request_shutdown()
    return "bye"


@app.route("/anything", methods=None)
async def anything(ctx: Context) -> str:
    return ctx.request.method


@app.ws("/echo")
async def echo(ws) -> None:
    await ws.accept()


app.mount("/legacy", raw_asgi_app)


@app.on_ready
def ready() -> None:
    record("ready")


@app.on_shutdown
async def closing() -> None:
    record("shutdown")
