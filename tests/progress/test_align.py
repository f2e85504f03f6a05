"""Before/after alignment on real faces: a re-framed capture of one face is brought onto the first within
a stated error (checked by landmarking the aligned pictures again), and a real change is not aligned away."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecoach.progress.align import align_pair, apply, basis_ids, interocular_px, similarity_fit
from facecoach.vision import landmark_ids as ids

#: Stated alignment error: RMS of the stable landmarks after alignment, as a fraction of the eye-corner
#: distance (1.5 % ≈ 1.4 mm: outer eye corners are ≈ 90 mm apart). Measured 0.4–1.1 % (docs/checkin.md).
MAX_ERROR = 0.015


def _reframed(rgb: np.ndarray, angle: float, scale: float, dx: float, dy: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    m[:, 2] += (dx, dy)
    return np.ascontiguousarray(cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REPLICATE))


def test_similarity_fit_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 500, (33, 2))
    angle, scale, t = np.radians(7.0), 1.23, np.array([14.0, -9.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rot.T + t
    m = similarity_fit(src, dst)
    assert np.allclose(apply(m, src), dst, atol=1e-9)
    assert np.hypot(*m[:, 0]) == pytest.approx(scale)  # uniform scale, no shear
    with pytest.raises(ValueError):
        similarity_fit(src[:1], dst[:1])


@pytest.mark.parametrize(
    ("angle", "scale", "dx", "dy"), [(8.0, 1.15, 20.0, -12.0), (-6.0, 0.85, -25.0, 10.0)]
)
def test_a_reframed_capture_is_aligned_within_the_stated_error(
    still: np.ndarray, image_landmarker, angle: float, scale: float, dx: float, dy: float
) -> None:
    before_face = image_landmarker.detect(still).faces[0]
    after = _reframed(still, angle, scale, dx, dy)
    after_face = image_landmarker.detect(after).faces[0]
    pair = align_pair(still, before_face.points_px, after, after_face.points_px)
    assert pair.before.shape == pair.after.shape
    assert pair.residual < MAX_ERROR
    # Landmark the two aligned pictures again: the stable points coincide.
    a = image_landmarker.detect(pair.before).faces[0].points_px
    b = image_landmarker.detect(pair.after).faces[0].points_px
    basis = basis_ids()
    error = float(np.sqrt(np.mean(np.sum((a[basis, :2] - b[basis, :2]) ** 2, axis=1)))) / interocular_px(a)
    assert error < MAX_ERROR, error
    # Unaligned, the same points are far apart (the test can fail).
    raw = float(
        np.sqrt(np.mean(np.sum((before_face.points_px[basis, :2] - after_face.points_px[basis, :2]) ** 2, 1)))
    )
    assert raw / interocular_px(before_face.points_px) > 5 * MAX_ERROR


def test_a_real_change_is_not_aligned_away(still: np.ndarray, image_landmarker) -> None:
    """Her left brow lifted ≈ 4 px in a re-framed copy: after alignment the brow still sits higher."""
    from tests.support.warp import warp_image
    from tests.vision.test_scan_photo import _anchors

    face = image_landmarker.detect(still).faces[0]
    moving = list(ids.LEFT_BROW)
    anchors = _anchors(face.points_px, set(moving), still.shape[1], still.shape[0])
    lifted = warp_image(still, face.points_px[moving, :2], np.array([0.0, -4.5]), anchors)
    after = _reframed(lifted, 5.0, 1.1, 10.0, 5.0)
    pair = align_pair(still, face.points_px, after, image_landmarker.detect(after).faces[0].points_px)
    a = image_landmarker.detect(pair.before).faces[0].points_px
    b = image_landmarker.detect(pair.after).faces[0].points_px
    rise = float(np.mean(a[moving, 1] - b[moving, 1]))  # image y grows downward
    still_side = float(np.mean(a[list(ids.RIGHT_BROW), 1] - b[list(ids.RIGHT_BROW), 1]))
    assert rise > 1.0 and abs(still_side) < 0.6 * rise, (rise, still_side)
