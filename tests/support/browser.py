"""Debian's headless Chromium for every browser test (web journeys, live coaching, the CSP check): one
place that says where the binary is and which flags it starts with."""

from __future__ import annotations

import shutil
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
