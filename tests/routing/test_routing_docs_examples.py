"""The Python examples in docs/routing.md and docs/middleware-and-hooks.md run.

Each page's ``python`` blocks run in order in one namespace (later blocks build on earlier
ones), then every app they created is started, so a route collision or a handler avian
cannot call fails here.  A block preceded by ``<!-- not run by the docs test ... -->`` is
skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from avian import App
from avian.testing import TestClient

DOCS = Path(__file__).resolve().parents[2] / "docs"
_BLOCK = re.compile(r"(<!-- not run[^>]*-->\n)?```python\n(.*?)```", re.DOTALL)


def python_blocks(page: str) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [code for skip, code in _BLOCK.findall(text) if not skip]


@pytest.mark.parametrize("page", ["routing.md", "middleware-and-hooks.md"])
def test_examples_run_and_their_apps_start(page):
    blocks = python_blocks(page)
    assert blocks, f"no python examples found in {page}"
    namespace: dict[str, Any] = {"__name__": f"docs_{page.replace('-', '_')}"}
    apps: list[App] = []
    for code in blocks:
        exec(compile(code, f"{page} example", "exec"), namespace)
        apps.extend(v for v in namespace.values() if isinstance(v, App) and v not in apps)
    assert apps
    for app in apps:
        with TestClient(app) as client:
            assert client.get("/definitely/not/routed").status_code in (404, 405)


def test_routing_page_examples_behave_as_described():
    namespace: dict[str, Any] = {"__name__": "docs_routing"}
    for code in python_blocks("routing.md"):
        exec(compile(code, "routing.md example", "exec"), namespace)
    app: App = namespace["app"]
    assert app.url_for("post", id=7, slug="a b/c") == "/users/7/posts/a%20b%2Fc"
    with TestClient(app) as client:
        assert client.get("/api/v1/admin/users").json() == ["ada"]
        assert client.get("/books/3").json() == {"id": 3}
        assert client.put("/things").headers["allow"] == "GET, HEAD, POST"
        assert client.delete("/legacy-endpoint").headers["allow"] == "GET"


def test_middleware_page_examples_behave_as_described():
    namespace: dict[str, Any] = {"__name__": "docs_middleware"}
    for code in python_blocks("middleware-and-hooks.md"):
        exec(compile(code, "middleware-and-hooks.md example", "exec"), namespace)
    app: App = namespace["app"]
    with TestClient(app) as client:
        response = client.get("/api/me", headers={"x-user": "ada"})
        assert response.json() == {"user": "ada"}
        assert response.headers["x-api-version"] == "1"
        assert response.headers["x-handled-by"] == "avian"
        assert response.headers["server"] == "avian"
        assert client.get("/api/me").status_code == 401
        closed = client.get("/shop", params={"day": "sunday"})
        assert (closed.status_code, closed.json()) == (403, {"error": "closed"})
        assert closed.headers["retry-after"] == "86400"
        assert client.get("/shop").json() == {"open": True}
        assert client.post("/uploads").json() == {"ok": True}
