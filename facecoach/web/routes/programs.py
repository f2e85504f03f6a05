"""Programs: the instructor composes them (one line of technique ids a week, checked as the data files
are, previewed through the planner's rules), members join one from the library and their routine follows
it (facecoach.web.routine), with whatever the rules leave out for them listed with the reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import Assessment, Scan
from facecoach.members.studio_models import Program, ProgramEnrolment
from facecoach.planning.assessment import parse_answers
from facecoach.planning.plan import Excluded
from facecoach.planning.planner import build_plan
from facecoach.studio import enrolment
from facecoach.studio.programs import ProgramError, parse_weeks, preview, week_library
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    CurrentUser,
    Instructor,
    MemberUser,
    RowId,
    SessionDep,
    Viewer,
    ViewerDep,
    feature,
    redirect,
    render,
    signed_out_to,
    upsell,
)
from facecoach.web.routes.content import library_of

router = APIRouter(include_in_schema=False)


def _form_of(program: Program | None) -> dict[str, Any]:
    if program is None:
        return {"id": "", "slug": "", "title": "", "summary": "", "weeks": "", "published": False}
    return {
        "id": program.id,
        "slug": program.slug,
        "title": program.title,
        "summary": program.summary,
        "weeks": "\n".join(", ".join(w) for w in program.weeks),
        "published": program.published,
    }


def _composer(
    request: Request,
    viewer: Viewer,
    ctx: AppContext,
    db: Session,
    form: dict[str, Any],
    error: str | None = None,
    status: int = 200,
) -> Response:
    library = library_of(ctx, db)
    programs = list(db.scalars(select(Program).order_by(Program.title)))
    warnings: list[tuple[int, list[Excluded]]] = []
    program = db.get(Program, form["id"]) if form["id"] else None
    if program is not None and error is None:
        weeks = preview(enrolment.spec_of(program), library)
        warnings = [(n, w) for n, w in enumerate(weeks, start=1) if w]
    joined = {
        pid: n
        for pid, n in db.execute(
            select(ProgramEnrolment.program_id, ProgramEnrolment.id).where(
                ProgramEnrolment.ended_at.is_(None)
            )
        )
    }
    return render(
        request,
        "studio/programs.html",
        viewer,
        status_code=status,
        programs=programs,
        form=form,
        error=error,
        warnings=warnings,
        techniques=list(library.techniques.values()),
        joined=joined,
    )


@router.get("/studio/programs")
def programs_page(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    return _composer(request, viewer, ctx, db, _form_of(None))


@router.get("/studio/programs/{program_id}")
def program_edit(
    request: Request,
    program_id: RowId,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    program = db.get(Program, program_id)
    if program is None:
        raise HTTPException(status_code=404, detail="No such program.")
    return _composer(request, viewer, ctx, db, _form_of(program))


@router.post("/studio/programs/save")
def program_save(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
    slug: str = Form("", max_length=200),
    title: str = Form("", max_length=500),
    summary: str = Form("", max_length=5000),
    weeks: str = Form("", max_length=20_000),
    published: str = Form(""),
    program_id: str = Form("", max_length=20),
) -> Response:
    existing = int(program_id) if program_id.isdigit() and len(program_id) < 19 else None
    form = {"id": existing or "", "slug": slug, "title": title, "summary": summary, "weeks": weeks}
    form["published"] = bool(published)
    data: dict[str, object] = {
        "slug": slug.strip(),
        "title": title.strip(),
        "summary": summary.strip(),
        "weeks": parse_weeks(weeks),
    }
    try:
        row = enrolment.save_program(db, data, library_of(ctx, db), viewer.id, existing)
        row.published = bool(published)
        db.commit()
    except ProgramError as exc:
        db.rollback()
        return _composer(request, viewer, ctx, db, form, f"Refused — {exc}. Nothing was saved.", 400)
    return redirect(f"/studio/programs/{row.id}", request, f"Saved the program '{row.title}'.")


@router.post("/studio/programs/{program_id}/delete")
def program_delete(request: Request, program_id: RowId, viewer: Instructor, db: SessionDep) -> Response:
    program = db.get(Program, program_id)
    if program is None:
        raise HTTPException(status_code=404, detail="No such program.")
    db.delete(program)
    db.commit()
    return redirect(
        "/studio/programs", request, "Program deleted; its members are back on their own routine."
    )


# --- members -----------------------------------------------------------------------------------------


def _left_out_for(
    db: Session, ctx: AppContext, viewer: Viewer, weeks: list[list[str]]
) -> list[list[Excluded]]:
    """For each week, what the rules leave out for this member (their answers and scan), and why."""
    answers_row = db.scalar(
        select(Assessment).where(Assessment.user_id == viewer.id).order_by(Assessment.id.desc()).limit(1)
    )
    if answers_row is None:
        return []
    scan = db.scalar(select(Scan).where(Scan.user_id == viewer.id).order_by(Scan.id.desc()).limit(1))
    library = library_of(ctx, db)
    try:
        answers = parse_answers(answers_row.answers)
        return [
            build_plan(answers, scan.measurements if scan else None, n, week_library(library, week)).excluded
            for n, week in enumerate(weeks, start=1)
        ]
    except ValueError:  # answers the planner no longer reads: the routine page asks to retake them
        return []


def _published(db: Session, slug: str) -> Program:
    program = db.scalar(select(Program).where(Program.slug == slug[:60]))
    if program is None or not program.published:
        raise HTTPException(status_code=404, detail="No such program.")
    return program


@router.get("/programs/{slug}")
def program_page(
    request: Request,
    slug: str,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    program = _published(db, slug)
    library = library_of(ctx, db)
    current = enrolment.current_enrolment(db, viewer.id) if viewer is not None else None
    left_out = _left_out_for(db, ctx, viewer, program.weeks) if viewer is not None else []
    return render(
        request,
        "studio/program.html",
        viewer,
        program=program,
        library=library,
        following=current is not None and current[1].id == program.id,
        may_join=viewer is not None and enrolment.may_join(viewer.plan),
        left_out=left_out,
        error=None,
    )


@router.post("/programs/{slug}/join")
@feature("Programs by the instructor")
def program_join(
    request: Request,
    slug: str,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    if not enrolment.may_join(viewer.plan):  # the gate is the Member plan; programs could ask for more
        return upsell(request, viewer, enrolment.PROGRAM_PLAN, "Programs by the instructor")
    program = _published(db, slug)
    try:
        enrolment.join(db, viewer.id, program, dt.datetime.now(dt.UTC).date())
        db.commit()
    except ProgramError as exc:
        db.rollback()
        return redirect("/assessment", request, str(exc), "error")
    return redirect("/routine", request, f"You follow '{program.title}' from today: week 1, day 1.")


@router.post("/programs/leave")
@signed_out_to("/login")
def program_leave(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    left = enrolment.leave(db, viewer.id)
    db.commit()
    message = "You left the program: your routine is your own plan again." if left else "No program to leave."
    return redirect("/routine", request, message)
