from __future__ import annotations

import numpy as np
import pytest

from facecoach.vision.landmarks import N_LANDMARKS, FaceLandmarker


def test_astronaut_has_one_face_with_full_output(
    image_landmarker: FaceLandmarker, astronaut: np.ndarray
) -> None:
    result = image_landmarker.detect(astronaut)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.points_px.shape == (N_LANDMARKS, 3)
    assert len(face.blendshapes) == 52
    assert face.matrix.shape == (4, 4)
    # The face sits in the upper middle of the photo.
    x, y = face.points_px[1, :2]
    assert 150 < x < 300 and 80 < y < 250


def test_blank_frame_has_no_face(image_landmarker: FaceLandmarker) -> None:
    assert image_landmarker.detect(np.zeros((240, 320, 3), np.uint8)).faces == []


def test_wrong_frame_type_is_refused(image_landmarker: FaceLandmarker) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        image_landmarker.detect(np.zeros((10, 10), np.float32))  # type: ignore[arg-type]
