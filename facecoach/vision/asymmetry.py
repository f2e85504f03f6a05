"""Signed facial asymmetries (left minus right, the person's own sides) from face-frame coordinates.

Input is :func:`facecoach.vision.geometry.face_aligned_mm` output: (478, 3) mm, +x toward the person's
left, +y down, pose undone. Every measure is a pure function of those coordinates, so a turned or
tilted head (undone by the pose fit) and distance (undone by the iris scale) do not change it.
Heights are measured along the face's own vertical (−y), widths along its horizontal (x) from the
facial midline plane (x = 0: the symmetry plane of the fitted canonical face, through the point midway
between the eye corners).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids

#: The five measures the issue asks for, then the extras, in report order.
CORE_KEYS = (
    "brow_height_mm",
    "eye_opening_mm",
    "mouth_corner_mm",
    "lower_face_width_mm",
    "midline_deviation_deg",
)
EXTRA_KEYS = ("eye_height_mm", "mouth_width_mm", "chin_offset_mm")
KEYS = CORE_KEYS + EXTRA_KEYS


def _mean(a: NDArray[np.float64], idx: tuple[int, ...] | list[int], axis: int) -> float:
    return float(a[list(idx), axis].mean())


def _eye_opening(a: NDArray[np.float64], pairs: tuple[tuple[int, int], ...]) -> float:
    """Lid gap (mm) along the face vertical, averaged over three upper/lower pairs across the lid."""
    return float(np.mean([a[lower, 1] - a[upper, 1] for upper, lower in pairs]))


def measure(aligned_mm: NDArray[np.float64]) -> dict[str, float]:
    """All signed asymmetries of one face (mm, or degrees for ``midline_deviation_deg``).

    * ``brow_height_mm`` > 0: the left brow (mean of its upper and lower edge) sits higher.
    * ``eye_opening_mm`` > 0: the left eye is more open (upper-to-lower lid gap).
    * ``mouth_corner_mm`` > 0: the left mouth corner sits higher.
    * ``lower_face_width_mm`` > 0: the left half of the lower face (midline to jaw contour) is wider.
    * ``midline_deviation_deg`` > 0: the nose (tip and base) → chin line leans so that the chin sits
      toward the person's left, measured from the face's vertical axis.
    * ``eye_height_mm`` > 0: the left eye (centre of its lid contour) sits higher.
    * ``mouth_width_mm`` > 0: the left mouth corner lies further from the midline.
    * ``chin_offset_mm`` > 0: the chin (mean of four chin points) lies to the left of the midline.
    """
    a = np.asarray(aligned_mm, dtype=np.float64)
    left_eye = ids.LEFT_EYE_UPPER + ids.LEFT_EYE_LOWER
    right_eye = ids.RIGHT_EYE_UPPER + ids.RIGHT_EYE_LOWER
    # Several points per anchor: one landmark alone jitters by a few tenths of a millimetre.
    nose = a[list(ids.NOSE_TIP_POINTS)].mean(axis=0)
    chin = a[list(ids.CHIN_POINTS)].mean(axis=0)
    return {
        "brow_height_mm": _mean(a, ids.RIGHT_BROW, 1) - _mean(a, ids.LEFT_BROW, 1),
        "eye_opening_mm": _eye_opening(a, ids.LEFT_EYE_OPENING_PAIRS)
        - _eye_opening(a, ids.RIGHT_EYE_OPENING_PAIRS),
        "mouth_corner_mm": _mean(a, ids.MOUTH_RIGHT_CORNER_POINTS, 1)
        - _mean(a, ids.MOUTH_LEFT_CORNER_POINTS, 1),
        "lower_face_width_mm": _mean(a, ids.JAW_CONTOUR_LEFT, 0) + _mean(a, ids.JAW_CONTOUR_RIGHT, 0),
        "midline_deviation_deg": math.degrees(math.atan2(chin[0] - nose[0], chin[1] - nose[1])),
        "eye_height_mm": _mean(a, right_eye, 1) - _mean(a, left_eye, 1),
        "mouth_width_mm": _mean(a, ids.MOUTH_LEFT_CORNER_POINTS, 0)
        + _mean(a, ids.MOUTH_RIGHT_CORNER_POINTS, 0),
        "chin_offset_mm": float(chin[0]),
    }
