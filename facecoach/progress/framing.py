"""The guided check-in's framing check: is this frame framed like every other check-in? If not, what to fix.

Pure functions over one frame's landmarks, blendshapes and pixels. The rules are data
(``framing.yaml``, validated on load); the check-in page runs the same rules in JavaScript
(``web/static/checkin/framing.js``) on the landmarks it computes itself, so the two implement the very
same figures, defined here:

* ``iris_px``: mean horizontal iris diameter, corrected for foreshortening (:mod:`vision.geometry`);
* ``nose``: the nose tip, as fractions of the frame's width and height;
* ``box``: the face outline's bounding box (px); the light is read in its *middle*: columns 20–80 %,
  rows 20–80 % of the box (forehead to upper lip, cheek to cheek, no hair or background);
* ``luma``: mean of 0.299 R + 0.587 G + 0.114 B there; ``clipped``: share of it ≥ 250;
  ``evenness``: mean luma of the darker of its left and right halves ÷ that of the brighter half;
* ``pose``: the scan's head pose (Procrustes fit to the canonical face);
* ``expressions``: per named expression, the largest score of its blendshape categories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import HeadPose, head_pose, iris_diameters_px
from facecoach.vision.landmarks import FaceObservation
from facecoach.yamlfile import load_yaml

_OVAL = sorted(set(ids.FACE_OVAL_LEFT + ids.FACE_OVAL_RIGHT))
#: The middle of the face box in which light is read (fractions of the box, both axes).
LIGHT_REGION = (0.2, 0.8)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistanceRules(_Model):
    min_iris_px: float = Field(gt=0)
    max_iris_frac: float = Field(gt=0, lt=1)
    reference_tolerance: float = Field(gt=0, lt=1)


class CentreRules(_Model):
    max_offset_x: float = Field(gt=0, le=0.5)
    max_offset_y: float = Field(gt=0, le=0.5)
    margin: float = Field(ge=0, lt=0.5)


class PoseRules(_Model):
    max_yaw_deg: float = Field(gt=0, le=45)
    max_pitch_deg: float = Field(gt=0, le=45)
    max_roll_deg: float = Field(gt=0, le=45)


class LightRules(_Model):
    min_luma: float = Field(ge=0, le=255)
    max_luma: float = Field(ge=0, le=255)
    max_clipped: float = Field(ge=0, le=1)
    min_evenness: float = Field(gt=0, le=1)


class ExpressionRule(_Model):
    categories: list[str] = Field(min_length=1)
    max: float = Field(gt=0, le=1)


MESSAGE_CODES = frozenset(
    {
        "no_face",
        "several_faces",
        "too_far",
        "too_close",
        "closer_than_before",
        "further_than_before",
        "off_centre",
        "cut_off",
        "turned_left",
        "turned_right",
        "tipped_up",
        "tipped_down",
        "tilted_left",
        "tilted_right",
        "too_dark",
        "too_bright",
        "uneven_light",
        "not_neutral",
    }
)


class FramingRules(_Model):
    """The validated ``framing.yaml``."""

    hold_s: float = Field(gt=0, le=10)
    capture_s: float = Field(gt=0, le=10)
    capture_fps: float = Field(gt=0, le=30)
    min_frames: int = Field(ge=1, le=30)
    distance: DistanceRules
    centre: CentreRules
    pose: PoseRules
    light: LightRules
    neutral: dict[str, ExpressionRule] = Field(min_length=1)
    messages: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> FramingRules:
        if set(self.messages) != MESSAGE_CODES:
            raise ValueError(f"framing.yaml messages must be exactly {sorted(MESSAGE_CODES)}")
        if self.light.min_luma >= self.light.max_luma:
            raise ValueError("framing.yaml: light.min_luma must be below light.max_luma")
        return self


def parse_rules(text: str) -> FramingRules:
    """Rules from YAML text; ``ValueError`` when they are not valid (bad YAML, a key twice, a wrong field)."""
    import yaml

    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"framing.yaml: {exc}") from None
    return FramingRules.model_validate(raw)


@lru_cache(maxsize=1)
def load_rules() -> FramingRules:
    """The shipped rules (cached)."""
    return parse_rules(resources.files("facecoach.progress").joinpath("framing.yaml").read_text("utf-8"))


@dataclass(frozen=True)
class FrameFacts:
    """The figures a frame is judged on (definitions in the module docstring); ``faces`` = faces seen."""

    faces: int
    width: int
    height: int
    iris_px: float = 0.0
    nose: tuple[float, float] = (0.5, 0.5)
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    pose: HeadPose = field(default_factory=lambda: HeadPose(0.0, 0.0, 0.0))
    luma: float = 0.0
    clipped: float = 0.0
    evenness: float = 1.0
    expressions: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "faces": self.faces,
            "width": self.width,
            "height": self.height,
            "iris_px": self.iris_px,
            "nose": list(self.nose),
            "box": list(self.box),
            "pose": [self.pose.yaw_deg, self.pose.pitch_deg, self.pose.roll_deg],
            "luma": self.luma,
            "clipped": self.clipped,
            "evenness": self.evenness,
            "expressions": dict(self.expressions),
        }


def light_stats(rgb: NDArray[np.uint8], box: tuple[float, float, float, float]) -> tuple[float, float, float]:
    """(luma, clipped, evenness) in the middle of the face box (see the module docstring)."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    lo, hi = LIGHT_REGION
    cx0 = max(0, math.floor(x0 + lo * (x1 - x0)))
    cx1 = min(w, math.floor(x0 + hi * (x1 - x0)))
    cy0 = max(0, math.floor(y0 + lo * (y1 - y0)))
    cy1 = min(h, math.floor(y0 + hi * (y1 - y0)))
    if cx1 - cx0 < 2 or cy1 - cy0 < 1:
        return 0.0, 0.0, 1.0
    region = rgb[cy0:cy1, cx0:cx1].astype(np.float64)
    luma = 0.299 * region[..., 0] + 0.587 * region[..., 1] + 0.114 * region[..., 2]
    mid = (cx1 - cx0) // 2
    left, right = float(luma[:, :mid].mean()), float(luma[:, mid:].mean())
    evenness = min(left, right) / max(left, right) if max(left, right) > 0 else 1.0
    return float(luma.mean()), float(np.mean(luma >= 250.0)), evenness


def expression_scores(shapes: Mapping[str, float], rules: FramingRules) -> dict[str, float]:
    return {name: max(float(shapes.get(c, 0.0)) for c in r.categories) for name, r in rules.neutral.items()}


def landmark_facts(face: FaceObservation, rules: FramingRules) -> FrameFacts:
    """The figures that come from the landmarks alone (light left at its neutral values): what the server
    can re-check of a check-in the page sent as landmarks."""
    w, h = face.image_size
    pts = np.asarray(face.points_px, dtype=np.float64)
    oval = pts[_OVAL, :2]
    box = (float(oval[:, 0].min()), float(oval[:, 1].min()), float(oval[:, 0].max()), float(oval[:, 1].max()))
    return FrameFacts(
        faces=1,
        width=w,
        height=h,
        iris_px=float(np.mean(iris_diameters_px(face))),
        nose=(float(pts[ids.NOSE_TIP, 0] / w), float(pts[ids.NOSE_TIP, 1] / h)),
        box=box,
        pose=head_pose(face),
        expressions=expression_scores(face.blendshapes, rules),
    )


def frame_facts(rgb: NDArray[np.uint8], faces: list[FaceObservation], rules: FramingRules) -> FrameFacts:
    """The figures of one frame and the faces the landmarker found in it."""
    h, w = rgb.shape[:2]
    if len(faces) != 1:
        return FrameFacts(faces=len(faces), width=w, height=h)
    facts = landmark_facts(faces[0], rules)
    luma, clipped, evenness = light_stats(rgb, facts.box)
    return replace(facts, luma=luma, clipped=clipped, evenness=evenness)


@dataclass(frozen=True)
class Problem:
    """One failed rule: a stable ``code`` (a key of ``messages``) and the sentence for the member."""

    code: str
    message: str


def _say(rules: FramingRules, code: str, **values: object) -> Problem:
    return Problem(code, rules.messages[code].format(**values))


def _distance(f: FrameFacts, r: FramingRules, reference_iris_px: float | None) -> Problem | None:
    d = r.distance
    if f.iris_px < d.min_iris_px:
        return _say(r, "too_far", iris_px=f"{f.iris_px:.0f}", min_px=f"{d.min_iris_px:.0f}")
    if f.iris_px > d.max_iris_frac * f.width:
        return _say(r, "too_close")
    if reference_iris_px:
        if f.iris_px > reference_iris_px * (1 + d.reference_tolerance):
            return _say(r, "closer_than_before")
        if f.iris_px < reference_iris_px * (1 - d.reference_tolerance):
            return _say(r, "further_than_before")
    return None


def _centre(f: FrameFacts, r: FramingRules) -> Problem | None:
    c = r.centre
    x0, y0, x1, y1 = f.box
    mx, my = c.margin * f.width, c.margin * f.height
    if x0 < mx or y0 < my or x1 > f.width - mx or y1 > f.height - my:
        return _say(r, "cut_off")
    if abs(f.nose[0] - 0.5) > c.max_offset_x or abs(f.nose[1] - 0.5) > c.max_offset_y:
        return _say(r, "off_centre")
    return None


def _pose(f: FrameFacts, r: FramingRules) -> Problem | None:
    p, lim = f.pose, r.pose
    checks = (
        (p.yaw_deg, lim.max_yaw_deg, "turned_left", "turned_right"),
        (p.pitch_deg, lim.max_pitch_deg, "tipped_up", "tipped_down"),
        (p.roll_deg, lim.max_roll_deg, "tilted_left", "tilted_right"),
    )
    for angle, limit, positive, negative in checks:
        if abs(angle) > limit:
            return _say(r, positive if angle > 0 else negative, deg=f"{abs(angle):.0f}")
    return None


def _light(f: FrameFacts, r: FramingRules) -> Problem | None:
    lim = r.light
    if f.luma < lim.min_luma:
        return _say(r, "too_dark")
    if f.luma > lim.max_luma or f.clipped > lim.max_clipped:
        return _say(r, "too_bright")
    if f.evenness < lim.min_evenness:
        return _say(r, "uneven_light")
    return None


def _neutral(f: FrameFacts, r: FramingRules) -> Problem | None:
    over = [(s / r.neutral[n].max, n) for n, s in f.expressions.items() if s > r.neutral[n].max]
    if not over:
        return None
    _, worst = max(over)
    return _say(r, "not_neutral", expression=worst.replace("_", " "))


@dataclass(frozen=True)
class FramingVerdict:
    """``problem`` is the first failing rule (``None``: the frame is framed right)."""

    problem: Problem | None
    facts: FrameFacts

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_framing(
    facts: FrameFacts,
    rules: FramingRules | None = None,
    reference_iris_px: float | None = None,
    *,
    check_light: bool = True,
) -> FramingVerdict:
    """Judge one frame's facts against the rules, in order (face, distance, centre, pose, light, neutral).

    ``check_light=False``: the facts came without pixels (:func:`landmark_facts`)."""
    r = rules or load_rules()
    if facts.faces == 0:
        return FramingVerdict(_say(r, "no_face"), facts)
    if facts.faces > 1:
        return FramingVerdict(_say(r, "several_faces", count=facts.faces), facts)
    for problem in (
        _distance(facts, r, reference_iris_px),
        _centre(facts, r),
        _pose(facts, r),
        _light(facts, r) if check_light else None,
        _neutral(facts, r),
    ):
        if problem is not None:
            return FramingVerdict(problem, facts)
    return FramingVerdict(None, facts)
