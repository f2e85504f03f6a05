"""Which week and day of the programme a member is on, and the planner's routine for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.knowledge import Library
from facecoach.members.models import Assessment, Scan
from facecoach.planning.assessment import parse_answers
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
