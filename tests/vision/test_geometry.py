"""Landmark sides, head-pose sign conventions, iris scale and the face frame."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facecoach.vision import landmark_ids as ids
from facecoach.vision.canonical import canonical_face
from facecoach.vision.geometry import (
    IRIS_DIAMETER_MM,
    face_aligned_mm,
    head_pose,
    mm_per_px,
    symmetric_average,
    unmirror,
)
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from tests.vision.conftest import rescale, rotate


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _synthetic_face(rotation: np.ndarray, px_per_cm: float = 20.0, iris_px: float = 24.0) -> FaceObservation:
    """The canonical face turned by ``rotation`` (face frame → image), seen by a weak-perspective camera."""
    canon = canonical_face().vertices
    pts = np.zeros((478, 3))
    pts[:468] = px_per_cm * canon @ rotation.T + np.array([320.0, 240.0, 0.0])
    r_cm = iris_px / 2 / px_per_cm  # the iris disc lies in the face's x-y plane and turns with it
    for centre, contour, eye in (
        (468, (469, 470, 471, 472), (33, 133)),
        (473, (474, 475, 476, 477), (362, 263)),
    ):
        c = canon[list(eye)].mean(axis=0)
        ring = [c] + [c + r_cm * np.array([dx, dy, 0.0]) for dx, dy in ((1, 0), (0, -1), (-1, 0), (0, 1))]
        pts[[centre, *contour]] = px_per_cm * np.array(ring) @ rotation.T + np.array([320.0, 240.0, 0.0])
    return FaceObservation(pts, {}, np.eye(4), (640, 480))


def test_person_sides_on_a_real_photo(image_landmarker: FaceLandmarker, astronaut: np.ndarray) -> None:
    """Unmirrored photo: the person's left is on the image's right."""
    p = image_landmarker.detect(astronaut).faces[0].points_px
    assert p[ids.LEFT_IRIS_CENTER, 0] > p[ids.RIGHT_IRIS_CENTER, 0]
    assert (
        p[ids.LEFT_EYE_OUTER, 0]
        > p[ids.LEFT_EYE_INNER, 0]
        > p[ids.RIGHT_EYE_INNER, 0]
        > p[ids.RIGHT_EYE_OUTER, 0]
    )
    assert p[ids.MOUTH_LEFT_CORNER, 0] > p[ids.MOUTH_RIGHT_CORNER, 0]
    assert p[list(ids.LEFT_BROW), 0].mean() > p[list(ids.RIGHT_BROW), 0].mean()
    assert p[list(ids.JAW_CONTOUR_LEFT), 0].mean() > p[ids.CHIN, 0] > p[list(ids.JAW_CONTOUR_RIGHT), 0].mean()
    # Up and down: brows above eyes above the nose tip above the mouth above the chin.
    assert p[list(ids.LEFT_BROW), 1].mean() < p[ids.LEFT_IRIS_CENTER, 1] < p[ids.NOSE_TIP, 1]
    assert p[ids.NOSE_TIP, 1] < p[ids.MOUTH_LEFT_CORNER, 1] < p[ids.CHIN, 1]
    assert p[ids.FOREHEAD, 1] < p[ids.NOSE_BRIDGE, 1]


def test_mirror_pairing_is_a_consistent_involution() -> None:
    canon = canonical_face()
    m = canon.mirror
    assert np.array_equal(m[m], np.arange(478))
    assert all(m[i] == i for i in ids.MIDLINE)
    for left, right in (
        (ids.LEFT_BROW, ids.RIGHT_BROW),
        (ids.LEFT_EYE_UPPER, ids.RIGHT_EYE_UPPER),
        (ids.LEFT_EYE_LOWER, ids.RIGHT_EYE_LOWER),
        (ids.JAW_CONTOUR_LEFT, ids.JAW_CONTOUR_RIGHT),
        (ids.MOUTH_LEFT_CORNER_POINTS, ids.MOUTH_RIGHT_CORNER_POINTS),
    ):
        assert list(m[list(left)]) == list(right)
        assert (canon.vertices[list(left), 0] > 0).all()  # person's left is +x in the face frame


@pytest.mark.parametrize("yaw", [-15.0, 0.0, 12.0])
@pytest.mark.parametrize("pitch", [-10.0, 8.0])
@pytest.mark.parametrize("roll", [-20.0, 5.0])
def test_head_pose_recovers_known_rotation(yaw: float, pitch: float, roll: float) -> None:
    # yaw > 0 turns the nose toward image +x; pitch > 0 lifts it; roll > 0 drops the person's left eye.
    rotation = _rot_z(math.radians(roll)) @ _rot_x(math.radians(-pitch)) @ _rot_y(math.radians(-yaw))
    face = _synthetic_face(rotation)
    pose = head_pose(face)
    assert pose.yaw_deg == pytest.approx(yaw, abs=0.5)
    assert pose.pitch_deg == pytest.approx(pitch, abs=0.5)
    assert pose.roll_deg == pytest.approx(roll, abs=0.5)


def test_head_pose_signs_mean_what_the_docs_say() -> None:
    p = _synthetic_face(_rot_y(math.radians(-15))).points_px  # yaw +15
    eyes_mid = p[[ids.LEFT_EYE_OUTER, ids.RIGHT_EYE_OUTER], 0].mean()
    assert p[ids.NOSE_TIP, 0] > eyes_mid + 5  # nose toward the person's left (image right)
    p = _synthetic_face(_rot_z(math.radians(10))).points_px  # roll +10
    assert p[ids.LEFT_EYE_OUTER, 1] > p[ids.RIGHT_EYE_OUTER, 1]  # left eye lower in the image
    p0 = _synthetic_face(np.eye(3)).points_px
    p = _synthetic_face(_rot_x(math.radians(-12))).points_px  # pitch +12: looking up
    assert head_pose(_synthetic_face(_rot_x(math.radians(-12)))).pitch_deg == pytest.approx(12, abs=0.5)
    eyes, eyes0 = p[[ids.LEFT_EYE_OUTER, ids.RIGHT_EYE_OUTER], 1].mean(), p0[[33, 263], 1].mean()
    assert p[ids.NOSE_TIP, 1] - eyes < p0[ids.NOSE_TIP, 1] - eyes0  # the protruding nose rises


def test_face_aligned_mm_undoes_rotation_and_scale_exactly_on_a_rigid_face() -> None:
    ref = face_aligned_mm(_synthetic_face(np.eye(3)))
    turned = _synthetic_face(
        _rot_z(math.radians(14)) @ _rot_x(math.radians(-9)) @ _rot_y(math.radians(11)),
        px_per_cm=35.0,
        iris_px=42.0,
    )
    assert np.abs(face_aligned_mm(turned) - ref).max() < 0.05
    # Frame axes: +x person's left, +y down, +z into the head, origin between the eyes.
    assert ref[ids.LEFT_EYE_OUTER, 0] > 20 and ref[ids.RIGHT_EYE_OUTER, 0] < -20
    assert ref[ids.CHIN, 1] > 80 and ref[ids.FOREHEAD, 1] < -40
    assert ref[ids.NOSE_TIP, 2] < -10


def test_mm_per_px_from_the_iris() -> None:
    face = _synthetic_face(np.eye(3), iris_px=24.0)
    assert mm_per_px(face) == pytest.approx(IRIS_DIAMETER_MM / 24.0, rel=1e-6)
    # One iris badly under-fitted (half shut): the larger one is trusted.
    pts = face.points_px.copy()
    pts[[474, 476], 0] = pts[473, 0] + np.array([6.0, -6.0])
    assert mm_per_px(FaceObservation(pts, {}, face.matrix, face.image_size)) == pytest.approx(
        IRIS_DIAMETER_MM / 24.0
    )


def test_real_scale_is_plausible_and_follows_the_picture_size(
    scan_landmarker: FaceLandmarker, photos: dict[str, np.ndarray]
) -> None:
    for name, rgb in photos.items():
        face = scan_landmarker.detect(rgb).faces[0]
        a = face_aligned_mm(face)
        ipd = float(np.linalg.norm(a[ids.LEFT_IRIS_CENTER, :2] - a[ids.RIGHT_IRIS_CENTER, :2]))
        assert 50.0 < ipd < 75.0, name  # adult interpupillary distance ≈ 63 ± 4 mm
        big = scan_landmarker.detect(rescale(rgb, 2.0)).faces[0]
        assert mm_per_px(big) == pytest.approx(mm_per_px(face) / 2, rel=0.06), name


def test_roll_follows_a_turned_photo(scan_landmarker: FaceLandmarker, astronaut: np.ndarray) -> None:
    base = head_pose(scan_landmarker.detect(astronaut).faces[0]).roll_deg
    for degrees in (-10.0, 10.0):
        turned = head_pose(scan_landmarker.detect(rotate(astronaut, degrees)).faces[0]).roll_deg
        # A counter-clockwise turn of the picture lifts the person's left (image-right) eye: roll falls.
        assert turned - base == pytest.approx(-degrees, abs=0.5)


def test_unmirror_and_symmetric_average(scan_landmarker: FaceLandmarker, astronaut: np.ndarray) -> None:
    face = scan_landmarker.detect(astronaut).faces[0]
    flipped = scan_landmarker.detect(np.ascontiguousarray(astronaut[:, ::-1])).faces[0]
    back = unmirror(flipped)
    assert np.abs(back.points_px[:, :2] - face.points_px[:, :2]).mean() < 1.5  # same face, within ~1 px
    assert back.blendshapes["mouthSmileLeft"] == flipped.blendshapes["mouthSmileRight"]
    avg = symmetric_average(face, flipped)
    assert np.allclose(avg.points_px, (face.points_px + back.points_px) / 2)
