"""A massage over the socket with real hands (issue 13): the real hand of ``tests/live/hand_clips.py`` run
through the Python Face and Hand Landmarkers at the page's 15 frames a second, sent as landmark frames
with the hands block. The step completes from the strokes (3 good ones a side), long before its timer;
the same strokes inwards raise ``stroke_direction`` with its cue at once and never complete it; frames
without hands for longer than the massage's duration complete nothing (no timer)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facecoach.live.protocol import encode_landmarks
from tests.live.hand_clips import MASSAGE, load_scene, massage_clip
from tests.live.test_socket import FAST, _client, _hello

PAGE_FPS = 15.0


def _tracked(clip: Any) -> list[bytes]:
    from facecoach.vision.hands import HandTracker
    from facecoach.vision.landmarks import FaceLandmarker

    out = []
    with HandTracker(mode="video") as ht, FaceLandmarker(mode="video", max_faces=1) as fl:
        n = int(clip.duration_s * PAGE_FPS)
        for k in range(n):
            t = k / PAGE_FPS
            rgb = clip.frames[int(t * clip.fps)]
            faces = fl.detect(rgb, t).faces
            hands = [(h.score, h.label, h.points_px) for h in ht.detect(rgb, t).hands]
            if faces:
                f = faces[0]
                out.append(
                    encode_landmarks(k + 1, t * 1000, (512, 512), f.points_px, f.blendshapes, None, hands)
                )
    return out


@pytest.fixture(scope="module")
def scene(shared_data: Path) -> tuple:
    return load_scene(shared_data)


@pytest.fixture(scope="module")
def outwards(scene: tuple) -> list[bytes]:
    return _tracked(massage_clip(*scene))


@pytest.fixture(scope="module")
def inwards(scene: tuple) -> list[bytes]:
    return _tracked(massage_clip(*scene, inwards=True))


def _massage(live_app: Any, frames: list[bytes]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    live_app.limits(**FAST)
    events: list[dict[str, Any]] = []
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": MASSAGE}))
        assert ws.receive_json()["duration_s"] == 90.0
        for data in frames:
            ws.send_bytes(data)
            events += ws.receive_json()["events"]
        ws.send_text(json.dumps({"type": "done"}))
        end = ws.receive_json()
    return events, end


def test_the_massage_completes_from_the_strokes(live_app: Any, outwards: list[bytes]) -> None:
    events, end = _massage(live_app, outwards)
    good = [e for e in events if e["type"] == "stroke" and e["kind"] == "stroke" and not e["faults"]]
    assert sum(e["side"] == "right" for e in good) >= 3 and sum(e["side"] == "left" for e in good) >= 3, good
    assert all(e["direction"] == "outwards" and e["region"] == "cheeks" for e in good)
    assert all(40 <= e["length_mm"] <= 60 for e in good[1:]), good  # drawn: 50 mm
    assert [e["type"] for e in events].count("finished") == 1
    counts = [e for e in events if e["type"] == "stroke_count"]
    assert counts[-1]["right"] == 3 and counts[-1]["left"] == 3 and counts[-1]["per_side"] == 3
    assert not [e for e in events if e["type"] == "fault" and e["kind"] == "stroke_direction"]
    assert end["completed"] is True and end["strokes"] == {"right": 3, "left": 3, "midline": 0}


def test_strokes_the_wrong_way_get_the_cue_at_once_and_never_complete(
    live_app: Any, inwards: list[bytes]
) -> None:
    events, end = _massage(live_app, inwards)
    wrong = [e for e in events if e["type"] == "fault" and e["kind"] == "stroke_direction"]
    assert len(wrong) >= 4 and {f["side"] for f in wrong} == {"right", "left"}, wrong
    assert all("towards your ear" in f["cue"] and f["end_s"] is not None for f in wrong)
    assert "finished" not in [e["type"] for e in events]
    assert end["completed"] is False
    assert {f["kind"] for f in end["faults"]} >= {"stroke_direction", "side_skipped"}


def test_time_alone_completes_no_massage(live_app: Any, scene: tuple) -> None:
    """Frames with a face and no hand: a `hands_lost` cue, no stroke, and not completed however long."""
    face = scene[0]
    from facecoach.vision.landmarks import FaceLandmarker

    with FaceLandmarker(mode="image", max_faces=1) as lm:
        f = lm.detect(face).faces[0]
    live_app.limits(**FAST)
    events: list[dict[str, Any]] = []
    with (
        _client(live_app, live_app.member(fresh=False)) as client,
        client.websocket_connect("/live/ws") as ws,
    ):
        _hello(ws)
        ws.send_text(json.dumps({"type": "start", "technique": MASSAGE}))
        ws.receive_json()
        for k in range(1, 200):  # 100 s of the client's clock, > the 90 s duration
            ws.send_bytes(encode_landmarks(k, k * 500.0, (512, 512), f.points_px, f.blendshapes, None, []))
            events += ws.receive_json()["events"]
        time.sleep(0.01)
        ws.send_text(json.dumps({"type": "done"}))
        end = ws.receive_json()
    kinds = [e["type"] for e in events]
    assert kinds.count("hands_lost") == 1 and "stroke" not in kinds and "finished" not in kinds
    assert "in view" in next(e for e in events if e["type"] == "hands_lost")["cue"]
    assert end["completed"] is False and np.isfinite(end["duration_s"])
