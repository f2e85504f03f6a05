"""Debian's headless Chromium for every browser test (web journeys, live coaching, the CSP check): one
place that says where the binary is and which flags it starts with."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox (containers), no GPU, nothing in the background that could make a test slow or flaky.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")


def require_chromium() -> None:
    """Fail (not skip) without the browser: a missing browser must not pass as a green suite."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `apt-get install -y chromium` (make test does it)")


def launch(playwright: Any, *extra_args: str) -> Any:
    """A headless Chromium from a sync Playwright, with the shared flags plus ``extra_args``."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


STATIC_DIR = Path(__file__).resolve().parents[2] / "facecoach" / "web" / "static"


@contextlib.contextmanager
def static_module_page(playwright: Any, folder: str) -> Iterator[Any]:
    """A page on a fake origin serving the page scripts of ``facecoach/web/static/<folder>/`` (ES modules
    need an origin), for tests that run the page's own code on known inputs without the app."""
    static = STATIC_DIR / folder
    browser = launch(playwright)
    page = browser.new_page()
    prefix = f"http://facecoach.test/{folder}-static/"

    def serve(route: Any) -> None:
        name = route.request.url.split(prefix, 1)[-1].split("?")[0]
        path = static / name
        if name == "index.html":
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>t</title>")
        elif path.is_file() and path.resolve().parent == static.resolve():
            route.fulfill(status=200, content_type="text/javascript", body=path.read_text())
        else:
            route.fulfill(status=404, body="")

    page.route(prefix + "**", serve)
    page.goto(prefix + "index.html")
    try:
        yield page
    finally:
        browser.close()
