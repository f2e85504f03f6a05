"""Member pages: my routine (today with reasons, the week), progress charts, video audits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import AuditJob, Scan
from facecoach.members.practice import session_dates, sessions_per_week, streak
from facecoach.planning.plan import PlanItem
from facecoach.web.charts import weekly_bars
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    FreeUser,
    MemberUser,
    RowId,
    SessionDep,
    Viewer,
    feature,
    redirect,
    render,
)
from facecoach.web.progress import scan_charts
from facecoach.web.routes.content import TOOL_LABELS, library_of
from facecoach.web.routine import TASTE_ITEMS, RoutineError, routine_for
from facecoach.web.uploads import UploadRefused, submit_audit

router = APIRouter(include_in_schema=False)

DAY_NAMES = ("Day 1", "Day 2", "Day 3", "Day 4", "Day 5", "Day 6", "Day 7")
#: The planner's phases as the page names them, matching the order it states: release, exercise, release,
#: drain (the warm-up is the first release).
PHASE_LABELS = {
    "warmup": "release · warm-up",
    "exercise": "exercise",
    "release": "release",
    "drainage": "drain",
}


@dataclass(frozen=True)
class RoutineStep:
    """One technique as the page shows it: consecutive plan items of the same technique and phase (an
    exercise plus its extra set on the weaker side) are one step with several sets."""

    technique: str
    kind: str
    phase: str
    sets: list[PlanItem]

    @property
    def duration_s(self) -> float:
        return sum(i.duration_s for i in self.sets)


def routine_steps(items: Sequence[PlanItem]) -> list[RoutineStep]:
    steps: list[RoutineStep] = []
    for item in items:
        last = steps[-1] if steps else None
        if last is not None and (last.technique, last.phase) == (item.technique, item.phase):
            last.sets.append(item)
        else:
            steps.append(RoutineStep(item.technique, item.kind, item.phase, [item]))
    return steps


@router.get("/routine")
@feature("Your routine")
def routine_page(
    request: Request,
    viewer: FreeUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    library = library_of(ctx, db)
    try:
        routine = routine_for(db, viewer.id, library, dt.datetime.now(dt.UTC).date())
    except RoutineError as exc:
        return render(request, "routine.html", viewer, status_code=409, routine=None, problem=str(exc))
    if routine is None:
        return render(request, "routine.html", viewer, routine=None)
    return render(
        request,
        "routine.html",
        viewer,
        routine=routine,
        library=library,
        tool_labels=TOOL_LABELS,
        taste=not viewer.is_member,
        taste_items=TASTE_ITEMS,
        day_names=DAY_NAMES,
        phase_labels=PHASE_LABELS,
        steps=routine_steps(routine.today.plan.items),
        week_steps={d.day: routine_steps(d.plan.items) for d in routine.days},
    )


@router.get("/progress")
@feature("Progress")
def progress_page(
    request: Request,
    viewer: MemberUser,
    db: SessionDep,
) -> Response:
    scans = list(db.scalars(select(Scan).where(Scan.user_id == viewer.id).order_by(Scan.created_at, Scan.id)))
    charts = scan_charts((s.created_at, s.measurements) for s in scans)
    today = dt.datetime.now(dt.UTC).date()
    dates = session_dates(db, viewer.id)
    weeks = sessions_per_week(dates, today)
    manual_dates = session_dates(db, viewer.id, "manual")
    manual = [n for _, n in sessions_per_week(manual_dates, today)]
    from facecoach.web.progress_view import checkin_view

    return render(
        request,
        "progress.html",
        viewer,
        checkins=checkin_view(db, viewer.id),
        charts=charts,
        n_scans=len(scans),
        sessions_chart=weekly_bars(weeks, manual=manual),
        manual_sessions=len(manual_dates),
        streak=streak(dates, today),
        total_sessions=len(dates),
        this_week=weeks[-1][1] if weeks else 0,
    )


# --- video audit -----------------------------------------------------------------------------------


def _audit_techniques(ctx: AppContext, db: Session) -> list[Any]:
    return [t for t in library_of(ctx, db).techniques.values() if t.kind == "exercise"]


def _technique_names(ctx: AppContext, db: Session) -> dict[str, str]:
    return {t.id: t.name for t in library_of(ctx, db).techniques.values()}


def _jobs_for(db: Session, viewer: Viewer) -> list[AuditJob]:
    """The viewer's own audits, newest first (an audit is private to its member: the instructor sees
    only hers)."""
    stmt = select(AuditJob).where(AuditJob.user_id == viewer.id).order_by(AuditJob.id.desc()).limit(30)
    return list(db.scalars(stmt))


@router.get("/audit")
@feature("Video audit")
def audit_page(
    request: Request,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    return render(
        request,
        "audit.html",
        viewer,
        techniques=_audit_techniques(ctx, db),
        technique_names=_technique_names(ctx, db),
        jobs=_jobs_for(db, viewer),
        error=None,
    )


@router.post("/audit")
@feature("Video audit")
async def audit_submit(
    request: Request,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    form = await request.form()
    video = form.get("video")
    technique_id = str(form.get("technique", ""))
    techniques = _audit_techniques(ctx, db)

    def refuse(message: str, status: int = 400, headers: dict[str, str] | None = None) -> Response:
        response = render(
            request,
            "audit.html",
            viewer,
            status_code=status,
            techniques=techniques,
            technique_names=_technique_names(ctx, db),
            jobs=_jobs_for(db, viewer),
            error=message,
        )
        response.headers.update(headers or {})
        return response

    try:
        job = await submit_audit(ctx, db, viewer.id, technique_id, video, {t.id for t in techniques})
    except UploadRefused as exc:
        return refuse(exc.message, exc.status, exc.headers)
    return redirect(f"/audit/{job.id}", request, "Video received — the audit is running.")


def load_job(db: Session, viewer: Viewer, job_id: int) -> AuditJob:
    """The viewer's own audit; anyone else's (the instructor's view included) is 404."""
    job = db.get(AuditJob, job_id)
    if job is None or job.user_id != viewer.id:
        raise HTTPException(status_code=404, detail="No such audit.")
    return job


@router.get("/audit/{job_id}")
@feature("Video audit")
def audit_job_page(
    request: Request,
    job_id: RowId,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    job = load_job(db, viewer, job_id)
    from facecoach.web.routes.audit_report import report_context

    return render(request, "audit_job.html", viewer, **report_context(db, ctx, job))
