"""Draw a scan on its picture: landmarks, the facial midline and each measurement (OpenCV).

Colours: the person's LEFT side in orange, their RIGHT side in cyan (an unmirrored photo shows the
person's left on the image's right), the midline in white. Drawing only: no measuring happens here.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids
from facecoach.vision.asymmetry import KEYS
from facecoach.vision.geometry import face_aligned_mm, fit_pose, mm_per_px
from facecoach.vision.landmarks import FaceObservation
from facecoach.vision.scan import Scan, ScanResult

LEFT = (0, 140, 255)  # BGR orange: the person's left
RIGHT = (255, 200, 0)  # BGR cyan: the person's right
MID = (255, 255, 255)
DOT = (90, 220, 90)
MIN_WIDTH = 900  # small pictures are enlarged first so the labels stay legible


def _to_image(face: FaceObservation, aligned_mm: NDArray[np.float64]) -> NDArray[np.float64]:
    """Face-frame mm → image pixels (the inverse of :func:`face_aligned_mm`)."""
    pts = np.asarray(face.points_px, dtype=np.float64)
    origin = pts[[ids.RIGHT_EYE_OUTER, ids.RIGHT_EYE_INNER, ids.LEFT_EYE_INNER, ids.LEFT_EYE_OUTER]].mean(
        axis=0
    )
    rotation = fit_pose(face).rotation
    return np.asarray(origin + (aligned_mm / mm_per_px(face)) @ rotation.T, dtype=np.float64)


def _pt(p: NDArray[np.float64], k: float) -> tuple[int, int]:
    return round(float(p[0]) * k), round(float(p[1]) * k)


def _poly(img: NDArray[np.uint8], pts: NDArray[np.float64], k: float, colour: tuple[int, int, int]) -> None:
    cv2.polylines(img, [np.round(pts[:, :2] * k).astype(np.int32)], False, colour, 2, cv2.LINE_AA)


def draw_scan(rgb: NDArray[np.uint8], face: FaceObservation, result: ScanResult) -> NDArray[np.uint8]:
    """The picture (RGB) with the scan drawn on it; enlarged if narrower than ``MIN_WIDTH``."""
    k = max(1.0, MIN_WIDTH / rgb.shape[1])
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    if k > 1:
        bgr = cv2.resize(bgr, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    img: NDArray[np.uint8] = np.ascontiguousarray(bgr, dtype=np.uint8)
    pts = np.asarray(face.points_px, dtype=np.float64)
    for p in pts:
        cv2.circle(img, _pt(p, k), 1, DOT, -1, cv2.LINE_AA)

    aligned = face_aligned_mm(face)
    # Midline: the face frame's x = 0 line, from the forehead to below the chin.
    top, bottom = aligned[ids.FOREHEAD, 1], aligned[ids.CHIN, 1] + 5.0
    mid = _to_image(face, np.array([[0.0, top, 0.0], [0.0, bottom, 0.0]]))
    cv2.line(img, _pt(mid[0], k), _pt(mid[1], k), MID, 1, cv2.LINE_AA)
    # Nose tip → chin line (midline deviation).
    cv2.line(img, _pt(pts[ids.NOSE_TIP], k), _pt(pts[ids.CHIN], k), (200, 120, 255), 2, cv2.LINE_AA)

    for side, colour in (("LEFT", LEFT), ("RIGHT", RIGHT)):
        brow = list(getattr(ids, f"{side}_BROW_UPPER"))
        _poly(img, pts[brow], k, colour)
        # Brow height: a level tick at the brow's mean height (face frame), across the brow.
        brow_ids = list(getattr(ids, f"{side}_BROW"))
        y = aligned[brow_ids, 1].mean()
        xs = aligned[brow_ids, 0]
        tick = _to_image(face, np.array([[xs.min(), y, 0.0], [xs.max(), y, 0.0]]))
        cv2.line(img, _pt(tick[0], k), _pt(tick[1], k), colour, 1, cv2.LINE_AA)
        for upper, lower in getattr(ids, f"{side}_EYE_OPENING_PAIRS"):
            cv2.line(img, _pt(pts[upper], k), _pt(pts[lower], k), colour, 1, cv2.LINE_AA)
        jaw = list(getattr(ids, f"JAW_CONTOUR_{side}"))
        _poly(img, pts[jaw], k, colour)
        # Lower-face half width: from the midline out to the mean jaw contour, at the jaw's mean height.
        jx, jy = aligned[jaw, 0].mean(), aligned[jaw, 1].mean()
        span = _to_image(face, np.array([[0.0, jy, 0.0], [jx, jy, 0.0]]))
        cv2.line(img, _pt(span[0], k), _pt(span[1], k), colour, 2, cv2.LINE_AA)
        corner = getattr(ids, f"MOUTH_{side}_CORNER")
        cv2.circle(img, _pt(pts[corner], k), 5, colour, 2, cv2.LINE_AA)
        label_at = pts[ids.LEFT_EYE_OUTER if side == "LEFT" else ids.RIGHT_EYE_OUTER]
        dx = 25 if side == "LEFT" else -110
        cv2.putText(
            img,
            f"{side.lower()}",
            (round(label_at[0] * k) + dx, round(label_at[1] * k)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7,
            colour,
            2,
            cv2.LINE_AA,
        )

    values = result.asymmetry.model_dump()
    lines = ["left minus right (the person's sides):"]
    for key in KEYS:
        unit = "deg" if key.endswith("_deg") else "mm"
        name = key.removesuffix("_mm").removesuffix("_deg").replace("_", " ")
        noise = f" +/- {getattr(result.noise_mm, key):.1f}" if result.noise_mm is not None else ""
        lines.append(f"{name}: {values[key]:+.1f}{noise} {unit}")
    pose = result.head_pose
    lines.append(f"yaw {pose.yaw_deg:+.0f}  pitch {pose.pitch_deg:+.0f}  roll {pose.roll_deg:+.0f} deg")
    for i, text in enumerate(lines):
        org = (10, 24 + 22 * i)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def annotate(scan: Scan) -> NDArray[np.uint8]:
    """The scan drawn on its representative frame (RGB uint8)."""
    return draw_scan(scan.frame, scan.measure.face, scan.result)


#: Picture formats an annotation can be written as (by file suffix).
ANNOTATION_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def write_annotation(scan: Scan, out: Path) -> Path:
    """Draw ``scan`` on its representative frame and write it; the format follows the suffix.

    Raises :class:`OSError` with a one-line reason for an unknown suffix or an unwritable place.
    """
    out = Path(out)
    if out.suffix.lower() not in ANNOTATION_SUFFIXES:
        raise OSError(f"cannot write {out.name}: the annotation must end in {', '.join(ANNOTATION_SUFFIXES)}")
    picture = annotate(scan)
    try:
        written = cv2.imwrite(str(out), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
    except cv2.error:
        written = False
    if not written:
        raise OSError(f"cannot write {out} (is the folder there and writable?)")
    return out
