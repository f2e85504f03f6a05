"""The neutral check on real faces, and the neutral stretch of a recording (calibration)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from facecoach.coaching.calibration import find_neutral_stretch
from facecoach.config import InputLimits
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.neutral import NeutralRules, check_neutral, load_neutral_rules
from facecoach.vision.sources import VideoSource


@pytest.fixture(scope="module")
def faces(shared_data: Path, astronaut: np.ndarray) -> dict[str, FaceObservation]:
    out: dict[str, FaceObservation] = {}
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        out["astronaut"] = lm.detect(astronaut).faces[0]
        bgr = cv2.imread(str(shared_data / "surprise_f1.jpg"))
        out["surprise"] = lm.detect(np.ascontiguousarray(bgr[..., ::-1])).faces[0]
    return out


@pytest.fixture(scope="module")
def clip(shared_data: Path) -> list[FaceObservation | None]:
    clip_path = shared_data / "woman_expressions_24fps.mp4"
    with VideoSource(clip_path, InputLimits()) as src, FaceLandmarker(mode="video") as lm:
        return [r.faces[0] if r.faces else None for r in (lm.detect(rgb, t) for t, rgb in src.frames(2))]


def test_a_face_at_rest_is_neutral_and_surprise_is_not(faces: dict[str, FaceObservation]) -> None:
    rest = check_neutral(faces["astronaut"])
    assert rest.neutral and rest.reasons == [] and rest.score < 1.0
    surprise = check_neutral(faces["surprise"])
    assert not surprise.neutral and surprise.reasons == ["expression"]
    assert set(surprise.expressions) == {"brows_raised", "mouth_open"}  # brows high, mouth open
    assert surprise.score > 1.0


def test_shut_eyes_and_a_turned_head_are_not_neutral(
    clip: list[FaceObservation | None], faces: dict[str, FaceObservation]
) -> None:
    # frames 36-60 of the clip (eyes shut, crying) are at ~12 fps indices 18-30
    shut = [check_neutral(f) for f in clip[18:30] if f is not None]
    assert shut and all("eyes_closed" in c.reasons for c in shut)
    assert all(min(c.eye_opening) < 0.15 for c in shut)
    # the same resting face with the limits of a stricter head rule: turned
    strict = load_neutral_rules().model_copy(
        update={"head": load_neutral_rules().head.model_copy(update={"max_pitch_deg": 5.0})}
    )
    assert "head_turned" in check_neutral(faces["astronaut"], strict).reasons  # she looks down ~9°


def test_the_rules_are_validated_on_load() -> None:
    data = load_neutral_rules().model_dump()
    data["expressions"]["smile"]["max"] = 1.5
    with pytest.raises(ValidationError):
        NeutralRules.model_validate(data)
    data = load_neutral_rules().model_dump()
    data["eyes"]["blink"] = 0.5  # an unknown key
    with pytest.raises(ValidationError):
        NeutralRules.model_validate(data)


def test_the_stretch_waits_for_a_neutral_face(faces: dict[str, FaceObservation]) -> None:
    """2 s of surprise, then a face at rest: the stretch starts at 2 s. Only surprise: none is neutral,
    and the stretch says so."""
    surprise, rest = faces["surprise"], faces["astronaut"]
    frames = [(t / 10, replace(surprise if t < 20 else rest, timestamp_s=t / 10)) for t in range(40)]
    found = find_neutral_stretch(frames, 1.5, 8, 0.5)
    assert found is not None and found.neutral and found.waited_s == pytest.approx(2.0)
    assert found.frames[0].timestamp_s == pytest.approx(2.0)
    only = [(t / 10, replace(surprise, timestamp_s=t / 10)) for t in range(30)]
    none = find_neutral_stretch(only, 1.5, 8, 0.5)
    assert none is not None and not none.neutral and none.reasons == ("expression",)
    assert find_neutral_stretch([(0.0, None)], 1.5, 8, 0.5) is None


def test_the_real_clip_is_not_calibrated_on_its_frown(clip: list[FaceObservation | None]) -> None:
    frames = [(i * 2 / 23.976, f) for i, f in enumerate(clip)]
    found = find_neutral_stretch(frames, 1.5, 8, 0.5)
    assert found is not None
    assert found.frames[0].timestamp_s > 5.6  # the frown with eyes shut runs to ~5.6 s
