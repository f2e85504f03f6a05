"""Fixtures for the live-coaching tests: one headless Chromium per test session, real faces."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
STATIC_LIVE = Path(__file__).resolve().parents[2] / "facecoach" / "web" / "static" / "live"


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `apt-get install -y chromium` (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def static_page(playwright_instance: Any) -> Iterator[Any]:
    """A page on a fake origin that serves ``facecoach/web/static/live/`` (ES modules need an origin)."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=BASE_ARGS)
    page = browser.new_page()

    def serve(route: Any) -> None:
        name = route.request.url.split("/live-static/", 1)[-1].split("?")[0]
        path = STATIC_LIVE / name
        if name == "index.html":
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")
        elif path.is_file() and path.resolve().parent == STATIC_LIVE.resolve():
            route.fulfill(status=200, content_type="text/javascript", body=path.read_text())
        else:
            route.fulfill(status=404, body="")

    page.route("http://facecoach.test/live-static/**", serve)
    page.goto("http://facecoach.test/live-static/index.html")
    yield page
    browser.close()
