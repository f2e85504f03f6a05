"""The routine the planner builds. ``Plan.model_dump()`` is exactly the JSON ``facecoach plan --json``
prints (documented in docs/planner.md). Durations in seconds; ``minutes`` is the routine's own length.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facecoach.knowledge.models import TechniqueKind

Phase = Literal["warmup", "exercise", "release", "drainage"]
PHASES: tuple[Phase, ...] = ("warmup", "exercise", "release", "drainage")
ItemSide = Literal["left", "right", "midline"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanItem(_Frozen):
    technique: str
    kind: TechniqueKind
    phase: Phase
    targets: list[str]  # side-less muscle ids (knowledge base)
    sides: list[ItemSide]  # the person's own sides it is done on
    reps: int | None
    hold_s: float | None
    duration_s: float = Field(gt=0)
    reason: str = Field(min_length=1)


class Excluded(_Frozen):
    technique: str
    rule: str
    reason: str


class Plan(_Frozen):
    week: int = Field(ge=1)
    minutes: float = Field(ge=0)
    items: list[PlanItem]
    excluded: list[Excluded]
    habit_tips: list[str]
    referral: str | None

    @property
    def total_s(self) -> float:
        return sum(i.duration_s for i in self.items)


class Day(_Frozen):
    """One day of a week's schedule (``day`` 1…7). A rest day keeps massage only, no exercise."""

    day: int = Field(ge=1, le=7)
    rest: bool
    plan: Plan
