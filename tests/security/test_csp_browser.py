"""The Content-Security-Policy in a real Chromium: every main page loads without one violation, and the
live page still runs the Face Landmarker in the page (WASM under 'wasm-unsafe-eval', its workers)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from facecoach.members import auth, migrate
from facecoach.members.db import Database
from tests.reliability.support import free_port, serve, stop, unique, wait_up
from tests.support.browser import FAKE_CAMERA, launch, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "security"
PASSWORD = "a good long password"
RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""

SOCKET_PROBE = """url => new Promise(resolve => {
  let ws;
  try { ws = new WebSocket(url); } catch (e) { resolve("blocked"); return; }
  ws.onopen = () => { ws.close(); resolve("open"); };
  ws.onerror = () => resolve(window.__csp.some(v => v.startsWith("connect-src")) ? "blocked" : "error");
  setTimeout(() => resolve("timeout"), 5000);
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("csp")
    url = f"sqlite:///{tmp / 'csp.db'}"
    db = Database.connect(url)
    migrate.upgrade(db)
    with db.session() as s:
        auth.create_user(s, "csp@example.org", PASSWORD, plan="member")
    db.dispose()
    port = free_port()
    log = tmp / "server.log"
    proc = serve(url, port, log, FACECOACH_DATA_DIR=str(tmp), FACECOACH_SECRET_KEY=unique("k"))
    try:
        wait_up(proc, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def _browse(server: str) -> tuple[dict[str, Any], list[str], str | None, str, str, list[str]]:
    """Drive Chromium through the pages (in its own thread: another Playwright may own this one's loop)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, *FAKE_CAMERA)
        try:
            page = browser.new_page()
            page.add_init_script(RECORD)
            messages: list[str] = []
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.goto(f"{server}/login")
            page.fill("input[name=email]", "csp@example.org")
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            seen: dict[str, Any] = {}
            for path in ("/", "/library", "/muscles", "/checker", "/membership", "/progress", "/account"):
                page.goto(server + path)
                page.wait_for_load_state("networkidle")
                seen[path] = page.evaluate("window.__csp")
            page.goto(f"{server}/live?technique=smile-lift")
            page.wait_for_selector(
                "#live-mode[data-mode='landmarks'], #live-mode[data-mode='jpeg']", timeout=90_000
            )
            mode = page.get_attribute("#live-mode", "data-mode")
            seen["/live"] = page.evaluate("window.__csp")
            # The page's own socket opens; a socket to any other host is blocked by connect-src.
            own = page.evaluate(
                SOCKET_PROBE, page.url.replace("http", "ws", 1).split("/live")[0] + "/live/ws"
            )
            foreign = page.evaluate(SOCKET_PROBE, "ws://203.0.113.9:9/steal")
            blocked = page.evaluate("window.__csp")
            page.screenshot(path=str(ARTIFACTS / "live-under-csp.png"))
        finally:
            browser.close()
    return seen, messages, mode, own, foreign, blocked


def test_pages_run_under_the_csp(server: str) -> None:
    require_chromium()
    with ThreadPoolExecutor(1) as pool:
        seen, messages, mode, own, foreign, blocked = pool.submit(_browse, server).result(timeout=300)
    csp_console = [m for m in messages if "Content Security Policy" in m and "203.0.113.9" not in m]
    assert all(v == [] for v in seen.values()), seen
    assert csp_console == [], csp_console
    assert own == "open", own
    assert foreign == "blocked" and any(v.startswith("connect-src") for v in blocked), (foreign, blocked)
    assert mode == "landmarks", "the in-page landmarker did not start under the CSP:\n" + "\n".join(
        messages[-20:]
    )
