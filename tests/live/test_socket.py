"""The live-coaching WebSocket over the real app (Starlette TestClient): both modes end to end on a real
face with known reps and a known fault, authentication, and every kind of bad message.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from facecoach.live.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    CLOSE_UNAUTHENTICATED,
    HEADER,
    LANDMARK_MESSAGE_BYTES,
    encode_jpeg,
    encode_landmarks,
    encode_no_face,
)
from facecoach.members.models import PracticeSession
from facecoach.web.security import SESSION_COOKIE
from tests.live.conftest import LandmarkedClip, LiveApp

FAST = {"max_fps": 100_000, "burst_frames": 100_000}  # the tests send frames faster than real time


def _client(live: LiveApp, cookie: str | None) -> TestClient:
    client = TestClient(live.app)
    if cookie is not None:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client


def _closed(ws: Any) -> tuple[int, str]:
    """Read until the server closes; the close code and reason."""
    while True:
        try:
            msg = ws.receive()
        except WebSocketDisconnect as exc:
            return exc.code, exc.reason
        if msg["type"] == "websocket.close":
            return int(msg.get("code", 1000)), str(msg.get("reason", ""))


def _hello(ws: Any) -> dict[str, Any]:
    msg = ws.receive_json()
    assert msg["type"] == "hello"
    return msg


def _landmark_messages(clip: LandmarkedClip) -> Iterator[bytes]:
    for seq, (ts, pts, shapes, crease) in enumerate(clip.frames, start=1):
        if pts is None:
            yield encode_no_face(seq, ts * 1000, (640, 480))
        else:
            yield encode_landmarks(seq, ts * 1000, (640, 480), pts, shapes, crease)


def _run(ws: Any, messages: Iterator[bytes]) -> list[dict[str, Any]]:
    """Send every frame, collect every event (one reply per frame), stop once the step finished."""
    events: list[dict[str, Any]] = []
    for data in messages:
        ws.send_bytes(data)
        reply = ws.receive_json()
        assert reply["type"] == "frame"
        events += reply["events"]
        if any(e["type"] == "finished" for e in reply["events"]):
            break
    return events


def _check_smile_run(events: list[dict[str, Any]], clip: LandmarkedClip) -> None:
    kinds = [e["type"] for e in events]
    assert kinds.count("calibrated") == 1
    assert kinds.count("rep_done") == 2
    assert kinds[-1] == "finished"
    faults = [e for e in events if e["type"] == "fault"]
    assert {f["kind"] for f in faults} == {"forehead_wrinkle"}
    # The creases are painted in the second hold: 2.5 s rest + (0.4 lift + 5.6 hold + 0.4 release + 1.6 rest)
    # + 0.4 lift → from 10.9 s of clip time (the step's clock starts at the first frame, clip time 0).
    onset = min(f["start_s"] for f in faults)
    assert 10.9 - 0.5 <= onset <= 10.9 + 0.5, onset


def test_landmark_mode_counts_reps_flags_the_fault_and_saves_the_session(
    live_app: LiveApp, smile_clip: LandmarkedClip
) -> None:
    live_app.limits(**FAST)
    cookie = live_app.member()
    with _client(live_app, cookie) as client, client.websocket_connect("/live/ws") as ws:
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "landmarks", "reps": 2}))
        step = ws.receive_json()
        assert step == {**step, "type": "step", "technique_id": "smile-lift", "reps": 2, "hold_s": 5.0}
        events = _run(ws, _landmark_messages(smile_clip))
        _check_smile_run(events, smile_clip)
        ws.send_text(json.dumps({"type": "finish"}))
        end = ws.receive_json()
        while end["type"] != "summary":
            end = ws.receive_json()
        assert _closed(ws)[0] == CLOSE_NORMAL
    assert end["saved"] is True
    summary = end["summary"]
    assert summary["reps"] == 2 and summary["faults"] == {"forehead_wrinkle": 1}
    assert summary["mode"] == "landmarks" and summary["technique_ids"] == ["smile-lift"]
    with live_app.db.session() as s:
        row = s.scalars(select(PracticeSession).where(PracticeSession.id == end["id"])).one()
        assert row.user_id == live_app.member_id(cookie)
        assert row.reps == 2 and row.faults == {"forehead_wrinkle": 1} and row.technique_ids == ["smile-lift"]


def test_jpeg_mode_runs_the_python_landmarker_on_the_server(
    live_app: LiveApp, smile_clip: LandmarkedClip
) -> None:
    live_app.limits(**FAST)
    cookie = live_app.member()

    def jpegs() -> Iterator[bytes]:
        for seq, rgb in enumerate(smile_clip.clip.frames, start=1):
            ok, buf = cv2.imencode(
                ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90]
            )
            assert ok
            yield encode_jpeg(seq, seq / smile_clip.clip.fps * 1000, (640, 480), buf.tobytes())

    with _client(live_app, cookie) as client, client.websocket_connect("/live/ws") as ws:
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg", "reps": 2}))
        assert ws.receive_json()["type"] == "step"
        frames = jpegs()
        events = _run(ws, frames)
        # Every reply with a face carries the server's landmarks (x, y px), for the page's overlay.
        ws.send_bytes(next(frames))
        reply = ws.receive_json()
        seq = reply["seq"]
        points = np.array(reply["points"]).reshape(478, 2)
        reference = smile_clip.frames[seq - 1][1]
        assert reference is not None
        assert np.median(np.linalg.norm(points - reference[:, :2], axis=1)) < 3.0  # px, after JPEG
        ws.send_text(json.dumps({"type": "finish"}))
        end = ws.receive_json()
        while end["type"] != "summary":
            end = ws.receive_json()
    _check_smile_run(events, smile_clip)
    assert end["saved"] and end["summary"]["mode"] == "jpeg" and end["summary"]["reps"] == 2


def test_massage_step_is_timed_and_skip_is_recorded(live_app: LiveApp) -> None:
    live_app.limits(**FAST)
    cookie = live_app.member()
    with _client(live_app, cookie) as client, client.websocket_connect("/live/ws") as ws:
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "smile-lift"}))
        assert ws.receive_json()["type"] == "step"
        ws.send_text(json.dumps({"type": "skip"}))
        skipped = ws.receive_json()
        assert skipped["type"] == "step_end" and skipped["skipped"] is True and skipped["reps"] == 0
        massage = next(t for t in _library().techniques.values() if t.kind == "massage")
        ws.send_text(json.dumps({"type": "start", "technique": massage.id}))
        assert ws.receive_json()["kind"] == "massage"
        ws.send_text(json.dumps({"type": "done"}))
        done = ws.receive_json()
        # Issue 11: the page's "done" ends the step; only the server's clock of frames completes it
        # (tests/live/test_socket_hardening.py), so this one is not completed and nothing is saved.
        assert done["type"] == "step_end" and done["completed"] is False
        ws.send_text(json.dumps({"type": "finish"}))
        end = ws.receive_json()
    assert end["type"] == "summary" and end["saved"] is False
    assert [s["technique_id"] for s in end["summary"]["steps"]] == ["smile-lift", massage.id]
    assert end["summary"]["reps"] == 0


def _library() -> Any:
    from facecoach.knowledge.library import load_library

    return load_library()


# -- who may connect ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [(None, CLOSE_UNAUTHENTICATED), ("free", CLOSE_FORBIDDEN), ("forged", CLOSE_UNAUTHENTICATED)],
)
def test_only_members_may_connect(live_app: LiveApp, who: str | None, code: int) -> None:
    cookie = None if who is None else ("not-a-signed-session" if who == "forged" else live_app.member(who))
    with _client(live_app, cookie) as client, client.websocket_connect("/live/ws") as ws:
        assert _closed(ws)[0] == code


def test_cross_site_connections_are_refused(live_app: LiveApp) -> None:
    cookie = live_app.member()
    with _client(live_app, cookie) as client:
        with client.websocket_connect("/live/ws", headers={"origin": "https://evil.example"}) as ws:
            assert _closed(ws) == (CLOSE_POLICY, "cross-site connection refused")
        with client.websocket_connect("/live/ws", headers={"origin": "http://testserver"}) as ws:
            _hello(ws)


# -- bad clients -------------------------------------------------------------------------------------------


def _good_frame(seq: int = 1, ts_ms: float = 0.0) -> bytearray:
    pts = np.tile(np.array([[320.0, 240.0, 0.0]]), (478, 1))
    return bytearray(encode_landmarks(seq, ts_ms, (640, 480), pts, {"jawOpen": 0.2}, 1.5))


def _nan_points() -> bytes:
    data = _good_frame()
    data[HEADER.size : HEADER.size + 4] = np.float32(math.nan).tobytes()
    return bytes(data)


def _bad_blendshape() -> bytes:
    data = _good_frame()
    off = HEADER.size + 478 * 3 * 4
    data[off : off + 4] = np.float32(7.0).tobytes()
    return bytes(data)


def _header(**fields: Any) -> bytes:
    values = {"version": 1, "kind": 1, "flags": 0, "seq": 1, "ts": 0.0, "w": 640, "h": 480} | fields
    head = HEADER.pack(
        values["version"],
        values["kind"],
        values["flags"],
        values["seq"],
        values["ts"],
        values["w"],
        values["h"],
    )
    return head + bytes(_good_frame())[HEADER.size :]


BAD_MESSAGES: list[tuple[str, Any, int]] = [
    ("short binary", b"\x01\x01", CLOSE_POLICY),
    ("wrong version", _header(version=9), CLOSE_POLICY),
    ("unknown kind", _header(kind=7), CLOSE_POLICY),
    ("NaN timestamp", _header(ts=math.nan), CLOSE_POLICY),
    ("zero-size frame", _header(w=0), CLOSE_POLICY),
    ("truncated landmarks", bytes(_good_frame())[:-8], CLOSE_POLICY),
    ("landmarks too long", bytes(_good_frame()) + b"\0" * 8, CLOSE_TOO_BIG),
    ("NaN landmark", _nan_points(), CLOSE_POLICY),
    ("blendshape out of range", _bad_blendshape(), CLOSE_POLICY),
    ("oversized message", b"\x01\x03" + b"\0" * 2_000_000, CLOSE_TOO_BIG),
    ("not a JPEG", encode_jpeg(1, 0.0, (640, 480), b"GIF89a" + b"\0" * 100), CLOSE_POLICY),
    ("no-face with payload", encode_no_face(1, 0.0, (640, 480)) + b"x", CLOSE_POLICY),
    ("text not JSON", "hello?", CLOSE_POLICY),
    ("JSON not an object", "[1, 2]", CLOSE_POLICY),
    ("unknown control", json.dumps({"type": "explode"}), CLOSE_POLICY),
    ("extra field", json.dumps({"type": "pause", "admin": True}), CLOSE_POLICY),
    ("unknown technique", json.dumps({"type": "start", "technique": "no-such-thing"}), CLOSE_POLICY),
    ("bad technique id", json.dumps({"type": "start", "technique": "../../etc"}), CLOSE_POLICY),
    ("huge control", json.dumps({"type": "start", "technique": "x" * 5000}), CLOSE_TOO_BIG),
    ("bad reps", json.dumps({"type": "start", "technique": "smile-lift", "reps": -3}), CLOSE_POLICY),
    ("repeat before start", json.dumps({"type": "repeat"}), CLOSE_POLICY),
]


@pytest.mark.parametrize(("label", "message", "code"), BAD_MESSAGES, ids=[m[0] for m in BAD_MESSAGES])
def test_malformed_messages_close_with_a_reason(
    live_app: LiveApp, label: str, message: Any, code: int
) -> None:
    live_app.limits(**FAST)
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        if isinstance(message, str):
            ws.send_text(message)
        else:
            ws.send_bytes(message)
        got, reason = _closed(ws)
    assert got == code, (label, reason)
    assert reason  # every close says why


def test_sequence_and_time_must_move_forward(live_app: LiveApp) -> None:
    live_app.limits(**FAST)
    for second in (_good_frame(seq=1, ts_ms=50.0), _good_frame(seq=2, ts_ms=10.0)):
        with (
            _client(live_app, live_app.member(fresh=False)) as client,
            client.websocket_connect("/live/ws") as ws,
        ):
            _hello(ws)
            ws.send_text(json.dumps({"type": "start", "technique": "smile-lift"}))
            ws.receive_json()
            ws.send_bytes(bytes(_good_frame(seq=1, ts_ms=40.0)))
            assert ws.receive_json()["type"] == "frame"
            ws.send_bytes(bytes(second))
            code, reason = _closed(ws)
            assert code == CLOSE_POLICY and ("sequence" in reason or "backwards" in reason)


def test_too_fast_clients_are_closed_and_others_carry_on(
    live_app: LiveApp, smile_clip: LandmarkedClip
) -> None:
    """Above the frame-rate limit a client is closed (1008); a well-behaved one beside it is not disturbed."""
    live_app.limits(max_fps=60, burst_frames=30)
    frames = list(_landmark_messages(smile_clip))
    with (
        _client(live_app, live_app.member()) as good_client,
        good_client.websocket_connect("/live/ws") as good,
    ):
        _hello(good)
        good.send_text(json.dumps({"type": "start", "technique": "smile-lift"}))
        good.receive_json()
        with (
            _client(live_app, live_app.member()) as bad_client,
            bad_client.websocket_connect("/live/ws") as bad,
        ):
            _hello(bad)
            bad.send_text(json.dumps({"type": "start", "technique": "smile-lift"}))
            bad.receive_json()
            for data in frames[:200]:  # as fast as the loop can go: far above 60 fps
                bad.send_bytes(data)
            code, reason = _closed(bad)
            assert code == CLOSE_POLICY and "frames per second" in reason
        # The good client keeps its session: a few paced frames are answered.
        for data in frames[:5]:
            good.send_bytes(data)
            assert good.receive_json()["type"] == "frame"
        good.send_text(json.dumps({"type": "ping"}))
        assert good.receive_json() == {"type": "pong"}


def test_jpeg_mode_capacity_is_a_setting(live_app: LiveApp) -> None:
    live_app.limits(max_jpeg_sessions=1, **FAST)
    with _client(live_app, live_app.member()) as c1, c1.websocket_connect("/live/ws") as first:
        _hello(first)
        first.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg"}))
        assert first.receive_json()["type"] == "step"
        with _client(live_app, live_app.member()) as c2, c2.websocket_connect("/live/ws") as second:
            _hello(second)
            second.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg"}))
            assert _closed(second)[0] == CLOSE_TRY_LATER
    # The slot is free again once the first connection ended.
    with _client(live_app, live_app.member()) as c3, c3.websocket_connect("/live/ws") as third:
        _hello(third)
        third.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg"}))
        assert third.receive_json()["type"] == "step"


def test_landmark_message_size_is_documented() -> None:
    assert LANDMARK_MESSAGE_BYTES == 20 + (478 * 3 + 52 + 1) * 4 == 5968


def test_repeat_restarts_the_step_and_pause_ignores_frames(
    live_app: LiveApp, smile_clip: LandmarkedClip
) -> None:
    live_app.limits(**FAST)
    msgs = list(_landmark_messages(smile_clip))
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "smile-lift", "reps": 1}))
        ws.receive_json()
        events = _run(ws, iter(msgs[:40]))  # 2.7 s of rest: calibrated
        assert [e["type"] for e in events].count("calibrated") == 1
        ws.send_text(json.dumps({"type": "pause"}))
        assert ws.receive_json() == {"type": "state", "paused": True}
        paused = _run(ws, iter(msgs[40:134]))  # the first rep happens while paused: not counted
        assert paused == []
        ws.send_text(json.dumps({"type": "repeat"}))
        again = ws.receive_json()
        assert again["type"] == "step" and again["reps"] == 1
        events = _run(ws, iter(msgs[134:]))  # rest from 8.9 s: a fresh calibration, then rep 2 counts
        kinds = [e["type"] for e in events]
        assert kinds.count("calibrated") == 1 and kinds.count("rep_done") == 1 and kinds[-1] == "finished"
        ws.send_text(json.dumps({"type": "finish"}))
        end = ws.receive_json()
    assert [s["reps"] for s in end["summary"]["steps"]] == [1]  # the repeated attempt replaced the first


def test_idle_connections_are_closed(live_app: LiveApp) -> None:
    live_app.limits(idle_timeout_s=0.5, **FAST)
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        started = time.monotonic()
        code, reason = _closed(ws)
    assert code == CLOSE_POLICY and "idle" in reason
    assert time.monotonic() - started < 5


def _jpeg_of(width: int, height: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    return buf.tobytes()


def test_jpeg_frames_must_be_the_size_they_claim(live_app: LiveApp) -> None:
    """A JPEG whose own header declares another (e.g. huge) size is refused before it is decoded."""
    live_app.limits(**FAST)
    big = _jpeg_of(4000, 3000)  # 12 Mpx of flat grey: a small file, a big decode
    assert len(big) < 400_000
    for payload, claimed in ((big, (640, 480)), (_jpeg_of(320, 240), (640, 480))):
        with (
            _client(live_app, live_app.member(fresh=False)) as client,
            client.websocket_connect("/live/ws") as ws,
        ):
            _hello(ws)
            ws.send_text(json.dumps({"type": "start", "technique": "smile-lift", "mode": "jpeg"}))
            ws.receive_json()
            ws.send_bytes(encode_jpeg(1, 0.0, claimed, payload))
            code, reason = _closed(ws)
        assert code == CLOSE_POLICY and "not the JPEG the header says" in reason, reason


def test_ending_an_exercise_early_does_not_complete_it(live_app: LiveApp, smile_clip: LandmarkedClip) -> None:
    live_app.limits(**FAST)
    msgs = list(_landmark_messages(smile_clip))
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": "smile-lift", "reps": 2}))
        ws.receive_json()
        events = _run(ws, iter(msgs[:60]))  # calibrated, the first rep under way (4 s of clip)
        assert [e["type"] for e in events][:2] == ["calibrated", "rep_started"]
        ws.send_text(json.dumps({"type": "finish"}))
        end = ws.receive_json()
    step = end["summary"]["steps"][0]
    assert step["completed"] is False and step["reps"] == 0
    assert end["saved"] is False


def test_the_app_applies_its_own_live_settings_and_the_environment_sets_the_default(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Settings: ``FACECOACH_LIVE_*`` still set its ``live`` section, and an app built with its own
    Settings applies those limits, whatever the environment says (before: the socket read a fresh
    ``LiveSettings()`` from the environment unless a test planted one in ``ctx.extra``)."""
    from facecoach.config import LiveSettings, Settings
    from facecoach.web.app import create_app

    monkeypatch.setenv("FACECOACH_LIVE_MAX_FPS", "24")
    monkeypatch.setenv("FACECOACH_LIVE_MAX_STEPS", "7")
    from_env = Settings(database_url=live_app.settings.database_url, redis_url="").live
    assert (from_env.max_fps, from_env.max_steps, from_env.burst_frames) == (24.0, 7, 30)
    own = live_app.settings.model_copy(update={"live": LiveSettings(max_fps=9.0)})
    app = create_app(own, database=live_app.db)
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, live_app.member(fresh=False))
    with client, client.websocket_connect("/live/ws") as ws:
        assert _hello(ws)["max_fps"] == 9.0
    page = client.get("/live?technique=smile-lift")
    assert page.status_code == 200 and '"max_fps": 9.0' in page.text
