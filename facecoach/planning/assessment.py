"""The assessment: what a person tells us (goals, habits, conditions, time, tools) and what the face scan
saw. Both cross a boundary (files other tools write), so both are pydantic models with clear refusals.

Units: weeks for "how long ago", minutes for the daily time budget, millimetres for scan asymmetry,
degrees for angles. Sides are the person's own (anatomical) left and right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from facecoach.knowledge.models import Region

Goal = Literal["lift_cheeks", "smooth_forehead", "jaw_tension", "symmetry", "depuff"]
GOALS: tuple[Goal, ...] = ("lift_cheeks", "smooth_forehead", "jaw_tension", "symmetry", "depuff")
SkinCondition = Literal["active_acne", "rosacea", "eczema", "sunburn", "broken_skin"]
SKIN_CONDITIONS: tuple[SkinCondition, ...] = ("active_acne", "rosacea", "eczema", "sunburn", "broken_skin")
OwnedTool = Literal["gua_sha", "jade_roller"]
PersonSide = Literal["left", "right"]

#: The most a daily routine may ask for, in minutes (a guard against nonsense, not advice).
MAX_MINUTES_PER_DAY = 120


class AnswersError(ValueError):
    """A bad answers file: the message names the field and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Habits(_Strict):
    stress: int = Field(default=0, ge=0, le=10)  # 0 (none) … 10 (constant)
    clenching: bool = False  # clenching or grinding the teeth, day or night
    chewing_side: Literal["left", "right", "both"] = "both"
    frowning: bool = False  # frowning or squinting, e.g. at screens
    one_sided_expression: Literal["left", "right", "none"] = "none"  # a one-sided smirk or raised brow
    sleeping_side: Literal["left", "right", "back", "varies"] = "varies"
    screen_squinting: bool = False  # squinting or narrowing the eyes at screens for hours a day


class RegionWhen(_Strict):
    region: Region
    weeks_ago: int = Field(ge=0, le=10_000)
    cleared: bool = False  # surgery only: the surgeon has cleared the area for massage and exercise


class SkinIssue(_Strict):
    condition: SkinCondition
    region: Region


class Conditions(_Strict):
    tmj: bool = False  # jaw pain or a TMJ disorder
    injectables: list[RegionWhen] = Field(default_factory=list)  # botulinum toxin or filler
    surgery: list[RegionWhen] = Field(default_factory=list)
    skin: list[SkinIssue] = Field(default_factory=list)
    facial_palsy: bool = False
    blood_thinners: bool = False


class Answers(_Strict):
    """The answers file. ``meta`` is free for the tool that wrote the file (dates, app version…)."""

    goals: list[Goal] = Field(default_factory=list)
    habits: Habits = Field(default_factory=Habits)
    conditions: Conditions = Field(default_factory=Conditions)
    minutes_per_day: int = Field(ge=1, le=MAX_MINUTES_PER_DAY)
    tools: list[OwnedTool] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("goals", "tools", mode="before")
    @classmethod
    def _drop_none_and_duplicates(cls, value: Any) -> Any:
        """``"none"`` is how people say "no tools"; repeats carry no meaning."""
        if isinstance(value, list):
            out: list[Any] = []
            for v in value:
                if v != "none" and v not in out:
                    out.append(v)
            return out
        return value


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the first bad field, its problem and what was given (every planning file's
    refusal: answers, scan, policy, questionnaire)."""
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown field"
    elif first["type"] == "missing":
        msg = "required field is missing"
    got = first.get("input")
    shown = (
        ""
        if first["type"] in ("missing", "extra_forbidden")
        else f" (got {json.dumps(got, default=str)[:60]})"
    )
    more = len(error.errors()) - 1
    tail = f"; and {more} more problem{'s' if more > 1 else ''}" if more else ""
    return f"field '{loc}': {msg}{shown}{tail}"


def parse_answers(data: Any, source: str = "answers") -> Answers:
    """Validate already-parsed JSON; :class:`AnswersError` names the field and the reason."""
    if not isinstance(data, dict):
        raise AnswersError(
            f"{source}: must be a JSON object with goals, habits, conditions, minutes_per_day, tools"
        )
    try:
        return Answers.model_validate(data)
    except ValidationError as exc:
        raise AnswersError(f"{source}: {describe_validation_error(exc)}") from None


def load_answers(path: Path | str) -> Answers:
    """Read an answers JSON file (the format is in docs/planner.md)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AnswersError(f"{p}: cannot read the answers file ({exc.__class__.__name__})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswersError(
            f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:  # hostile nesting ([[[[…]]]]) overflows the JSON decoder's stack
        raise AnswersError(f"{p}: not valid answers (nested too deeply)") from None
    return parse_answers(data, source=str(p))
