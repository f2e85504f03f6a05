"""The face scan: signed left-minus-right asymmetries in millimetres from a photo or a short video.

Pipeline per frame: landmarks (and, by default, landmarks of the flipped frame, averaged back — see
:func:`facecoach.vision.geometry.symmetric_average`) → quality gate → pose fit → face-frame mm →
:func:`facecoach.vision.asymmetry.measure`. A video is a still neutral face filmed for a few seconds:
every good frame is measured, the result is the per-measure median and the noise is the robust spread
(1.4826 × median absolute deviation, an SD estimate). Sides are always the person's own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision.asymmetry import KEYS, measure
from facecoach.vision.geometry import (
    face_aligned_mm,
    head_pose,
    iris_diameters_px,
    mm_per_px,
    symmetric_average,
)
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.quality import Verdict, check_frame
from facecoach.vision.sources import SourceError, VideoSource, file_kind, read_image

Frame = tuple[float, NDArray[np.uint8]]
Progress = Callable[[int, int], None]

#: Video frames are scanned at about this rate (every k-th frame); see docs/scan.md for the noise check.
TARGET_SCAN_FPS = 10.0
#: Faces the landmarker may report. Above two on purpose: MediaPipe's detector keeps only its top
#: candidates, and on a group photo ``num_faces=2`` saw one face where ``num_faces=6`` saw two — a
#: second person must be *seen* to be refused.
MAX_FACES = 4


class ScanRefused(Exception):
    """The scan cannot be made; ``code`` is stable for programs, ``message`` is for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Pose(BaseModel):
    model_config = ConfigDict(extra="forbid")
    yaw_deg: float
    pitch_deg: float
    roll_deg: float


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
    head_pose: Pose
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
    face: FaceObservation
    pose: Pose
    mm_per_px: float
    iris_px: float
    values: dict[str, float]


@dataclass(frozen=True)
class Scan:
    """A result with the evidence behind it (a representative frame and its face) for annotation."""

    result: ScanResult
    frame: NDArray[np.uint8]
    measure: FrameMeasure


def _measure_face(face: FaceObservation, timestamp_s: float) -> FrameMeasure:
    pose = head_pose(face)
    return FrameMeasure(
        timestamp_s=timestamp_s,
        face=face,
        pose=Pose(yaw_deg=pose.yaw_deg, pitch_deg=pose.pitch_deg, roll_deg=pose.roll_deg),
        mm_per_px=mm_per_px(face),
        iris_px=float(np.mean(iris_diameters_px(face))),
        values=measure(face_aligned_mm(face)),
    )


def _pick_partner(face: FaceObservation, flipped: list[FaceObservation]) -> FaceObservation | None:
    """The face in the flipped frame that is the same person (nearest nose tip once unflipped)."""
    if not flipped:
        return None
    width = face.image_size[0]
    nose = face.points_px[1, :2]
    dist = [math.hypot(width - f.points_px[1, 0] - nose[0], f.points_px[1, 1] - nose[1]) for f in flipped]
    best = int(np.argmin(dist))
    size = float(np.ptp(face.points_px[:, 0]))
    return flipped[best] if dist[best] < 0.25 * size else None


def _frame_measure(
    rgb: NDArray[np.uint8],
    timestamp_s: float,
    landmarker: FaceLandmarker,
    mirror_landmarker: FaceLandmarker | None,
) -> tuple[Verdict, FrameMeasure | None]:
    faces = landmarker.detect(rgb, timestamp_s).faces
    verdict = check_frame(rgb, faces)
    if mirror_landmarker is not None:
        # The flipped stream is landmarked even for refused frames so a video tracker stays continuous.
        flipped = mirror_landmarker.detect(np.ascontiguousarray(rgb[:, ::-1]), timestamp_s).faces
    if not verdict.ok:
        return verdict, None
    face = faces[0]
    if mirror_landmarker is not None:
        partner = _pick_partner(face, flipped)
        if partner is not None:
            face = symmetric_average(face, partner)
    return verdict, _measure_face(face, timestamp_s)


def _result_from_frame(m: FrameMeasure, notes: list[str]) -> ScanResult:
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


def analyse_image(
    rgb: NDArray[np.uint8], landmarker: FaceLandmarker | None = None, symmetric: bool = True
) -> Scan:
    """Scan one photo; raises :class:`ScanRefused` with the gate's reason."""
    if landmarker is None:
        with FaceLandmarker(mode="image", max_faces=MAX_FACES) as own:
            return analyse_image(rgb, own, symmetric)
    if landmarker.mode != "image":
        raise ValueError("a photo needs an image-mode landmarker")
    rgb = np.ascontiguousarray(rgb)
    verdict, m = _frame_measure(rgb, 0.0, landmarker, landmarker if symmetric else None)
    if m is None:
        raise ScanRefused(verdict.code, verdict.message)
    notes = [] if symmetric else ["single pass: the landmark model's own left-right bias is not cancelled"]
    return Scan(_result_from_frame(m, notes), rgb, m)


def scan_image(
    rgb: NDArray[np.uint8], landmarker: FaceLandmarker | None = None, symmetric: bool = True
) -> ScanResult:
    """Scan one photo (RGB uint8); see :func:`analyse_image`."""
    return analyse_image(rgb, landmarker, symmetric).result


def _robust_sd(values: NDArray[np.float64]) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _refusal_summary(refused: Counter[str]) -> str:
    return ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.most_common())


def analyse_frames(
    frames: Iterable[Frame],
    total: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    step_note: str | None = None,
) -> Scan:
    """Scan a still-face clip given as ``(timestamp_s, rgb)`` frames (timestamps increasing)."""
    measures: list[FrameMeasure] = []
    kept_frames: list[NDArray[np.uint8]] = []
    refused: Counter[str] = Counter()
    messages: dict[str, str] = {}
    seen = 0
    with FaceLandmarker(mode="video", max_faces=MAX_FACES) as lm:
        mirror_lm = FaceLandmarker(mode="video", max_faces=MAX_FACES) if symmetric else None
        try:
            for t, rgb in frames:
                verdict, m = _frame_measure(np.ascontiguousarray(rgb), t, lm, mirror_lm)
                seen += 1
                if m is None:
                    refused[verdict.code] += 1
                    messages.setdefault(verdict.code, verdict.message)
                else:
                    measures.append(m)
                    if len(kept_frames) <= len(measures) // 2:  # keep frames up to the middle one
                        kept_frames.append(rgb)
                if progress is not None:
                    progress(seen, total or seen)
        finally:
            if mirror_lm is not None:
                mirror_lm.close()
    if seen == 0:
        raise ScanRefused("unreadable", "the video has no frames that can be decoded")
    if not measures:
        code, _ = refused.most_common(1)[0]
        raise ScanRefused(code, f"no usable frame in {seen}: {messages[code]}")
    notes: list[str] = []
    if step_note:
        notes.append(step_note)
    if refused:
        notes.append(f"{sum(refused.values())} of {seen} frames refused ({_refusal_summary(refused)})")
    if not symmetric:
        notes.append("single pass: the landmark model's own left-right bias is not cancelled")
    table = np.array([[m.values[k] for k in KEYS] for m in measures], dtype=np.float64)
    median = np.median(table, axis=0)
    noise: Asymmetry | None = None
    if len(measures) >= 3:
        noise = Asymmetry(**{k: _robust_sd(table[:, i]) for i, k in enumerate(KEYS)})
    else:
        notes.append(f"only {len(measures)} usable frame(s): no noise estimate")
    pose = np.median([[m.pose.yaw_deg, m.pose.pitch_deg, m.pose.roll_deg] for m in measures], axis=0)
    result = ScanResult(
        head_pose=Pose(yaw_deg=float(pose[0]), pitch_deg=float(pose[1]), roll_deg=float(pose[2])),
        mm_per_px=float(np.median([m.mm_per_px for m in measures])),
        frames_used=len(measures),
        asymmetry=Asymmetry(**{k: float(v) for k, v in zip(KEYS, median, strict=True)}),
        noise_mm=noise,
        notes=notes,
        kind="video",
        iris_px=float(np.median([m.iris_px for m in measures])),
    )
    middle = len(measures) // 2
    return Scan(result, kept_frames[min(middle, len(kept_frames) - 1)], measures[middle])


def video_step(fps: float, target_fps: float = TARGET_SCAN_FPS) -> int:
    """Scan every k-th frame so that about ``target_fps`` frames per second are measured."""
    return max(1, round(fps / target_fps))


def analyse_video(
    path: Path,
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
) -> Scan:
    """Scan a video file of a still neutral face; ``step`` = scan every k-th frame (default ≈ 10/s)."""
    try:
        with VideoSource(Path(path)) as video:
            k = step or video_step(video.info.fps)
            total = math.ceil(video.info.frame_count / k) if video.info.frame_count else None
            note = (
                f"every {k}th frame scanned ({video.info.fps / k:.1f} of {video.info.fps:.1f} frames/s)"
                if k > 1
                else None
            )
            return analyse_frames(video.frames(k), total, symmetric, progress, note)
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None


def scan_video(
    source: Path | str | Iterable[Frame],
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan a video file (path) or an iterable of ``(timestamp_s, rgb)`` frames."""
    if isinstance(source, (str, Path)):
        return analyse_video(Path(source), step, symmetric, progress).result
    frames: Iterator[Frame] = iter(source)
    if step and step > 1:
        frames = (f for i, f in enumerate(source) if i % step == 0)
    return analyse_frames(frames, None, symmetric, progress).result


def analyse_file(path: Path | str, progress: Progress | None = None) -> Scan:
    """Scan a photo or a video file, told apart by content (not by the file name)."""
    path = Path(path)
    try:
        kind = file_kind(path)
        if kind == "image":
            return analyse_image(read_image(path))
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None
    return analyse_video(path, progress=progress)


def scan_file(path: Path | str) -> ScanResult:
    """Scan a photo or video file; raises :class:`ScanRefused` (``unreadable``, ``too_large``, gate codes)."""
    return analyse_file(path).result


# --- words ----------------------------------------------------------------------------------------


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    floor: float = Field(gt=0)
    left: str
    right: str
    even: str


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measures: dict[str, _Text]

    @model_validator(mode="after")
    def _all_keys(self) -> _Texts:
        if set(self.measures) != set(KEYS):
            raise ValueError(f"scan_texts.yaml must describe exactly {sorted(KEYS)}")
        for key, text in self.measures.items():
            for template in (text.left, text.right, text.even):
                if "{size}" not in template:
                    raise ValueError(f"{key}: every sentence needs {{size}}")
        return self


@lru_cache(maxsize=1)
def scan_texts() -> _Texts:
    """Sentences and thresholds from ``scan_texts.yaml`` (validated on load)."""
    raw = yaml.safe_load((Path(__file__).with_name("scan_texts.yaml")).read_text(encoding="utf-8"))
    return _Texts.model_validate(raw)


def threshold(result: ScanResult, key: str) -> float:
    """Smallest difference put into words: max(floor, 2 × measured noise)."""
    floor = scan_texts().measures[key].floor
    if result.noise_mm is None:
        return floor
    return max(floor, 2.0 * getattr(result.noise_mm, key))


def describe(result: ScanResult) -> list[str]:
    """One readable sentence per measure, the person's sides, with a noise threshold."""
    sentences = []
    for key in KEYS:
        text = scan_texts().measures[key]
        value = getattr(result.asymmetry, key)
        unit = "°" if key.endswith("_deg") else " mm"
        size = f"{abs(value):.1f}{unit}"
        if abs(value) < threshold(result, key):
            sentences.append(text.even.format(size=size))
        else:
            sentences.append((text.left if value > 0 else text.right).format(size=size))
    return sentences
