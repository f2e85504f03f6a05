"""Shared fixtures: real faces, the shared data folder, one landmarker per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.browser import require_chromium

#: Fixture modules shared across test directories: databases (SQLite and PostgreSQL), the web site with
#: its accounts, and a real Redis.
pytest_plugins = [
    "tests.members.dbs",
    "tests.web.fixtures",
    "tests.web.ux_site",
    "tests.reliability.support",
]

REPO = Path(__file__).resolve().parents[1]
# Starlette's TestClient sends "Host: testserver": the tests' apps answer it besides the default hosts
# (the base URL's and the loopback names; as Django's test runner adds "testserver" to ALLOWED_HOSTS).
os.environ.setdefault("FACECOACH_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real face photos and videos (see its MANIFEST.md)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: shared/ must sit beside the repository")
    return SHARED_DATA


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """A real frontal face photo shipped inside scikit-image (512×512 RGB)."""
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def image_landmarker() -> Iterator[object]:
    from facecoach.vision.landmarks import FaceLandmarker

    with FaceLandmarker(mode="image", max_faces=2) as lm:
        yield lm


# Module scope, not session: a sync Playwright left running blocks every other sync Playwright in the same
# test worker (other directories' browser tests land on it under xdist --dist loadfile).
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    """A sync Playwright for the browser tests (start Chromium with ``tests.support.browser.launch``)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw
