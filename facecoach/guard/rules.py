"""The habit guard's rules: ``data/habits.yaml``, validated on load (one definition for Python and the page).

Every measure a habit names must be a coaching measure (:mod:`facecoach.coaching.measures`) whose source is
landmark geometry, so the page can compute it from the landmarks alone (it sends nothing anywhere);
:func:`browser_model` is what the page gets as JSON: these rules plus the geometry they need.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from facecoach.coaching.measures import SOURCES
from facecoach.planning.assessment import describe_validation_error
from facecoach.yamlfile import load_yaml

Combine = Literal["single", "mean", "one_sided"]
#: the coaching measures a habit may use: geometry ones (the page computes them from landmarks alone)
GEOMETRY_MEASURES: frozenset[str] = frozenset(n for n, (key, _s) in SOURCES.items() if key.startswith("geo:"))


class GuardRulesError(ValueError):
    """The habit file is missing, not YAML, or breaks a rule (the message names the file and the field)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(_Model):
    """Frames measured per second in view, with the tab hidden, and on a low battery."""

    fps: float = Field(gt=0, le=5)
    hidden_fps: float = Field(gt=0, le=5)
    low_battery_fps: float = Field(gt=0, le=5)
    low_battery_level: float = Field(gt=0, lt=1)


class CalibrationRules(_Model):
    """How many neutral frames (one face, light enough) the calibration takes."""

    frames: int = Field(ge=3, le=60)


class Presence(_Model):
    """When a frame is not measured at all: too dark, head turned away, or after a long gap."""

    min_brightness: float = Field(ge=0, le=255)
    max_head_motion_deg: float = Field(gt=0, le=90)
    max_gap_s: float = Field(gt=0, le=3600)


class Habit(_Model):
    """One habit: ``value`` of its measures (see ``combine``) held at ``on_mm`` or more for ``hold_s``."""

    id: str = Field(pattern=r"^[a-z][a-z_]{1,30}$")
    label: str = Field(min_length=3, max_length=40)
    muscle: str = Field(min_length=3)
    measures: list[str] = Field(min_length=1, max_length=2)
    combine: Combine
    on_mm: float = Field(gt=0, le=20)
    off_mm: float = Field(gt=0, le=20)
    hold_s: float = Field(gt=0, le=600)
    noise_multiple: float = Field(ge=0, le=20)
    unless_smiling_mm: float | None = Field(default=None, gt=0)
    other_side_max_mm: float | None = Field(default=None, gt=0)
    cue: str = Field(min_length=10, max_length=200)
    routine_tip: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Habit:
        unknown = [m for m in self.measures if m not in GEOMETRY_MEASURES]
        if unknown:
            raise ValueError(f"{self.id}: {', '.join(unknown)} is not a landmark-geometry coaching measure")
        if self.off_mm >= self.on_mm:
            raise ValueError(f"{self.id}: off_mm must be below on_mm (hysteresis)")
        wanted = 1 if self.combine == "single" else 2
        if len(self.measures) != wanted:
            raise ValueError(f"{self.id}: combine {self.combine!r} takes {wanted} measure(s)")
        if (self.combine == "one_sided") != (self.other_side_max_mm is not None):
            raise ValueError(f"{self.id}: other_side_max_mm goes with combine one_sided, and only with it")
        return self


class NudgeRules(_Model):
    interval_min_default: int = Field(ge=1, le=240)
    interval_min_choices: list[int] = Field(min_length=1)
    same_habit_factor: float = Field(ge=1, le=10)
    pause_min: int = Field(ge=1, le=24 * 60)

    @model_validator(mode="after")
    def _default_is_a_choice(self) -> NudgeRules:
        if self.interval_min_default not in self.interval_min_choices:
            raise ValueError("interval_min_default must be one of interval_min_choices")
        if any(c < 1 or c > 240 for c in self.interval_min_choices):
            raise ValueError("interval choices are 1–240 minutes")
        return self


class GuardRules(_Model):
    sampling: Sampling
    calibration: CalibrationRules
    presence: Presence
    habits: list[Habit] = Field(min_length=1)
    nudges: NudgeRules

    @model_validator(mode="after")
    def _unique_ids(self) -> GuardRules:
        ids = [h.id for h in self.habits]
        if len(set(ids)) != len(ids):
            raise ValueError("habit ids must be unique")
        return self

    @property
    def habit_ids(self) -> tuple[str, ...]:
        return tuple(h.id for h in self.habits)

    def habit(self, habit_id: str) -> Habit:
        for h in self.habits:
            if h.id == habit_id:
                return h
        raise KeyError(habit_id)


def parse_rules(text: str, name: str = "habits.yaml") -> GuardRules:
    """Rules from YAML text; :class:`GuardRulesError` names the file and what is wrong."""
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        raise GuardRulesError(f"{name}: not valid YAML ({exc})") from None
    try:
        return GuardRules.model_validate(data)
    except ValidationError as exc:
        raise GuardRulesError(f"{name}: {describe_validation_error(exc)}") from None


@lru_cache(maxsize=1)
def guard_rules() -> GuardRules:
    """The shipped rules (cached; the file is part of the package)."""
    text = resources.files("facecoach.guard").joinpath("data/habits.yaml").read_text("utf-8")
    return parse_rules(text)


def browser_model(rules: GuardRules) -> dict[str, Any]:
    """What the page's detector needs, as JSON: the rules, each measure's geometry (landmark, axis,
    weight terms and sign, from :mod:`facecoach.coaching.measures`), and the canonical face's Procrustes
    basis (from the verified model asset, as :mod:`facecoach.vision.geometry` uses it)."""
    from facecoach.coaching.measures import GEOMETRY
    from facecoach.vision import landmark_ids as ids
    from facecoach.vision.canonical import canonical_face

    used = sorted(
        {m for h in rules.habits for m in h.measures} | {"mouth_corners_up_left", "mouth_corners_up_right"}
    )
    measures = {}
    for name in used:
        key, sign = SOURCES[name]
        measures[name] = {"key": key, "sign": sign, "terms": [list(t) for t in GEOMETRY[key]]}
    canon = canonical_face()
    return {
        "rules": rules.model_dump(),
        "measures": measures,
        "eye_corners": list(ids.EYE_CORNERS),
        "iris_horizontal": [list(ids.RIGHT_IRIS_HORIZONTAL), list(ids.LEFT_IRIS_HORIZONTAL)],
        "basis": {
            "ids": canon.basis_ids.tolist(),
            "weights": canon.basis_weights.tolist(),
            "vertices": canon.vertices[canon.basis_ids].tolist(),
        },
    }
