"""Is this face neutral? The check a face must pass before it is used as a reference.

Every coaching measure is a change from the person's neutral face, so a reference taken on a frown makes
the frown read as zero and everything else as a movement (the woman_expressions clip: calibrated on her
frown, the audit saw only "head motion"). The face scan needs the same gate. This module is pure: one
:class:`FaceObservation` in, a :class:`NeutralCheck` out, with the limits as data
(``vision/neutral.yaml``, validated on load, see :func:`load_neutral_rules`).

The check reads what needs no reference: the blendshape scores (MediaPipe's confidence that an
expression is on, 0–1), the eye opening as a fraction of the eye's own width (pose-free, in the face
frame of :mod:`facecoach.vision.geometry`), the frown lines between the brows when the face was
landmarked from pixels (:mod:`facecoach.vision.frown_lines`: the blendshapes miss some frowns), the head
pose, and — when the caller ran the Hand Landmarker on the same frame — a hand over the face. Reasons
come from a closed vocabulary:

* ``expression`` — an expression score over its limit (``expressions`` names which: frown, smile, …,
  and ``frown_lines`` for the creases);
* ``eyes_closed`` — a blink score over its limit, or a lid gap under its fraction of the eye width;
* ``occluded`` — a hand covers part of the face (``hands`` given);
* ``head_turned`` — yaw, pitch or roll past the reference limits.

``traces`` names the expressions inside their limit but near it (``notes.trace_fraction``): the scan
measures such a face and says in its notes which figures they may move.

``score`` ranks faces that are not neutral (or neutral ones) by how far they are from neutral: the
largest ratio of a score to its limit (1.0 = at a limit). A caller looking for the most relaxed stretch
of a video takes the lowest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import fit_pose, pose_from_rotation
from facecoach.vision.hands import HandObservation
from facecoach.vision.landmarks import FaceObservation
from facecoach.yamlfile import load_yaml

_OVAL = list(dict.fromkeys(ids.FACE_OVAL_LEFT + ids.FACE_OVAL_RIGHT[::-1]))

NeutralReason = Literal["expression", "eyes_closed", "occluded", "head_turned"]
#: The name under which the frown-line figure appears among ``NeutralCheck.expressions``.
FROWN_LINES = "frown_lines"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpressionLimit(_Model):
    categories: list[str] = Field(min_length=1)
    max: float = Field(gt=0, le=1)


class EyeLimits(_Model):
    blink_max: float = Field(gt=0, le=1)
    opening_min: float = Field(ge=0, lt=1)


class HeadLimits(_Model):
    max_yaw_deg: float = Field(gt=0, le=90)
    max_pitch_deg: float = Field(gt=0, le=90)
    max_roll_deg: float = Field(gt=0, le=180)


class FrownLineLimit(_Model):
    max: float = Field(gt=0)


class OcclusionLimits(_Model):
    min_hand_points: int = Field(ge=1, le=21)


class NoteLimits(_Model):
    trace_fraction: float = Field(gt=0, lt=1)


class VideoLimits(_Model):
    min_usable_frames: int = Field(ge=1, le=100)


class NeutralRules(_Model):
    """The neutral range (``vision/neutral.yaml``)."""

    expressions: dict[str, ExpressionLimit] = Field(min_length=1)
    frown_lines: FrownLineLimit
    eyes: EyeLimits
    head: HeadLimits
    occlusion: OcclusionLimits
    notes: NoteLimits
    video: VideoLimits

    @model_validator(mode="after")
    def _names(self) -> NeutralRules:
        if FROWN_LINES in self.expressions:
            raise ValueError(f"neutral.yaml: {FROWN_LINES!r} is its own rule, not an expression")
        return self


@lru_cache(maxsize=1)
def load_neutral_rules() -> NeutralRules:
    """The validated ``neutral.yaml`` (cached; a malformed file raises ``ValueError`` on first use)."""
    text = resources.files("facecoach.vision").joinpath("neutral.yaml").read_text("utf-8")
    return NeutralRules.model_validate(load_yaml(text))


@dataclass(frozen=True)
class NeutralCheck:
    """The verdict on one face. ``expressions``: the expressions over their limit, by name → score;
    ``eye_opening``: (right, left) lid gap ÷ eye width; ``score``: the largest value ÷ limit (see the
    module docstring)."""

    neutral: bool
    reasons: list[NeutralReason]
    expressions: dict[str, float] = field(default_factory=dict)
    eye_opening: tuple[float, float] = (math.nan, math.nan)
    score: float = 0.0
    #: every expression score and the blink score ÷ its limit (how a stretch's steadiness is judged)
    ratios: tuple[float, ...] = ()
    #: expressions inside their limit but at or above ``notes.trace_fraction`` of it, name → score
    traces: dict[str, float] = field(default_factory=dict)
    #: the most landmarks of one hand inside the face outline (0 when no hand, or none was looked for)
    hand_points: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "neutral": self.neutral,
            "reasons": list(self.reasons),
            "expressions": {k: round(v, 3) for k, v in self.expressions.items()},
            "traces": {k: round(v, 3) for k, v in self.traces.items()},
            "hand_points": self.hand_points,
            "score": round(self.score, 3),
        }


def eye_openings(face: FaceObservation) -> tuple[float, float]:
    """(right, left) lid gap ÷ corner-to-corner width of the same eye, in the pose-free face frame."""
    pts = np.asarray(face.points_px, dtype=np.float64)
    rotation = fit_pose(face).rotation
    aligned = (pts - pts[list(ids.EYE_CORNERS)].mean(axis=0)) @ rotation
    out: list[float] = []
    for pairs, (a, b) in (
        (ids.RIGHT_EYE_OPENING_PAIRS, (ids.RIGHT_EYE_OUTER, ids.RIGHT_EYE_INNER)),
        (ids.LEFT_EYE_OPENING_PAIRS, (ids.LEFT_EYE_OUTER, ids.LEFT_EYE_INNER)),
    ):
        width = float(np.linalg.norm(aligned[a, :2] - aligned[b, :2]))
        gap = float(np.mean([aligned[lo, 1] - aligned[up, 1] for up, lo in pairs]))
        out.append(gap / width if width > 0 else math.nan)
    return out[0], out[1]


def hand_points_on_face(face: FaceObservation, hands: Sequence[HandObservation]) -> int:
    """The most landmarks of any one hand that lie inside the face outline (convex hull of the oval)."""
    import cv2

    if not hands:
        return 0
    hull = cv2.convexHull(np.asarray(face.points_px[_OVAL, :2], dtype=np.float32))
    best = 0
    for hand in hands:
        inside = sum(
            cv2.pointPolygonTest(hull, (float(x), float(y)), False) >= 0 for x, y in hand.points_px[:, :2]
        )
        best = max(best, int(inside))
    return best


def _expressions(
    face: FaceObservation, rules: NeutralRules
) -> tuple[dict[str, float], dict[str, float], list[float], float]:
    """(over their limit, near it, every ratio, the largest ratio) of the expression scores and the
    frown lines (the latter not among the ratios: it is absolute and not a blendshape)."""
    over: dict[str, float] = {}
    traces: dict[str, float] = {}
    ratios: list[float] = []
    trace = rules.notes.trace_fraction
    figures = [
        (name, max(face.blendshapes.get(c, 0.0) for c in lim.categories), lim.max, True)
        for name, lim in rules.expressions.items()
    ]
    if face.frown_lines is not None:
        figures.append((FROWN_LINES, face.frown_lines, rules.frown_lines.max, False))
    worst = 0.0
    for name, value, limit, blendshape in figures:
        ratio = value / limit
        if blendshape:
            ratios.append(ratio)
        worst = max(worst, ratio)
        if ratio > 1.0:
            over[name] = value
        elif ratio >= trace:
            traces[name] = value
    return over, traces, ratios, worst


def check_neutral(
    face: FaceObservation,
    rules: NeutralRules | None = None,
    hands: Sequence[HandObservation] | None = None,
) -> NeutralCheck:
    """Whether ``face`` is within the neutral range of ``rules`` (the YAML's by default), and why not.

    ``hands``: the hands the Hand Landmarker found in the same frame (None: not looked for, so the
    ``occluded`` rule is not applied)."""
    rules = rules or load_neutral_rules()
    reasons: list[NeutralReason] = []
    over, traces, ratios, worst = _expressions(face, rules)
    if over:
        reasons.append("expression")
    blink = max(face.blendshapes.get("eyeBlinkLeft", 0.0), face.blendshapes.get("eyeBlinkRight", 0.0))
    opening = eye_openings(face)
    eyes = rules.eyes
    shut_ratio = max((eyes.opening_min / o if o > 0 else math.inf) for o in opening)
    worst = max(worst, blink / eyes.blink_max, min(shut_ratio, 10.0))
    ratios.append(blink / eyes.blink_max)
    if blink > eyes.blink_max or not all(o >= eyes.opening_min for o in opening):
        reasons.append("eyes_closed")
    on_face = hand_points_on_face(face, hands or [])
    if on_face >= rules.occlusion.min_hand_points:
        reasons.append("occluded")
        worst = max(worst, on_face / rules.occlusion.min_hand_points)
    pose = pose_from_rotation(fit_pose(face).rotation)
    head = rules.head
    turn = max(
        abs(pose.yaw_deg) / head.max_yaw_deg,
        abs(pose.pitch_deg) / head.max_pitch_deg,
        abs(pose.roll_deg) / head.max_roll_deg,
    )
    worst = max(worst, turn)
    if turn > 1.0:
        reasons.append("head_turned")
    return NeutralCheck(not reasons, reasons, over, opening, worst, tuple(ratios), traces, on_face)
