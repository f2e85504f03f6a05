"""End to end in Chromium: the fake camera plays her turned head, then her still neutral face (real frames,
tests/progress/clips.py); the page runs the Face Landmarker in WebAssembly, says what to fix, captures
the still clip and sends landmarks. The stored check-in matches the Python check-in of the same frames.
Then the before/after view of two kept pictures: both aligned pictures load, the slider and blink work."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from facecoach.members.models import Checkin, CheckinPicture
from facecoach.progress.checkin import guide_frames, measure_capture
from facecoach.progress.framing import FramingRules
from facecoach.web.security import SESSION_COOKIE
from tests.live.clips import write_y4m
from tests.live.conftest import LiveApp
from tests.progress import clips
from tests.support.browser import FAKE_CAMERA, launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _padded(frames: list[np.ndarray]) -> list[np.ndarray]:
    """640×360 frames on a 640×480 picture (edge colours above and below), as a 4:3 webcam gives."""
    return [np.ascontiguousarray(np.pad(f, ((60, 60), (0, 0), (0, 0)), mode="edge")) for f in frames]


@pytest.fixture(scope="module")
def camera_frames() -> list[np.ndarray]:
    return _padded(clips.turned_frames() * 3 + clips.still_frames(6.0))


@pytest.fixture(scope="module")
def camera_file(camera_frames: list[np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_y4m(tmp_path_factory.mktemp("cam") / "checkin.y4m", camera_frames, fps=24)


def _browser(playwright_instance: Any, clip: Path) -> Any:
    return launch(
        playwright_instance,
        *FAKE_CAMERA,
        f"--use-file-for-fake-video-capture={clip}",
        "--autoplay-policy=no-user-gesture-required",
    )


def _check_in(page: Any, server: str, keep: bool) -> list[str]:
    """One guided check-in on the page; the fix codes it showed, in order (repeats collapsed)."""
    page.goto(f"{server}/checkin")
    page.wait_for_selector("#checkin[data-state='ready']", timeout=90_000)
    if keep:
        page.check("#keep-picture")
    page.click("#btn-start")
    seen: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        code = page.get_attribute("#fix", "data-code") or ""
        if code and (not seen or seen[-1] != code):
            seen.append(code)
        state = page.get_attribute("#checkin", "data-state")
        if state in ("done", "error"):
            break
        time.sleep(0.05)
    assert page.get_attribute("#checkin", "data-state") == "done", (seen, page.inner_text("#checkin-error"))
    return seen


def test_the_page_guides_captures_and_sends_only_landmarks(
    playwright_instance: Any,
    server: str,
    live_app: LiveApp,
    camera_file: Path,
    camera_frames,
    rules: FramingRules,
) -> None:
    browser = _browser(playwright_instance, camera_file)
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        cookie = live_app.member()
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server}])
        page = context.new_page()
        bodies: list[int] = []
        page.on("request", lambda r: bodies.append(len(r.post_data or "")) if r.method == "POST" else None)
        seen = _check_in(page, server, keep=False)
        assert "capturing" in seen and page.get_attribute("#fix", "data-code") == "done"
        # The fake camera starts with the camera, at her turned head: the page said which way to turn.
        assert seen.index("turned_right") < seen.index("capturing"), seen
        assert "Check-in stored" in page.inner_text("#result")
    finally:
        browser.close()
    uid = live_app.member_id(cookie)
    with live_app.db.session() as s:
        (row,) = s.scalars(select(Checkin).where(Checkin.user_id == uid))
        assert s.scalars(select(CheckinPicture).where(CheckinPicture.user_id == uid)).first() is None
    stored = row.measures
    # 13 frames at 6/s when the page keeps up; on a loaded machine (a frame is taken per page tick at
    # most) the capture goes on until it has min_frames. One body, landmarks only: no video was sent.
    assert rules.min_frames <= stored["frames"] <= 13 and len(bodies) == 1 and bodies[0] < 2_000_000
    # The Python check-in of the same frames (same model, same rules) measures the same face.
    python = measure_capture(guide_frames(clips.timed(camera_frames), rules).frames)
    for key, value in python.values.items():
        assert stored["values"][key] == pytest.approx(value, abs=0.6), key


def test_before_and_after_of_two_kept_pictures(
    playwright_instance: Any, server: str, live_app: LiveApp, camera_file: Path
) -> None:
    browser = _browser(playwright_instance, camera_file)
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        cookie = live_app.member()
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": server}])
        page = context.new_page()
        for _ in range(2):
            _check_in(page, server, keep=True)
            assert "picture kept" in page.inner_text("#result")
        page.goto(f"{server}/progress/compare")
        page.wait_for_selector("#stack-after")
        sizes = page.evaluate(
            """() => ['img-before', 'img-after'].map((id) => {
                const im = document.getElementById(id);
                return [im.complete, im.naturalWidth, im.naturalHeight];
            })"""
        )
        assert sizes[0] == sizes[1] and sizes[0][0] and sizes[0][1] > 100, sizes
        page.fill("#compare-slider", "20")
        page.dispatch_event("#compare-slider", "input")
        assert (
            page.evaluate("document.getElementById('stack-after').style.clipPath") == "inset(0px 80% 0px 0px)"
        )
        page.click("#compare-blink")
        assert page.get_attribute("#compare-blink", "aria-pressed") == "true"
        shown = set()
        for _ in range(20):
            shown.add(page.get_attribute("#stack-after", "data-shown"))
            time.sleep(0.1)
        assert shown == {"0", "100"}
        rows = page.locator("#pair-changes tbody tr")
        assert rows.count() == 8
        # Two check-ins of one still face: no measure has changed beyond noise.
        assert page.locator("#pair-changes tr[data-beyond='yes']").count() == 0
    finally:
        browser.close()
