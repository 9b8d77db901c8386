"""The avian showcase: a tour of the framework on embedded defaults.

Run it with ``bash scripts/showcase.sh`` (or ``avian run examples.showcase.app:app``) and
open http://127.0.0.1:3000/.  Every capability avian gains is demonstrated here.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import msgspec

from avian import App, Context, Response, Router, errors
from avian.websockets import WebSocket, WebSocketHandler

app = App(default_entry=False)


# --- Hooks and middleware ------------------------------------------------------------------


@app.use
async def timing(ctx: Context, call_next):  # type: ignore[no-untyped-def]
    """Onion middleware: runs around every request, including 404s."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    response: Response = await call_next()
    response.headers.set("server-timing", f"app;dur={(loop.time() - started) * 1000:.2f}")
    return response


@app.after_all
async def request_id_header(ctx: Context) -> None:
    ctx.response.headers.set("x-request-id", ctx.request_id)


# --- Plain routes ----------------------------------------------------------------------------

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>avian showcase</title>
<style>body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem}li{margin:.3rem 0}</style></head><body>
<h1>avian showcase</h1>
<ul>
<li><a href="/hello/world">/hello/world</a>: path parameters, JSON</li>
<li><a href="/api/v1/users">/api/v1/users</a>: a group with hooks (CRUD with JSON bodies)</li>
<li><a href="/api/v1/users/1">/api/v1/users/1</a>: <code>{id:int}</code> conversion</li>
<li><a href="/api/v1/admin/stats">/api/v1/admin/stats</a>: a nested group guarded by a before hook (try <code>?token=secret</code>)</li>
<li><a href="/stream">/stream</a>: a streaming response</li>
<li><a href="/download">/download</a>: a file download</li>
<li><a href="/cookies">/cookies</a>: cookies set and read</li>
<li><a href="/items">/items</a>: a method-agnostic route (te.js style)</li>
<li><a href="/teapot">/teapot</a>: a custom error as problem+json</li>
<li><a href="/boom">/boom</a>: an unhandled error (500, reported to <code>on_error</code>)</li>
<li><a href="/nowhere">/nowhere</a>: the custom not-found page</li>
<li>websocket <code>ws://HOST/ws/echo</code> and <code>ws://HOST/ws/chat</code> (class form)</li>
</ul>
<form method="post" action="/api/v1/users/1">
<input type="hidden" name="_method" value="DELETE"><button>DELETE user 1 with a form (_method override)</button>
</form></body></html>"""


@app.get("/")
async def index(ctx: Context) -> Response:
    return ctx.html(PAGE)


@app.get("/hello/{name}")
async def hello(name: str) -> dict[str, str]:
    return {"hello": name}


@app.get("/stream")
async def stream(ctx: Context) -> Response:
    async def numbers() -> AsyncIterator[str]:
        for i in range(5):
            yield f"chunk {i}\n"
            await asyncio.sleep(0.2)

    return ctx.stream(numbers(), media_type="text/plain")


@app.get("/download")
async def download(ctx: Context) -> Response:
    return ctx.file(__file__, filename="showcase-app.py")


@app.get("/cookies")
async def cookies(ctx: Context) -> dict[str, object]:
    visits = int(ctx.request.cookies.get("visits", "0")) + 1
    ctx.response.cookies.set("visits", str(visits), max_age=3600)
    return {"visits": visits}


@app.all("/items")
async def items(ctx: Context) -> object:
    ctx.only("GET", "POST")
    if ctx.request.method == "POST":
        return ctx.fire(201, {"created": await ctx.payload()})
    return ["apple", "pear"]


errors.register(
    "teapot", status=418, code="I_AM_A_TEAPOT", default_message="I refuse to brew coffee"
)


@app.get("/teapot")
async def teapot() -> None:
    raise errors.teapot()  # type: ignore[attr-defined]


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("this message never reaches the client")


# --- A group with hooks ------------------------------------------------------------------------


class NewUser(msgspec.Struct):
    name: str
    email: str


class User(msgspec.Struct):
    id: int
    name: str
    email: str


USERS: dict[int, User] = {1: User(1, "Ada", "ada@example.com")}
_next_id = itertools.count(2)


async def add_version(ctx: Context) -> None:
    ctx.response.headers.set("x-api-version", "1")


api = app.group("/api/v1", after=[add_version])
users = Router("users")


@users.get("/")
async def list_users() -> list[User]:
    return list(USERS.values())


@users.get("/{id}")
async def get_user(id: int) -> User:
    user = USERS.get(id)
    if user is None:
        raise errors.not_found(f"user {id} not found")
    return user


@users.post("/", status=201)
async def create_user(body: NewUser) -> User:
    user = User(next(_next_id), body.name, body.email)
    USERS[user.id] = user
    return user


@users.delete("/{id}")
async def delete_user(id: int) -> None:
    if USERS.pop(id, None) is None:
        raise errors.not_found(f"user {id} not found")


api.include(users)


async def require_token(ctx: Context) -> None:
    if ctx.request.query.get("token") != "secret":
        raise errors.unauthorized("add ?token=secret")
    ctx.state.admin = True


admin = api.group("/admin", before=[require_token])


@admin.get("/stats")
async def stats(ctx: Context) -> dict[str, object]:
    return {"users": len(USERS), "admin": ctx.state.admin}


# --- WebSockets -------------------------------------------------------------------------------


@app.ws("/ws/echo")
async def echo(ws: WebSocket) -> None:
    await ws.accept()
    async for message in ws:
        await ws.send(message)


class Chat(WebSocketHandler):
    """Class form: one instance per connection; ws.data is per-connection storage."""

    async def on_open(self, ws: WebSocket) -> None:
        ws.data["count"] = 0
        await ws.send_json({"event": "welcome"})

    async def on_message(self, ws: WebSocket, message: str | bytes) -> None:
        ws.data["count"] += 1
        await ws.send_json({"event": "echo", "n": ws.data["count"], "message": message})


app.ws("/ws/chat", Chat)


# --- Errors and lifecycle ---------------------------------------------------------------------


async def not_found_page(ctx: Context) -> Response:
    return ctx.html(f"<h1>Nothing at {ctx.request.path}</h1><a href='/'>home</a>", status=404)


app.not_found(not_found_page, methods=["GET"])


@app.on_error
async def report(error: BaseException, ctx: Context | None) -> None:
    app.state.last_error = repr(error)


@app.on_ready
async def ready(app: App) -> None:
    app.state.started = True


if __name__ == "__main__":
    app.listen()
