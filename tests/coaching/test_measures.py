"""Metamorphic tests of the measures on a real photo (../shared/TESTING-VISION.md §1): mirror, roll, scale.

Each case is ONE image-mode detection of a warped photo, so the landmarker's own frame-to-frame spread is
in it: measured here, the size of a one-sided movement varies by up to ±45 % between the plain, mirrored,
rolled (±10°) and rescaled (×0.6, ×1.3) copies (e.g. left corner 2.8 / 1.5 / 1.3 mm), while the side
that moved always reads clearly larger than the side that did not. The tests assert exactly that: the
person's own side, preserved under every transformation, and sizes within a factor of two.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from facecoach.coaching.calibration import calibrate
from facecoach.coaching.measures import Measures, measure
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from tests.coaching.synth import FaceWarper, Segment

Transform = Callable[[np.ndarray], np.ndarray]


def _affine(angle: float, scale: float) -> Transform:
    m = cv2.getRotationMatrix2D((256.0, 180.0), angle, scale)
    return lambda img: cv2.warpAffine(
        img, m, (512, 512), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )


TRANSFORMS: dict[str, Transform] = {
    "roll +10°": _affine(10.0, 1.0),
    "roll −10°": _affine(-10.0, 1.0),
    "scale 0.6": _affine(0.0, 0.6),
    "scale 1.3": _affine(0.0, 1.3),
}


def _input(lm: FaceLandmarker, image: np.ndarray) -> FaceObservation:
    faces = lm.detect(np.ascontiguousarray(image)).faces
    assert len(faces) == 1
    return faces[0]


def _measure(lm: FaceLandmarker, neutral: np.ndarray, moved: np.ndarray) -> Measures:
    return measure(_input(lm, moved), calibrate([_input(lm, neutral)]))


@pytest.fixture(scope="module")
def astronaut_warper(warpers: Callable[[str], FaceWarper]) -> FaceWarper:
    return warpers("astronaut")


@pytest.mark.parametrize(
    ("move", "measure_name"), [("smile_left_only", "mouth_corners_up"), ("brows_up_left", "brows_up")]
)
def test_a_one_sided_movement_keeps_its_side(
    image_landmarker: FaceLandmarker, astronaut_warper: FaceWarper, move: str, measure_name: str
) -> None:
    neutral = astronaut_warper.image
    moved = astronaut_warper.render_state(Segment(0.0, {move: (1.0, 1.0)}))
    m = _measure(image_landmarker, neutral, moved)
    left, right = getattr(m, f"{measure_name}_left"), getattr(m, f"{measure_name}_right")
    assert left > 2.0 and left - right > 1.2  # the person's left moved (the image's right)
    # mirrored: now it is the person's right
    mm = _measure(image_landmarker, neutral[:, ::-1], moved[:, ::-1])
    m_left, m_right = getattr(mm, f"{measure_name}_left"), getattr(mm, f"{measure_name}_right")
    assert m_right - m_left > 1.2 and 0.5 * left < m_right < 2.0 * left
    for name, tr in TRANSFORMS.items():
        mt = _measure(image_landmarker, tr(neutral), tr(moved))
        t_left, t_right = getattr(mt, f"{measure_name}_left"), getattr(mt, f"{measure_name}_right")
        assert t_left - t_right > 0.5, name
        assert 0.4 * left < t_left < 2.0 * left, name
        assert mt.head_motion < 3.0 and mt.head_shift < 3.0, name  # same pose in both pictures


def test_a_symmetric_smile_reads_on_both_sides_under_roll_and_scale(
    image_landmarker: FaceLandmarker, astronaut_warper: FaceWarper
) -> None:
    neutral = astronaut_warper.image
    moved = astronaut_warper.render_state(Segment(0.0, {"smile": (1.0, 1.0)}))
    for name, tr in {"plain": lambda x: x, "mirror": lambda x: x[:, ::-1], **TRANSFORMS}.items():
        m = _measure(image_landmarker, tr(neutral), tr(moved))
        assert m.mouth_corners_up_left > 3.0 and m.mouth_corners_up_right > 3.0, name
        assert abs(m.jaw_open) < 2.0 and abs(m.eyes_squeeze_left) < 1.0, name


def test_the_face_size_factor_does_not_depend_on_distance(
    image_landmarker: FaceLandmarker, astronaut_warper: FaceWarper
) -> None:
    """The person's range is scaled by the face's size from the iris, not by how big it is in the picture."""
    neutral = astronaut_warper.image
    base = calibrate([_input(image_landmarker, neutral)]).size_factor
    assert 0.7 < base < 1.3
    for name in ("scale 0.6", "scale 1.3"):
        assert calibrate([_input(image_landmarker, TRANSFORMS[name](neutral))]).size_factor == pytest.approx(
            base, rel=0.08
        ), name
