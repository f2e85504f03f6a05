"""Per-frame activation measures, relative to the person's own neutral face.

What the evaluator gets per frame is exactly what the browser sends, as a
:class:`facecoach.vision.landmarks.FaceObservation`: the 478 landmarks in pixels, the 52 blendshape
scores and the forehead crease energy computed from the picture (``facecoach.coaching.wrinkle``).
Nothing else about the image is needed.

Two sources are computed for most measures ("raw" values, before the neutral face is subtracted):

* ``geo:*`` — landmark geometry in the face frame of :mod:`facecoach.vision.geometry` (pose undone by its
  Procrustes fit to the canonical face, so head rotation and distance cancel), in canonical-face units
  converted to **millimetres** by the person's iris scale captured at calibration
  (``Calibration.mm_per_unit``). Using one scale per session (not a per-frame iris fit) keeps the noise
  of the iris contour out of every frame.
* ``bs:*`` — MediaPipe blendshape scores (0…1, dimensionless).

:data:`SOURCES` picks, per measure, the source that proved more reliable on the test faces (figures in
``docs/coaching.md``), and :func:`measure` returns a :class:`Measures` of signed deltas from neutral,
positive in the direction the measure is named after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import fit_pose, mm_per_px, pose_from_rotation
from facecoach.vision.landmarks import FaceObservation

if TYPE_CHECKING:
    from facecoach.coaching.calibration import Calibration


@dataclass(frozen=True, slots=True)
class Measures:
    """Activation relative to the neutral face; NaN when unknown. Units per field (see docs/coaching.md).

    Sides are the person's own. ``head_motion``: degrees of rotation away from the calibrated pose;
    ``head_shift``: mm the face moved in the picture plane; ``forehead_wrinkle``: crease energy ÷ the
    neutral one (1.0 = as relaxed as at calibration); ``frown_lines``: the frown-line figure of
    :mod:`facecoach.vision.frown_lines` above the neutral face's (dimensionless; unknown for landmarks
    from the browser, which carry no picture).
    """

    brows_up_left: float = math.nan
    brows_up_right: float = math.nan
    brow_furrow: float = math.nan
    eyes_squeeze_left: float = math.nan
    eyes_squeeze_right: float = math.nan
    mouth_corners_up_left: float = math.nan
    mouth_corners_up_right: float = math.nan
    mouth_narrowing: float = math.nan
    lips_press: float = math.nan
    jaw_open: float = math.nan
    cheeks_puff_left: float = math.nan
    cheeks_puff_right: float = math.nan
    nose_wrinkle: float = math.nan
    head_motion: float = math.nan
    head_shift: float = math.nan
    forehead_wrinkle: float = math.nan
    frown_lines: float = math.nan

    def to_dict(self) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = None if math.isnan(v) else round(v, 4)
        return out


MEASURE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Measures))
#: The value of a measure on the neutral face (0 for every delta; 1 for the forehead_wrinkle ratio).
NEUTRAL_VALUE: dict[str, float] = {
    name: (1.0 if name == "forehead_wrinkle" else 0.0) for name in MEASURE_FIELDS
}

#: measure → (raw key, sign). The chosen source per measure (figures in docs/coaching.md).
#: Head and forehead measures are not plain deltas; they are handled in :func:`measure`.
SOURCES: dict[str, tuple[str, int]] = {
    "brows_up_left": ("geo:brow_height_left", 1),
    "brows_up_right": ("geo:brow_height_right", 1),
    "brow_furrow": ("geo:brow_gap", -1),
    "eyes_squeeze_left": ("geo:eye_opening_left", -1),
    "eyes_squeeze_right": ("geo:eye_opening_right", -1),
    "mouth_corners_up_left": ("geo:mouth_corner_lift_left", 1),
    "mouth_corners_up_right": ("geo:mouth_corner_lift_right", 1),
    "mouth_narrowing": ("geo:mouth_width", -1),
    "lips_press": ("geo:lip_thickness", -1),
    "jaw_open": ("geo:chin_drop", 1),
    "cheeks_puff_left": ("geo:cheek_width_left", 1),
    "cheeks_puff_right": ("geo:cheek_width_right", 1),
    "nose_wrinkle": ("bs:nose_sneer", 1),
    # the picture's vertical creases between the brows (the corrugator's work the landmarks miss)
    "frown_lines": ("pic:frown_lines", 1),
}

#: measures in millimetres of the face (geometry deltas and head_shift): they scale with face size
MM_MEASURES: frozenset[str] = frozenset(
    [name for name, (key, _sign) in SOURCES.items() if key.startswith("geo:")] + ["head_shift"]
)

# The cheeks' outline below the cheekbones: where a puff widens the face.
_R_CHEEK = (132, 58, 172)
_L_CHEEK = (361, 288, 397)
_X, _Y = 0, 1
_DIAG = math.sqrt(0.5)


def _mean(
    points: tuple[int, ...] | list[int], axis: int, weight: float = 1.0
) -> list[tuple[int, int, float]]:
    return [(i, axis, weight / len(points)) for i in points]


#: Every geometry raw value is a weighted sum of face-frame coordinates: (landmark, axis, weight) terms.
#: The face frame has +x toward the person's left and +y down, so "higher" means a smaller y.
GEOMETRY: dict[str, list[tuple[int, int, float]]] = {
    # brow above the eye corners of the same side
    "geo:brow_height_left": _mean((ids.LEFT_EYE_OUTER, ids.LEFT_EYE_INNER), _Y)
    + _mean(ids.LEFT_BROW, _Y, -1),
    "geo:brow_height_right": _mean((ids.RIGHT_EYE_OUTER, ids.RIGHT_EYE_INNER), _Y)
    + _mean(ids.RIGHT_BROW, _Y, -1),
    # gap between the inner ends of the brows (a frown draws them together)
    "geo:brow_gap": [(ids.LEFT_BROW_LOWER[0], _X, 1.0), (ids.RIGHT_BROW_LOWER[0], _X, -1.0)],
    # lid gap across the middle of each eye
    "geo:eye_opening_left": _mean([b for _, b in ids.LEFT_EYE_OPENING_PAIRS], _Y)
    + _mean([a for a, _ in ids.LEFT_EYE_OPENING_PAIRS], _Y, -1),
    "geo:eye_opening_right": _mean([b for _, b in ids.RIGHT_EYE_OPENING_PAIRS], _Y)
    + _mean([a for a, _ in ids.RIGHT_EYE_OPENING_PAIRS], _Y, -1),
    # mouth corner position along the up-and-out diagonal (the pull of zygomaticus major): a broad real
    # smile moves the corners out more than up (woman_expressions clip: +0.9 units wider, +0.15 higher)
    "geo:mouth_corner_lift_left": [(ids.MOUTH_LEFT_CORNER, _Y, -_DIAG), (ids.MOUTH_LEFT_CORNER, _X, _DIAG)],
    "geo:mouth_corner_lift_right": [
        (ids.MOUTH_RIGHT_CORNER, _Y, -_DIAG),
        (ids.MOUTH_RIGHT_CORNER, _X, -_DIAG),
    ],
    "geo:mouth_width": [(ids.MOUTH_LEFT_CORNER, _X, 1.0), (ids.MOUTH_RIGHT_CORNER, _X, -1.0)],
    # red of both lips at the midline (pressing rolls the lips in and thins it)
    "geo:lip_thickness": [
        (ids.UPPER_LIP_INNER, _Y, 1.0),
        (ids.UPPER_LIP_TOP, _Y, -1.0),
        (ids.LOWER_LIP_BOTTOM, _Y, 1.0),
        (ids.LOWER_LIP_INNER, _Y, -1.0),
    ],
    "geo:lip_gap": [(ids.LOWER_LIP_INNER, _Y, 1.0), (ids.UPPER_LIP_INNER, _Y, -1.0)],
    "geo:chin_drop": [(ids.CHIN, _Y, 1.0), (ids.NOSE_TIP, _Y, -1.0)],
    # distance of the lower cheek outline from the midline, each side
    "geo:cheek_width_left": _mean(_L_CHEEK, _X),
    "geo:cheek_width_right": _mean(_R_CHEEK, _X, -1),
    "geo:nose_wing_height": _mean((ids.LEFT_NOSE_WING, ids.RIGHT_NOSE_WING), _Y, -1),
}
GEOMETRY_KEYS: tuple[str, ...] = tuple(GEOMETRY)
_USED: tuple[int, ...] = tuple(
    sorted({i for terms in GEOMETRY.values() for i, _, _ in terms} | set(ids.EYE_CORNERS))
)
_POS = {lm: k for k, lm in enumerate(_USED)}
_EYE_ROWS = [_POS[i] for i in ids.EYE_CORNERS]
# (features × (used landmarks · 2)) weights over the flattened (x, y) of the used landmarks
_WEIGHTS = np.zeros((len(GEOMETRY), len(_USED) * 2))
for _row, _terms in enumerate(GEOMETRY.values()):
    for _lm, _axis, _w in _terms:
        _WEIGHTS[_row, _POS[_lm] * 2 + _axis] += _w
_USED_IDX = np.array(_USED)

#: blendshape raw values: key → the one or two MediaPipe categories averaged
BLENDSHAPES: dict[str, tuple[str, ...]] = {
    "bs:brow_height_left": ("browOuterUpLeft", "browInnerUp"),
    "bs:brow_height_right": ("browOuterUpRight", "browInnerUp"),
    "bs:brow_down": ("browDownLeft", "browDownRight"),
    "bs:eye_closure_left": ("eyeSquintLeft", "eyeBlinkLeft"),
    "bs:eye_closure_right": ("eyeSquintRight", "eyeBlinkRight"),
    "bs:smile_left": ("mouthSmileLeft",),
    "bs:smile_right": ("mouthSmileRight",),
    "bs:pucker": ("mouthPucker",),
    "bs:press": ("mouthPressLeft", "mouthPressRight"),
    "bs:jaw_open": ("jawOpen",),
    "bs:cheek_puff": ("cheekPuff",),
    "bs:nose_sneer": ("noseSneerLeft", "noseSneerRight"),
}


def raw_measures(face: FaceObservation) -> dict[str, float]:
    """Raw values of both sources before the neutral face is subtracted.

    ``geo:*`` in canonical units (× ``Calibration.mm_per_unit`` → mm; definitions in :data:`GEOMETRY`);
    ``bs:*`` blendshape scores (:data:`BLENDSHAPES`); ``pic:frown_lines`` the frown-line figure (NaN
    when not computed); ``pose:*`` degrees; ``pos:*`` pixels
    (``pos:unit_px`` = pixels per canonical unit); ``crease_energy`` the forehead crease energy.
    """
    pts = np.asarray(face.points_px, dtype=np.float64)
    fit = fit_pose(face)
    used = pts[_USED_IDX]
    used = (used - used[_EYE_ROWS].mean(axis=0)) @ fit.rotation[:, :2]
    geo = _WEIGHTS @ used.reshape(-1) / fit.scale
    out = dict(zip(GEOMETRY_KEYS, geo.tolist(), strict=True))
    b = face.blendshapes
    nan = math.nan
    for key, names in BLENDSHAPES.items():
        if len(names) == 1:
            out[key] = b.get(names[0], nan)
        else:
            out[key] = (b.get(names[0], nan) + b.get(names[1], nan)) / 2
    pose = pose_from_rotation(fit.rotation)
    out["pose:yaw"] = pose.yaw_deg
    out["pose:pitch"] = pose.pitch_deg
    out["pose:roll"] = pose.roll_deg
    out["pos:x"] = float(fit.translation[0])
    out["pos:y"] = float(fit.translation[1])
    out["pos:unit_px"] = float(fit.scale)
    out["crease_energy"] = nan if face.crease_energy is None else float(face.crease_energy)
    out["pic:frown_lines"] = nan if face.frown_lines is None else float(face.frown_lines)
    return out


def mm_per_unit(face: FaceObservation) -> float:
    """Millimetres per canonical unit for this frame, from the iris (11.7 mm; see vision.geometry)."""
    return mm_per_px(face) * fit_pose(face).scale


def _angle_between(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    # Small-angle distance in degrees between two (yaw, pitch, roll) poses; roll wraps at ±180°.
    d = [(p - q + 180.0) % 360.0 - 180.0 for p, q in zip(a, b, strict=True)]
    return math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)


def measures_from_raw(raw: dict[str, float], calibration: Calibration) -> Measures:
    """Deltas from the calibrated neutral face, in each measure's unit (see :class:`Measures`)."""
    neutral = calibration.neutral
    scale = calibration.mm_per_unit
    values: dict[str, float] = {}
    for name, (key, sign) in SOURCES.items():
        delta = sign * (raw[key] - neutral[key])
        values[name] = delta * scale if key.startswith("geo:") else delta
    pose = (raw["pose:yaw"], raw["pose:pitch"], raw["pose:roll"])
    pose0 = (neutral["pose:yaw"], neutral["pose:pitch"], neutral["pose:roll"])
    values["head_motion"] = _angle_between(pose, pose0)
    mm_per_px_now = scale / raw["pos:unit_px"]
    values["head_shift"] = (
        math.hypot(raw["pos:x"] - neutral["pos:x"], raw["pos:y"] - neutral["pos:y"]) * mm_per_px_now
    )
    crease0 = neutral["crease_energy"]
    crease = raw["crease_energy"]
    values["forehead_wrinkle"] = crease / crease0 if crease0 > 0 and math.isfinite(crease) else math.nan
    return Measures(**values)


def measure(face: FaceObservation, calibration: Calibration) -> Measures:
    """The activation measures of one frame relative to the calibrated neutral face."""
    return measures_from_raw(raw_measures(face), calibration)
