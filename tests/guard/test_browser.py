"""End to end in Chromium: the fake camera plays a warped real face (tests/guard/clips.py) to /guard on a
real uvicorn server; the page runs the Face Landmarker in WebAssembly and its own detector at 1 frame/s.

* a held frown, then a second one half a minute later: one nudge (the second is inside the interval);
  the saved counts equal the page's own; every request the page made is recorded, and none carries a
  frame or a landmark (no WebSocket, no binary body, only settings and counts of the allowed shape);
* raised brows: one nudge, for raised brows; nothing is uploaded while "keep my counts" is off;
* a neutral face: no nudge at all;
* a frown held while a second person sits at the desk, then a dark room, then nobody: no nudge, each state
  shown, nothing counted, and no model run on the dark frames.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from facecoach.guard.rules import guard_rules
from facecoach.members.models import GuardHour, GuardSetting
from facecoach.web.security import SESSION_COOKIE
from tests.guard.clips import render_hold, woman_at_rest
from tests.live.clips import write_y4m
from tests.support.browser import FAKE_CAMERA, launch

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FPS = 2  # of the clip files; the page samples 1 frame/s
COUNT_KEYS = {"client_id", "hours"}
HOUR_KEYS = {"day", "hour", "measured_s", "habit_s", "nudges"}


@dataclass
class GuardSite:
    app: Any
    db: Any
    settings: Any
    url: str = ""
    members: dict[str, int] = field(default_factory=dict)

    def member(self, **guard: Any) -> tuple[str, int]:
        """A new member (signed in: the session cookie value) with these guard settings."""
        from facecoach.members.auth import create_user, start_session
        from facecoach.web.security import Signer

        with self.db.session() as s:
            user = create_user(
                s, f"guard-{uuid.uuid4().hex[:10]}@example.com", "correct horse battery", plan="member"
            )
            if guard:
                s.add(GuardSetting(user_id=user.id, **guard))
            sid = start_session(s, user).id
            uid = user.id
        return Signer(self.settings.secret_key).sign(sid), uid


@pytest.fixture(scope="module")
def guard_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuardSite]:
    import uvicorn

    from facecoach.config import Settings
    from facecoach.members.db import Database
    from facecoach.members.migrate import upgrade
    from facecoach.web.app import create_app

    folder = tmp_path_factory.mktemp("guard-db")
    url = f"sqlite:///{folder / 'guard.db'}"
    settings = Settings(
        database_url=url, data_dir=folder, secret_key="guard-" + uuid.uuid4().hex, redis_url=""
    )
    db = Database.connect(url)
    upgrade(db)
    site = GuardSite(create_app(settings, database=db), db, settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(site.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    site.url = f"http://127.0.0.1:{port}"
    yield site
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


def _clip(
    tmp: Path, base_faces: dict[str, tuple[np.ndarray, np.ndarray]], habit: str | None, **kw: Any
) -> Path:
    clip = render_hold(*base_faces["astronaut"], habit, fps=FPS, **kw)
    return write_y4m(tmp / f"{habit or 'neutral'}.y4m", clip.frames, fps=FPS)


@dataclass
class Run:
    nudges: int
    habits: list[str]
    held_back: str | None
    counts: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    sockets: list[str]
    states: set[str]
    logs: list[str]
    frames: int  # frames the page read
    landmarked: int  # of them, frames the landmarker ran on
    wasm_bytes: int | None  # the landmarker's WebAssembly memory as the page reports it (the bench reads it)


def _watch(
    playwright: Any, site: GuardSite, clip: Path, cookie: str, seconds: float, upload: bool = False
) -> Run:
    browser = launch(playwright, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip}")
    try:
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": site.url}])
        page = context.new_page()
        requests: list[dict[str, Any]] = []
        sockets: list[str] = []
        logs: list[str] = []
        page.on(
            "request",
            lambda r: requests.append({"method": r.method, "url": r.url, "body": r.post_data_buffer}),
        )
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
        page.goto(f"{site.url}/guard")
        page.wait_for_selector("#guard[data-state='ready']", timeout=90_000)
        page.click("#guard-start")
        page.wait_for_selector("#guard[data-calibrated='true']", timeout=30_000)
        states: set[str] = set()
        habits: list[str] = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            states.add(page.get_attribute("#guard", "data-state") or "")
            last = page.get_attribute("#guard", "data-last-nudge")
            if last and len(habits) < int(page.get_attribute("#guard", "data-nudges") or 0):
                habits.append(last)
            time.sleep(0.5)
        if upload:
            before = int(page.get_attribute("#guard", "data-uploads") or 0)
            page.evaluate("window.facecoachGuard.upload()")
            page.wait_for_function(
                f"Number(document.getElementById('guard').dataset.uploads || 0) > {before}", timeout=10_000
            )
        page.get_attribute("#guard", "data-state")
        frames, landmarked, wasm_bytes = page.evaluate(
            "[window.facecoachGuard.frames(), window.facecoachGuard.landmarked(),"
            " window.facecoachGuard.wasmBytes()]"
        )
        return Run(
            nudges=int(page.get_attribute("#guard", "data-nudges") or 0),
            habits=habits,
            held_back=page.get_attribute("#guard", "data-held-back"),
            counts=json.loads(page.get_attribute("#guard", "data-counts") or "[]"),
            requests=requests,
            sockets=sockets,
            states=states,
            logs=logs,
            frames=frames,
            landmarked=landmarked,
            wasm_bytes=wasm_bytes,
        )
    finally:
        browser.close()


def _long_number_lists(value: Any) -> int:
    """The longest list of numbers anywhere in a JSON value (a landmark frame would be ≥ 478 × 3)."""
    if isinstance(value, list):
        own = len(value) if value and all(isinstance(v, int | float) for v in value) else 0
        return max([own, *(_long_number_lists(v) for v in value)])
    if isinstance(value, dict):
        return max([0, *(_long_number_lists(v) for v in value.values())])
    return 0


def _assert_only_counts_left(run: Run, site: GuardSite) -> list[dict[str, Any]]:
    """No WebSocket; GETs carry nothing; POSTs only to the settings or counts, as small JSON of counts."""
    assert run.sockets == []
    posted = []
    for r in run.requests:
        if r["method"] == "GET":
            assert r["body"] in (None, b""), r["url"]
            assert "?" not in r["url"] or r["url"].split("?", 1)[0].endswith(".task"), r["url"]
            continue
        assert r["method"] == "POST", r
        assert r["url"] in (f"{site.url}/guard/counts", f"{site.url}/guard/settings"), r["url"]
        assert len(r["body"]) < 8000
        body = json.loads(r["body"].decode("utf-8"))  # JSON text, not a binary frame
        assert _long_number_lists(body) < 30
        if r["url"].endswith("/guard/counts"):
            assert set(body) == COUNT_KEYS and all(set(h) == HOUR_KEYS for h in body["hours"])
            assert all(isinstance(v, int | float) for h in body["hours"] for v in h["habit_s"].values())
            posted.append(body)
    return posted


def test_a_held_frown_is_nudged_once_and_only_counts_leave_the_page(
    playwright_instance: Any, guard_site: GuardSite, base_faces: Any, tmp_path: Path
) -> None:
    clip = _clip(tmp_path, base_faces, "frown", rest_s=10.0, hold_s=14.0, after_s=3.0, repeats=2)
    cookie, uid = guard_site.member(save_counts=True)
    run = _watch(playwright_instance, guard_site, clip, cookie, seconds=48.0, upload=True)
    assert run.nudges == 1 and run.habits == ["frown"], (run.habits, run.logs[-10:])
    assert run.held_back == "interval"  # the second frown was seen held, and not nudged
    posted = _assert_only_counts_left(run, guard_site)
    assert posted, "the counts were uploaded"
    assert sum(b["nudges"].get("frown", 0) for b in run.counts) == 1
    frown_s = sum(b["habit_s"].get("frown", 0.0) for b in run.counts)
    assert frown_s >= 2 * 5.0  # two frowns, each held past the 10 s hold
    with guard_site.db.session() as s:
        rows = s.scalars(select(GuardHour).where(GuardHour.user_id == uid)).all()
        saved = {(r.day.isoformat(), r.hour): r for r in rows}
    for b in run.counts:  # the saved counts match the page's own (up to what happened since the upload)
        row = saved[(b["day"], b["hour"])]
        assert row.nudges == b["nudges"]
        assert row.habit_s.get("frown", 0.0) == pytest.approx(b["habit_s"].get("frown", 0.0), abs=1.5)
        assert row.measured_s == pytest.approx(b["measured_s"], abs=1.5)


def test_raised_brows_are_nudged_and_nothing_is_uploaded_without_the_opt_in(
    playwright_instance: Any, guard_site: GuardSite, base_faces: Any, tmp_path: Path
) -> None:
    clip = _clip(tmp_path, base_faces, "brow_raise", rest_s=10.0, hold_s=14.0, after_s=6.0)
    cookie, _uid = guard_site.member()
    run = _watch(playwright_instance, guard_site, clip, cookie, seconds=24.0)
    assert run.nudges == 1 and run.habits == ["brow_raise"], (run.habits, run.logs[-10:])
    assert _assert_only_counts_left(run, guard_site) == []
    assert not any(r["url"].endswith("/guard/counts") for r in run.requests)


def test_a_neutral_face_is_never_nudged(
    playwright_instance: Any, guard_site: GuardSite, base_faces: Any, tmp_path: Path
) -> None:
    clip = _clip(tmp_path, base_faces, None, rest_s=10.0, hold_s=14.0, after_s=10.0)
    cookie, _uid = guard_site.member()
    run = _watch(playwright_instance, guard_site, clip, cookie, seconds=24.0)
    assert run.nudges == 0 and "watching" in run.states, (run.states, run.logs[-10:])
    assert sum(b["measured_s"] for b in run.counts) >= 15.0
    assert all(b["habit_s"] == {} for b in run.counts)
    _assert_only_counts_left(run, guard_site)
    # the bench's memory soak reads the landmarker's WebAssembly memory through this (16 MiB at least: the
    # model alone is ~3.6 MB, and a WebAssembly memory grows in 64 KiB pages)
    assert run.wasm_bytes is not None and run.wasm_bytes >= 16 * 2**20 and run.wasm_bytes % 65536 == 0


def _second_person(frame: np.ndarray, woman: np.ndarray) -> np.ndarray:
    """``frame`` with the woman of the real clip (her face, 0.6 ×) in the lower right corner."""
    crop = cv2.resize(woman[70:410, 300:590], None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA)
    out = frame.copy()
    out[480 - crop.shape[0] :, 640 - crop.shape[1] :] = crop
    return out


def test_no_nudge_with_two_people_in_the_dark_or_with_nobody(
    playwright_instance: Any, guard_site: GuardSite, base_faces: Any, shared_data: Path, tmp_path: Path
) -> None:
    """The held frown of the first test, but a second person sits down a second before it starts and stays
    to its end; then the room goes dark (luma × 0.1), then nobody is at the desk, then the member is back.
    Alone, this frown is nudged (the first test): here it must not be, nor counted."""
    clip = render_hold(*base_faces["astronaut"], "frown", fps=FPS, rest_s=10.0, hold_s=14.0, after_s=2.0)
    woman = woman_at_rest(str(shared_data / "woman_expressions_24fps.mp4"))
    frames = [_second_person(f, woman) if 9.0 <= i / FPS < 25.5 else f for i, f in enumerate(clip.frames)]
    rest = clip.frames[0]
    frames += [(rest * 0.1).astype(np.uint8)] * (4 * FPS)  # the light goes off
    frames += [np.full_like(rest, 128)] * (4 * FPS)  # nobody at the desk
    frames += [rest] * (4 * FPS)
    path = write_y4m(tmp_path / "two_people.y4m", frames, fps=FPS)
    cookie, _uid = guard_site.member()
    run = _watch(playwright_instance, guard_site, path, cookie, seconds=36.0)
    assert run.nudges == 0, (run.habits, run.logs[-10:])
    assert {"two_faces", "dark", "no_face", "watching"} <= run.states, run.states
    assert all(b["habit_s"] == {} for b in run.counts), run.counts
    assert run.landmarked < run.frames  # the dark frames were not landmarked
    _assert_only_counts_left(run, guard_site)


#: a battery the test controls, in place of navigator.getBattery (headless Chromium reports a charging
#: battery at 100 %): a BatteryManager-like EventTarget whose level and charging state the test sets
BATTERY_SHIM = """
(() => {
  const battery = new EventTarget();
  battery.level = 1.0;
  battery.charging = true;
  navigator.getBattery = () => Promise.resolve(battery);
  window.__setBattery = (level, charging) => {
    battery.level = level;
    battery.charging = charging;
    battery.dispatchEvent(new Event("levelchange"));
    battery.dispatchEvent(new Event("chargingchange"));
  };
})();
"""
#: headless Chromium never hides a tab: the page is told it is hidden the way a browser tells it
HIDE = """(hidden) => {
  Object.defineProperty(document, "visibilityState",
    {get: () => (hidden ? "hidden" : "visible"), configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _intervals_s(page: Any, after: int, count: int, timeout_s: float) -> list[float]:
    """Seconds between the page's own frame times, for ``count`` frames measured after frame ``after``."""
    deadline = time.monotonic() + timeout_s
    while page.evaluate("window.facecoachGuard.frames()") < after + count:
        assert time.monotonic() < deadline, f"fewer than {count} frames in {timeout_s} s"
        time.sleep(0.2)
    times = page.evaluate("window.facecoachGuard.frameTimes()")
    new = times[-(page.evaluate("window.facecoachGuard.frames()") - after) :][:count]
    return [(b - a) / 1000 for a, b in itertools.pairwise(new)]


def test_the_page_backs_off_when_hidden_and_on_a_low_battery(
    playwright_instance: Any, guard_site: GuardSite, base_faces: Any, tmp_path: Path
) -> None:
    """The rates of habits.yaml (1, hidden 0.5, low battery 0.25 frames/s), read from the page's own frame
    times: a frame can come later than scheduled on a loaded machine, never earlier, so the backed-off
    phases are checked by their shortest interval and the visible one by being faster than them."""
    sampling = guard_rules().sampling
    clip = _clip(tmp_path, base_faces, None, rest_s=10.0, hold_s=4.0, after_s=2.0)
    cookie, _uid = guard_site.member()
    browser = launch(playwright_instance, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip}")
    try:
        context = browser.new_context()
        context.add_init_script(BATTERY_SHIM)
        context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": guard_site.url}])
        page = context.new_page()
        page.goto(f"{guard_site.url}/guard")
        page.wait_for_selector("#guard[data-state='ready']", timeout=90_000)
        page.click("#guard-start")
        page.wait_for_selector("#guard[data-calibrated='true']", timeout=60_000)
        g = "window.facecoachGuard"
        assert page.evaluate(f"{g}.framePath()") == "track"  # frames from the track, not the <video>
        assert page.evaluate(f"{g}.fps()") == sampling.fps

        visible = _intervals_s(page, page.evaluate(f"{g}.frames()"), 5, 30)
        page.evaluate(HIDE, True)
        assert page.evaluate(f"{g}.fps()") == sampling.hidden_fps
        hidden = _intervals_s(page, page.evaluate(f"{g}.frames()") + 1, 4, 40)

        page.evaluate("window.__setBattery(0.1, false)")  # hidden and low: the lowest rate applies
        page.wait_for_function(f"{g}.lowBattery()", timeout=5_000)
        assert page.evaluate(f"{g}.fps()") == min(sampling.hidden_fps, sampling.low_battery_fps)
        page.evaluate(HIDE, False)
        assert page.evaluate(f"{g}.fps()") == sampling.low_battery_fps
        low = _intervals_s(page, page.evaluate(f"{g}.frames()") + 1, 3, 60)

        page.evaluate("window.__setBattery(0.1, true)")  # plugged in: back to the full rate
        page.wait_for_function(f"!{g}.lowBattery()", timeout=5_000)
        assert page.evaluate(f"{g}.fps()") == sampling.fps
        assert page.evaluate(f"{g}.phase()") == "watching"
    finally:
        browser.close()
    assert min(hidden) >= 0.95 / sampling.hidden_fps, hidden
    assert min(low) >= 0.95 / sampling.low_battery_fps, low
    assert sorted(visible)[len(visible) // 2] < min(hidden), (visible, hidden)
