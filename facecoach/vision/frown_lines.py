"""Frown lines: the vertical creases between the brows (glabella), read from the picture.

Why a picture measure: on ``woman_expressions_24fps.mp4`` her frown (0.8–5.6 s, brows knit, eyes
squeezed shut) reads ``browDown`` 0.00–0.20 (median 0.05) in MediaPipe's blendshapes, and the brow
landmarks do not tell it apart either: the inner brow height above the eye corners, the brow-to-lid
distance and the gap between the inner brow ends all stay inside the range other faces here show at rest
(docs/scan.md, "Why the frown was missed"). What the frown does show is the corrugator's and procerus'
vertical lines between the brows — landmarks cannot see skin, so this reads it from the pixels.

The figure (dimensionless, pure function of the frame and its landmarks):

1. the frame in grey, turned and scaled so the two eye centres (mean of each eye's corners) lie level,
   ``EYE_SPAN_PX`` apart (resolution and head roll drop out);
2. a Gaussian blur of σ = ``BLUR_PX`` (sensor noise and JPEG blocks are finer than a crease);
3. the patch between the inner ends of the brows (landmarks 55 and 285, two pixels in from each), from
   ``TOP_PX`` above the higher inner brow top (107, 336) down to ``BOTTOM_PX`` above the inner eye
   corners (133, 362): the glabella, with no brow hair and no nose side in it;
4. ``100 × mean |∂g/∂x| ÷ mean g`` over the patch (a vertical crease is a strong horizontal gradient;
   dividing by the brightness makes it independent of exposure).

Measured (docs/scan.md): her frown 17–44, every other frame of the clip and the faces at rest 5–14.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids

EYE_SPAN_PX = 80.0
BLUR_PX = 1.0
TOP_PX = 4.0
BOTTOM_PX = 6.0
INSET_PX = 2.0
_SIZE = 160
_RIGHT_INNER_BROW, _LEFT_INNER_BROW = ids.RIGHT_BROW_LOWER[0], ids.LEFT_BROW_LOWER[0]
_RIGHT_BROW_TOP, _LEFT_BROW_TOP = ids.RIGHT_BROW_UPPER[0], ids.LEFT_BROW_UPPER[0]


def frown_lines(rgb: NDArray[np.uint8], points_px: NDArray[np.float64]) -> float | None:
    """The frown-line figure of one face in an RGB frame (see the module docstring); None when the
    patch cannot be placed (eyes on top of each other, a face at the picture's edge, a degenerate mesh)."""
    import cv2

    p = np.asarray(points_px, dtype=np.float64)[:, :2]
    right = p[[ids.RIGHT_EYE_OUTER, ids.RIGHT_EYE_INNER]].mean(axis=0)
    left = p[[ids.LEFT_EYE_INNER, ids.LEFT_EYE_OUTER]].mean(axis=0)
    span = float(np.linalg.norm(left - right))
    if not math.isfinite(span) or span < 4.0:
        return None
    centre = (left + right) / 2.0
    angle = math.degrees(math.atan2(left[1] - right[1], left[0] - right[0]))
    scale = EYE_SPAN_PX / span
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[:, 2] += np.array([_SIZE / 2, _SIZE * 0.6]) - centre
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(grey, matrix, (_SIZE, _SIZE), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    crop = cv2.GaussianBlur(crop, (0, 0), BLUR_PX)
    q = p @ matrix[:, :2].T + matrix[:, 2]
    x0 = round(q[_RIGHT_INNER_BROW, 0] + INSET_PX)
    x1 = round(q[_LEFT_INNER_BROW, 0] - INSET_PX)
    y0 = round(min(q[_RIGHT_BROW_TOP, 1], q[_LEFT_BROW_TOP, 1]) - TOP_PX)
    y1 = round((q[ids.RIGHT_EYE_INNER, 1] + q[ids.LEFT_EYE_INNER, 1]) / 2 - BOTTOM_PX)
    if not (0 <= x0 < x1 - 2 <= _SIZE and 0 <= y0 < y1 - 2 <= _SIZE):
        return None
    patch = crop[y0:y1, x0:x1]
    gx = np.abs(cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3))[1:-1, 1:-1]
    brightness = float(patch.mean())
    return 100.0 * float(gx.mean()) / max(brightness, 1.0)
