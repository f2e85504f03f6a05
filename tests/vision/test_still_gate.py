"""The still-face gate (facecoach.vision.still_gate) on a real face: camera noise is "the same"; a small
real movement of the brows or the mouth corners, forehead creases or a hand coming in is not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecoach.coaching.audit_settings import load_audit_settings
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.still_gate import GateSettings, face_box, grey_frame
from facecoach.vision.still_gate import unchanged as unchanged_grey
from tests.coaching.synth import FaceWarper

SETTINGS = load_audit_settings().still_gate.gate() or GateSettings()


def unchanged(rgb: np.ndarray, earlier: np.ndarray, points: np.ndarray, settings: GateSettings) -> bool:
    """The gate on two RGB frames, each turned into its grey picture as the audit does (once a frame)."""
    return unchanged_grey(grey_frame(rgb), grey_frame(earlier), points, settings)


@pytest.fixture(scope="module")
def face(shared_data: Path) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.ascontiguousarray(np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB")))
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        return rgb, lm.detect(rgb).faces[0].points_px


def _noisy(rgb: np.ndarray, seed: int, sd: float = 3.0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, sd, rgb.shape)
    return np.clip(rgb.astype(np.float64) + noise, 0, 255).astype(np.uint8)


def test_the_shipped_settings_turn_the_gate_on() -> None:
    settings = load_audit_settings()
    assert settings.still_gate.gate() is not None and settings.hand_gate() is not None
    assert settings.hand_probe_gate.margin > 0.25  # beyond hands.yaml's near_face_margin


def test_camera_noise_is_the_same_face(face: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, points = face
    for seed in range(5):
        assert unchanged(_noisy(rgb, seed), _noisy(rgb, seed + 10), points, SETTINGS)


@pytest.mark.parametrize("move", ["brows_up", "smile", "pucker", "frown", "eyes_squeeze"])
def test_a_small_real_movement_is_a_change(face: tuple[np.ndarray, np.ndarray], move: str) -> None:
    rgb, points = face
    warper = FaceWarper(rgb, points)
    moved = warper.warp({move: 0.4})  # 40 % of the test scripts' movement: a start of a rep
    assert not unchanged(_noisy(moved, 1), _noisy(rgb, 2), points, SETTINGS)


def test_forehead_creases_are_a_change(face: tuple[np.ndarray, np.ndarray]) -> None:
    rgb, points = face
    creased = FaceWarper(rgb, points).paint_creases(rgb, 0.5)
    assert not unchanged(_noisy(creased, 1), _noisy(rgb, 2), points, SETTINGS)


def test_a_hand_coming_in_near_the_face_is_a_change_for_the_hands_gate(
    face: tuple[np.ndarray, np.ndarray],
) -> None:
    rgb, points = face
    hand_gate = load_audit_settings().hand_gate()
    assert hand_gate is not None
    x0, y0, x1, _y1 = face_box(points, (rgb.shape[1], rgb.shape[0]), 0.0) or (0, 0, 0, 0)
    width = x1 - x0
    beside = rgb.copy()  # a skin-coloured patch beside the face, outside its own box: a hand arriving
    left = max(0, x0 - int(0.45 * width))
    beside[y0 + width // 3 : y0 + width // 2, left : max(left + 1, x0 - int(0.3 * width))] = (190, 150, 130)
    assert unchanged(beside, rgb, points, SETTINGS)  # outside the face's own box: the face gate sees none
    assert not unchanged(beside, rgb, points, hand_gate)


def test_frames_of_another_size_or_a_face_off_the_frame_are_never_the_same(
    face: tuple[np.ndarray, np.ndarray],
) -> None:
    rgb, points = face
    assert not unchanged(rgb[:-2], rgb, points, SETTINGS)
    off = points.copy()
    off[:, 0] += 10 * rgb.shape[1]
    assert face_box(off, (rgb.shape[1], rgb.shape[0]), 0.1) is None
    assert not unchanged(rgb, rgb, off, SETTINGS)
