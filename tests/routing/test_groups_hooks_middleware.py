"""Groups, hooks and middleware: the documented order (MW-09), inheritance through nested
groups (GRP-01..08), filters, short-circuits, errors inside the pipeline, what runs for
404/405, conditional and ASGI middleware (MW-01..11, CTX-14)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from avian import (
    App,
    ConfigurationError,
    Context,
    HTTPError,
    Response,
    Router,
    StreamingResponse,
    errors,
    when,
)
from avian.testing import TestClient

Events = list[str]


def serve(app: App) -> TestClient:
    return TestClient(app, follow_redirects=False)


def hook(events: Events, label: str) -> Callable[[Context], Any]:
    """A before/after hook that records ``label``."""

    async def record(ctx: Context) -> None:
        events.append(label)

    record.__name__ = label
    return record


def middleware(events: Events, label: str) -> Callable[..., Any]:
    """Onion middleware that records ``label>`` on the way in and ``<label`` on the way out."""

    async def mw(ctx: Context, call_next: Any) -> Response:
        events.append(f"{label}>")
        response = await call_next()
        events.append(f"<{label}")
        return response

    mw.__name__ = label
    return mw


def header_mw(name: str, value: str = "yes") -> Callable[..., Any]:
    """Middleware that sets a response header after the inner layers ran."""

    async def mw(ctx: Context, call_next: Any) -> Response:
        response = await call_next()
        response.headers.set(name, value)
        return response

    return mw


# --- the order (MW-04, MW-09, GRP-02..05) ----------------------------------------------------


def test_the_documented_order_through_three_nested_groups():
    events: Events = []
    app = App(middleware=[middleware(events, "app.mw")])
    app.before_all(hook(events, "before_all"))
    app.after_all(hook(events, "after_all"))
    app.before(hook(events, "app.before"))
    app.after(hook(events, "app.after"))

    api = app.group(
        "/api",
        middleware=[middleware(events, "api.mw")],
        before=[hook(events, "api.before")],
        after=[hook(events, "api.after")],
    )
    api.before(hook(events, "api.before2"))
    api.after(hook(events, "api.after2"))
    v1 = api.group("/v1", before=[hook(events, "v1.before")], after=[hook(events, "v1.after")])
    v1.use(middleware(events, "v1.mw"))
    admin = v1.group(
        "/admin",
        middleware=[middleware(events, "admin.mw")],
        before=[hook(events, "admin.before")],
        after=[hook(events, "admin.after")],
    )

    async def handler(ctx: Context) -> str:
        events.append("handler")
        return "ok"

    admin.get(
        "/users",
        middleware(events, "route.mw"),
        handler,
        before=[hook(events, "route.before")],
        after=[hook(events, "route.after")],
    )

    with serve(app) as client:
        assert client.get("/api/v1/admin/users").text == "ok"

    assert events == [
        "app.mw>",
        "before_all",
        "app.before",
        "api.mw>",
        "api.before",
        "api.before2",
        "v1.mw>",
        "v1.before",
        "admin.mw>",
        "admin.before",
        "route.mw>",
        "route.before",
        "handler",
        "route.after",
        "<route.mw",
        "admin.after",
        "<admin.mw",
        "v1.after",
        "<v1.mw",
        "api.after",
        "api.after2",
        "<api.mw",
        "app.after",
        "after_all",
        "<app.mw",
    ]


def test_app_middleware_decorator_and_call_forms_run_in_registration_order():
    events: Events = []
    app = App(middleware=[middleware(events, "ctor")])

    @app.use
    async def decorated(ctx: Context, call_next: Any) -> Response:
        events.append("decorated>")
        return await call_next()

    assert decorated.__name__ == "decorated"  # the decorator returns the function
    app.use(middleware(events, "second"), middleware(events, "third"))
    app.get("/")(lambda: "ok")

    with serve(app) as client:
        assert client.get("/").text == "ok"
    assert events == ["ctor>", "decorated>", "second>", "third>", "<third", "<second", "<ctor"]


def test_group_and_route_hooks_accept_decorator_forms():
    events: Events = []
    app = App()
    group = app.group("/g")

    @group.before
    def group_before(ctx: Context) -> None:
        events.append("group.before")

    @group.after
    def group_after(ctx: Context) -> None:
        events.append("group.after")

    @group.get("/x", before=[hook(events, "route.before")], after=[hook(events, "route.after")])
    async def x() -> str:
        events.append("handler")
        return "x"

    assert group_before.__name__ == "group_before"
    with serve(app) as client:
        assert client.get("/g/x").text == "x"
    assert events == ["group.before", "route.before", "handler", "route.after", "group.after"]


def test_group_hooks_only_wrap_the_groups_routes():
    events: Events = []
    app = App()
    group = app.group("/inside", before=[hook(events, "group.before")])
    group.use(middleware(events, "group.mw"))
    group.get("/x")(lambda: "in")
    app.get("/outside")(lambda: "out")
    app.get("/inside-not")(lambda: "sibling")

    with serve(app) as client:
        assert client.get("/outside").text == "out"
        assert client.get("/inside-not").text == "sibling"
        assert events == []
        assert client.get("/inside/x").text == "in"
        assert events == ["group.mw>", "group.before", "<group.mw"]


def test_included_router_hooks_and_middleware():
    events: Events = []
    books = Router(
        "/books", before=[hook(events, "books.before")], middleware=[header_mw("x-books")]
    )
    books.get("/")(lambda: ["dune"])
    app = App()
    app.include(books, prefix="/v1")

    with serve(app) as client:
        response = client.get("/v1/books")
        assert response.json() == ["dune"]
        assert response.headers["x-books"] == "yes"
    assert events == ["books.before"]


# --- path-scoped and conditional middleware (MW-02, MW-11) -----------------------------------


def test_path_scoped_middleware_covers_the_path_and_below_only():
    app = App()
    app.use("/panel", header_mw("x-panel"))
    for path in ("/panel", "/panel/x", "/panel/x/y", "/panelx", "/", "/other/panel"):
        app.get(path)(lambda: "ok")

    with serve(app) as client:
        for path in ("/panel", "/panel/x", "/panel/x/y"):
            assert client.get(path).headers.get("x-panel") == "yes", path
        for path in ("/panelx", "/", "/other/panel"):
            assert "x-panel" not in client.get(path).headers, path
        # Unmatched paths run only the unscoped app middleware.
        assert "x-panel" not in client.get("/panel/missing").headers


def test_path_scoped_middleware_on_a_group_is_relative_to_its_prefix():
    app = App()
    api = app.group("/api")
    api.use("/admin", header_mw("x-admin"))
    api.get("/admin/users")(lambda: "users")
    api.get("/public")(lambda: "public")
    app.get("/admin/users")(lambda: "top-level")

    with serve(app) as client:
        assert client.get("/api/admin/users").headers["x-admin"] == "yes"
        assert "x-admin" not in client.get("/api/public").headers
        assert "x-admin" not in client.get("/admin/users").headers


def test_when_runs_middleware_only_if_the_predicate_holds():
    app = App()
    app.use(when(lambda ctx: "x-debug" in ctx.request.headers, header_mw("x-debugged")))
    app.get("/")(lambda: "ok")

    with serve(app) as client:
        assert "x-debugged" not in client.get("/").headers
        assert client.get("/", headers={"x-debug": "1"}).headers["x-debugged"] == "yes"


def test_when_awaits_an_async_predicate():
    app = App()

    async def is_admin(ctx: Context) -> bool:
        return ctx.request.headers.get("x-role") == "admin"

    app.use(when(is_admin, header_mw("x-admin-tools")))
    app.get("/")(lambda: "ok")

    with serve(app) as client:
        assert "x-admin-tools" not in client.get("/", headers={"x-role": "guest"}).headers
        assert client.get("/", headers={"x-role": "admin"}).headers["x-admin-tools"] == "yes"


def test_using_builds_reusable_middleware_chains():
    events: Events = []
    app = App()
    authed = app.using(middleware(events, "auth"), middleware(events, "audit"))
    limited = authed.using(middleware(events, "limit"))
    authed.get("/profile")(lambda: "profile")
    limited.post("/upload")(lambda: "uploaded")
    app.get("/open")(lambda: "open")

    with serve(app) as client:
        assert client.get("/profile").text == "profile"
        assert events == ["auth>", "audit>", "<audit", "<auth"]
        events.clear()
        assert client.post("/upload").text == "uploaded"
        assert events == ["auth>", "audit>", "limit>", "<limit", "<audit", "<auth"]
        events.clear()
        assert client.get("/open").text == "open"
        assert events == []


# --- before_all / after_all filters (MW-07) ---------------------------------------------------


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ((), (), {"/users", "/users/{id}", "/admin/panel", "/admin/panel/logs"}),
        (("list_users",), (), {"/users"}),  # by route name
        (("/users/{id}",), (), {"/users/{id}"}),  # exact path as written
        (("/admin/*",), (), {"/admin/panel", "/admin/panel/logs"}),  # glob
        ((), ("/admin/*",), {"/users", "/users/{id}"}),
        ((), ("show_user", "/users"), {"/admin/panel", "/admin/panel/logs"}),
        (("/admin/*", "/users"), ("admin_logs",), {"/admin/panel", "/users"}),
    ],
)
def test_before_all_and_after_all_filters(include, exclude, expected):
    seen_before: set[str] = set()
    seen_after: set[str] = set()
    app = App()

    async def before(ctx: Context) -> None:
        seen_before.add(ctx.route.definition.path if ctx.route else "?")

    async def after(ctx: Context) -> None:
        seen_after.add(ctx.route.definition.path if ctx.route else "?")

    app.before_all(before, include=include, exclude=exclude)
    app.after_all(after, include=include, exclude=exclude)

    @app.get("/users")
    async def list_users() -> list[Any]:
        return []

    @app.get("/users/{id}")
    async def show_user(id: int) -> int:  # the annotation makes the path /users/{id:int}
        return id

    @app.get("/admin/panel")
    async def admin_panel() -> str:
        return "panel"

    @app.get("/admin/panel/logs")
    async def admin_logs() -> str:
        return "logs"

    with serve(app) as client:
        for path in ("/users", "/users/1", "/admin/panel", "/admin/panel/logs"):
            assert client.get(path).status_code == 200
    assert seen_before == expected
    assert seen_after == expected


@pytest.mark.parametrize("written", ["/items/:id", "/items/{id}", "/items/{id:int}"])
def test_a_path_filter_matches_whatever_param_syntax_and_converter(written):
    seen: list[str] = []
    app = App()
    app.before_all(hook(seen, "hit"), include=[written])

    @app.get("/items/:id")
    async def item(id: int) -> int:
        return id

    with serve(app) as client:
        assert client.get("/items/3").json() == 3
    assert seen == ["hit"]


def test_before_all_and_after_all_return_the_hook_for_decorator_use():
    app = App()

    @app.before_all
    async def stamp(ctx: Context) -> None:
        ctx.state.stamped = True

    @app.after_all
    async def header(ctx: Context) -> None:
        ctx.response.headers.set("x-stamped", str(ctx.state.stamped))

    assert stamp.__name__ == "stamp"
    app.get("/")(lambda: "ok")
    with serve(app) as client:
        assert client.get("/").headers["x-stamped"] == "True"


# --- state (CTX-02, CTX-03, GRP-06) ----------------------------------------------------------


def test_state_set_by_outer_hooks_is_visible_inside():
    app = App()

    @app.use
    async def load_user(ctx: Context, call_next: Any) -> Response:
        ctx.user = {"name": "ada"}  # middleware may extend the context (CTX-03)
        return await call_next()

    async def outer(ctx: Context) -> None:
        ctx.state.trail = ["api"]

    async def middle(ctx: Context) -> None:
        ctx.state.trail.append("v1")

    async def inner(ctx: Context) -> None:
        ctx.state["trail"].append("admin")
        ctx.state.seen_by_inner = list(ctx.state.trail)

    api = app.group("/api", before=[outer])
    v1 = api.group("/v1", before=[middle])
    admin = v1.group("/admin", before=[inner])

    @admin.get("/me")
    async def me(ctx: Context) -> dict[str, Any]:
        return {
            "user": ctx.user["name"],
            "trail": ctx.state.trail,
            "inner": ctx.state.seen_by_inner,
        }

    with serve(app) as client:
        assert client.get("/api/v1/admin/me").json() == {
            "user": "ada",
            "trail": ["api", "v1", "admin"],
            "inner": ["api", "v1", "admin"],
        }


def test_state_is_isolated_between_requests():
    app = App()

    @app.get("/count")
    async def count(ctx: Context) -> dict[str, Any]:
        before = sorted(ctx.state)
        ctx.state.visited = True
        return {"keys_at_start": before}

    with serve(app) as client:
        assert client.get("/count").json() == {"keys_at_start": []}
        assert client.get("/count").json() == {"keys_at_start": []}


# --- short-circuiting (MW-10, CTX-14) --------------------------------------------------------


def _guarded_app(guard: Callable[[Context], Any]) -> tuple[App, Events]:
    events: Events = []
    app = App()

    @app.post("/things", before=[guard], status=201)
    async def create() -> dict[str, bool]:
        events.append("handler")
        return {"created": True}

    return app, events


async def _return_dict(ctx: Context) -> Any:
    return {"blocked": True}


async def _return_str(ctx: Context) -> Any:
    return "blocked"


async def _return_response(ctx: Context) -> Any:
    return Response("teapot", 418, headers={"x-guard": "1"})


def test_a_before_hook_ends_the_request_by_returning_a_dict():
    app, events = _guarded_app(_return_dict)
    with serve(app) as client:
        response = client.post("/things")
        assert response.json() == {"blocked": True}
        # Without setting a status, the route's status applies.
        assert response.status_code == 201
    assert events == []


def test_a_before_hook_ends_the_request_by_returning_text():
    app, events = _guarded_app(_return_str)
    with serve(app) as client:
        response = client.post("/things")
        assert response.text == "blocked"
        assert response.headers["content-type"].startswith("text/plain")
    assert events == []


def test_a_before_hook_ends_the_request_by_returning_a_response():
    app, events = _guarded_app(_return_response)
    with serve(app) as client:
        response = client.post("/things")
        assert (response.status_code, response.text) == (418, "teapot")
        assert response.headers["x-guard"] == "1"
    assert events == []


def test_a_before_hook_sets_the_status_and_returns_a_body():
    async def guard(ctx: Context) -> Any:
        ctx.response.status = 403
        ctx.response.headers.set("x-reason", "closed")
        return {"error": "closed"}

    app, events = _guarded_app(guard)
    with serve(app) as client:
        response = client.post("/things")
        assert response.status_code == 403
        assert response.headers["x-reason"] == "closed"
        assert response.json() == {"error": "closed"}
    assert events == []


def test_a_before_hook_ends_the_request_by_raising():
    async def guard(ctx: Context) -> None:
        raise errors.unauthorized("log in first")

    app, events = _guarded_app(guard)
    with serve(app) as client:
        response = client.post("/things")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "log in first"
    assert events == []


def test_fire_in_a_before_hook_ends_the_request():
    async def guard(ctx: Context) -> None:
        ctx.fire(202, {"queued": True})  # nothing returned: fire() alone ends it

    app, events = _guarded_app(guard)
    with serve(app) as client:
        response = client.post("/things")
        assert response.status_code == 202
        assert response.json() == {"queued": True}
    assert events == []


def test_a_hook_returning_none_lets_the_request_continue():
    async def passthrough(ctx: Context) -> None:
        ctx.response.headers.set("x-checked", "1")

    app, events = _guarded_app(passthrough)
    with serve(app) as client:
        response = client.post("/things")
        assert response.status_code == 201
        assert response.json() == {"created": True}
        assert response.headers["x-checked"] == "1"
    assert events == ["handler"]


def test_after_hooks_of_entered_layers_still_run_after_a_short_circuit():
    events: Events = []
    app = App()
    app.after_all(hook(events, "after_all"))

    async def deny(ctx: Context) -> Any:
        events.append("v1.deny")
        return Response("no", 403)

    api = app.group("/api", before=[hook(events, "api.before")], after=[hook(events, "api.after")])
    api.use(middleware(events, "api.mw"))
    v1 = api.group(
        "/v1", before=[deny, hook(events, "v1.before2")], after=[hook(events, "v1.after")]
    )
    admin = v1.group("/admin", after=[hook(events, "admin.after")])
    admin.use(middleware(events, "admin.mw"))
    admin.get("/x", after=[hook(events, "route.after")])(lambda: events.append("handler"))

    with serve(app) as client:
        assert client.get("/api/v1/admin/x").status_code == 403

    assert events == [
        "api.mw>",
        "api.before",
        "v1.deny",
        "v1.after",  # the layer that short-circuited
        "api.after",
        "<api.mw",
        "after_all",
    ]


def test_a_middleware_short_circuits_without_calling_next():
    events: Events = []
    app = App()

    @app.use
    async def maintenance(ctx: Context, call_next: Any) -> Response:
        if ctx.request.query.get("down"):
            return Response("down for maintenance", 503)
        return await call_next()

    app.before_all(hook(events, "before_all"))
    app.get("/")(lambda: events.append("handler") and None)

    with serve(app) as client:
        response = client.get("/", params={"down": "1"})
        assert (response.status_code, response.text) == (503, "down for maintenance")
        assert events == []
        assert client.get("/").status_code == 204
        assert events == ["before_all", "handler"]


# --- after hooks and middleware changing the response (MW-11) ---------------------------------


def test_after_hooks_change_or_replace_the_response():
    app = App()

    async def tag(ctx: Context) -> None:
        ctx.response.headers.set("x-tag", "after")

    async def promote(ctx: Context) -> None:
        if ctx.request.query.get("created"):
            ctx.response.status = 201

    async def replace(ctx: Context) -> Any:
        if ctx.request.query.get("replace"):
            return Response("replaced", 202)
        return {"ignored": "only a Response replaces"}

    @app.get("/x", after=[tag, promote, replace])
    async def x() -> dict[str, str]:
        return {"from": "handler"}

    with serve(app) as client:
        response = client.get("/x")
        assert (response.status_code, response.json()) == (200, {"from": "handler"})
        assert response.headers["x-tag"] == "after"
        assert client.get("/x", params={"created": "1"}).status_code == 201
        replaced = client.get("/x", params={"replace": "1"})
        assert (replaced.status_code, replaced.text) == (202, "replaced")


def test_outer_after_hooks_see_a_response_replaced_by_inner_ones():
    app = App()

    async def replace(ctx: Context) -> Response:
        return Response("inner replacement", 200)

    async def outer(ctx: Context) -> None:
        ctx.response.headers.set("x-outer-saw", ctx.response.body.decode())

    group = app.group("/g", after=[outer])
    group.get("/x", after=[replace])(lambda: "original")

    with serve(app) as client:
        response = client.get("/g/x")
        assert response.text == "inner replacement"
        assert response.headers["x-outer-saw"] == "inner replacement"


def test_middleware_post_processes_the_response():
    app = App()

    @app.use
    async def timing(ctx: Context, call_next: Any) -> Response:
        response = await call_next()
        response.headers.set("x-processed", f"{ctx.request.method} {response.status}")
        return response

    app.post("/x", status=201)(lambda: {"ok": True})

    with serve(app) as client:
        response = client.post("/x")
        assert response.status_code == 201
        assert response.headers["x-processed"] == "POST 201"


# --- errors inside the pipeline (MW-06) --------------------------------------------------------


def test_middleware_sees_error_responses_and_ctx_error():
    seen: list[tuple[int, str]] = []
    app = App(log_exceptions=False)

    @app.use
    async def observe(ctx: Context, call_next: Any) -> Response:
        response = await call_next()
        seen.append((response.status, type(ctx.error).__name__))
        return response

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/missing")
    async def missing() -> None:
        raise errors.not_found("no such thing")

    app.get("/fine")(lambda: "fine")

    with serve(app) as client:
        boom_response = client.get("/boom")
        assert boom_response.status_code == 500
        assert "secret detail" not in boom_response.text
        assert client.get("/missing").status_code == 404
        assert client.get("/fine").status_code == 200
        assert client.get("/unrouted").status_code == 404
    assert seen == [
        (500, "RuntimeError"),
        (404, "HTTPError"),
        (200, "NoneType"),
        (404, "HTTPError"),
    ]


def test_after_hooks_see_the_error_and_can_change_the_error_response():
    app = App(log_exceptions=False)

    async def annotate(ctx: Context) -> None:
        if isinstance(ctx.error, HTTPError):
            ctx.response.headers.set("x-error-code", ctx.error.code)

    @app.get("/gone", after=[annotate])
    async def gone() -> None:
        raise errors.gone("moved away")

    with serve(app) as client:
        response = client.get("/gone")
        assert response.status_code == 410
        assert response.headers["x-error-code"] == "GONE"
        assert response.json()["detail"] == "moved away"


def test_errors_in_async_middleware_become_500_and_reach_on_error():
    reported: list[tuple[str, str | None]] = []
    app = App(log_exceptions=False)

    @app.on_error
    def report(error: BaseException, ctx: Context | None) -> None:
        reported.append((repr(error), ctx.request.path if ctx else None))

    group = app.group("/g")

    @group.use
    async def broken(ctx: Context, call_next: Any) -> Response:
        if ctx.request.query.get("after"):
            await call_next()
        raise ValueError("middleware bug")

    group.get("/x")(lambda: "unreachable")

    with serve(app) as client:
        for params in ({}, {"after": "1"}):
            response = client.get("/g/x", params=params)
            assert response.status_code == 500
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "INTERNAL_SERVER_ERROR"
            assert "middleware bug" not in response.text
    assert reported == [
        ("ValueError('middleware bug')", "/g/x"),
        ("ValueError('middleware bug')", "/g/x"),
    ]


def test_an_error_in_outermost_middleware_is_a_500_too():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.use
    async def broken(ctx: Context, call_next: Any) -> Response:
        raise KeyError("oops")

    app.get("/")(lambda: "never")
    with serve(app) as client:
        assert client.get("/").status_code == 500
    assert [type(e) for e in reported] == [KeyError]


def test_middleware_returning_a_non_response_is_a_500():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    @app.use
    async def forgetful(ctx: Context, call_next: Any) -> Any:
        await call_next()
        return {"not": "a response"}

    app.get("/")(lambda: "ok")
    with serve(app) as client:
        response = client.get("/")
        assert response.status_code == 500
        assert response.headers["content-type"] == "application/problem+json"
    assert len(reported) == 1
    assert isinstance(reported[0], TypeError)
    assert "must return a Response" in str(reported[0])


def test_an_error_in_an_inner_after_hook_is_handled_by_the_outer_layer():
    events: Events = []
    app = App(log_exceptions=False)

    async def broken_after(ctx: Context) -> None:
        raise RuntimeError("after hook bug")

    async def outer_after(ctx: Context) -> None:
        events.append(f"outer.after saw {ctx.response.status} {type(ctx.error).__name__}")

    group = app.group("/g", after=[outer_after])
    group.get("/x", after=[broken_after])(lambda: "fine")

    with serve(app) as client:
        assert client.get("/g/x").status_code == 500
    assert events == ["outer.after saw 500 RuntimeError"]


def test_an_error_in_a_before_hook_is_a_500_and_reported():
    reported: list[BaseException] = []
    app = App(log_exceptions=False, on_error=[lambda error, ctx: reported.append(error)])

    async def broken(ctx: Context) -> None:
        raise ZeroDivisionError

    app.get("/", before=[broken])(lambda: "never")
    with serve(app) as client:
        assert client.get("/").status_code == 500
    assert [type(e) for e in reported] == [ZeroDivisionError]


# --- sync hooks ---------------------------------------------------------------------------------


def test_sync_hooks_work_everywhere():
    events: Events = []
    app = App()

    def sync(label: str) -> Callable[[Context], None]:
        def record(ctx: Context) -> None:
            events.append(label)

        return record

    def sync_guard(ctx: Context) -> Any:
        if ctx.request.query.get("stop"):
            return "stopped by a sync hook"
        return None

    app.before_all(sync("before_all"))
    app.after_all(sync("after_all"))
    group = app.group("/g", before=[sync("group.before"), sync_guard], after=[sync("group.after")])
    group.get("/x", before=[sync("route.before")], after=[sync("route.after")])(lambda: "ok")

    with serve(app) as client:
        assert client.get("/g/x").text == "ok"
        assert events == [
            "before_all",
            "group.before",
            "route.before",
            "route.after",
            "group.after",
            "after_all",
        ]
        assert client.get("/g/x", params={"stop": "1"}).text == "stopped by a sync hook"


# --- 404 and 405: what runs -------------------------------------------------------------------


def test_unmatched_paths_run_unscoped_app_middleware_and_unfiltered_global_hooks():
    events: Events = []
    app = App()
    app.use(middleware(events, "app.mw"))
    app.use("/panel", middleware(events, "scoped.mw"))
    app.before_all(hook(events, "before_all"))
    app.before_all(hook(events, "filtered.before_all"), include=["/panel/*"])
    app.after_all(hook(events, "after_all"))
    app.before(hook(events, "app.before"))
    group = app.group("/panel", middleware=[middleware(events, "group.mw")])
    group.get("/x")(lambda: "x")

    with serve(app) as client:
        response = client.get("/panel/missing")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert events == ["app.mw>", "before_all", "after_all", "<app.mw"]


def test_405_and_automatic_options_run_only_app_level_layers():
    events: Events = []
    app = App()
    app.use(middleware(events, "app.mw"))
    group = app.group("/api", middleware=[middleware(events, "group.mw")])
    group.get("/x")(lambda: "x")

    with serve(app) as client:
        assert client.delete("/api/x").status_code == 405
        assert events == ["app.mw>", "<app.mw"]
        events.clear()
        assert client.options("/api/x").status_code == 204
        assert events == ["app.mw>", "<app.mw"]


def test_after_all_can_decorate_404_responses():
    app = App()

    @app.after_all
    async def tag(ctx: Context) -> None:
        ctx.response.headers.set("x-served-by", "avian")

    with serve(app) as client:
        response = client.get("/nothing/here")
        assert response.status_code == 404
        assert response.headers["x-served-by"] == "avian"


# --- ASGI middleware (MW-05) -------------------------------------------------------------------


class AddHeader:
    """A plain ASGI middleware: records its name when called, adds a response header."""

    def __init__(self, app: Any, name: str, calls: list[str]) -> None:
        self.app = app
        self.name = name
        self.calls = calls

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.calls.append(self.name)

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-asgi", self.name.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


def test_asgi_middleware_wraps_the_app_first_added_outermost():
    calls: list[str] = []
    app = App()
    assert app.add_asgi_middleware(AddHeader, name="outer", calls=calls) is app
    app.add_asgi_middleware(AddHeader, name="inner", calls=calls)
    app.get("/")(lambda: "ok")

    with serve(app) as client:
        response = client.get("/")
        assert response.text == "ok"
        # The inner middleware adds its header first; the outer one wraps it.
        assert response.headers.get_list("x-asgi") == ["inner", "outer"]
        assert calls == ["outer", "inner"]
        calls.clear()
        assert client.get("/missing").headers.get_list("x-asgi") == ["inner", "outer"]


def test_asgi_middleware_on_a_group_wraps_only_its_routes():
    calls: list[str] = []
    app = App()
    app.add_asgi_middleware(AddHeader, name="app", calls=calls)
    api = app.group("/api")
    assert api.add_asgi_middleware(AddHeader, name="group", calls=calls) is api
    admin = api.group("/admin")
    admin.add_asgi_middleware(AddHeader, name="admin", calls=calls)

    @api.post("/items/{id}")
    async def create(ctx: Context, id: int) -> dict[str, Any]:
        return {"id": id, "body": await ctx.request.json(), "user": ctx.state.get("user")}

    @admin.get("/stats")
    async def stats() -> str:
        return "stats"

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    with serve(app) as client:
        response = client.post("/api/items/7", json={"a": 1})
        assert response.json() == {"id": 7, "body": {"a": 1}, "user": None}
        assert response.headers.get_list("x-asgi") == ["group", "app"]
        assert calls == ["app", "group"]
        calls.clear()
        assert client.get("/api/admin/stats").headers.get_list("x-asgi") == [
            "admin",
            "group",
            "app",
        ]
        assert calls == ["app", "group", "admin"]
        # Routes outside the group, and unmatched paths, do not pass through it.
        assert client.get("/plain").headers.get_list("x-asgi") == ["app"]
        assert client.get("/api/missing").headers.get_list("x-asgi") == ["app"]


def test_group_asgi_middleware_may_answer_by_itself():
    async def deny(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 403, "headers": []})
        await send({"type": "http.response.body", "body": b"denied"})

    class Gate:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            target = self.app if scope["path"].endswith("/open") else deny
            await target(scope, receive, send)

    app = App()
    private = app.group("/private")
    private.add_asgi_middleware(Gate)
    private.get("/open")(lambda: "open")
    private.get("/closed")(lambda: "closed")

    with serve(app) as client:
        assert client.get("/private/open").text == "open"
        closed = client.get("/private/closed")
        assert (closed.status_code, closed.text) == (403, "denied")


# --- streaming through middleware --------------------------------------------------------------


def test_a_streaming_response_passes_through_middleware_unchanged():
    app = App()
    app.use(header_mw("x-mw"))
    app.after_all(lambda ctx: ctx.response.headers.set("x-after", "1"))

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk{i};".encode()
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="text/plain")

    with serve(app) as client, client.stream("GET", "/stream") as response:
        assert response.status_code == 200
        assert response.headers["x-mw"] == "yes"
        assert response.headers["x-after"] == "1"
        assert "content-length" not in response.headers
        received = list(response.iter_raw())
    assert b"".join(received) == b"chunk0;chunk1;chunk2;"
    assert received == [b"chunk0;", b"chunk1;", b"chunk2;"]


def test_route_middleware_attached_by_decorators_runs_innermost_in_reading_order():
    from avian import route_middleware

    events: Events = []

    def mw(label: str) -> Any:
        async def record(ctx: Context, call_next: Any) -> Response:
            events.append(f"{label} in")
            response = await call_next()
            events.append(f"{label} out")
            return response

        return record

    app = App()

    @app.get("/x", middleware=[mw("route")])
    @route_middleware(mw("first"))
    @route_middleware(mw("second"))
    async def x() -> str:
        events.append("handler")
        return "x"

    with pytest.raises(ConfigurationError):
        route_middleware("not callable")  # type: ignore[arg-type]
    with serve(app) as client:
        assert client.get("/x").text == "x"
    assert events == [
        "route in",
        "first in",
        "second in",
        "handler",
        "second out",
        "first out",
        "route out",
    ]
