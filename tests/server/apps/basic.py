"""A raw ASGI app for the server tests: fast and slow routes, websocket echo, lifespan.

Events (``start``, ``end``, ``shutdown``) are appended to the file named by
``AVIAN_TEST_EVENTS`` so tests can check what ran and in which order.
"""

import asyncio
import os
from urllib.parse import parse_qs


def record(event: str) -> None:
    path = os.environ.get("AVIAN_TEST_EVENTS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(event + "\n")


async def send_text(send, text: str, status: int = 200) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


async def lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if os.environ.get("AVIAN_TEST_FAIL_STARTUP"):
                await send({"type": "lifespan.startup.failed", "message": "refusing to start"})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            record("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": "echo:" + (message.get("text") or "")})
    elif scope["path"] == "/slow":
        seconds = float(parse_qs(scope["query_string"].decode()).get("seconds", ["1"])[0])
        record("start")
        await asyncio.sleep(seconds)
        record("end")
        await send_text(send, "slow done " + "x" * 10_000)
    else:
        await send_text(send, f"hello from {os.getpid()} via {scope['scheme']}")
