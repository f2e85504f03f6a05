"""The face scan: signed left-minus-right asymmetries in millimetres from a photo or a short video.

Pipeline: landmarks → quality gate → pose fit → face-frame mm → :func:`facecoach.vision.asymmetry.measure`.
The landmark model has a left-right bias of its own (~0.5 px), so it never measures from one plain pass:
a photo is landmarked six times (as is and mirrored, at 0° and ±4°) and averaged; a video alternates
frames between a plain and a mirrored tracker and averages the two streams' medians. A video is a
still neutral face filmed for a few seconds: every scanned good frame is measured, and the noise is
the robust spread (1.4826 × median absolute deviation, an SD estimate). Sides are always the person's
own. Method and measured accuracy: docs/scan.md.
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
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.config import InputLimits
from facecoach.vision import landmark_ids as ids
from facecoach.vision.asymmetry import KEYS, measure
from facecoach.vision.geometry import (
    HeadPose,
    face_aligned_mm,
    head_pose,
    iris_diameters_px,
    mm_per_px,
    unmirror,
)
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.quality import Verdict, check_frame
from facecoach.vision.sources import SourceError, VideoSource, decode_image, file_kind
from facecoach.yamlfile import read_yaml

Frame = tuple[float, NDArray[np.uint8]]
Progress = Callable[[int, int], None]

#: Video frames are scanned at about this rate (every k-th frame). The spread of a still face's
#: measures is a few hundredths of a millimetre per frame (bench/bench_scan.py), so ~60 frames from a
#: 10 s clip already pin the robust average far below what the measures can resolve; more frames
#: would only cost time (the goal: a 10 s, 30 fps clip scanned in under 2 s).
TARGET_SCAN_FPS = 6.0
#: Faces the landmarker may report. Above two on purpose: MediaPipe's detector keeps only its top
#: candidates, and on a group photo ``num_faces=2`` saw one face where ``num_faces=6`` saw two — a
#: second person must be *seen* to be refused.
MAX_FACES = 4
#: Frame-to-frame spread (mm) above which a clip is not a still face. Synthetic still clips show
#: < 0.1 mm; real footage with small movements 0.1–0.6 mm (jaw line up to ~1.2 mm while smiling).
STILL_SPREAD_MM = 1.0
#: Above this yaw (degrees) a scan carries a caution about the widths. MediaPipe's jaw contour follows
#: the silhouette, so turning the head moves it; on the real video the lower-face width changed by
#: −2.8 mm per 10° of yaw across all frames (expressions confound it; see docs/scan.md).
YAW_CAUTION_DEG = 10.0
#: A video is checked for a second person once per this many seconds (see :func:`analyse_frames`).
CROWD_CHECK_S = 1.0
#: A picture narrower or lower than this (px) cannot hold a measurable face (an 8 px iris is ~1/12
#: of a face's width, so even a face filling the picture needs about a hundred pixels).
MIN_PICTURE_PX = 64
#: Photos larger than this (longest side, px) are shrunk before scanning (see :func:`_fit_for_scan`).
MAX_SCAN_SIDE_PX = 2000
#: Photos are landmarked at these extra in-plane turns (degrees), each also mirrored, and averaged.
PHOTO_ROLL_ANGLES = (0.0, -4.0, 4.0)


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


def _measure_face(face: FaceObservation, timestamp_s: float, passes: int = 1) -> FrameMeasure:
    return FrameMeasure(
        timestamp_s=timestamp_s,
        passes=passes,
        face=face,
        pose=head_pose(face),
        mm_per_px=mm_per_px(face),
        iris_px=float(np.mean(iris_diameters_px(face))),
        values=measure(face_aligned_mm(face)),
    )


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
    return FaceObservation(pts, face.blendshapes, face.matrix, face.image_size)


def _average(faces: list[FaceObservation]) -> FaceObservation:
    pts = np.mean([f.points_px for f in faces], axis=0)
    shapes = {
        k: float(np.mean([f.blendshapes.get(k, v) for f in faces])) for k, v in faces[0].blendshapes.items()
    }
    return FaceObservation(pts, shapes, faces[0].matrix, faces[0].image_size)


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
    rgb: NDArray[np.uint8], landmarker: FaceLandmarker, symmetric: bool, angles: tuple[float, ...]
) -> tuple[Verdict, FrameMeasure | None]:
    """Photo: gate on a plain pass, then measure the average of the augmented passes."""
    faces = landmarker.detect(rgb).faces
    verdict = check_frame(rgb, faces)
    if not verdict.ok:
        return verdict, None
    passes = _photo_passes(rgb, faces[0], landmarker, angles) if symmetric else [faces[0]]
    return verdict, _measure_face(_average(passes), 0.0, len(passes))


def _yaw_note(yaw_deg: float) -> list[str]:
    if abs(yaw_deg) <= YAW_CAUTION_DEG:
        return []
    side = "left" if yaw_deg > 0 else "right"
    return [
        f"the head is turned {abs(yaw_deg):.0f}° to the {side}: the widths (lower face, mouth) are the "
        "least reliable measures at that angle; look straight at the camera for them"
    ]


def _result_from_frame(m: FrameMeasure, notes: list[str]) -> ScanResult:
    notes = notes + _yaw_note(m.pose.yaw_deg)
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
) -> Scan:
    """Scan one photo; raises :class:`ScanRefused` with the gate's reason.

    ``picture_scale``: ``rgb``'s size relative to the original picture (below 1 when it was reduced
    while decoding, :class:`facecoach.vision.sources.Picture`), so pixel figures refer to the original.
    ``model``: the landmarker asset's path when one is made here (see :class:`FaceLandmarker`).
    """
    if landmarker is None:
        with FaceLandmarker(mode="image", max_faces=MAX_FACES, model=model) as own:
            return analyse_image(rgb, own, symmetric, picture_scale)
    if landmarker.mode != "image":
        raise ValueError("a photo needs an image-mode landmarker")
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_PICTURE_PX:
        raise ScanRefused(
            "too_small",
            f"the picture is only {w}×{h} pixels: a face needs at least {MIN_PICTURE_PX} each way",
        )
    rgb, k = _fit_for_scan(np.ascontiguousarray(rgb))
    k *= picture_scale
    verdict, m = _frame_measure(rgb, landmarker, symmetric, PHOTO_ROLL_ANGLES)
    if m is None:
        raise ScanRefused(verdict.code, verdict.message)
    expected = 2 * len(PHOTO_ROLL_ANGLES)
    if not symmetric:
        notes = ["single pass: the landmark model's own left-right bias is not cancelled"]
    elif m.passes < expected:
        notes = [f"{m.passes} of {expected} landmark passes found the face (the rest are averaged)"]
    else:
        notes = []
    result = _result_from_frame(m, notes)
    if k < 1:  # figures in pixels refer to the picture as given
        result.mm_per_px *= k
        result.iris_px /= k
    return Scan(result, rgb, m)


def scan_image(
    rgb: NDArray[np.uint8], landmarker: FaceLandmarker | None = None, symmetric: bool = True
) -> ScanResult:
    """Scan one photo (RGB uint8); see :func:`analyse_image`."""
    return analyse_image(rgb, landmarker, symmetric).result


def _robust_sd(values: NDArray[np.float64]) -> float:
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _refusal_summary(refused: Counter[str]) -> str:
    return ", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.most_common())


class _Keeper:
    """A bounded, evenly spread sample of good frames (to pick a representative one at the end)."""

    def __init__(self, size: int = 12) -> None:
        self.size, self.every, self.seen = size, 1, 0
        self.items: list[tuple[NDArray[np.uint8], FrameMeasure]] = []

    def offer(self, rgb: NDArray[np.uint8], m: FrameMeasure) -> None:
        if self.seen % self.every == 0:
            self.items.append((rgb, m))
            if len(self.items) > self.size:
                self.items, self.every = self.items[::2], self.every * 2
        self.seen += 1


def _pooled_noise(groups: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """Robust SD (1.4826 × MAD) of every column, deviations taken from each group's own median."""
    dev = np.concatenate([g - np.median(g, axis=0) for g in groups if len(g)])
    return np.asarray(1.4826 * np.median(np.abs(dev), axis=0), dtype=np.float64)


def analyse_frames(
    frames: Iterable[Frame],
    total: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    step_note: str | None = None,
    *,
    model: Path | None = None,
) -> Scan:
    """Scan a still-face clip given as ``(timestamp_s, rgb)`` frames (timestamps increasing).

    Speed without losing the bias cancellation: frames alternate between a plain and a mirrored
    video-mode landmarker (each tracks its own stream, one landmark pass a frame), and the result is
    the mean of the two streams' medians — the model's left-right bias is systematic, so it cancels
    between the streams just as within a mirrored photo pass. Both trackers look for one face only (a
    landmarker asked for more faces re-runs its detector on every frame, doubling the cost), so once a
    second a separate image-mode pass with ``MAX_FACES`` checks that nobody else is in the picture.
    """
    plain: list[FrameMeasure] = []
    mirrored: list[FrameMeasure] = []
    keeper = _Keeper()
    refused: Counter[str] = Counter()
    messages: dict[str, str] = {}
    seen = 0
    crowd_verdict = Verdict("ok", "ok")
    next_crowd_check = -math.inf
    with (
        FaceLandmarker(mode="video", max_faces=1, model=model) as lm,
        FaceLandmarker(mode="video", max_faces=1, model=model) as mirror_lm,
        FaceLandmarker(mode="image", max_faces=MAX_FACES, model=model) as crowd_lm,
    ):
        for t, frame in frames:
            rgb = np.ascontiguousarray(frame)
            if t >= next_crowd_check:
                crowd = crowd_lm.detect(rgb).faces
                crowd_verdict = check_frame(rgb, crowd) if len(crowd) > 1 else Verdict("ok", "ok")
                next_crowd_check = t + CROWD_CHECK_S
            flip = symmetric and seen % 2 == 1
            if flip:
                faces = [unmirror(f) for f in mirror_lm.detect(np.ascontiguousarray(rgb[:, ::-1]), t).faces]
            else:
                faces = lm.detect(rgb, t).faces
            seen += 1
            verdict = crowd_verdict if not crowd_verdict.ok else check_frame(rgb, faces)
            if verdict.ok:
                m = _measure_face(faces[0], t)
                (mirrored if flip else plain).append(m)
                keeper.offer(rgb, m)
            else:
                refused[verdict.code] += 1
                messages.setdefault(verdict.code, verdict.message)
            if progress is not None:
                progress(seen, total or seen)
    if seen == 0:
        raise ScanRefused("unreadable", "the video has no frames that can be decoded")
    measures = plain + mirrored
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
    elif not plain or not mirrored:
        notes.append(
            "only one of the plain/mirrored streams had usable frames: the model's bias is not cancelled"
        )
    groups = [
        np.array([[m.values[k] for k in KEYS] for m in g], dtype=np.float64) for g in (plain, mirrored) if g
    ]
    centre = np.mean([np.median(g, axis=0) for g in groups], axis=0)
    noise: Asymmetry | None = None
    if len(measures) >= 3:
        noise = Asymmetry(**{k: float(v) for k, v in zip(KEYS, _pooled_noise(groups), strict=True)})
        spread = max(v for k, v in noise.model_dump().items() if k.endswith("_mm"))
        if spread > STILL_SPREAD_MM:
            notes.append(
                f"the face moved or changed expression (frame-to-frame spread up to {spread:.1f} mm): "
                "for a precise scan keep a still, neutral face for the whole clip"
            )
    else:
        notes.append(f"only {len(measures)} usable frame(s): no noise estimate")
    pose = np.median([[m.pose.yaw_deg, m.pose.pitch_deg, m.pose.roll_deg] for m in measures], axis=0)
    notes.extend(_yaw_note(float(pose[0])))
    result = ScanResult(
        head_pose=HeadPose(yaw_deg=float(pose[0]), pitch_deg=float(pose[1]), roll_deg=float(pose[2])),
        mm_per_px=float(np.median([m.mm_per_px for m in measures])),
        frames_used=len(measures),
        asymmetry=Asymmetry(**{k: float(v) for k, v in zip(KEYS, centre, strict=True)}),
        noise_mm=noise,
        notes=notes,
        kind="video",
        iris_px=float(np.median([m.iris_px for m in measures])),
    )
    scale = np.maximum(_pooled_noise(groups), 1e-3)
    rep_frame, rep = min(
        keeper.items,
        key=lambda item: float(
            np.sum(np.abs((np.array([item[1].values[k] for k in KEYS]) - centre) / scale))
        ),
    )
    return Scan(result, rep_frame, rep, tuple(measures))


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def video_step(fps: float, target_fps: float = TARGET_SCAN_FPS) -> int:
    """Scan every k-th frame so that about ``target_fps`` frames per second are measured."""
    return max(1, round(fps / target_fps))


def analyse_video(
    path: Path,
    limits: InputLimits,
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    *,
    model: Path | None = None,
) -> Scan:
    """Scan a video file of a still neutral face; ``step`` = scan every k-th frame (default ≈ 10/s)."""
    try:
        with VideoSource(Path(path), limits) as video:
            k = step or video_step(video.info.fps)
            total = math.ceil(video.info.frame_count / k) if video.info.frame_count else None
            note = (
                f"every {_ordinal(k)} frame scanned "
                f"({video.info.fps / k:.1f} of {video.info.fps:.1f} frames/s)"
                if k > 1
                else None
            )
            scan = analyse_frames(video.frames(k), total, symmetric, progress, note, model=model)
            if video.hit_limit:
                scan.result.notes.append(
                    f"only the first {limits.max_video_seconds:.0f} s were scanned (the length limit)"
                )
            elif video.ended_early:
                scan.result.notes.append(
                    f"the video stopped decoding after {video.frames_read} of its {video.info.frame_count} "
                    "frames (truncated or damaged file): only those were scanned"
                )
            return scan
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None


def scan_video(
    source: Path | str | Iterable[Frame],
    step: int | None = None,
    symmetric: bool = True,
    progress: Progress | None = None,
    *,
    limits: InputLimits | None = None,
) -> ScanResult:
    """Scan a video file (path, read within ``limits``, required then) or an iterable of
    ``(timestamp_s, rgb)`` frames."""
    if isinstance(source, (str, Path)):
        if limits is None:
            raise TypeError("scan_video needs the input limits to read a file")
        return analyse_video(Path(source), limits, step, symmetric, progress).result
    frames: Iterator[Frame] = iter(source)
    if step and step > 1:
        frames = (f for i, f in enumerate(source) if i % step == 0)
    return analyse_frames(frames, None, symmetric, progress).result


def analyse_file(
    path: Path | str, limits: InputLimits, progress: Progress | None = None, *, model: Path | None = None
) -> Scan:
    """Scan a photo or a video file, told apart by content (not by the file name), within ``limits``."""
    path = Path(path)
    try:
        kind = file_kind(path)
        if kind == "image":
            picture = decode_image(path, limits)
            return analyse_image(picture.rgb, picture_scale=picture.scale, model=model)
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None
    return analyse_video(path, limits, progress=progress, model=model)


def scan_file(path: Path | str, limits: InputLimits) -> ScanResult:
    """Scan a photo or video file; raises :class:`ScanRefused` (``unreadable``, ``too_large``, gate codes)."""
    return analyse_file(path, limits).result


# --- words ----------------------------------------------------------------------------------------


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)  # what the measure is called (the progress charts' headings)
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
    raw = read_yaml(Path(__file__).with_name("scan_texts.yaml"))
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
