"""End to end in Chromium with hands (issue 13): the fake camera plays a real hand (cut out of a real video
with GrabCut) stroking over a real face photo (``tests/live/hand_clips.py``); the page runs the Face and
Hand Landmarkers in WebAssembly and streams landmark frames with the hands block to a real uvicorn server.

* Three outward strokes on each cheek: the cheek-release step completes from the strokes the server saw
  (its 90 s timer is far from over), the page shows the count and moves on, the session is saved with
  the step completed and the strokes per side.
* The same strokes towards the nose: the page shows the direction cue ("… towards your ear") as the
  strokes happen, and the step is not completed.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from facecoach.config import LiveSettings
from facecoach.live.protocol import HANDS_MESSAGE_BYTES, LandmarkFrame, decode_frame
from facecoach.members.models import PracticeSession
from facecoach.web.security import SESSION_COOKIE
from tests.live.clips import write_y4m
from tests.live.conftest import LiveApp
from tests.live.hand_clips import MASSAGE, load_scene, massage_clip
from tests.support.browser import FAKE_CAMERA, launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "live"
SIDE = 512


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> tuple[np.ndarray, np.ndarray, Any]:
    return load_scene(shared_data)


def _clip_file(scene: tuple, folder: Path, inwards: bool) -> Path:
    clip = massage_clip(*scene, inwards=inwards)
    name = "inwards" if inwards else "outwards"
    return write_y4m(folder / f"{name}.y4m", clip.frames, fps=clip.fps, width=SIDE, height=SIDE)


@pytest.fixture(scope="module")
def outwards_file(scene: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clip_file(scene, tmp_path_factory.mktemp("hands"), inwards=False)


@pytest.fixture(scope="module")
def inwards_file(scene: tuple, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _clip_file(scene, tmp_path_factory.mktemp("hands"), inwards=True)


def _run(
    playwright_instance: Any, server: str, live: LiveApp, clip: Path, name: str, stop_on_cue: str | None
) -> dict[str, Any]:
    browser = launch(
        playwright_instance,
        *FAKE_CAMERA,
        f"--use-file-for-fake-video-capture={clip}",
        "--autoplay-policy=no-user-gesture-required",
    )
    events: list[dict[str, Any]] = []
    hand_frames: list[int] = []  # hands seen in each landmark frame the page sent with the hands block
    sizes: set[int] = set()

    def received(payload: str | bytes) -> None:
        msg = json.loads(payload)
        events.extend(msg.get("events", []))

    def sent(payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            sizes.add(len(payload))
            if len(payload) == HANDS_MESSAGE_BYTES:
                frame = decode_frame(payload, LiveSettings())
                assert isinstance(frame, LandmarkFrame) and frame.hands is not None
                hand_frames.append(len(frame.hands))

    try:
        context = browser.new_context(viewport={"width": 1200, "height": 1000})
        context.add_cookies([{"name": SESSION_COOKIE, "value": live.member(), "url": server}])
        page = context.new_page()
        logs: list[str] = []
        page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
        page.on("websocket", lambda ws: (ws.on("framesent", sent), ws.on("framereceived", received)))
        page.goto(f"{server}/live?technique={MASSAGE}")
        page.wait_for_selector("#live[data-state='ready']", timeout=90_000)
        hands_on = page.get_attribute("#live", "data-hands")
        hands_in = page.get_attribute("#live", "data-hands-in")
        page.click("#btn-start")
        page.wait_for_selector("#massage-view:not([hidden])", timeout=20_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + 100
        cues: set[str] = set()
        counts: list[str] = []
        fps: list[str | None] = []
        timing: list[str | None] = []  # the page's own account of a frame's time (data-frame-ms)
        shot = False
        while page.get_attribute("#live", "data-state") == "running":
            if time.monotonic() > deadline:
                page.screenshot(path=str(ARTIFACTS / f"{name}-timeout.png"), full_page=True)
                page.click("#btn-end")
                break
            cues.update(page.eval_on_selector_all("#m-cues li", "els => els.map(e => e.textContent)"))
            counts.append(page.inner_text("#m-count"))
            fps.append(page.get_attribute("#live", "data-fps"))
            timing.append(
                f"{page.get_attribute('#live', 'data-frame-ms')}"
                f" camera {page.get_attribute('#live', 'data-camera-fps')} frames/s"
            )
            if not shot and page.locator("#stroke-map .seen-stroke").count() >= 2:
                page.screenshot(path=str(ARTIFACTS / f"{name}-strokes.png"), full_page=True)
                shot = True
            if stop_on_cue and any(stop_on_cue in c for c in cues):
                page.screenshot(path=str(ARTIFACTS / f"{name}-cue.png"), full_page=True)
                page.click("#btn-end")
                break
            time.sleep(0.25)
        page.wait_for_selector("#live[data-state='finished']", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / f"{name}-summary.png"), full_page=True)
        got = {
            "hands_on": hands_on,
            "hands_in": hands_in,
            "pressure_note": page.inner_text("#m-pressure-note"),
            "cues": sorted(cues),
            "counts": counts,
            "summary": json.loads(page.get_attribute("#live", "data-summary") or "{}"),
            "events": [e for e in events if e["type"] in ("stroke", "fault", "finished", "stroke_count")],
            "hand_frames": hand_frames,
            "fps": fps,
            "timing": timing[::8],
            "sizes": sorted(sizes),
            "logs": logs[-40:],
        }
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(got, indent=1))
        return got
    finally:
        browser.close()


#: The frame rate the stroke cutter needs to see these 1 s strokes and their 0.12 s returns: in Python the
#: same clip gives every stroke at 15 frames/s and none at 8; with the hands in the page's worker, this
#: test at a median 12.5 frames/s (load average 11–13) got 7 good strokes of the 3 + 3 a pass in 100 s of
#: the looping clip and never completed, so below 15 the checks are a figure of the machine, not a pass
#: (the cutter's 0.2 s speed window needs 3 frames: at 11 frames/s and its 0.2–0.3 s stalls it starves).
#: Since the page's pipeline (branch live-pipe) it reaches 15 and more. Two faults of the stroke cutter
#: kept these checks off until branch strokes fixed them (facecoach/coaching/strokes.py, its docstring):
#: a hand found again sat on a wrong fit that then snapped 20–25 mm into place, cut as a 23 mm stroke
#: "down" (`stroke_direction` on the outwards clip): a track's first frames now settle, and a jump in them
#: drops what came before; a 0.12 s return seen in two frames read under `return_mm_s` and was counted as
#: an inwards stroke: a return is now judged on the fastest speed its frames allow.
MIN_FPS = 15.0


def _needs_the_rate(got: dict[str, Any]) -> None:
    """Skip (saying the measured rate) where this machine runs the page's two models too slowly for
    strokes to be cut: a figure of the machine, not a pass. The checks above this call hold at any rate."""
    rates = sorted(float(f) for f in got["fps"] if f not in (None, ""))
    median = rates[len(rates) // 2] if rates else 0.0
    if median < MIN_FPS:
        pytest.skip(
            f"the page ran face + hands at {median:.1f} frames/s here; the stroke checks run from"
            f" {MIN_FPS:.0f} (see MIN_FPS)"
        )


def _last_id(live: LiveApp) -> int:
    with live.db.session() as s:
        return max([0, *s.scalars(select(PracticeSession.id))])


def test_a_massage_step_completes_from_the_strokes_seen(
    playwright_instance: Any, server: str, live_app: LiveApp, outwards_file: Path
) -> None:
    live_app.limits()
    before = _last_id(live_app)
    got = _run(
        playwright_instance, server, live_app, outwards_file, f"hands-out-{uuid.uuid4().hex[:6]}", None
    )
    assert got["hands_on"] == "on", got["logs"]
    assert got["hands_in"] == "worker", got["logs"]  # on the other core (static/live/hands-worker.js)
    assert not [line for line in got["logs"] if line.startswith("pageerror")], got["logs"]
    # Hands went out in the hands block, and the page's Hand Landmarker found the pasted hand.
    assert len(got["hand_frames"]) > 50 and sum(n > 0 for n in got["hand_frames"]) > 0.5 * len(
        got["hand_frames"]
    )
    assert "cannot see pressure" in got["pressure_note"]
    _needs_the_rate(got)
    strokes = [e for e in got["events"] if e["type"] == "stroke" and e["kind"] == "stroke"]
    good = [e for e in strokes if not e["faults"]]
    assert {e["side"] for e in good} == {"right", "left"}, strokes
    assert all(e["direction"] == "outwards" for e in good), good
    assert [e["type"] for e in got["events"]].count("finished") == 1, got["events"]
    assert any("your right: 3 of 3" in c and "your left: 3 of 3" in c for c in got["counts"]), got["counts"][
        -5:
    ]
    assert not any("towards your ear" in c for c in got["cues"]), got["cues"]
    assert got["summary"]["saved"] is True, got["summary"]
    with live_app.db.session() as s:
        row = s.scalars(select(PracticeSession).where(PracticeSession.id > before)).one()
    step = row.summary["steps"][0]
    assert step["technique_id"] == MASSAGE and step["completed"] is True and step["skipped"] is False
    assert step["strokes"]["right"] >= 3 and step["strokes"]["left"] >= 3, step
    # Completed long before its 90 s: from the strokes, not the timer.
    assert step["duration_s"] < 60, step


def test_a_wrong_direction_clip_shows_the_cue(
    playwright_instance: Any, server: str, live_app: LiveApp, inwards_file: Path
) -> None:
    live_app.limits()
    before = _last_id(live_app)
    got = _run(
        playwright_instance,
        server,
        live_app,
        inwards_file,
        f"hands-in-{uuid.uuid4().hex[:6]}",
        "towards your ear",
    )
    assert not [line for line in got["logs"] if line.startswith("pageerror")], got["logs"]
    _needs_the_rate(got)
    assert any("towards your ear" in c for c in got["cues"]), (got["cues"], got["events"][-10:])
    faults = [e for e in got["events"] if e["type"] == "fault"]
    assert faults and {f["kind"] for f in faults} <= {"stroke_direction", "stroke_pace", "stroke_region"}, (
        faults
    )
    assert "finished" not in [e["type"] for e in got["events"]][:-1] or not got["summary"].get("saved")
    with live_app.db.session() as s:
        rows = list(s.scalars(select(PracticeSession).where(PracticeSession.id > before)))
    assert not rows or rows[0].summary["steps"][0]["completed"] is False
