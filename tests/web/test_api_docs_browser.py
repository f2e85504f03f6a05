"""The API's documentation pages in Debian's headless Chromium against a real ``facecoach serve``: in
Swagger UI (/docs) a signed-in member's "Try it out" of a POST succeeds (the page adds the CSRF header),
ReDoc (/redoc) renders the same document, both under the site's CSP with no console error, and neither
page asks any other origin for anything. Screenshots: ``test-artifacts/screenshots/api-*.png``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.web.test_browser import Page, _page, browser, mail_sink, server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DEMO = ("member@demo.facecoach.test", "demo-member-2026")


def _watch_origins(p: Page, base: str) -> list[str]:
    """Every request the page makes to another origin (there must be none)."""
    foreign: list[str] = []

    def on_request(request: Any) -> None:
        url = request.url
        if not url.startswith((base + "/", "data:", "blob:", "about:")):
            foreign.append(url)

    p.page.on("request", on_request)
    return foreign


def _login(p: Page) -> None:
    p.go("/login")
    p.page.fill("#email", DEMO[0])
    p.page.fill("#password", DEMO[1])
    p.page.click("form[action='/login'] button[type=submit]")
    p.page.wait_for_load_state()


def test_swagger_try_it_out_of_a_post_succeeds_and_redoc_renders(browser: Any, server: str) -> None:  # noqa: F811
    p = _page(browser, server, "api")
    foreign = _watch_origins(p, server)
    _login(p)
    p.go("/docs")
    page = p.page
    block = page.locator(".opblock.opblock-post", has=page.locator("[data-path='/api/sessions']"))
    block.first.wait_for(timeout=30_000)
    block.first.locator(".opblock-summary").click()
    page.locator(".opblock.is-open .try-out__btn").click()
    body = page.locator(".opblock.is-open textarea.body-param__text")
    body.fill(json.dumps({"reps": 7, "duration_s": 90}))
    writes: list[dict[str, str]] = []
    page.on(
        "request",
        lambda r: (
            writes.append(r.headers) if r.method == "POST" and r.url.endswith("/api/sessions") else None
        ),
    )
    page.locator(".opblock.is-open .btn.execute").click()
    status = page.locator(".opblock.is-open .live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=30_000)
    p.shot("docs-try-it-out")
    assert status.inner_text().strip().startswith("201"), status.inner_text()
    assert writes and writes[0].get("x-csrf-token"), writes  # the interceptor added the header
    answer = page.locator(".opblock.is-open .live-responses-table tbody .response-col_description pre").first
    assert '"source": "manual"' in answer.inner_text()
    # The description tells how to sign in and what the refusals mean.
    info = page.locator(".information-container").inner_text()
    assert "X-CSRF-Token" in info and "Bearer" in info and "402" in info

    p.go("/redoc")
    page.get_by_role("heading", name="facecoach API").first.wait_for(timeout=30_000)
    page.get_by_text("Start a live-coaching session", exact=False).first.wait_for(timeout=30_000)
    p.shot("redoc")
    assert page.locator("[data-section-id]").count() > 10  # operations rendered, not an error box
    p.check_clean()  # no console error, no CSP violation, no failed sub-resource
    assert foreign == [], foreign


def test_redoc_and_docs_work_for_a_visitor_and_say_what_is_refused(browser: Any, server: str) -> None:  # noqa: F811
    p = Page(browser.new_context(viewport={"width": 390, "height": 844}).new_page(), server, "api-visitor")
    foreign = _watch_origins(p, server)
    p.go("/docs")
    block = p.page.locator(".opblock.opblock-get", has=p.page.locator("[data-path='/api/progress']"))
    block.first.wait_for(timeout=30_000)
    block.first.locator(".opblock-summary").click()
    p.page.locator(".opblock.is-open .try-out__btn").click()
    p.page.locator(".opblock.is-open .btn.execute").click()
    status = p.page.locator(".opblock.is-open .live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=30_000)
    assert status.inner_text().strip().startswith("401")  # signed out: documented, and said in words
    p.shot("docs-visitor")
    p.go("/redoc")
    p.page.get_by_role("heading", name="facecoach API").first.wait_for(timeout=30_000)
    p.shot("redoc-mobile")
    # The only failed request is the one tried out (the API's 401, shown in the page); nothing else.
    assert [e for e in p.errors if not e.startswith("401 ") or not e.endswith("/api/progress")] == []
    assert foreign == [], foreign
