"""The studio's home: lessons, programs and how members come back (facecoach.studio.retention) —
aggregates only, as charts."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from facecoach.members.models import PracticeSession, User
from facecoach.members.studio_models import Lesson, Program, ProgramEnrolment
from facecoach.studio import retention
from facecoach.web.deps import (
    CtxDep,
    Instructor,
    SessionDep,
    render,
)
from facecoach.web.routes.content import library_of
from facecoach.web.studio_charts import hbars, retention_grid

router = APIRouter(include_in_schema=False)
WEEKS = 12


@router.get("/studio")
def studio_home(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    today = dt.datetime.now(dt.UTC).date()
    since = retention.monday(today) - dt.timedelta(weeks=WEEKS)
    practice = list(
        db.execute(select(PracticeSession.user_id, PracticeSession.date).where(PracticeSession.date >= since))
    )
    members = {
        uid: created.date()
        for uid, created in db.execute(select(User.id, User.created_at).where(User.plan != "instructor"))
    }
    sessions = list(
        db.execute(
            select(PracticeSession.user_id, PracticeSession.summary, PracticeSession.faults).where(
                PracticeSession.date >= since
            )
        )
    )
    per_week = retention.active_per_week([(u, d) for u, d in practice if u in members], today, WEEKS)
    names = {t.id: t.name for t in library_of(ctx, db).techniques.values()}
    skipped = [
        (names.get(t, t), n)
        for t, n in retention.skipped_most((u, s) for u, s, _f in sessions if u in members)
    ]
    faults = retention.faults_most((u, f or {}) for u, _s, f in sessions if u in members)
    from facecoach.web.charts import weekly_bars

    return render(
        request,
        "studio/index.html",
        viewer,
        n_members=len(members),
        active_now=per_week[-1][1] if per_week else 0,
        active_chart=weekly_bars(per_week, "active-chart", empty_text="No member practised yet"),
        retention_chart=retention_grid(retention.cohorts(members, practice, today, weeks=8)),
        skipped_chart=hbars(
            skipped,
            "skipped-chart",
            "Techniques skipped most in live sessions",
            "Nothing skipped by 3 or more members yet",
        ),
        faults_chart=hbars(
            faults, "faults-chart", "Faults the coach saw most", "No fault seen in 3 or more members yet"
        ),
        n_lessons=db.scalar(select(func.count(Lesson.id)).where(Lesson.published_at.is_not(None))) or 0,
        n_programs=db.scalar(select(func.count(Program.id))) or 0,
        n_following=db.scalar(
            select(func.count(ProgramEnrolment.id)).where(ProgramEnrolment.ended_at.is_(None))
        )
        or 0,
        min_members=retention.MIN_MEMBERS,
    )
