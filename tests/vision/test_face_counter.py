"""The audit's people count (FaceCounter: the face detector of the verified asset) against the image-mode
Face Landmarker it replaces, on real photos: the same number of faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecoach.vision.landmarks import FaceCounter, FaceLandmarker


def _rgb(path: Path) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))


def test_counter_counts_what_the_landmarker_finds(photos: dict[str, np.ndarray], shared_data: Path) -> None:
    group = _rgb(shared_data / "group_five.jpg")
    pair = np.ascontiguousarray(np.concatenate([photos["astronaut"], photos["astronaut"][:, ::-1]], axis=1))
    blank = np.full((360, 640, 3), 60, np.uint8)
    pictures = {**photos, "pair": pair, "blank": blank, "two of group_five": group[250:520, 480:860]}
    with FaceCounter() as counter, FaceLandmarker(mode="image", max_faces=3) as landmarker:
        counts = {name: counter.count(rgb) for name, rgb in pictures.items()}
        seen = {name: min(3, len(landmarker.detect(rgb).faces)) for name, rgb in pictures.items()}
    assert counts["blank"] == 0
    assert all(counts[name] == 1 for name in photos), counts
    assert counts["two of group_five"] >= 2
    # and on every picture what the landmarker finds (both miss the side-by-side pair: the short-range
    # detector sees each face at a quarter of the picture's width as too small)
    assert {k: min(3, v) for k, v in counts.items()} == seen


def test_a_closed_counter_or_a_bad_frame_is_refused() -> None:
    counter = FaceCounter()
    with pytest.raises(ValueError, match="RGB uint8"):
        counter.count(np.zeros((10, 10), np.uint8))
    counter.close()
    with pytest.raises(RuntimeError, match="closed"):
        counter.count(np.zeros((10, 10, 3), np.uint8))
