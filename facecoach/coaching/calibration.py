"""Neutral-face calibration: the person's own baseline and noise, from the first good frames.

Every measure is a change from this baseline, so faces that are naturally asymmetric, smiling at rest or
deep-browed start at zero. The noise (a robust spread over the calibration frames) sets a floor under
every threshold: a movement or a fault is only believed when it is several times the noise of this
person, camera and light. The iris scale also gives the face's size (``size_factor``): movements and
tolerances in millimetres are scaled to it, so a small face is not held to an adult-average range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from facecoach.coaching.measures import SOURCES, mm_per_unit, raw_measures
from facecoach.vision.landmarks import FaceObservation

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
        }


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
