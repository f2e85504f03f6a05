"""Head pose, scale and pose-normalised face coordinates from one :class:`FaceObservation`.

Pure functions, numpy in and out. Conventions (the person's own sides throughout):

* **Face frame**: +x toward the person's left, +y down (toward the chin), +z away from the camera
  (into the head); origin midway between the four eye corners. For an upright, frontal, unmirrored face
  this frame is parallel to the image axes (x right, y down).
* **Head pose**, degrees: ``yaw_deg > 0`` — the person turns their head to their own left (the nose
  moves toward the image's right in an unmirrored photo); ``pitch_deg > 0`` — chin up (looking up);
  ``roll_deg > 0`` — the head tilts toward the person's left shoulder (their left eye drops in the image).

How the pose is found: a weighted similarity Procrustes fit (Umeyama) of MediaPipe's canonical face —
read from the pinned asset, with MediaPipe's own landmark basis and weights (eye corners, nose, cheeks,
jaw: points that barely move with expression) — to the observed landmarks (x, y in pixels, z in
MediaPipe's width-scaled depth, i.e. weak perspective). The canonical face and the basis are exactly
symmetric, so the fit treats both sides alike: a mirrored photo gives the mirrored pose, and a rolled
photo gives the same face-frame coordinates. Undoing that rotation is what keeps a turned or tilted
head from reading as asymmetry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from pydantic import ConfigDict

from facecoach.vision import landmark_ids as ids
from facecoach.vision.canonical import canonical_face
from facecoach.vision.landmarks import FaceObservation

#: Horizontal visible iris diameter of an adult (mm); varies ≈ ±0.5 mm between people, which is the
#: main limit on the absolute accuracy of every millimetre figure (≈ ±4 %), not on left-right signs.
IRIS_DIAMETER_MM = 11.7


@dataclass(frozen=True)
class HeadPose:
    """Head orientation in degrees (signs in the module docstring): the one pose type, from the pose fit
    to the scan's result (``ScanResult.head_pose``, where pydantic validates it and refuses extra keys)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    yaw_deg: float
    pitch_deg: float
    roll_deg: float


@dataclass(frozen=True)
class PoseFit:
    """The similarity fit canonical face → image: ``points_px ≈ scale * vertices @ rotation.T + t``.

    ``rotation`` columns are the face-frame axes (x: person's left, y: down, z: into the head) in image
    coordinates; ``scale`` is pixels per canonical centimetre; ``rms_px`` the fit residual.
    """

    rotation: NDArray[np.float64]
    scale: float
    translation: NDArray[np.float64]
    rms_px: float


def fit_pose(face: FaceObservation) -> PoseFit:
    """Weighted Procrustes fit of the canonical face to the observed landmarks (see module docstring).

    The fit depends only on the basis landmarks, and one frame's face is fitted by many measures (≈ 9
    times a frame in an audit's review), so the last fits are kept by the basis points' exact bytes
    (``_fit_basis``); the arrays of a fit are read-only for that reason."""
    dst = np.asarray(face.points_px, dtype=np.float64)[canonical_face().basis_ids]
    return _fit_basis(dst.tobytes())  # an indexed copy: contiguous


#: Fits kept (≈ 2.5 kB each: the key is the basis points): the review of a 2-minute audit passes over
#: its frames several times.
@lru_cache(maxsize=2048)
def _fit_basis(basis_points: bytes) -> PoseFit:
    canon = canonical_face()
    src = canon.vertices[canon.basis_ids]
    dst = np.frombuffer(basis_points, dtype=np.float64).reshape(-1, 3)
    w = canon.basis_weights / canon.basis_weights.sum()
    src_mean = w @ src
    dst_mean = w @ dst
    a = src - src_mean
    b = dst - dst_mean
    cov = (b * w[:, None]).T @ a  # Σ w b aᵀ
    u, s, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    fix = np.diag([1.0, 1.0, d])
    rotation = u @ fix @ vt
    var_src = float(w @ np.sum(a * a, axis=1))
    scale = float(np.sum(s * np.diag(fix)) / var_src)
    translation = dst_mean - scale * rotation @ src_mean
    fitted = scale * src @ rotation.T + translation
    rms = float(np.sqrt(w @ np.sum((fitted - dst) ** 2, axis=1)))
    rotation.setflags(write=False)
    translation.setflags(write=False)
    return PoseFit(rotation, scale, translation, rms)


def pose_from_rotation(rotation: NDArray[np.float64]) -> HeadPose:
    """Yaw, pitch, roll (degrees) of a face-frame → image rotation (signs in the module docstring).

    Decomposition ``R = Rz(roll) · Rx(−pitch) · Ry(−yaw)``: the head turns about its own vertical
    axis, then nods, then the whole picture of it tilts in the image plane — so roll does not leak
    into yaw or pitch. ``Ry(a)`` turns the nose toward image −x, ``Rx(a)`` moves it down, ``Rz(a)``
    drops the person's left eye, hence the signs.
    """
    r = np.asarray(rotation, dtype=np.float64)
    yaw = math.degrees(math.atan2(r[2, 0], r[2, 2]))
    pitch = -math.degrees(math.asin(float(np.clip(r[2, 1], -1.0, 1.0))))
    roll = math.degrees(math.atan2(-r[0, 1], r[1, 1]))
    return HeadPose(yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll)


def head_pose(face: FaceObservation) -> HeadPose:
    """Head pose in degrees from the landmarks (Procrustes fit to the canonical face)."""
    return pose_from_rotation(fit_pose(face).rotation)


def iris_diameters_px(face: FaceObservation) -> NDArray[np.float64]:
    """Horizontal visible iris diameters (right, left) in pixels, corrected for foreshortening.

    The horizontal iris diameter lies along the face's x axis; once the head turns, that axis is seen
    shortened by the length of its image-plane projection, ``hypot(R[0,0], R[1,0])`` (≈ cos yaw).
    Roll does not shorten it (the contour points turn with the eye).
    """
    pts = np.asarray(face.points_px, dtype=np.float64)[:, :2]
    r = fit_pose(face).rotation
    shortening = max(math.hypot(r[0, 0], r[1, 0]), 0.5)
    right = np.linalg.norm(pts[ids.RIGHT_IRIS_HORIZONTAL[0]] - pts[ids.RIGHT_IRIS_HORIZONTAL[1]])
    left = np.linalg.norm(pts[ids.LEFT_IRIS_HORIZONTAL[0]] - pts[ids.LEFT_IRIS_HORIZONTAL[1]])
    return np.array([right, left], dtype=np.float64) / shortening


def mm_per_px(face: FaceObservation) -> float:
    """Millimetres per pixel at the face, from both irises (11.7 mm horizontal visible diameter).

    Both irises are averaged. If they disagree by more than 25 % (one mis-fitted, e.g. half shut or
    behind a reflection), the larger is kept: a mis-fit iris contour almost always shrinks. The face is
    treated as one plane at the irises' distance (weak perspective), which holds for a face filling a
    phone or webcam picture at arm's length.
    """
    d = iris_diameters_px(face)
    if not np.all(np.isfinite(d)) or d.max() <= 0:
        raise ValueError("iris contour is degenerate; cannot derive a scale")
    diameter = float(d.max() if d.min() < 0.75 * d.max() else d.mean())
    return IRIS_DIAMETER_MM / diameter


def face_aligned_mm(face: FaceObservation) -> NDArray[np.float64]:
    """(478, 3) landmarks in mm in the face frame (see module docstring): pose undone, scale removed.

    x toward the person's left, y down, z away from the camera; origin midway between the four eye
    corners. Depth (z) comes from MediaPipe's relative depth and is the least reliable axis.
    """
    pts = np.asarray(face.points_px, dtype=np.float64)
    fit = fit_pose(face)
    origin = pts[list(ids.EYE_CORNERS)].mean(axis=0)
    aligned = (pts - origin) @ fit.rotation  # rows: Rᵀ (p - origin)
    return aligned * mm_per_px(face)


def _swap_side_name(name: str) -> str:
    if "Left" in name:
        return name.replace("Left", "Right")
    if "Right" in name:
        return name.replace("Right", "Left")
    return name


def unmirror(face: FaceObservation) -> FaceObservation:
    """A face seen in a left-right flipped frame, mapped back into the unflipped frame.

    x becomes ``width − x`` (MediaPipe's coordinates span the full pixel width), and every landmark
    takes its mirror partner's index so that "left" still means the person's left; blendshape names
    swap Left/Right the same way. The transformation matrix is mirrored (x row and column negated).
    """
    width = face.image_size[0]
    pts = np.asarray(face.points_px, dtype=np.float64)[canonical_face().mirror].copy()
    pts[:, 0] = width - pts[:, 0]
    flip = np.diag([-1.0, 1.0, 1.0, 1.0])
    shapes = {_swap_side_name(k): v for k, v in face.blendshapes.items()}
    matrix = None if face.matrix is None else flip @ face.matrix @ flip
    return replace(face, points_px=pts, blendshapes=shapes, matrix=matrix)


def symmetric_average(face: FaceObservation, flipped: FaceObservation) -> FaceObservation:
    """Average of a face and the same face landmarked in the flipped frame (test-time augmentation).

    The landmark model is not exactly mirror-equivariant: on one photo and its mirror image its points
    differ by ~0.5 px on average (~0.3–0.9 mm in the asymmetries). Averaging both passes cancels that
    lateral bias, so the measured asymmetry belongs to the face, not to the model, and flipping the
    photo flips every signed asymmetry exactly.
    """
    back = unmirror(flipped)
    pts = (np.asarray(face.points_px, dtype=np.float64) + back.points_px) / 2.0
    shapes = {k: (v + back.blendshapes.get(k, v)) / 2.0 for k, v in face.blendshapes.items()}
    lines = [v for v in (face.frown_lines, back.frown_lines) if v is not None]
    return replace(
        face, points_px=pts, blendshapes=shapes, frown_lines=sum(lines) / len(lines) if lines else None
    )
