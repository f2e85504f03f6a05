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
    max_spread: float = 0.3,
    relative_margin: float | None = 0.3,
) -> NeutralStretch | None:
    """The first ``seconds`` (and ``min_frames``) of consecutive, steady neutral faces; else the longest
    such run of at least ``min_frames``; else the most relaxed window of ``seconds``, marked as not
    neutral with the reasons; None when no face is usable at all.

    * **Neutral**: :func:`check_neutral` passes, and — with ``relative_margin`` — no expression score is
      more than that fraction of its limit above its own 5th percentile over the video's neutral faces.
      Some faces score high at rest (MediaPipe reads a smile of 0.90 on the resting astronaut photo,
      0.75 on a broad smile of the woman_expressions clip), so a score is judged against this person's
      least expressive moments as well as against the absolute limit.
    * **Steady**: no score moves by more than ``max_spread`` of its limit within the stretch (a face on its
      way into a smile is not at rest while still under every limit); the run is trimmed from its start.
    * A gap of more than ``max_gap_s`` between usable faces, or a face that is not neutral, restarts it.

    ``frames``: (timestamp_s, face or None) in time order.
    """
    faces = [(t, f) for t, f in frames if f is not None]
    if not faces:
        return None
    start_t = frames[0][0]
    checks = [check_neutral(f, rules) for _t, f in faces]
    # the person's least expressive moments, among faces that pass the absolute check (a pucker lowers
    # the smile score below its resting value: that is the pucker's doing, not a calmer face)
    calm = [c.ratios for c in checks if c.neutral] or [c.ratios for c in checks]
    floor = np.percentile(np.array(calm), 5, axis=0)
    run: list[tuple[FaceObservation, tuple[float, ...]]] = []
    longest: list[FaceObservation] = []
    scored: list[tuple[float, FaceObservation, float, list[NeutralReason]]] = []
    for (t, face), check in zip(faces, checks, strict=True):
        excess = float(np.max(np.array(check.ratios) - floor))
        relative_ok = relative_margin is None or excess <= relative_margin
        reasons = list(check.reasons) or ([] if relative_ok else ["expression"])
        scored.append((t, face, excess + len(check.reasons), reasons))
        if run and t - run[-1][0].timestamp_s > max_gap_s:
            run = []
        if reasons:
            run = []
            continue
        run.append((face, check.ratios))
        while len(run) > 1 and _spread([r for _f, r in run]) > max_spread:
            run.pop(0)
        if len(run) > len(longest):
            longest = [f for f, _r in run]
        if len(run) >= min_frames and run[-1][0].timestamp_s - run[0][0].timestamp_s >= seconds:
            found = [f for f, _r in run]
            return NeutralStretch(found, True, (), round(found[0].timestamp_s - start_t, 3))
    if len(longest) >= min_frames:  # shorter than asked for, but neutral and steady: better than not
        return NeutralStretch(longest, True, (), round(longest[0].timestamp_s - start_t, 3))
    return _most_relaxed(scored, seconds, min_frames, start_t)


def _spread(ratios: list[tuple[float, ...]]) -> float:
    table = np.array(ratios, dtype=np.float64)
    return float(np.max(table.max(axis=0) - table.min(axis=0)))


def _most_relaxed(
    scored: list[tuple[float, FaceObservation, float, list[NeutralReason]]],
    seconds: float,
    min_frames: int,
    start_t: float,
) -> NeutralStretch | None:
    """The ``min_frames`` consecutive faces (within ``seconds``) with the lowest mean distance from
    neutral: a short, relaxed reference beats a long one that drifts into an expression."""
    if not scored:
        return None
    n = min(min_frames, len(scored))
    best: tuple[float, int] | None = None
    for i in range(len(scored) - n + 1):
        if scored[i + n - 1][0] - scored[i][0] > seconds:
            continue
        mean = float(np.mean([s[2] for s in scored[i : i + n]]))
        if best is None or mean < best[0]:
            best = (mean, i)
    first = 0 if best is None else best[1]
    window = scored[first : first + n]
    counts = Counter(r for s in window for r in s[3])
    reasons = tuple(r for r, _n in counts.most_common())
    return NeutralStretch([s[1] for s in window], not reasons, reasons, round(window[0][0] - start_t, 3))
