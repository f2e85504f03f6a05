"""Before/after pictures aligned on the face: the same scale, roll and position.

A similarity transform (uniform scale, rotation, translation; no shear, no reflection) maps the *after*
picture's landmarks onto the *before* picture's, fitted by least squares (Umeyama, 2-D) on MediaPipe's
own Procrustes basis — the eye corners, nose, cheeks and jaw points that barely move with expression —
so a real change in the brows or mouth is not aligned away. Both pictures are then cut to the same box
around the *before* face. Pure numpy (plus one ``cv2.warpAffine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids
from facecoach.vision.canonical import canonical_face

Points = NDArray[np.float64]


def basis_ids() -> NDArray[np.int64]:
    """The landmark ids the alignment is fitted on (MediaPipe's weighted pose basis)."""
    return canonical_face().basis_ids


def similarity_fit(src: Points, dst: Points) -> NDArray[np.float64]:
    """The 2×3 matrix ``M`` of the similarity transform minimising Σ ‖M·[src 1] − dst‖² (Umeyama 1991)."""
    src = np.asarray(src, dtype=np.float64)[:, :2]
    dst = np.asarray(dst, dtype=np.float64)[:, :2]
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError("similarity_fit needs two equal sets of at least 2 points")
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    var = float((a * a).sum() / len(a))
    if var <= 0:
        raise ValueError("similarity_fit: the source points coincide")
    u, s, vt = np.linalg.svd(b.T @ a / len(a))
    d = np.diag([1.0, float(np.sign(np.linalg.det(u @ vt)) or 1.0)])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(s) @ d) / var)
    t = md - scale * rotation @ ms
    return np.hstack([scale * rotation, t[:, None]])


def apply(matrix: NDArray[np.float64], pts: Points) -> Points:
    p = np.asarray(pts, dtype=np.float64)[:, :2]
    return p @ matrix[:, :2].T + matrix[:, 2]


def interocular_px(pts: Points) -> float:
    """Outer-eye-corner distance (px): the unit alignment errors are stated in."""
    p = np.asarray(pts, dtype=np.float64)
    return float(np.linalg.norm(p[ids.LEFT_EYE_OUTER, :2] - p[ids.RIGHT_EYE_OUTER, :2]))


@dataclass(frozen=True)
class AlignedPair:
    """Both pictures in the same box (RGB, same size); ``residual`` is the RMS distance of the basis
    landmarks after alignment, as a fraction of the before face's eye-corner distance."""

    before: NDArray[np.uint8]
    after: NDArray[np.uint8]
    matrix: NDArray[np.float64]
    residual: float


def _crop_box(pts: Points, shape: tuple[int, ...], margin: float) -> tuple[int, int, int, int]:
    """A box around the face with ``margin`` × its size on every side, inside the picture."""
    p = np.asarray(pts, dtype=np.float64)[:, :2]
    x0, y0 = p.min(axis=0)
    x1, y1 = p.max(axis=0)
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    h, w = shape[:2]
    return (max(0, int(x0 - mx)), max(0, int(y0 - my)), min(w, int(x1 + mx) + 1), min(h, int(y1 + my) + 1))


def align_pair(
    before: NDArray[np.uint8],
    before_pts: Points,
    after: NDArray[np.uint8],
    after_pts: Points,
    margin: float = 0.2,
) -> AlignedPair:
    """The after picture warped onto the before picture's face, both cut to the before face's box."""
    import cv2

    basis = basis_ids()
    b_pts, a_pts = np.asarray(before_pts, np.float64), np.asarray(after_pts, np.float64)
    matrix = similarity_fit(a_pts[basis], b_pts[basis])
    h, w = before.shape[:2]
    warped = cv2.warpAffine(after, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = apply(matrix, a_pts[basis])
    residual = float(np.sqrt(np.mean(np.sum((moved - b_pts[basis, :2]) ** 2, axis=1)))) / interocular_px(
        b_pts
    )
    x0, y0, x1, y1 = _crop_box(b_pts, before.shape, margin)
    return AlignedPair(
        before=np.ascontiguousarray(before[y0:y1, x0:x1]),
        after=np.ascontiguousarray(warped[y0:y1, x0:x1]),
        matrix=matrix,
        residual=residual,
    )
