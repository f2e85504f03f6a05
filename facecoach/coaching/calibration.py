"""Neutral-face calibration: the person's own baseline and noise, from a verified neutral stretch.

Every measure is a change from this baseline, so faces that are naturally asymmetric, smiling at rest or
deep-browed start at zero. The noise (a robust spread over the calibration frames) sets a floor under
every threshold: a movement or a fault is only believed when it is several times the noise of this
person, camera and light. The iris scale also gives the face's size (``size_factor``): movements and
tolerances in millimetres are scaled to it, so a small face is not held to an adult-average range.

Which frames: only faces that pass :func:`facecoach.vision.neutral.check_neutral` (expression scores,
eye opening and head pose within the neutral range). :func:`find_neutral_stretch` finds the first
stretch of such frames in a recorded video — the audit waits for it when the video starts
mid-expression — and, when there is none, the most relaxed stretch there is, marked as not neutral with
the reasons, so the report can say so. :meth:`Calibration.rereferenced` takes a new pose, position and
forehead reference after the head has turned away and back (the expression baseline is kept: the
geometry is measured in the pose-free face frame, so it does not change with the turn).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from facecoach.coaching.measures import SOURCES, mm_per_unit, raw_measures
from facecoach.vision.landmarks import FaceObservation
from facecoach.vision.neutral import NeutralReason, NeutralRules, check_neutral

#: mm per canonical-face unit for a face exactly the size of MediaPipe's canonical face (it is in cm).
CANONICAL_MM_PER_UNIT = 10.0
#: MAD → standard deviation for normally distributed noise.
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Calibration:
    """``neutral``: median raw value per key (see :func:`raw_measures`); ``noise``: robust SD of each
    *measure* in its unit (mm, blendshape score, degrees, ratio); ``mm_per_unit``: the iris scale
    (mm per canonical unit) of this person; ``start_s``/``end_s``: the frames used."""

    neutral: dict[str, float]
    noise: dict[str, float]
    mm_per_unit: float
    start_s: float
    end_s: float
    frames: int
    extra: dict[str, float] = field(default_factory=dict)
    #: every calibration frame passed the neutral check; if not, ``reasons`` says why the face was not
    is_neutral: bool = True
    reasons: tuple[NeutralReason, ...] = ()
    #: (start_s, end_s) of each later re-reference (after the head turned away and back)
    rereferences: tuple[tuple[float, float], ...] = ()

    @property
    def size_factor(self) -> float:
        """This face's size relative to MediaPipe's canonical (average adult) face, 0.7–1.3.

        The canonical face is in centimetres, so ``mm_per_unit`` is 10 for a face of that size. Expected
        movements and tolerances in mm are scaled by it: the person's range, not an adult average's.
        """
        return min(max(self.mm_per_unit / CANONICAL_MM_PER_UNIT, 0.7), 1.3)

    def to_dict(self) -> dict[str, object]:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "frames": self.frames,
            "mm_per_unit": round(self.mm_per_unit, 4),
            "size_factor": round(self.size_factor, 3),
            "noise": {k: round(v, 4) for k, v in self.noise.items()},
            "neutral": self.is_neutral,
            "reasons": list(self.reasons),
        }

    def rereferenced(self, frames: Sequence[FaceObservation]) -> Calibration:
        """A copy whose pose, position and forehead references come from ``frames`` (a neutral face
        seen again after the head turned away); the expression baseline, noise and scale are kept."""
        if not frames:
            return self
        raws = [raw_measures(f) for f in frames]
        neutral = dict(self.neutral)
        for key in (*_POSE_KEYS, "crease_energy"):
            col = np.array([r[key] for r in raws], dtype=np.float64)
            col = col[np.isfinite(col)]
            if col.size:
                neutral[key] = float(np.median(col))
        span = (round(frames[0].timestamp_s, 3), round(frames[-1].timestamp_s, 3))
        return replace(self, neutral=neutral, rereferences=(*self.rereferences, span))


_POSE_KEYS = ("pose:yaw", "pose:pitch", "pose:roll", "pos:x", "pos:y", "pos:unit_px")


class CalibrationError(ValueError):
    """Not enough usable frames to calibrate."""


def _robust_sd(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if values.size < 2:
        return 0.0
    return float(_MAD_TO_SD * np.median(np.abs(values - np.median(values))))


def _scale_or_nan(face: FaceObservation) -> float:
    try:
        return mm_per_unit(face)
    except ValueError:  # a degenerate iris contour in this frame (e.g. eyes shut)
        return math.nan


def calibrate(frames: list[FaceObservation]) -> Calibration:
    """Calibrate on frames of a neutral face (at least a few; the evaluator collects ~1.5 s of them)."""
    if not frames:
        raise CalibrationError("no usable frames to calibrate on")
    raws = [raw_measures(f) for f in frames]
    keys = list(raws[0])
    table = np.array([[r[k] for k in keys] for r in raws], dtype=np.float64)
    neutral: dict[str, float] = {}
    for i, k in enumerate(keys):
        col = table[:, i]
        col = col[np.isfinite(col)]
        neutral[k] = float(np.median(col)) if col.size else math.nan
    scales = np.array([_scale_or_nan(f) for f in frames])
    scales = scales[np.isfinite(scales) & (scales > 0)]
    scale = float(np.median(scales)) if scales.size else math.nan
    if not math.isfinite(scale) or scale <= 0:
        raise CalibrationError("could not derive a scale from the irises")
    noise: dict[str, float] = {}
    for name, (key, _sign) in SOURCES.items():
        sd = _robust_sd(table[:, keys.index(key)])
        noise[name] = sd * scale if key.startswith("geo:") else sd
    yaw, pitch, roll = (table[:, keys.index(k)] for k in ("pose:yaw", "pose:pitch", "pose:roll"))
    noise["head_motion"] = math.sqrt(_robust_sd(yaw) ** 2 + _robust_sd(pitch) ** 2 + _robust_sd(roll) ** 2)
    px = table[:, keys.index("pos:x")]
    py = table[:, keys.index("pos:y")]
    unit_px = neutral["pos:unit_px"]
    noise["head_shift"] = math.hypot(_robust_sd(px), _robust_sd(py)) * scale / unit_px
    crease = table[:, keys.index("crease_energy")]
    crease0 = neutral["crease_energy"]
    noise["forehead_wrinkle"] = _robust_sd(crease) / crease0 if crease0 > 0 else math.nan
    return Calibration(
        neutral=neutral,
        noise=noise,
        mm_per_unit=scale,
        start_s=frames[0].timestamp_s,
        end_s=frames[-1].timestamp_s,
        frames=len(frames),
    )


@dataclass(frozen=True)
class NeutralStretch:
    """The frames to calibrate on, found in a recorded video by :func:`find_neutral_stretch`.

    ``neutral``: every frame passed the neutral check (False: no neutral stretch exists and these are
    the most relaxed frames there are; ``reasons`` says what was not neutral about them, most common
    first). ``waited_s``: seconds of video before the stretch (the video started mid-expression).
    """

    frames: list[FaceObservation]
    neutral: bool
    reasons: tuple[NeutralReason, ...]
    waited_s: float


def find_neutral_stretch(
    frames: Sequence[tuple[float, FaceObservation | None]],
    seconds: float,
    min_frames: int,
    max_gap_s: float,
    rules: NeutralRules | None = None,
) -> NeutralStretch | None:
    """The first ``seconds`` (and ``min_frames``) of consecutive neutral faces; else the most relaxed
    window of that length (lowest mean :attr:`NeutralCheck.score`); None when no face is usable at all.

    A gap of more than ``max_gap_s`` between usable faces, or a face that is not neutral, starts the
    run afresh. ``frames``: (timestamp_s, face or None) in time order.
    """
    start_t = frames[0][0] if frames else 0.0
    run: list[FaceObservation] = []
    scored: list[tuple[float, FaceObservation, float, list[NeutralReason]]] = []
    for t, face in frames:
        if face is None:
            continue
        check = check_neutral(face, rules)
        scored.append((t, face, check.score, check.reasons))
        if run and t - run[-1].timestamp_s > max_gap_s:
            run = []
        if not check.neutral:
            run = []
            continue
        run.append(face)
        if len(run) >= min_frames and run[-1].timestamp_s - run[0].timestamp_s >= seconds:
            return NeutralStretch(run, True, (), round(run[0].timestamp_s - start_t, 3))
    return _most_relaxed(scored, seconds, min_frames, start_t)


def _most_relaxed(
    scored: list[tuple[float, FaceObservation, float, list[NeutralReason]]],
    seconds: float,
    min_frames: int,
    start_t: float,
) -> NeutralStretch | None:
    if not scored:
        return None
    best: tuple[float, int, int] | None = None  # (mean score, first, last index)
    j = 0
    for i in range(len(scored)):
        while j < len(scored) and scored[j][0] - scored[i][0] < seconds:
            j += 1
        if j - i < min(min_frames, len(scored)):
            continue
        mean = float(np.mean([s[2] for s in scored[i:j]]))
        if best is None or mean < best[0]:
            best = (mean, i, j)
    first, last = (0, len(scored)) if best is None else (best[1], best[2])
    window = scored[first:last]
    counts = Counter(r for s in window for r in s[3])
    reasons = tuple(r for r, _n in counts.most_common())
    return NeutralStretch([s[1] for s in window], not reasons, reasons, round(window[0][0] - start_t, 3))
