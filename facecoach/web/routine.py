"""Which week and day of the programme a member is on, and the planner's routine for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.knowledge import Library
from facecoach.members.models import Assessment, Scan
from facecoach.planning.assessment import Answers, parse_answers
from facecoach.planning.plan import Day
from facecoach.planning.planner import build_plan, week_schedule

#: How many of today's items the free plan shows (a taste: the rest is the member's full routine).
TASTE_ITEMS = 3


class RoutineError(ValueError):
    """The stored answers or scan cannot be planned any more (e.g. the format or the policy changed);
    the member is asked to retake the assessment."""


@dataclass(frozen=True)
class RoutineView:
    started: dt.date  # the day of the first assessment: day 1 of week 1
    week: int
    day: int  # 1…7 within the week
    today: Day
    days: list[Day]
    has_scan: bool
    next_week_new: list[str]  # technique ids next week's training day adds (progression)
    program: ProgramBadge | None = None  # the program the routine follows, if any


@dataclass(frozen=True)
class ProgramBadge:
    """The program a routine follows: its slug and title, this week, its number of weeks."""

    slug: str
    title: str
    week: int
    weeks: int


def programme_position(started: dt.date, today: dt.date) -> tuple[int, int]:
    """(week ≥ 1, day 1…7) counted from the first assessment."""
    elapsed = max((today - started).days, 0)
    return elapsed // 7 + 1, elapsed % 7 + 1


def routine_for(db: Session, user_id: int, library: Library, today: dt.date) -> RoutineView | None:
    first = db.scalar(
        select(Assessment).where(Assessment.user_id == user_id).order_by(Assessment.id).limit(1)
    )
    latest = db.scalar(
        select(Assessment).where(Assessment.user_id == user_id).order_by(Assessment.id.desc()).limit(1)
    )
    if first is None or latest is None:
        return None
    scan = db.scalar(select(Scan).where(Scan.user_id == user_id).order_by(Scan.id.desc()).limit(1))
    week, day = programme_position(first.created_at.date(), today)
    try:
        answers = parse_answers(latest.answers)
        followed = _program_routine(db, user_id, answers, scan, library, today)
        if followed is not None:
            return followed
        days = week_schedule(answers, scan.measurements if scan else None, week, library)
        following = build_plan(answers, scan.measurements if scan else None, week + 1, library)
    except ValueError as exc:  # AnswersError, ScanError, PolicyError, KnowledgeError are ValueErrors
        raise RoutineError(str(exc)) from exc
    now = {i.technique for d in days for i in d.plan.items}
    new = list(dict.fromkeys(i.technique for i in following.items if i.technique not in now))
    return RoutineView(
        started=first.created_at.date(),
        week=week,
        day=day,
        today=days[day - 1],
        days=days,
        has_scan=scan is not None,
        next_week_new=new,
    )


def _program_routine(
    db: Session, user_id: int, answers: Answers, scan: Scan | None, library: Library, today: dt.date
) -> RoutineView | None:
    """The routine of a member following a program (facecoach.studio.programs), None otherwise or once
    the program is over (the personal routine takes over again)."""
    from facecoach.studio.enrolment import current_enrolment, spec_of
    from facecoach.studio.programs import program_day, week_library

    found = current_enrolment(db, user_id)
    if found is None:
        return None
    enrolment, program = found
    spec = spec_of(program)
    measurements = scan.measurements if scan else None
    pd = program_day(spec, answers, measurements, enrolment.started_on, today, library)
    if pd is None:
        return None
    now = {i.technique for d in pd.days for i in d.plan.items}
    new: list[str] = []
    if pd.week < pd.weeks:
        following = build_plan(answers, measurements, pd.week + 1, week_library(library, spec.weeks[pd.week]))
        new = list(dict.fromkeys(i.technique for i in following.items if i.technique not in now))
    return RoutineView(
        started=enrolment.started_on,
        week=pd.week,
        day=pd.day,
        today=pd.today,
        days=pd.days,
        has_scan=scan is not None,
        next_week_new=new,
        program=ProgramBadge(program.slug, program.title, pd.week, pd.weeks),
    )
