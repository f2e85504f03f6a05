"""Programs in the database: saving the instructor's, members joining and leaving, the one a member
follows now. A member follows at most one program at a time; joining another ends the first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.knowledge import Library
from facecoach.members.models import Assessment, utcnow
from facecoach.members.plans import allows
from facecoach.members.studio_models import Program, ProgramEnrolment
from facecoach.studio.programs import ProgramError, ProgramSpec, validate_program

#: The plan that unlocks programs (the instructor has everything).
PROGRAM_PLAN = "member"


def may_join(plan: str | None) -> bool:
    return allows(plan, PROGRAM_PLAN)


def spec_of(row: Program) -> ProgramSpec:
    """A stored program as its spec (stored programs were validated when saved)."""
    return ProgramSpec(slug=row.slug, title=row.title, summary=row.summary, weeks=row.weeks)


def save_program(
    db: Session, data: dict[str, object], library: Library, user_id: int, program_id: int | None = None
) -> Program:
    """Validate then store (the caller commits); a slug another program has is refused."""
    spec = validate_program(dict(data), library)
    clash = db.scalar(select(Program).where(Program.slug == spec.slug))
    if clash is not None and clash.id != program_id:
        raise ProgramError(f"slug: another program already uses '{spec.slug}'")
    row = db.get(Program, program_id) if program_id is not None else None
    if row is None:
        row = Program(slug=spec.slug, title=spec.title, weeks=[], created_by=user_id)
        db.add(row)
    row.slug, row.title, row.summary, row.weeks = spec.slug, spec.title, spec.summary, spec.weeks
    row.updated_at = utcnow()
    db.flush()
    return row


def published_programs(db: Session) -> list[Program]:
    return list(db.scalars(select(Program).where(Program.published.is_(True)).order_by(Program.title)))


def current_enrolment(db: Session, user_id: int) -> tuple[ProgramEnrolment, Program] | None:
    row = db.execute(
        select(ProgramEnrolment, Program)
        .join(Program, Program.id == ProgramEnrolment.program_id)
        .where(ProgramEnrolment.user_id == user_id, ProgramEnrolment.ended_at.is_(None))
        .order_by(ProgramEnrolment.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def join(db: Session, user_id: int, program: Program, today: dt.date) -> ProgramEnrolment:
    """Start ``program`` today (its week 1, day 1); needs the member's assessment, because the planner
    fits every program week to the member's own answers. Ends any program followed before."""
    if not program.published:
        raise ProgramError("This program is not open yet.")
    if db.scalar(select(Assessment.id).where(Assessment.user_id == user_id).limit(1)) is None:
        raise ProgramError(
            "Take the assessment first: the program is fitted to your answers, "
            "and never overrides a condition."
        )
    leave(db, user_id)
    enrolment = ProgramEnrolment(user_id=user_id, program_id=program.id, started_on=today)
    db.add(enrolment)
    db.flush()
    return enrolment


def leave(db: Session, user_id: int) -> bool:
    found = current_enrolment(db, user_id)
    if found is None:
        return False
    found[0].ended_at = utcnow()
    return True
