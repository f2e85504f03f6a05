"""End to end in Chromium: the fake camera plays a real face doing 2 smile lifts (forehead creases in the
second hold), the page runs the Face Landmarker in WebAssembly, computes the crease energy in JavaScript
and streams landmark frames to a real uvicorn server. The page must show 2 reps and the forehead cue, and
the saved session must say the same. A second run forces server mode (JPEG frames).

The fake camera loops the clip; the page stops the exercise after the prescribed reps (2, asked for with
``reps=2``), which the clip reaches in its first pass, so the loop never matters.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from facecoach.config import LiveSettings
from facecoach.live.protocol import (
    HANDS_MESSAGE_BYTES,
    HEADER,
    LANDMARK_MESSAGE_BYTES,
    LandmarkFrame,
    decode_frame,
    max_message_bytes,
)
from facecoach.members.models import PracticeSession
from facecoach.web.security import SESSION_COOKIE
from tests.live.clips import Clip, write_y4m
from tests.live.conftest import LiveApp
from tests.support.browser import FAKE_CAMERA, launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "live"


@pytest.fixture(scope="module")
def clip_file(smile_frames: Clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clip")
    return write_y4m(folder / "smile.y4m", smile_frames.frames, fps=round(smile_frames.fps))


def _run_page(
    playwright_instance: Any, server: str, live: LiveApp, clip: Path, reps: int, query: str, name: str
) -> dict[str, Any]:
    browser = launch(
        playwright_instance,
        *FAKE_CAMERA,
        f"--use-file-for-fake-video-capture={clip}",
        "--autoplay-policy=no-user-gesture-required",
    )
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": live.member(), "url": server}])
        page = context.new_page()
        logs: list[str] = []
        page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
        sent_sizes: list[int] = []  # every binary message the page sent on the coaching socket

        timeline: list[dict[str, Any]] = []  # the server's events, to read when an assertion fails

        def received(payload: str | bytes) -> None:
            msg = json.loads(payload)
            for ev in msg.get("events", []):
                if ev.get("type") != "hold_progress":
                    timeline.append(ev)

        creases: list[tuple[float, float | None]] = []  # (ms, crease energy) the page computed

        def sent(payload: str | bytes) -> None:
            if isinstance(payload, bytes):
                sent_sizes.append(len(payload))
                if len(payload) in (LANDMARK_MESSAGE_BYTES, HANDS_MESSAGE_BYTES):
                    frame = decode_frame(payload, LiveSettings())
                    assert isinstance(frame, LandmarkFrame)
                    creases.append((frame.header.timestamp_ms, frame.face.crease_energy))

        def watch(ws: Any) -> None:
            ws.on("framesent", sent)
            ws.on("framereceived", received)

        page.on("websocket", watch)
        page.goto(f"{server}/live?technique=smile-lift&reps={reps}{query}")
        page.wait_for_selector("#live[data-state='ready']", timeout=60_000)
        mode_text = page.inner_text("#live-mode")
        page.check("#voice")
        page.click("#btn-start")
        page.wait_for_selector("#live[data-state='running']", timeout=20_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shots = 0
        mid_shot = False
        deadline = time.monotonic() + 90
        reps_seen: list[str] = []
        cues_seen: set[str] = set()
        while page.get_attribute("#live", "data-state") == "running":
            if time.monotonic() > deadline:
                page.screenshot(path=str(ARTIFACTS / f"{name}-timeout.png"))
                raise AssertionError("the session did not finish in time:\n" + "\n".join(logs[-30:]))
            reps_seen.append(page.inner_text("#rep-count"))
            cues_seen.update(page.eval_on_selector_all("#cues li", "els => els.map(e => e.textContent)"))
            if page.locator("#cues li").count() and shots < 1:
                page.screenshot(path=str(ARTIFACTS / f"{name}-fault.png"))
                shots += 1
            if not mid_shot and reps_seen[-1] == "0" and "Hold" in page.inner_text("#prompt"):
                page.screenshot(path=str(ARTIFACTS / f"{name}-hold.png"))
                mid_shot = True
            time.sleep(0.25)
        page.wait_for_selector("#live[data-state='finished']", timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / f"{name}-summary.png"), full_page=True)
        got = {
            "mode_text": mode_text,
            "mode": page.get_attribute("#live-mode", "data-mode"),
            "reps_shown": page.inner_text("#rep-count"),
            "reps_seen": reps_seen,
            "cues": cues_seen
            | set(page.eval_on_selector_all("#cues li", "els => els.map(e => e.textContent)")),
            "summary": json.loads(page.get_attribute("#live", "data-summary") or "{}"),
            "rows": page.eval_on_selector_all("#summary-rows tr", "els => els.map(e => e.innerText)"),
            "logs": logs,
            "sent_sizes": sorted(set(sent_sizes)),
            "sent_count": len(sent_sizes),
            "timeline": timeline,
            "creases": creases,
        }
        # Kept beside the screenshots: what the page showed, to read when an assertion fails.
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(got, default=sorted, indent=1))
        return got
    finally:
        browser.close()


def _saved(live: LiveApp, after_id: int) -> PracticeSession:
    with live.db.session() as s:
        rows = list(s.scalars(select(PracticeSession).where(PracticeSession.id > after_id)))
    assert len(rows) == 1
    return rows[0]


def _last_id(live: LiveApp) -> int:
    with live.db.session() as s:
        return max([0, *s.scalars(select(PracticeSession.id))])


def test_live_page_counts_reps_and_flags_the_fault(
    playwright_instance: Any, server: str, live_app: LiveApp, clip_file: Path
) -> None:
    from facecoach.web.app import TASKS_VISION_DIR

    if not (TASKS_VISION_DIR / "vision_bundle.mjs").is_file():
        pytest.fail(f"{TASKS_VISION_DIR} is missing: run `npm ci` (make install does) for the in-page model")
    live_app.limits()  # the real limits: 60 fps, burst 30
    before = _last_id(live_app)
    got = _run_page(
        playwright_instance, server, live_app, clip_file, 2, "", f"landmarks-{uuid.uuid4().hex[:6]}"
    )
    assert got["mode"] == "landmarks", got["mode_text"]
    assert got["reps_shown"] == "2", got
    assert "1" in got["reps_seen"], got["reps_seen"]  # counted one by one
    assert any("forehead" in c.lower() for c in got["cues"]), got["cues"]
    assert got["summary"]["saved"] is True and got["summary"]["reps"] == 2
    assert got["summary"]["faults"] == {"forehead_wrinkle": 1}
    assert any("Smile lift" in r and "2 / 2" in r and "forehead" in r.lower() for r in got["rows"]), got[
        "rows"
    ]
    row = _saved(live_app, before)
    assert row.reps == 2 and row.faults == {"forehead_wrinkle": 1} and row.summary["mode"] == "landmarks"
    assert not [line for line in got["logs"] if line.startswith("pageerror")], got["logs"]
    # Privacy: in this mode only landmark frames (5968 bytes; 6488 with the hands block, looked for at a
    # low rate in an exercise so "hands down" can be said) and no-face headers (20) left the page.
    allowed = {LANDMARK_MESSAGE_BYTES, HANDS_MESSAGE_BYTES, HEADER.size}
    assert got["sent_count"] > 100 and set(got["sent_sizes"]) <= allowed, got


def test_server_mode_when_asked(
    playwright_instance: Any, server: str, live_app: LiveApp, clip_file: Path
) -> None:
    """``?mode=jpeg``: the page says so, sends JPEG frames, and the server's landmarker counts the first,
    clean rep (faults in JPEG mode are covered frame-exactly by the socket tests)."""
    live_app.limits()
    before = _last_id(live_app)
    got = _run_page(
        playwright_instance, server, live_app, clip_file, 1, "&mode=jpeg", f"jpeg-{uuid.uuid4().hex[:6]}"
    )
    assert got["mode"] == "jpeg" and "Server mode" in got["mode_text"], got["mode_text"]
    assert got["reps_shown"] == "1", got
    assert got["summary"]["saved"] is True and got["summary"]["reps"] == 1
    # No fault the clip does not make. Its second rep creases the forehead; with one rep asked the session
    # ends as rep 1 is released, but on a loaded machine JPEG mode runs behind the fake camera (which
    # plays on in real time), so the start of rep 2's creases may be seen before the end (it failed so
    # under a 2-core full suite): whether it is counted is timing, not the server's judgement.
    assert set(got["summary"]["faults"]) <= {"forehead_wrinkle"}, got["summary"]
    row = _saved(live_app, before)
    assert row.reps == 1 and row.summary["mode"] == "jpeg"
    assert max(got["sent_sizes"]) > 10_000  # JPEG frames did go to the server in this mode


def test_page_falls_back_to_server_mode_when_the_model_cannot_load(
    playwright_instance: Any, server: str, live_app: LiveApp
) -> None:
    browser = launch(playwright_instance)
    try:
        context = browser.new_context()
        context.add_cookies([{"name": SESSION_COOKIE, "value": live_app.member(fresh=False), "url": server}])
        page = context.new_page()
        page.route("**/static/vendor/tasks-vision/**", lambda route: route.abort())
        page.goto(f"{server}/live?technique=smile-lift")
        page.wait_for_selector("#live[data-state='ready']", timeout=30_000)
        assert page.get_attribute("#live-mode", "data-mode") == "jpeg"
        assert "could not run in this browser" in page.inner_text("#live-mode")
    finally:
        browser.close()


def test_massage_step_shows_the_strokes_and_a_timer(
    playwright_instance: Any, server: str, live_app: LiveApp
) -> None:
    """A massage: stroke paths with direction arrows on the face outline, pressure and tool cues, a timer
    that runs and pauses; skipping it ends the session with nothing completed."""
    from facecoach.knowledge.library import load_library

    massage = next(
        t
        for t in load_library().techniques.values()
        if t.massage is not None and t.massage.strokes and t.tool != "hands"
    )
    browser = launch(playwright_instance, *FAKE_CAMERA)
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": live_app.member(fresh=False), "url": server}])
        page = context.new_page()
        page.goto(f"{server}/live?technique={massage.id}&mode=jpeg")
        page.wait_for_selector("#live[data-state='ready']", timeout=30_000)
        page.click("#btn-start")
        page.wait_for_selector("#massage-view:not([hidden])", timeout=20_000)
        strokes = page.locator("#stroke-map path.stroke")
        assert strokes.count() >= len(massage.massage.strokes)  # type: ignore[union-attr]
        assert strokes.first.get_attribute("marker-end") == "url(#arrow-0)"
        assert page.inner_text("#m-pressure") == massage.massage.pressure  # type: ignore[union-attr]
        assert massage.tool.replace("_", " ") in page.inner_text("#m-tool")
        assert page.inner_text("#step-reason")
        first = page.inner_text("#timer")
        deadline = time.monotonic() + 5
        while page.inner_text("#timer") == first:
            assert time.monotonic() < deadline, "the massage timer does not run"
            time.sleep(0.1)
        page.click("#btn-pause")
        paused_at = page.inner_text("#timer")
        time.sleep(1.5)
        assert page.inner_text("#timer") == paused_at
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "massage.png"), full_page=True)
        page.click("#btn-skip")
        page.wait_for_selector("#live[data-state='finished']", timeout=20_000)
        assert json.loads(page.get_attribute("#live", "data-summary") or "{}")["saved"] is False
    finally:
        browser.close()


def test_the_server_never_buffers_a_huge_message(server: str, live_app: LiveApp) -> None:
    """uvicorn itself refuses a message above the largest the protocol allows (1009), before the app."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = server.replace("http", "ws", 1) + "/live/ws"
    cookie = live_app.member(fresh=False)
    with connect(url, additional_headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, max_size=None) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
        ws.send(b"\x01\x03" + b"\0" * (max_message_bytes(LiveSettings()) + 1))
        try:
            while True:
                ws.recv(timeout=10)
        except ConnectionClosed as exc:
            assert exc.rcvd is not None and exc.rcvd.code == 1009


def test_repeat_and_end_during_an_exercise(
    playwright_instance: Any, server: str, live_app: LiveApp, clip_file: Path
) -> None:
    """Repeat restarts the exercise with a fresh calibration (page and server agree); ending the session
    early saves nothing when nothing was done."""
    browser = launch(playwright_instance, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip_file}")
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": live_app.member(fresh=False), "url": server}])
        page = context.new_page()
        calibrations: list[float] = []

        def received(payload: str | bytes) -> None:
            for ev in json.loads(payload).get("events", []):
                if ev.get("type") == "calibrated":
                    calibrations.append(ev["t_s"])

        page.on("websocket", lambda ws: ws.on("framereceived", received))
        page.goto(f"{server}/live?technique=smile-lift&mode=jpeg")
        page.wait_for_selector("#live[data-state='ready']", timeout=30_000)
        page.click("#btn-start")
        page.wait_for_function(
            "() => document.getElementById('prompt').textContent.startsWith('Go')", timeout=20_000
        )
        page.click("#btn-repeat")
        assert page.inner_text("#prompt").startswith("Again")
        assert page.inner_text("#rep-count") == "0"
        page.wait_for_function(
            "() => document.getElementById('prompt').textContent.startsWith('Go')", timeout=20_000
        )
        assert len(calibrations) == 2  # the server calibrated afresh for the repeated attempt
        page.click("#btn-end")
        page.wait_for_selector("#live[data-state='finished']", timeout=20_000)
        assert json.loads(page.get_attribute("#live", "data-summary") or "{}")["saved"] is False
    finally:
        browser.close()
