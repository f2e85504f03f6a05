"""The JSON API (OpenAPI at /docs and /redoc): the library, the profile, routine, progress, practice logs,
export and audit status. Same rules as the pages: 401 anonymous (or a wrong/revoked token), 402 a plan
unlocks it, 403 a missing CSRF header (cookie sign-in) or token scope, 404 not yours. The member's
uploads, assessment, live sessions and account are in ``api_member``, the tokens in ``api_tokens``;
each status's meaning and the error model are in ``api_docs``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from facecoach.knowledge import CheckResult, check
from facecoach.knowledge.models import Claim, Technique
from facecoach.members.data_rights import export_member
from facecoach.members.models import AuditJob, Scan, User
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
    PlanRequired,
    RowId,
    SessionDep,
    ViewerDep,
    csrf_token,
    scope,
    token_scope,
)
from facecoach.web.progress import scan_series
from facecoach.web.routes.api_docs import answers
from facecoach.web.routes.content import library_of
from facecoach.web.routes.member import load_job
from facecoach.web.routine import TASTE_ITEMS, RoutineError, RoutineView, routine_for

#: Every /api operation can answer 401 (a wrong or revoked bearer token, even on public data) and 403
#: (a write without the CSRF header, or a token without the scope).
router = APIRouter(
    prefix="/api",
    dependencies=[Depends(token_scope)],
    responses=answers(401, 403),
)


class Me(BaseModel):
    id: int | None
    email: str | None
    plan: str | None
    csrf_token: str = Field(description="send it as X-CSRF-Token with every write (empty with a token)")
    auth: str = Field(description="how this request is signed in: `cookie`, `token` or `none`")
    scopes: list[str] = Field(description="what this request may do (a token's scopes; all for the cookie)")


class CheckIn(BaseModel):
    text: str = Field(min_length=1, max_length=300)


class RoutineOut(BaseModel):
    week: int = Field(description="the programme week shown (1 = the week of the first assessment)")
    current_week: int = Field(description="the member's week today")
    day: int = Field(description="the day of the week, 1…7")
    taste: bool = Field(description="free plan: only the first items of today")
    today: Day
    days: list[Day] | None = Field(description="the seven days of the week (members only)")
    next_week_new: list[str] = Field(description="technique ids the following week adds")


class WeekSessions(BaseModel):
    week_of: str
    sessions: int
    manual: int


class ScanPoint(BaseModel):
    at: str
    asymmetry: dict[str, float] | None
    noise_mm: dict[str, float] | None


class SeriesPoint(BaseModel):
    at: str
    value: float = Field(description="left minus right, mm (degrees for *_deg)")
    band: float = Field(description="the noise band at that scan: a change within it is not real")


class ProgressOut(BaseModel):
    streak_days: int
    sessions_per_week: list[WeekSessions]
    scans: list[ScanPoint]
    series: dict[str, list[SeriesPoint]] = Field(
        description="each asymmetry measure over the scans, as the progress page charts it"
    )


class SessionOut(BaseModel):
    id: int
    date: str
    source: str


class AuditOut(BaseModel):
    id: int
    status: str = Field(description="queued | running | done | failed")
    progress: float = Field(description="0…1")
    technique_id: str
    filename: str
    created_at: str
    error: str = Field(description="why it failed, in one line (empty otherwise)")
    result: dict[str, Any] | None = Field(description="the audit's timeline, once done")


@router.get("/me", response_model=Me, tags=["profile"])
def me(request: Request, viewer: ViewerDep) -> Me:
    """Who is asking, and the CSRF token a cookie-signed-in client sends with its writes."""
    auth = "none" if viewer is None else "cookie" if viewer.token_id is None else "token"
    return Me(
        id=viewer.id if viewer else None,
        email=viewer.email if viewer else None,
        plan=viewer.plan if viewer else None,
        csrf_token=csrf_token(request, viewer),
        auth=auth,
        scopes=sorted(viewer.scopes) if viewer else [],
    )


@router.get("/plans", tags=["profile"])
def plans() -> list[dict[str, Any]]:
    """The membership plans and what each includes."""
    return [p.model_dump() for p in all_plans()]


@router.get("/techniques", response_model=list[Technique], responses=answers(400), tags=["library"])
def techniques(
    ctx: CtxDep,
    db: SessionDep,
    kind: str | None = None,
    region: str | None = None,
    muscle: str | None = None,
    tool: str | None = None,
) -> list[Technique]:
    """The exercises and massages of the library, filtered as on the library page (an unknown value: 400)."""
    try:
        return library_of(ctx, db).techniques_for(kind=kind, region=region, muscle=muscle, tool=tool)
    except KeyError as exc:
        raise HTTPException(status_code=400, detail=str(exc.args[0]) if exc.args else "bad filter") from None


@router.get("/techniques/{technique_id}", response_model=Technique, responses=answers(404), tags=["library"])
def technique(technique_id: str, ctx: CtxDep, db: SessionDep) -> Technique:
    """One technique: steps, cues, what keeps still, mistakes, contraindications, evidence."""
    found = library_of(ctx, db).techniques.get(technique_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no such technique")
    return found


@router.get("/claims", response_model=list[Claim], tags=["library"])
def claims(ctx: CtxDep, db: SessionDep) -> list[Claim]:
    """The myths and claims the checker knows."""
    return list(library_of(ctx, db).claims.values())


@router.post("/check", response_model=CheckResult, responses=answers(422), tags=["library"])
@scope("read")
def check_claim(body: CheckIn, ctx: CtxDep, db: SessionDep) -> CheckResult:
    """What the library says about a tool, treatment or claim, in your own words (changes nothing)."""
    return check(body.text, library_of(ctx, db))


def _routine_view(db: SessionDep, ctx: CtxDep, member_id: int, week: int | None) -> RoutineView:
    """Today's routine view, or the same weekday's of programme week ``week`` (the day the planner
    would give on that date: the same function the routine page calls)."""
    library = library_of(ctx, db)
    today = dt.datetime.now(dt.UTC).date()
    try:
        view = routine_for(db, member_id, library, today)
        if view is not None and week is not None and week != view.week:
            on = view.started + dt.timedelta(days=7 * (week - 1) + view.day - 1)
            view = routine_for(db, member_id, library, on)
    except RoutineError as exc:
        raise HTTPException(status_code=409, detail=f"retake the assessment: {exc}") from None
    if view is None:
        raise HTTPException(status_code=409, detail="take the assessment first")
    return view


@router.get("/routine", response_model=RoutineOut, responses=answers(402, 409, 422), tags=["routine"])
def routine(
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
    week: int | None = Query(None, ge=1, le=520, description="a programme week (members); default: now"),
) -> RoutineOut:
    """Today's routine with its reasons (the free plan: a taste of today), or with ``week`` the seven days
    of that programme week (members: 402 for the free plan). 409 until the assessment is answered."""
    if week is not None and not viewer.is_member:
        raise PlanRequired(viewer, "member", "Your routine")
    current = _routine_view(db, ctx, viewer.id, None)
    view = current if week is None else _routine_view(db, ctx, viewer.id, week)
    today = view.today
    if not viewer.is_member:
        plan = today.plan.model_copy(update={"items": today.plan.items[:TASTE_ITEMS]})
        today = today.model_copy(update={"plan": plan})
    return RoutineOut(
        week=view.week,
        current_week=current.week,
        day=view.day,
        taste=not viewer.is_member,
        today=today,
        days=view.days if viewer.is_member else None,
        next_week_new=view.next_week_new if viewer.is_member else [],
    )


@router.get("/progress", response_model=ProgressOut, responses=answers(402), tags=["progress"])
def progress(viewer: MemberUser, db: SessionDep) -> ProgressOut:
    """The streak, sessions per week (live and manual), every scan, and each measure's series with its
    noise band (what the progress page charts)."""
    today = dt.datetime.now(dt.UTC).date()
    dates = session_dates(db, viewer.id)
    manual = sessions_per_week(session_dates(db, viewer.id, "manual"), today)
    scans = list(db.scalars(select(Scan).where(Scan.user_id == viewer.id).order_by(Scan.created_at, Scan.id)))
    series = scan_series((s.created_at, s.measurements) for s in scans)
    return ProgressOut(
        streak_days=streak(dates, today),
        sessions_per_week=[
            WeekSessions(week_of=w.isoformat(), sessions=n, manual=m)
            for (w, n), (_, m) in zip(sessions_per_week(dates, today), manual, strict=True)
        ],
        scans=[
            ScanPoint(
                at=s.created_at.isoformat(),
                asymmetry=_numbers(s.measurements.get("asymmetry")),
                noise_mm=_numbers(s.measurements.get("noise_mm")),
            )
            for s in scans
        ],
        series={
            key: [SeriesPoint(at=when.isoformat(), value=v, band=b) for when, v, b in points]
            for key, points in series.items()
        },
    )


def _numbers(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}


@router.post(
    "/sessions", status_code=201, response_model=SessionOut, responses=answers(402, 422), tags=["progress"]
)
def post_session(
    body: SessionSummary,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
) -> SessionOut:
    """Log a practice session by hand for the signed-in member: known technique and fault ids, bounded
    counts, a date within a day of today. It is stored, and shown on progress, as *manual* (live coaching
    saves its own record, built on the server)."""
    try:
        body.check(SummaryRules.of(library_of(ctx, db)))
        row = record_session(db, viewer.id, body, source="manual")
        db.commit()
    except SessionSummaryError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return SessionOut(id=row.id, date=row.date.isoformat(), source=row.source)


@router.get("/export", tags=["account"])
@scope("account")
def export(viewer: CurrentUser, db: SessionDep) -> dict[str, Any]:
    """Everything of yours as one JSON document (the account page's export; a token needs `account`)."""
    user = db.get(User, viewer.id)
    assert user is not None
    return export_member(db, user)


def audit_out(job: AuditJob) -> AuditOut:
    return AuditOut(
        id=job.id,
        status=job.status,
        progress=job.progress,
        technique_id=job.technique_id,
        filename=job.filename,
        created_at=job.created_at.isoformat(),
        error=job.error,
        result=job.result if job.status == "done" else None,
    )


@router.get("/audits/{job_id}", response_model=AuditOut, responses=answers(402, 404), tags=["audits"])
def audit_status(job_id: RowId, viewer: MemberUser, db: SessionDep) -> AuditOut:
    """Poll an audit: ``status`` queued → running → done (``result``: the `facecoach audit --json`
    document) or failed (``error``); ``progress`` 0…1. Another member's audit is a 404."""
    return audit_out(load_job(db, viewer, job_id))
