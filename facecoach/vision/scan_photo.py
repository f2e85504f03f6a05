"""The photo scan: one picture landmarked six times (as is and mirrored, at 0° and ±4°) and averaged,
so the landmark model's own left-right bias cancels (see :mod:`facecoach.vision.scan`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import unmirror
from facecoach.vision.hands import HandTracker
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.neutral import NeutralCheck, check_neutral
from facecoach.vision.quality import Verdict, check_frame
from facecoach.vision.scan import (
    MAX_FACES,
    Asymmetry,
    FrameMeasure,
    Scan,
    ScanRefused,
    ScanResult,
    measure_face,
    yaw_note,
)
from facecoach.vision.scan_neutral import neutral_verdict, trace_notes

#: A picture narrower or lower than this (px) cannot hold a measurable face (an 8 px iris is ~1/12
#: of a face's width, so even a face filling the picture needs about a hundred pixels).
MIN_PICTURE_PX = 64
#: Photos larger than this (longest side, px) are shrunk before scanning (see :func:`_fit_for_scan`).
MAX_SCAN_SIDE_PX = 2000
#: Photos are landmarked at these extra in-plane turns (degrees), each also mirrored, and averaged.
PHOTO_ROLL_ANGLES = (0.0, -4.0, 4.0)


def _match(face: FaceObservation, candidates: list[FaceObservation]) -> FaceObservation | None:
    """The candidate (already in ``face``'s frame) that is the same person: nearest nose tip, within a
    quarter of the face's width — another person, or a reflection at the border, is never averaged in."""
    if not candidates:
        return None
    nose = face.points_px[ids.NOSE_TIP, :2]
    dist = [float(np.linalg.norm(c.points_px[ids.NOSE_TIP, :2] - nose)) for c in candidates]
    best = int(np.argmin(dist))
    return candidates[best] if dist[best] < 0.25 * float(np.ptp(face.points_px[:, 0])) else None


def _affine(face: FaceObservation, matrix: NDArray[np.float64]) -> FaceObservation:
    """Map a face's landmarks through a 2×3 in-plane affine map (depth unchanged)."""
    pts = np.asarray(face.points_px, dtype=np.float64).copy()
    pts[:, :2] = pts[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    return replace(face, points_px=pts)


def _average(faces: list[FaceObservation]) -> FaceObservation:
    pts = np.mean([f.points_px for f in faces], axis=0)
    shapes = {
        k: float(np.mean([f.blendshapes.get(k, v) for f in faces])) for k, v in faces[0].blendshapes.items()
    }
    lines = [f.frown_lines for f in faces if f.frown_lines is not None]
    return replace(
        faces[0], points_px=pts, blendshapes=shapes, frown_lines=float(np.mean(lines)) if lines else None
    )


def _photo_passes(
    rgb: NDArray[np.uint8], face: FaceObservation, landmarker: FaceLandmarker, angles: tuple[float, ...]
) -> list[FaceObservation]:
    """The face landmarked again in the mirrored frame and in frames turned by a few degrees.

    Test-time augmentation for photos: every pass is mapped back into the original frame and matched
    to the same person. The mirrored passes cancel the model's left-right bias (see
    :func:`facecoach.vision.geometry.symmetric_average`); the turned ones average out its resampling
    jitter (≈0.2–0.8 mm per asymmetry on one pass, see docs/scan.md).
    """
    import cv2

    h, w = rgb.shape[:2]
    # Turn about the picture's centre, not the face's: the face then lands at a different place in
    # each pass, so the model's crop (and its error) differs and averaging helps more. Measured: the
    # worst roll-test change fell from 0.8 mm (face-centred) to 0.47 mm (picture-centred).
    centre = np.array([w / 2, h / 2])
    passes = [face]
    for angle in angles:
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
        turned = (
            rgb
            if angle == 0
            else cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        )
        back = np.asarray(cv2.invertAffineTransform(matrix), dtype=np.float64)
        for mirrored in (False, True):
            if angle == 0 and not mirrored:
                continue
            image = np.ascontiguousarray(turned[:, ::-1] if mirrored else turned, dtype=np.uint8)
            found = landmarker.detect(image).faces
            if mirrored:
                found = [unmirror(f) for f in found]
            match = _match(face, [_affine(f, back) for f in found])
            if match is not None:
                passes.append(match)
    return passes


def _frame_measure(
    rgb: NDArray[np.uint8],
    landmarker: FaceLandmarker,
    hands: HandTracker,
    symmetric: bool,
    angles: tuple[float, ...],
    require_neutral: bool = True,
) -> tuple[Verdict, FrameMeasure | None, NeutralCheck | None]:
    """Photo: gate on a plain pass, then the neutral check and the measure, both on the average of the
    augmented passes (its scores and frown lines jitter less than one pass's)."""
    faces = landmarker.detect(rgb).faces
    verdict = check_frame(rgb, faces)
    if not verdict.ok:
        return verdict, None, None
    passes = _photo_passes(rgb, faces[0], landmarker, angles) if symmetric else [faces[0]]
    face = _average(passes)
    check = check_neutral(face, hands=hands.detect(rgb).hands)
    verdict = neutral_verdict(check) if require_neutral else verdict
    if not verdict.ok:
        return verdict, None, check
    return verdict, measure_face(face, 0.0, len(passes)), check


def _result_from_frame(m: FrameMeasure, notes: list[str]) -> ScanResult:
    notes = notes + yaw_note(m.pose.yaw_deg)
    return ScanResult(
        head_pose=m.pose,
        mm_per_px=m.mm_per_px,
        frames_used=1,
        asymmetry=Asymmetry(**m.values),
        noise_mm=None,
        notes=notes,
        kind="photo",
        iris_px=m.iris_px,
    )


def _fit_for_scan(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    """Shrink a very large photo (longest side over ``MAX_SCAN_SIDE_PX``) before the six passes.

    Millimetres do not depend on the picture's size (the iris sets the scale), and a face that fills a
    2000 px picture still has an iris of ~60 px; a 40-megapixel original would only cost time and memory.
    Returns the picture to scan and its scale relative to the original (≤ 1).
    """
    import cv2

    h, w = rgb.shape[:2]
    k = MAX_SCAN_SIDE_PX / max(h, w)
    if k >= 1:
        return rgb, 1.0
    small = cv2.resize(rgb, (max(1, round(w * k)), max(1, round(h * k))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.uint8), k


def analyse_image(
    rgb: NDArray[np.uint8],
    landmarker: FaceLandmarker | None = None,
    symmetric: bool = True,
    picture_scale: float = 1.0,
    *,
    model: Path | None = None,
    hands: HandTracker | None = None,
    require_neutral: bool = True,
) -> Scan:
    """Scan one photo; raises :class:`ScanRefused` with the gate's or the neutral check's reason.

    ``picture_scale``: ``rgb``'s size relative to the original picture (below 1 when it was reduced
    while decoding, :class:`facecoach.vision.sources.Picture`), so pixel figures refer to the original.
    ``model``: the landmarker asset's path when one is made here (see :class:`FaceLandmarker`).
    ``hands``: a long-lived image-mode :class:`HandTracker` (one is made here otherwise, ~0.1 s).
    ``require_neutral=False`` measures a face outside the neutral range too (accuracy tests on
    expressive photos); its traces and reasons are then not checked.
    """
    if landmarker is None:
        with FaceLandmarker(mode="image", max_faces=MAX_FACES, model=model) as own:
            return analyse_image(
                rgb, own, symmetric, picture_scale, hands=hands, require_neutral=require_neutral
            )
    if hands is None:
        with HandTracker(mode="image") as own_hands:
            return analyse_image(
                rgb, landmarker, symmetric, picture_scale, hands=own_hands, require_neutral=require_neutral
            )
    if landmarker.mode != "image" or hands.mode != "image":
        raise ValueError("a photo needs an image-mode landmarker and hand tracker")
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_PICTURE_PX:
        raise ScanRefused(
            "too_small",
            f"the picture is only {w}×{h} pixels: a face needs at least {MIN_PICTURE_PX} each way",
        )
    rgb, k = _fit_for_scan(np.ascontiguousarray(rgb))
    k *= picture_scale
    verdict, m, check = _frame_measure(rgb, landmarker, hands, symmetric, PHOTO_ROLL_ANGLES, require_neutral)
    if m is None:
        raise ScanRefused(verdict.code, verdict.message)
    expected = 2 * len(PHOTO_ROLL_ANGLES)
    if not symmetric:
        notes = ["single pass: the landmark model's own left-right bias is not cancelled"]
    elif m.passes < expected:
        notes = [f"{m.passes} of {expected} landmark passes found the face (the rest are averaged)"]
    else:
        notes = []
    traces = check.traces if check is not None and require_neutral else {}
    result = _result_from_frame(m, notes + trace_notes(traces))
    if k < 1:  # figures in pixels refer to the picture as given
        result.mm_per_px *= k
        result.iris_px /= k
    return Scan(result, rgb, m)


def scan_image(
    rgb: NDArray[np.uint8],
    landmarker: FaceLandmarker | None = None,
    symmetric: bool = True,
    *,
    hands: HandTracker | None = None,
    require_neutral: bool = True,
) -> ScanResult:
    """Scan one photo (RGB uint8); see :func:`analyse_image`."""
    return analyse_image(rgb, landmarker, symmetric, hands=hands, require_neutral=require_neutral).result
