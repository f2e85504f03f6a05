"""The JSON API (OpenAPI at /docs). Same rules as the pages: 401 anonymous, 402 a plan unlocks it,
403 not yours; every write carries the CSRF token in the X-CSRF-Token header."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from facecoach.knowledge import CheckResult, check
from facecoach.knowledge.models import Claim, Technique
from facecoach.members.data_rights import export_member
from facecoach.members.models import Scan, User
from facecoach.members.plans import all_plans
from facecoach.members.practice import (
    SessionSummary,
    SessionSummaryError,
    record_session,
    session_dates,
    sessions_per_week,
    streak,
)
from facecoach.members.session_summary import SummaryRules
from facecoach.planning.plan import Day
from facecoach.web.deps import (
    CtxDep,
    CurrentUser,
    MemberUser,
    RowId,
    SessionDep,
    ViewerDep,
    csrf_token,
)
from facecoach.web.routes.content import library_of
from facecoach.web.routes.member import load_job
from facecoach.web.routine import TASTE_ITEMS, RoutineError, routine_for

router = APIRouter(prefix="/api", tags=["api"])


class Me(BaseModel):
    id: int | None
    email: str | None
    plan: str | None
    csrf_token: str = Field(description="send it as X-CSRF-Token with every write")


class CheckIn(BaseModel):
    text: str = Field(min_length=1, max_length=300)


class RoutineOut(BaseModel):
    week: int
    day: int
    taste: bool
    today: Day
    days: list[Day] | None


class AuditOut(BaseModel):
    id: int
    status: str
    progress: float
    technique_id: str
    error: str
    result: dict[str, Any] | None


@router.get("/me", response_model=Me)
def me(request: Request, viewer: ViewerDep) -> Me:
    return Me(
        id=viewer.id if viewer else None,
        email=viewer.email if viewer else None,
        plan=viewer.plan if viewer else None,
        csrf_token=csrf_token(request, viewer),
    )


@router.get("/plans")
def plans() -> list[dict[str, Any]]:
    return [p.model_dump() for p in all_plans()]


@router.get("/techniques", response_model=list[Technique])
def techniques(
    ctx: CtxDep,
    db: SessionDep,
    kind: str | None = None,
    region: str | None = None,
    muscle: str | None = None,
    tool: str | None = None,
) -> list[Technique]:
    try:
        return library_of(ctx, db).techniques_for(kind=kind, region=region, muscle=muscle, tool=tool)
    except KeyError as exc:
        raise HTTPException(status_code=400, detail=str(exc.args[0]) if exc.args else "bad filter") from None


@router.get("/techniques/{technique_id}", response_model=Technique)
def technique(technique_id: str, ctx: CtxDep, db: SessionDep) -> Technique:
    found = library_of(ctx, db).techniques.get(technique_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such technique")
    return found


@router.get("/claims", response_model=list[Claim])
def claims(ctx: CtxDep, db: SessionDep) -> list[Claim]:
    return list(library_of(ctx, db).claims.values())


@router.post("/check", response_model=CheckResult)
def check_claim(body: CheckIn, ctx: CtxDep, db: SessionDep) -> CheckResult:
    return check(body.text, library_of(ctx, db))


@router.get("/routine", response_model=RoutineOut)
def routine(
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
) -> RoutineOut:
    try:
        view = routine_for(db, viewer.id, library_of(ctx, db), dt.datetime.now(dt.UTC).date())
    except RoutineError as exc:
        raise HTTPException(status_code=409, detail=f"retake the assessment: {exc}") from None
    if view is None:
        raise HTTPException(status_code=409, detail="take the assessment first")
    today = view.today
    if not viewer.is_member:
        plan = today.plan.model_copy(update={"items": today.plan.items[:TASTE_ITEMS]})
        today = today.model_copy(update={"plan": plan})
    return RoutineOut(
        week=view.week,
        day=view.day,
        taste=not viewer.is_member,
        today=today,
        days=view.days if viewer.is_member else None,
    )


@router.get("/progress")
def progress(viewer: MemberUser, db: SessionDep) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    dates = session_dates(db, viewer.id)
    manual = sessions_per_week(session_dates(db, viewer.id, "manual"), today)
    scans = db.scalars(select(Scan).where(Scan.user_id == viewer.id).order_by(Scan.created_at, Scan.id))
    return {
        "streak_days": streak(dates, today),
        "sessions_per_week": [
            {"week_of": w.isoformat(), "sessions": n, "manual": m}
            for (w, n), (_, m) in zip(sessions_per_week(dates, today), manual, strict=True)
        ],
        "scans": [
            {
                "at": s.created_at.isoformat(),
                "asymmetry": s.measurements.get("asymmetry"),
                "noise_mm": s.measurements.get("noise_mm"),
            }
            for s in scans
        ],
    }


@router.post("/sessions", status_code=201)
def post_session(
    body: SessionSummary,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> dict[str, Any]:
    """Log a practice session by hand for the signed-in member: known technique and fault ids, bounded
    counts, a date within a day of today. It is stored, and shown on progress, as *manual* (live coaching
    saves its own record, built on the server)."""
    try:
        body.check(SummaryRules.of(library_of(ctx, db)))
        row = record_session(db, viewer.id, body, source="manual")
        db.commit()
    except SessionSummaryError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return {"id": row.id, "date": row.date.isoformat(), "source": row.source}


@router.get("/export")
def export(viewer: CurrentUser, db: SessionDep) -> dict[str, Any]:
    user = db.get(User, viewer.id)
    assert user is not None
    return export_member(db, user)


@router.get("/audits/{job_id}", response_model=AuditOut)
def audit_status(job_id: RowId, viewer: MemberUser, db: SessionDep) -> AuditOut:
    job = load_job(db, viewer, job_id)
    return AuditOut(
        id=job.id,
        status=job.status,
        progress=job.progress,
        technique_id=job.technique_id,
        error=job.error,
        result=job.result if job.status == "done" else None,
    )
