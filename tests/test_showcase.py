"""The showcase app over the in-process test client: its pages, forms and API all answer
as the tour page says (the browser walk is in ``tests/e2e/test_showcase_browser.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from examples.showcase.app import app

from avian.testing import TestClient

CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def csrf(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def test_pages_carry_security_headers_and_a_nonce(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce
    assert f'nonce="{nonce.group(1)}"' in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "x-request-id" in response.headers


def test_login_notes_and_logout_flow(client: TestClient) -> None:
    assert client.get("/notes", follow_redirects=False).headers["location"] == "/login"
    page = client.get("/login")
    assert client.post("/login", data={"name": "Ada"}).status_code == 403  # no CSRF token
    notes = client.post("/login", data={"name": "Ada", "_csrf": csrf(page.text)})
    assert "Welcome, Ada!" in notes.text
    added = client.post("/notes", data={"text": "<b>bold</b>", "_csrf": csrf(notes.text)})
    assert "&lt;b&gt;bold&lt;/b&gt;" in added.text
    note_id = re.search(r'data-id="(\d+)"', added.text)
    assert note_id
    deleted = client.post(
        f"/notes/{note_id.group(1)}", data={"_method": "DELETE", "_csrf": csrf(added.text)}
    )
    assert "Note deleted." in deleted.text
    assert 'data-id="' not in deleted.text
    upload_page = client.get("/upload")
    stored = client.post(
        "/upload",
        data={"_csrf": csrf(upload_page.text)},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert stored.status_code == 200
    assert re.search(r'id="stored-name">[0-9a-f]{32}\.txt<', stored.text)
    refused = client.post(
        "/upload",
        data={"_csrf": csrf(upload_page.text)},
        files={"file": ("evil.exe", b"MZ", "application/octet-stream")},
    )
    assert refused.status_code == 415
    client.post("/logout", data={"_csrf": csrf(stored.text)})
    assert client.get("/notes", follow_redirects=False).status_code == 303


def test_static_cache_api_and_errors(client: TestClient) -> None:
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert (
        client.get("/static/app.css", headers={"if-none-match": css.headers["etag"]}).status_code
        == 304
    )
    assert client.get("/cached").headers["x-cache"] in ("MISS", "HIT")
    assert client.get("/cached").headers["x-cache"] == "HIT"
    assert client.get("/api/v1/users/1").json() == {
        "id": 1,
        "name": "Ada",
        "email": "ada@example.com",
    }
    assert client.get("/api/v1/users/abc").status_code == 404
    assert client.get("/api/v1/admin/stats").status_code == 401
    assert client.get("/api/v1/admin/stats?token=secret").json()["admin"] is True
    assert client.get("/teapot").json()["code"] == "I_AM_A_TEAPOT"
    boom = client.get("/boom")
    assert boom.status_code == 500
    assert "never reaches" not in boom.text
    missing = client.get("/nowhere/<script>")
    assert missing.status_code == 404
    assert "<script>" not in missing.text


def test_websockets(client: TestClient) -> None:
    with client.websocket_connect("/ws/echo") as ws:
        ws.send_text("hi")
        assert ws.receive_text() == "hi"
    with client.websocket_connect("/ws/chat") as ws:
        assert ws.receive_json() == {"event": "welcome"}
        ws.send_text("yo")
        assert ws.receive_json() == {"event": "echo", "n": 1, "message": "yo"}
