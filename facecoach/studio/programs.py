"""Programs: the instructor's multi-week courses ("4 weeks for the jaw", "7-day starter") composed from
the library's techniques, and the routine of a member who follows one.

A program never decides on its own what a member does: each day the planner builds the member's routine
from the member's own answers and scan, with every safety rule (``facecoach.planning.rules``), choosing
only among the program's techniques of that week — so a contraindication always wins, the method's order
(release → exercise → release → drain) and the time budget hold, and what the rules leave out is listed
with the reason, exactly as in a personal routine. Week numbers are the program's own (week 1 is the
week the member joined), which is also the planner's progression week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facecoach.knowledge import Library
from facecoach.knowledge.models import MAX_ITEMS, Id, Name, Paragraph, Ref
from facecoach.planning.assessment import Answers
from facecoach.planning.plan import Day, Excluded
from facecoach.planning.planner import build_plan, week_schedule

MAX_WEEKS = 26
Week = Annotated[list[Ref], Field(min_length=1, max_length=MAX_ITEMS)]


class ProgramError(ValueError):
    """A program that cannot be saved or followed (the message names the field)."""


class ProgramSpec(BaseModel):
    """A program as the instructor writes it; the bounds are the knowledge base's (models.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Id
    title: Name
    summary: Paragraph = ""
    weeks: list[Week] = Field(min_length=1, max_length=MAX_WEEKS)


def validate_program(data: dict[str, Any], library: Library) -> ProgramSpec:
    """The program, or :class:`ProgramError` naming the first problem (a bound, an unknown technique)."""
    try:
        spec = ProgramSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "program"
        raise ProgramError(f"{where}: {err.get('msg', 'invalid')}") from None
    for n, week in enumerate(spec.weeks, start=1):
        for technique_id in week:
            if technique_id not in library.techniques:
                raise ProgramError(f"week {n}: there is no technique '{technique_id[:60]}' in the library")
    return spec.model_copy(update={"weeks": [list(dict.fromkeys(w)) for w in spec.weeks]})


def parse_weeks(text: str) -> list[list[str]]:
    """The composer's text: one line a week, technique ids separated by commas or spaces."""
    weeks = []
    for line in text.splitlines():
        ids = [part for part in line.replace(",", " ").split() if part]
        if ids:
            weeks.append(ids)
    return weeks


def week_library(library: Library, technique_ids: list[str]) -> Library:
    """The library narrowed to one program week's techniques (library order; muscles, tools and claims
    stay whole, so the rules see everything they need)."""
    wanted = set(technique_ids)
    return replace(library, techniques={k: t for k, t in library.techniques.items() if k in wanted})


@dataclass(frozen=True)
class ProgramDay:
    """Where a member stands in a program and that week's schedule."""

    week: int  # 1 … number of weeks
    day: int  # 1 … 7
    weeks: int
    days: list[Day]

    @property
    def today(self) -> Day:
        return self.days[self.day - 1]


def position(started: dt.date, today: dt.date) -> tuple[int, int]:
    elapsed = max((today - started).days, 0)
    return elapsed // 7 + 1, elapsed % 7 + 1


def program_day(
    spec: ProgramSpec,
    answers: Answers,
    scan: dict[str, object] | None,
    started: dt.date,
    today: dt.date,
    library: Library,
) -> ProgramDay | None:
    """The member's program week planned by the planner from that week's techniques, or None once the
    program is over."""
    week, day = position(started, today)
    if week > len(spec.weeks):
        return None
    days = week_schedule(answers, scan, week, week_library(library, spec.weeks[week - 1]))
    return ProgramDay(week=week, day=day, weeks=len(spec.weeks), days=days)


def preview(spec: ProgramSpec, library: Library, minutes_per_day: int = 20) -> list[list[Excluded]]:
    """For each week, what the rules leave out even for someone with no condition and no habit (with
    ``minutes_per_day``): what the instructor should change before members join (an exercise before its
    unlock week, one without a release in its week, a tool nobody owns…)."""
    answers = Answers(minutes_per_day=minutes_per_day, tools=["gua_sha", "jade_roller"])
    out = []
    for n, week in enumerate(spec.weeks, start=1):
        plan = build_plan(answers, None, n, week_library(library, week))
        out.append([e for e in plan.excluded if e.rule != "fits_time_budget"])
    return out
