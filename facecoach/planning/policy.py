"""The planner's content (``data/policy.yaml``): habit → over-used muscles, goals, safety windows, scan
thresholds, progression, rest days and every sentence it says. Validated on load; muscle ids are checked
against the knowledge base by :func:`check_against_library`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from facecoach.knowledge.models import Movement, Region
from facecoach.planning.assessment import GOALS, Goal, describe_validation_error
from facecoach.yamlfile import read_yaml

POLICY_FILE = Path(__file__).resolve().parent / "data" / "policy.yaml"


class PolicyError(ValueError):
    """The planner's data file is broken: names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Windows(_Strict):
    injectables_weeks: int = Field(ge=1, le=52)
    surgery_weeks: int = Field(ge=1, le=104)


class ScanThresholds(_Strict):
    """Millimetres; a figure counts only above its threshold and above ``noise_factor`` × its noise."""

    noise_factor: float = Field(ge=1.0, le=5.0)
    brow_height_mm: float = Field(gt=0, le=10)
    mouth_corner_mm: float = Field(gt=0, le=10)
    lower_face_width_mm: float = Field(gt=0, le=20)
    bulky_jaw_muscle: str
    higher_brow_muscle: str
    lower_corner_movement: Movement


class OveruseRule(_Strict):
    id: str
    when: Literal[
        "clenching", "frowning", "stress_high", "screen_squinting", "chewing_side", "one_sided_expression"
    ]
    muscles: list[str] = Field(min_length=1)  # side-less muscle ids of the knowledge base
    sides: Literal["both", "habit"]
    because: str  # completes "Because …" (may hold {side})


class GoalSpec(_Strict):
    label: str
    exercise_regions: list[Region]
    release_muscles: list[str]


class Session(_Strict):
    max_exercises_by_week: list[int] = Field(min_length=1)
    one_sided_movements: list[Movement]
    max_common_releases: int = Field(ge=0, le=10)
    drainage_max_share: float = Field(gt=0, le=1)
    drainage_max_share_depuff: float = Field(gt=0, le=1)


class Progression(_Strict):
    reps_per_week: int = Field(ge=0, le=5)
    hold_growth_per_week: float = Field(ge=0, le=1)
    max_factor: float = Field(ge=1, le=5)
    max_hold_s: float = Field(gt=0, le=120)
    rest_days_by_week: list[list[int]] = Field(min_length=1)

    @model_validator(mode="after")
    def _days_in_week(self) -> Progression:
        for days in self.rest_days_by_week:
            if not days or len(days) > 3 or any(d < 1 or d > 7 for d in days) or len(set(days)) != len(days):
                raise ValueError("each rest_days_by_week entry: 1-3 distinct days between 1 and 7")
        return self


class Texts(_Strict):
    referral: str
    reasons: dict[str, str]
    tips: dict[str, str]

    @model_validator(mode="after")
    def _required_keys(self) -> Texts:
        need_r = {
            "warmup_overuse", "warmup_goal", "warmup_general", "warmup_common", "bulky_jaw", "higher_brow",
            "exercise_goal", "exercise_balance", "exercise_emphasis", "sides_note_overused", "release",
            "drainage", "drainage_depuff", "drainage_sleep", "rest_day", "because_bulky_jaw",
            "because_higher_brow", "because_never_exercised", "because_library",
        }  # fmt: skip
        need_t = {
            "bulky_jaw", "chewing_side", "clenching", "harmful_jaw", "frowning", "screen_squinting",
            "one_sided_expression", "sleeping_side", "stress", "blood_thinners", "tmj",
        }  # fmt: skip
        for name, have, need in (("reasons", self.reasons, need_r), ("tips", self.tips, need_t)):
            missing = sorted(need - set(have))
            if missing:
                raise ValueError(f"text.{name} is missing {', '.join(missing)}")
        return self


class Policy(_Strict):
    windows: Windows
    scan: ScanThresholds
    overuse: list[OveruseRule]
    never_exercised: list[str] = Field(min_length=1)
    stress_threshold: int = Field(ge=0, le=10)
    goals: dict[Goal, GoalSpec]
    session: Session
    progression: Progression
    text: Texts

    @model_validator(mode="after")
    def _every_goal(self) -> Policy:
        missing = [g for g in GOALS if g not in self.goals]
        if missing:
            raise ValueError(f"goals is missing {', '.join(missing)}")
        return self

    def muscle_ids(self) -> set[str]:
        ids = {m for r in self.overuse for m in r.muscles}
        ids |= {m for g in self.goals.values() for m in g.release_muscles}
        ids |= set(self.never_exercised) | {self.scan.bulky_jaw_muscle, self.scan.higher_brow_muscle}
        return ids


def load_policy(path: Path | None = None) -> Policy:
    p = path or POLICY_FILE
    try:
        data = read_yaml(p)
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"{p}: cannot read ({exc})") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"{p}: {describe_validation_error(exc)}") from None


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    return load_policy()


def check_against_library(policy: Policy, muscle_groups: set[str]) -> None:
    """Every muscle the policy names must exist (side-less) in the knowledge base."""
    unknown = sorted(policy.muscle_ids() - muscle_groups)
    if unknown:
        raise PolicyError(
            f"{POLICY_FILE}: unknown muscle ids (not in the knowledge base): {', '.join(unknown)}"
        )
