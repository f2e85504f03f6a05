"""The evaluator on bad or partial input from a client: never a crash, unusable frames pause it."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from facecoach.coaching.evaluator import Evaluator, Event
from facecoach.coaching.specs import spec_by_id
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation


def test_garbage_frames_count_as_no_face(image_landmarker: FaceLandmarker, astronaut: np.ndarray) -> None:
    face = image_landmarker.detect(astronaut).faces[0]
    rng = np.random.default_rng(0)

    def good(t: float) -> FaceObservation:
        pts = face.points_px + rng.normal(0, 0.2, face.points_px.shape)
        return FaceObservation(pts, face.blendshapes, None, face.image_size, t)

    nan = FaceObservation(np.full((478, 3), np.nan), {}, None, (512, 512))
    flat = FaceObservation(np.zeros((478, 3)), {}, None, (512, 512))
    short = FaceObservation(np.zeros((10, 3)), {}, None, (512, 512))
    ev = Evaluator(spec_by_id("smile-lift"))
    events: list[Event] = []
    for bad in (nan, flat, short):
        events += ev.push(bad)
    assert events == []  # no face has been seen yet: nothing to say
    t = 0.0
    while t < 2.0:
        events += ev.push(good(t))
        t += 1 / 30
    assert [e.type for e in events] == ["calibrated"]
    noise = events[0].to_dict()["noise"]
    assert noise["forehead_wrinkle"] is None  # no forehead texture was sent: unknown, not NaN
    json.dumps(events[0].to_dict(), allow_nan=False)
    assert ev.calibration is not None and ev.calibration.noise["mouth_corners_up_left"] < 0.5
    events = ev.push(FaceObservation(np.full((478, 3), np.nan), {}, None, (512, 512), t, crease_energy=0.5))
    assert [e.type for e in events] == ["face_lost"]
    events = ev.push(good(t + 0.1))
    assert [e.type for e in events] == ["face_found"]
    assert ev.reps == 0 and ev.faults == []
    # a still face without a forehead measure: no movement, no fault
    for k in range(60):
        assert [e.type for e in ev.push(good(t + 0.2 + k / 30))] == []


def test_a_head_tilted_too_far_pauses_with_the_reason(
    image_landmarker: FaceLandmarker, astronaut: np.ndarray
) -> None:
    face = image_landmarker.detect(astronaut).faces[0]
    m = cv2.getRotationMatrix2D((256.0, 160.0), 35.0, 1.0)
    tilted = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_CONSTANT)
    tilted_face = image_landmarker.detect(tilted).faces[0]
    ev = Evaluator(spec_by_id("lip-pucker"))
    t = 0.0
    while ev.calibration is None:
        ev.push(replace(face, timestamp_s=t))
        t += 0.1
    events = ev.push(replace(tilted_face, timestamp_s=t))
    assert [e.type for e in events] == ["face_lost"]
    reason = events[0].to_dict()["reason"]
    assert "tilted" in reason and "upright" in reason
    assert [e.type for e in ev.push(replace(face, timestamp_s=t + 0.1))] == ["face_found"]


def test_the_head_turning_away_and_back_re_references_the_pose(
    image_landmarker: FaceLandmarker, astronaut: np.ndarray
) -> None:
    """Calibrated on a frontal face; the head turns away past the limits for 2 s, and comes back shifted
    sideways by 40 px (a new resting place): after 0.5 s of that neutral face the pose and position are
    re-referenced, so the shift does not count as head motion for the rest of the exercise."""
    face = image_landmarker.detect(astronaut).faces[0]
    m = cv2.getRotationMatrix2D((256.0, 160.0), 35.0, 1.0)
    tilted = image_landmarker.detect(cv2.warpAffine(astronaut, m, (512, 512))).faces[0]
    moved = np.float32([[1, 0, 40], [0, 1, 0]])  # type: ignore[list-item]
    shifted = image_landmarker.detect(cv2.warpAffine(astronaut, moved, (512, 512))).faces[0]
    ev = Evaluator(spec_by_id("lip-pucker"), stop_after_reps=False)
    events: list[Event] = []
    t = 0.0
    for _ in range(20):
        events += ev.push(replace(face, timestamp_s=t))
        t += 0.1
    for _ in range(20):
        events += ev.push(replace(tilted, timestamp_s=t))
        t += 0.1
    for _ in range(40):
        events += ev.push(replace(shifted, timestamp_s=t))
        t += 0.1
    ev.finish(t)
    types = [e.type for e in events]
    assert types.count("rereferenced") == 1 and types.index("rereferenced") > types.index("face_found")
    assert ev.calibration is not None and len(ev.calibration.rereferences) == 1
    start, _end = ev.calibration.rereferences[0]
    assert start == pytest.approx(4.0, abs=0.05)  # the first frame back
    assert ev.measures is not None and ev.measures.head_shift < 1.0  # mm: the new place is the reference
    assert [f for f in ev.faults if f.kind == "head_motion" and f.start_s > 4.6] == []
