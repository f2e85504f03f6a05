"""The face scan: signed left-minus-right asymmetries in millimetres from a photo or a short video.

Pipeline: landmarks → quality gate → pose fit → face-frame mm → :func:`facecoach.vision.asymmetry.measure`.
The landmark model has a left-right bias of its own (~0.5 px), so it never measures from one plain pass:
a photo is landmarked six times (as is and mirrored, at 0° and ±4°) and averaged; a video alternates
frames between a plain and a mirrored tracker and averages the two streams' medians. A video is a
still neutral face filmed for a few seconds: every scanned good frame is measured, and the noise is
the robust spread (1.4826 × median absolute deviation, an SD estimate). Sides are always the person's
own. Method and measured accuracy: docs/scan.md.

This module holds what photo and video share: the result types, the per-frame measure and the yaw
caution. The entry points: :mod:`facecoach.vision.scan_photo` (a photo), :mod:`facecoach.vision.scan_video`
(a clip or its frames), :mod:`facecoach.vision.scan_file` (a file of either kind, told apart by content);
the words for a result: :mod:`facecoach.vision.scan_describe`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision.asymmetry import KEYS, measure
from facecoach.vision.geometry import HeadPose, face_aligned_mm, head_pose, iris_diameters_px, mm_per_px
from facecoach.vision.landmarks import FaceObservation

__all__ = ["KEYS", "MAX_FACES", "Asymmetry", "FrameMeasure", "Scan", "ScanRefused", "ScanResult"]

Frame = tuple[float, NDArray[np.uint8]]
Progress = Callable[[int, int], None]

#: Faces the landmarker may report. Above two on purpose: MediaPipe's detector keeps only its top
#: candidates, and on a group photo ``num_faces=2`` saw one face where ``num_faces=6`` saw two — a
#: second person must be *seen* to be refused.
MAX_FACES = 4
#: Above this yaw (degrees) a scan carries a caution about the widths. MediaPipe's jaw contour follows
#: the silhouette, so turning the head moves it; on the real video the lower-face width changed by
#: −2.8 mm per 10° of yaw across all frames (expressions confound it; see docs/scan.md).
YAW_CAUTION_DEG = 10.0


class ScanRefused(Exception):
    """The scan cannot be made; ``code`` is stable for programs, ``message`` is for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Asymmetry(BaseModel):
    """Signed asymmetries, left minus right (the person's sides); signs in :func:`measure`."""

    model_config = ConfigDict(extra="forbid")
    brow_height_mm: float
    eye_opening_mm: float
    mouth_corner_mm: float
    lower_face_width_mm: float
    midline_deviation_deg: float
    eye_height_mm: float
    mouth_width_mm: float
    chin_offset_mm: float


class ScanResult(BaseModel):
    """What a scan found. ``noise_mm`` is ``None`` for a photo (one frame has no spread)."""

    model_config = ConfigDict(extra="forbid")
    head_pose: HeadPose
    mm_per_px: float
    frames_used: int
    asymmetry: Asymmetry
    noise_mm: Asymmetry | None
    notes: list[str] = Field(default_factory=list)
    kind: Literal["photo", "video"] = "photo"
    iris_px: float = Field(description="mean horizontal iris diameter in pixels (the scale's basis)")

    @model_validator(mode="after")
    def _finite(self) -> ScanResult:
        values = [*self.asymmetry.model_dump().values(), self.mm_per_px]
        if not all(math.isfinite(v) for v in values):
            raise ValueError("scan produced a non-finite value")
        return self


@dataclass(frozen=True)
class FrameMeasure:
    """One measured frame: the (symmetrised) face, its pose, scale and asymmetries."""

    timestamp_s: float
    passes: int  # landmark passes averaged (1 = plain; mirrored and turned passes added)
    face: FaceObservation
    pose: HeadPose
    mm_per_px: float
    iris_px: float
    values: dict[str, float]


@dataclass(frozen=True)
class Scan:
    """A result with the evidence behind it (a representative frame and its face) for annotation."""

    result: ScanResult
    frame: NDArray[np.uint8]
    measure: FrameMeasure
    frames: tuple[FrameMeasure, ...] = ()  # every measured frame (video), in order of the streams


def measure_face(face: FaceObservation, timestamp_s: float, passes: int = 1) -> FrameMeasure:
    return FrameMeasure(
        timestamp_s=timestamp_s,
        passes=passes,
        face=face,
        pose=head_pose(face),
        mm_per_px=mm_per_px(face),
        iris_px=float(np.mean(iris_diameters_px(face))),
        values=measure(face_aligned_mm(face)),
    )


def yaw_note(yaw_deg: float) -> list[str]:
    if abs(yaw_deg) <= YAW_CAUTION_DEG:
        return []
    side = "left" if yaw_deg > 0 else "right"
    return [
        f"the head is turned {abs(yaw_deg):.0f}° to the {side}: the widths (lower face, mouth) are the "
        "least reliable measures at that angle; look straight at the camera for them"
    ]
