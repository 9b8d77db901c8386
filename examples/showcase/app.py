"""The avian showcase: a tour of the framework on embedded defaults.

Run it with ``bash scripts/showcase.sh`` (or ``avian run examples.showcase.app:app``) and
open http://127.0.0.1:3000/.  Every capability avian gains is demonstrated here: templates
with a layout, components and a CSP nonce, static assets, sessions with login and logout,
CSRF-protected forms, method override, an upload form, a JSON API with groups and hooks,
CORS, compression, caching, streaming and websockets.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec

from avian import (
    App,
    Cache,
    CompressionMiddleware,
    Context,
    CSRFMiddleware,
    Response,
    Router,
    Session,
    SessionMiddleware,
    TemplateEngine,
    Upload,
    cache_response,
    errors,
)
from avian.flash import flash
from avian.websockets import WebSocket, WebSocketHandler

HERE = Path(__file__).resolve().parent

app = App()
app.shield(use_nonce=True)  # security headers; a per-request CSP nonce for templates
app.static("/static", str(HERE / "static"))
app.templates = TemplateEngine(
    path={
        "views": HERE / "templates" / "views",
        "layouts": HERE / "templates" / "layouts",
        "components": HERE / "templates" / "components",
    }
)
app.use(CompressionMiddleware())
app.use(SessionMiddleware(Session()), CSRFMiddleware())
app.state.cache = Cache()


@app.use
async def timing(ctx: Context, call_next: Any) -> Response:
    """Onion middleware: runs around every request, including 404s."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    response: Response = await call_next()
    response.headers.set("server-timing", f"app;dur={(loop.time() - started) * 1000:.2f}")
    return response


@app.after_all
async def request_id_header(ctx: Context) -> None:
    ctx.response.headers.set("x-request-id", ctx.request_id)


async def current_user(ctx: Context) -> str | None:
    session = await ctx.session.load()
    user = session.get("user")
    return user if isinstance(user, str) else None


# --- Pages: templates, sessions, CSRF, method override, uploads ---------------------------

LINKS = [
    {"href": "/notes", "text": "a session-backed page with CSRF-protected forms"},
    {"href": "/upload", "text": "an upload form (text files)"},
    {"href": "/hello/world", "text": "path parameters and JSON"},
    {"href": "/api/v1/users", "text": "a JSON API group with hooks (CORS for one origin)"},
    {"href": "/api/v1/users/1", "text": "{id:int} conversion"},
    {"href": "/api/v1/admin/stats?token=secret", "text": "a nested group guarded by a hook"},
    {"href": "/stream", "text": "a streaming response"},
    {"href": "/cached", "text": "a cached response (see X-Cache)"},
    {"href": "/download", "text": "a file download"},
    {"href": "/items", "text": "a method-agnostic route (te.js style)"},
    {"href": "/teapot", "text": "a custom error as problem+json"},
    {"href": "/boom", "text": "an unhandled error (500, reported to on_error)"},
    {"href": "/nowhere", "text": "the custom not-found page"},
]


@app.get("/")
async def home(ctx: Context) -> Response:
    return await ctx.render("home", {"user": await current_user(ctx), "links": LINKS})


@app.get("/login")
async def login_page(ctx: Context) -> Response:
    return await ctx.render("login", {"user": await current_user(ctx), "error": None})


@app.post("/login")
async def login(ctx: Context) -> Response:
    form = await ctx.request.form()
    name = form.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 40:
        return await ctx.render(
            "login", {"user": None, "error": "Give a name of 1 to 40 characters."}, status=422
        )
    session = await ctx.session.load()
    await session.rotate()  # a new session id at login: no fixation
    session["user"] = name.strip()
    await flash(ctx, f"Welcome, {name.strip()}!", "success")
    return ctx.redirect("/notes", 303)


@app.post("/logout")
async def logout(ctx: Context) -> Response:
    await (await ctx.session.load()).invalidate()
    return ctx.redirect("/", 303)


async def require_login(ctx: Context) -> Response | None:
    user = await current_user(ctx)
    if user is None:
        await flash(ctx, "Log in first.", "error")
        return ctx.redirect("/login", 303)
    ctx.state.user = user
    return None


members = app.group("", before=[require_login])
NOTES: dict[str, list[dict[str, Any]]] = {}
_note_ids = itertools.count(1)


@members.get("/notes")
async def notes_page(ctx: Context) -> Response:
    user = ctx.state.user
    return await ctx.render("notes", {"user": user, "notes": NOTES.get(user, [])})


@members.post("/notes")
async def add_note(ctx: Context) -> Response:
    text = (await ctx.request.form()).get("text")
    if isinstance(text, str) and text.strip():
        NOTES.setdefault(ctx.state.user, []).append({"id": next(_note_ids), "text": text[:200]})
        await flash(ctx, "Note added.", "success")
    return ctx.redirect("/notes", 303)


@members.delete("/notes/{id}")
async def delete_note(ctx: Context, id: int) -> Response:
    """Reached from an HTML form through the ``_method=DELETE`` override."""
    notes = NOTES.get(ctx.state.user, [])
    NOTES[ctx.state.user] = [n for n in notes if n["id"] != id]
    await flash(ctx, "Note deleted.", "success")
    return ctx.redirect("/notes", 303)


UPLOADS = Path(tempfile.gettempdir()) / "avian-showcase-uploads"
upload = Upload(str(UPLOADS), allowed_extensions=(".txt",), max_size=64 * 1024, max_files=1)


@members.get("/upload")
async def upload_page(ctx: Context) -> Response:
    return await ctx.render("upload", {"user": ctx.state.user, "stored": None})


@members.post("/upload", middleware=[upload.single], limits=upload.limits)
async def upload_file(ctx: Context) -> Response:
    stored = ctx.uploads["file"]
    return await ctx.render("upload", {"user": ctx.state.user, "stored": stored})


# --- Plain routes -------------------------------------------------------------------------------


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


@app.get("/cached", middleware=[cache_response(ttl=30)])
async def cached() -> dict[str, str]:
    await asyncio.sleep(0.05)  # pretend to work; the next request within 30 s is a HIT
    return {"computed": "once per 30 s"}


@app.get("/download")
async def download(ctx: Context) -> Response:
    return ctx.file(__file__, filename="showcase-app.py")


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
    raise errors.teapot()


@app.get("/boom")
async def boom() -> None:
    raise RuntimeError("this message never reaches the client")


# --- A JSON API group with hooks ------------------------------------------------------------


class NewUser(msgspec.Struct):
    name: str
    email: str


class User(msgspec.Struct):
    id: int
    name: str
    email: str


USERS: dict[int, User] = {1: User(1, "Ada", "ada@example.com")}
_user_ids = itertools.count(2)


async def add_version(ctx: Context) -> None:
    ctx.response.headers.set("x-api-version", "1")


api = app.group("/api/v1", after=[add_version])
api.cors(origin="http://localhost:5173", credentials=False, max_age=600)
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
    user = User(next(_user_ids), body.name, body.email)
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
    path = html.escape(ctx.request.path)
    return ctx.html(f"<h1>Nothing at {path}</h1><a href='/'>home</a>", status=404)


app.not_found(not_found_page, methods=["GET"])


@app.on_error
async def report(error: BaseException, ctx: Context | None) -> None:
    app.state.last_error = repr(error)


@app.on_ready
async def ready(app: App) -> None:
    app.state.started = True


if __name__ == "__main__":
    app.listen()
