"""The showcase driven by a real browser: headless Chromium (Debian's ``chromium``) through
Playwright, against the app served by ``avian run`` in a subprocess.

It walks the flow a person would: the page loads its CSS and scripts under the CSP nonce,
logs in through a CSRF-protected form (session cookie, flash message), adds and deletes a
note (the delete form uses the ``_method`` override), uploads a file and logs out.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]

if not os.path.exists(CHROMIUM):
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Flags for a root user on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "avian", "run", "examples.showcase.app:app", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                if proc.poll() is not None:
                    break
                continue
            if "avian listening on " in line:
                url = line.split("avian listening on ", 1)[1].strip()
                break
        assert url, "the showcase did not start"
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()


def test_a_visitor_logs_in_writes_notes_uploads_and_logs_out(base_url: str, tmp_path: Path) -> None:
    upload = tmp_path / "hello.txt"
    upload.write_text("hello from the browser\n")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            csp_errors: list[str] = []
            page.on(
                "console",
                lambda msg: (
                    csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None
                ),
            )

            page.goto(base_url + "/")
            assert page.title() == "home · avian showcase"
            # The inline script (nonce) and the external script both ran under the CSP.
            assert page.evaluate("document.documentElement.dataset.js") == "on"
            assert page.evaluate("document.documentElement.dataset.app") == "ready"
            # The stylesheet from /static applied.
            assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"

            page.click("#login-link")
            page.fill("#name", "Ada")
            page.click("#login-form button[type=submit]")
            page.wait_for_url("**/notes")
            assert "Welcome, Ada!" in page.inner_text(".flashes")
            assert "Ada" in page.inner_text("nav .who")

            page.fill("#note-text", "buy <milk>")
            page.click("#note-form button[type=submit]")
            page.wait_for_selector(".note")
            assert page.inner_text(".note span") == "buy <milk>"  # escaped, shown as text

            page.click(".note button.delete")  # POST with _method=DELETE
            page.wait_for_selector(".empty")
            assert "Note deleted." in page.inner_text(".flashes")

            page.goto(base_url + "/upload")
            page.set_input_files("#file", str(upload))
            page.click("#upload-form button[type=submit]")
            stored = page.inner_text("#stored-name")
            assert stored.endswith(".txt")
            assert stored != "hello.txt"  # the server chose the name

            page.click("#logout")
            page.wait_for_selector("#login-link")
            page.goto(base_url + "/notes")
            page.wait_for_url("**/login")
            assert "Log in first." in page.inner_text(".flashes")
            assert csp_errors == []
        finally:
            browser.close()
