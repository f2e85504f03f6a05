"""The quality gate: is this frame good enough to measure a face in millimetres? If not, why not.

Every refusal carries a ``code`` (stable, for programs) and a ``message`` (for the person, saying what
to change). Checks run cheapest and most fundamental first, and the first failure is the verdict.

Limits and why:

* **Iris under 8 px** across: the scale (mm per px) comes from the iris; at 8 px one pixel of contour
  error is already 12 % of every millimetre figure.
* **|yaw| > 20°, |pitch| > 20°**: the pose fit undoes rotation, but beyond ~20° the far jaw contour
  becomes the silhouette and the near one is hidden, so the model guesses the points that matter for
  lower-face width and mouth-corner height, and MediaPipe's depth (z) errors grow with the angle.
* **|roll| > 25°**: roll is in the image plane and is undone exactly; the limit only guards the
  landmark model's own accuracy on strongly tilted faces.
* **Too dark / blown out**: mean luma of the face region under 35 or over 220 (0–255), or more than a
  quarter of it clipped at white — lids and brow edges vanish in the noise or the glare.
* **Blurred**: variance of the Laplacian inside the face, after resizing the face to a standard width
  (so the figure does not depend on how big the face is in the picture), under ``BLUR_MIN`` = 20.
  Sharp photos and video frames here score 460–1360; a Gaussian blur of σ ≈ 1.5 % of the face
  width brings a face under 20. Calibrated on the shared photos; no frame of the real video is refused
  as blurred.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import HeadPose, head_pose, iris_diameters_px
from facecoach.vision.landmarks import FaceObservation

MIN_IRIS_PX = 8.0
MAX_YAW_DEG = 20.0
MAX_PITCH_DEG = 20.0
MAX_ROLL_DEG = 25.0
MIN_LUMA = 35.0
MAX_LUMA = 220.0
MAX_CLIPPED = 0.25
BLUR_MIN = 20.0
STANDARD_FACE_WIDTH_PX = 200

_OVAL = list(dict.fromkeys(ids.FACE_OVAL_LEFT + ids.FACE_OVAL_RIGHT[::-1]))


@dataclass(frozen=True)
class Verdict:
    """``code`` is ``"ok"`` or the reason for refusing; ``message`` is for the person."""

    code: str
    message: str

    @property
    def ok(self) -> bool:
        return self.code == "ok"


@dataclass(frozen=True)
class FaceStats:
    """Image-quality figures of the face region (luma 0–255, fraction clipped, sharpness)."""

    luma: float
    clipped: float
    sharpness: float


def _face_mask(shape: tuple[int, int], face: FaceObservation) -> NDArray[np.uint8]:
    mask = np.zeros(shape, np.uint8)
    hull = cv2.convexHull(np.round(face.points_px[_OVAL, :2]).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 255)
    return mask


def face_stats(rgb: NDArray[np.uint8], face: FaceObservation) -> FaceStats:
    """Brightness and sharpness of the face region (see module docstring for the normalisation)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    mask = _face_mask(gray.shape[:2], face)
    inside = gray[mask > 0]
    if inside.size == 0:
        return FaceStats(0.0, 0.0, 0.0)
    luma = float(inside.mean())
    clipped = float(np.mean(inside >= 250))
    x, y, w, h = cv2.boundingRect(mask)
    scale = STANDARD_FACE_WIDTH_PX / max(w, 1)
    size = (STANDARD_FACE_WIDTH_PX, max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(gray[y : y + h, x : x + w].astype(np.float32), size, interpolation=interp)
    small_mask = cv2.resize(mask[y : y + h, x : x + w], size, interpolation=cv2.INTER_NEAREST)
    inner = cv2.erode(small_mask, np.ones((7, 7), np.uint8))  # keep the outline and hair edge out
    lap = cv2.Laplacian(crop, cv2.CV_32F, ksize=3)
    values = lap[inner > 0]
    sharpness = float(values.var()) if values.size else 0.0
    return FaceStats(luma, clipped, sharpness)


def _side(angle: float, positive: str, negative: str) -> str:
    return positive if angle > 0 else negative


def check_pose(pose: HeadPose) -> Verdict:
    """Refuse a head turned or tilted past what a millimetre measurement bears."""
    if abs(pose.yaw_deg) > MAX_YAW_DEG:
        side = _side(pose.yaw_deg, "your left", "your right")
        return Verdict(
            "head_turned",
            f"head turned {abs(pose.yaw_deg):.0f}° to {side}: look straight at the camera "
            f"(within {MAX_YAW_DEG:.0f}°)",
        )
    if abs(pose.pitch_deg) > MAX_PITCH_DEG:
        side = _side(pose.pitch_deg, "up", "down")
        return Verdict(
            "head_turned",
            f"head tipped {abs(pose.pitch_deg):.0f}° {side}: hold the camera at eye level "
            f"(within {MAX_PITCH_DEG:.0f}°)",
        )
    if abs(pose.roll_deg) > MAX_ROLL_DEG:
        side = _side(pose.roll_deg, "your left", "your right")
        return Verdict(
            "head_turned",
            f"head tilted {abs(pose.roll_deg):.0f}° toward {side} shoulder: hold it upright "
            f"(within {MAX_ROLL_DEG:.0f}°)",
        )
    return Verdict("ok", "ok")


def check_frame(rgb: NDArray[np.uint8], faces: list[FaceObservation]) -> Verdict:
    """The gate for one frame and the faces the landmarker found in it."""
    if not faces:
        return Verdict(
            "no_face", "no face found: face the camera, in good light, with the whole face in view"
        )
    if len(faces) > 1:
        return Verdict("several_faces", f"{len(faces)} faces found: only one person may be in the picture")
    face = faces[0]
    iris = float(np.mean(iris_diameters_px(face)))
    if iris < MIN_IRIS_PX:
        return Verdict(
            "too_small",
            f"the face is too small (iris {iris:.1f} px across, at least {MIN_IRIS_PX:.0f} needed): "
            "come closer or use a larger picture",
        )
    pose_verdict = check_pose(head_pose(face))
    if not pose_verdict.ok:
        return pose_verdict
    stats = face_stats(rgb, face)
    if stats.luma < MIN_LUMA:
        return Verdict(
            "too_dark",
            f"the face is too dark (brightness {stats.luma:.0f} of 255): add light in front of you",
        )
    if stats.luma > MAX_LUMA or stats.clipped > MAX_CLIPPED:
        return Verdict(
            "too_bright",
            f"the face is blown out ({stats.clipped:.0%} of it pure white): use softer or less direct light",
        )
    if stats.sharpness < BLUR_MIN:
        return Verdict(
            "blurred",
            f"the picture is blurred (sharpness {stats.sharpness:.0f}, at least {BLUR_MIN:.0f} needed): "
            "hold still and let the camera focus",
        )
    return Verdict("ok", "ok")
