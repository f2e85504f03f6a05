"""The measures on a real video: ../shared/data/woman_expressions_24fps.mp4 (472 frames, 23.98 fps).

Labels, by looking at the frames (contact sheet every 12 frames, saved under test-artifacts/):
frames 36–60 both eyes shut (crying); 170–200 eyes wide open, looking up; 230–242 mouth at rest, hand
away; 250–272 smile; 274–292 mouth open, corners down; 296–400 broad smile; 300–340 head upright;
405–430 head tilted strongly toward a shoulder.
No threshold was tuned on this clip. One design choice was made after looking at it (so this clip is not
an independent check of it): mouth corners are measured along the up-and-out diagonal, because the broad
smile here moves them out more than up. The data folder holds no second real video to keep apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facecoach.coaching.audit import analyse
from facecoach.coaching.calibration import calibrate
from facecoach.coaching.evaluator import Evaluator
from facecoach.coaching.measures import Measures, measure
from facecoach.coaching.specs import load_movements, spec_by_id
from facecoach.config import InputLimits
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.sources import VideoSource

CLIP = "woman_expressions_24fps.mp4"


@pytest.fixture(scope="module")
def clip_frames(shared_data: Path) -> list[FaceObservation | None]:
    with (
        VideoSource(shared_data / CLIP, InputLimits()) as src,
        FaceLandmarker(mode="video", max_faces=1) as lm,
    ):
        return [f for _t, f in analyse(src.frames(), lm)]


def _window(frames: list[FaceObservation | None], a: int, b: int) -> list[FaceObservation]:
    got = [f for f in frames[a : b + 1] if f is not None]
    assert len(got) >= (b - a) // 2, "the face should be found in these frames"
    return got


def _median(
    frames: list[FaceObservation | None], neutral: tuple[int, int], window: tuple[int, int], name: str
) -> float:
    cal = calibrate(_window(frames, *neutral))
    values = [getattr(measure(f, cal), name) for f in _window(frames, *window)]
    return float(np.median(values))


def test_a_face_in_nearly_every_frame(clip_frames: list[FaceObservation | None]) -> None:
    assert len(clip_frames) == 472
    assert sum(f is not None for f in clip_frames) >= 460
    assert all(f.crease_energy is not None and f.crease_energy > 0 for f in clip_frames if f)


def test_shut_eyes_are_an_eye_squeeze_on_both_sides(clip_frames: list[FaceObservation | None]) -> None:
    for side in ("left", "right"):
        name = f"eyes_squeeze_{side}"
        assert _median(clip_frames, (170, 200), (36, 60), name) > 4.0  # mm of lid closure
        assert abs(_median(clip_frames, (170, 200), (170, 200), name)) < 0.5


def test_the_smile_lifts_both_mouth_corners(clip_frames: list[FaceObservation | None]) -> None:
    rules = load_movements()
    rep_starts_at = rules.movements["mouth_corners_up"].expected * rules.evaluation.start_fraction
    for side in ("left", "right"):
        name = f"mouth_corners_up_{side}"
        # the broad smile is past the point where a smile-lift rep starts, on both sides
        assert _median(clip_frames, (230, 242), (300, 348), name) > rep_starts_at  # mm
        assert abs(_median(clip_frames, (230, 242), (230, 242), name)) < 0.5


def test_the_head_tilt_is_head_motion_and_not_a_face_movement(
    clip_frames: list[FaceObservation | None],
) -> None:
    assert _median(clip_frames, (300, 340), (405, 430), "head_motion") > 15.0  # degrees
    assert _median(clip_frames, (300, 340), (300, 340), "head_motion") < 4.0
    # the tilt itself does not read as one brow lifted: the measures are taken in the face frame
    cal = calibrate(_window(clip_frames, 300, 340))
    tilted: list[Measures] = [measure(f, cal) for f in _window(clip_frames, 405, 430)]
    diffs = [m.brows_up_left - m.brows_up_right for m in tilted]
    assert abs(float(np.median(diffs))) < 1.5  # mm


def test_the_real_smiles_are_found_as_reps(clip_frames: list[FaceObservation | None]) -> None:
    """Frames 230–400 (looked at frame by frame): mouth at rest to 246; a smile 250–272; mouth open
    but the corners down ("oh") 274–292; a broad smile again from 296 to past 400."""
    fps = 23.976
    spec = spec_by_id("smile-lift")  # 5 s holds
    spec = spec.model_copy(
        update={
            "settings": spec.settings.model_copy(update={"calibration_s": 0.5, "calibration_min_frames": 8})
        }
    )
    ev = Evaluator(spec, stop_after_reps=False)
    events = []
    for i in range(230, 400):
        events += ev.push(clip_frames[i], i / fps)
    assert ev.calibration is not None and ev.calibration.end_s < 248 / fps
    first = ev.holds[0]
    assert abs(first.start_s - 250 / fps) < 0.5 and abs(first.end_s - 273 / fps) < 0.5
    assert not first.completed  # one second of smiling is not a 5 s hold
    assert [e.type for e in events].count("rep_failed") == 1
    assert (
        ev.rep_start_s is not None and abs(ev.rep_start_s - 296 / fps) < 0.5
    )  # the second smile is being held
    assert len(ev.holds) == 1
