"""The instructor's admin: members and plans (no face data), the outbox, library edits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facecoach.knowledge import KnowledgeError
from facecoach.members.auth import redact_links
from facecoach.members.models import AuditJob, LibraryEdit, OutboxMessage, PracticeSession, User
from facecoach.members.practice import sessions_per_week
from facecoach.web.charts import weekly_bars
from facecoach.web.context import AppContext
from facecoach.web.deps import CtxDep, Instructor, SessionDep, redirect, render
from facecoach.web.routes.content import library_of

router = APIRouter(include_in_schema=False)
KINDS = ("technique", "claim")


@router.get("/admin")
def admin_home(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    plans = {plan: n for plan, n in db.execute(select(User.plan, func.count(User.id)).group_by(User.plan))}
    library = library_of(ctx, db)
    today = dt.datetime.now(dt.UTC).date()
    all_dates = list(db.scalars(select(PracticeSession.date)))
    active = db.scalar(
        select(func.count(func.distinct(PracticeSession.user_id))).where(
            PracticeSession.date >= today - dt.timedelta(days=6)
        )
    )
    return render(
        request,
        "admin/index.html",
        viewer,
        sessions_chart=weekly_bars(sessions_per_week(all_dates, today, weeks=12), "all-sessions-chart"),
        active_members=active or 0,
        plans=plans,
        n_sessions=db.scalar(select(func.count(PracticeSession.id))) or 0,
        n_edits=db.scalar(select(func.count(LibraryEdit.id))) or 0,
        n_outbox=db.scalar(select(func.count(OutboxMessage.id))) or 0,
        n_audits=db.scalar(select(func.count(AuditJob.id))) or 0,
        n_techniques=len(library.techniques),
        n_claims=len(library.claims),
    )


@router.get("/admin/members")
def admin_members(request: Request, viewer: Instructor, db: SessionDep) -> Response:
    per_user = select(PracticeSession.user_id, func.count(PracticeSession.id)).group_by(
        PracticeSession.user_id
    )
    sessions = {uid: n for uid, n in db.execute(per_user)}
    members = list(db.scalars(select(User).order_by(User.created_at.desc()).limit(500)))
    return render(request, "admin/members.html", viewer, members=members, sessions=sessions)


@router.get("/admin/outbox")
def admin_outbox(request: Request, viewer: Instructor, db: SessionDep) -> Response:
    """What was mailed, to whom and when; a link in an old record is shown without its token."""
    rows = db.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100))
    messages = [(m, redact_links(m.body)) for m in rows]
    return render(request, "admin/outbox.html", viewer, messages=messages)


@router.get("/admin/library")
def admin_library(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    library = library_of(ctx, db)
    edited = {(e.kind, e.entry_id) for e in db.scalars(select(LibraryEdit))}
    return render(request, "admin/library.html", viewer, library=library, edited=edited)


def _entry_yaml(ctx: AppContext, db: Session, kind: str, entry_id: str) -> str:
    library = library_of(ctx, db)
    entries: dict[str, Any] = library.techniques if kind == "technique" else library.claims
    entry = entries.get(entry_id)
    if entry is None:
        raise HTTPException(status_code=404, detail=f"There is no {kind} '{entry_id[:80]}'.")
    return yaml.safe_dump(
        entry.model_dump(mode="json", exclude_defaults=True), sort_keys=False, allow_unicode=True, width=100
    )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise HTTPException(status_code=404, detail="Only techniques and claims are edited here.")


@router.get("/admin/{kind}s/new")
def admin_new(
    request: Request,
    kind: str,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    _check_kind(kind)
    library = library_of(ctx, db)
    template_entry = next(iter(library.techniques)) if kind == "technique" else next(iter(library.claims))
    text = _entry_yaml(ctx, db, kind, template_entry).replace(f"id: {template_entry}", "id: my-new-entry", 1)
    return render(
        request, "admin/edit.html", viewer, kind=kind, entry_id=None, text=text, error=None, edited=False
    )


@router.get("/admin/{kind}s/{entry_id}")
def admin_edit(
    request: Request,
    kind: str,
    entry_id: str,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    _check_kind(kind)
    return render(
        request,
        "admin/edit.html",
        viewer,
        kind=kind,
        entry_id=entry_id,
        text=_entry_yaml(ctx, db, kind, entry_id),
        error=None,
        edited=ctx.library.is_edited(db, kind, entry_id),
    )


@router.post("/admin/{kind}s/save")
def admin_save(
    request: Request,
    kind: str,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
    text: str = Form(..., max_length=100_000),
    original_id: str = Form(""),
) -> Response:
    _check_kind(kind)

    def refuse(message: str) -> Response:
        return render(
            request,
            "admin/edit.html",
            viewer,
            status_code=400,
            kind=kind,
            entry_id=original_id or None,
            text=text,
            error=message,
            edited=False,
        )

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return refuse(f"Not valid YAML{where}: nothing was saved.")
    if not isinstance(data, dict):
        return refuse(f"A {kind} is a mapping of fields (id: …, name: …): nothing was saved.")
    if original_id and data.get("id") != original_id:
        return refuse(f"field 'id': keep the id '{original_id}' (create a new entry to use another id)")
    try:
        entry_id = ctx.library.save(db, kind, data, viewer.id)
        db.commit()
    except KnowledgeError as exc:
        db.rollback()
        return refuse(f"Refused — {exc}. Nothing was saved.")
    target = f"/library/{entry_id}" if kind == "technique" else "/admin/library"
    return redirect(target, request, f"Saved the {kind} '{entry_id}'.")


@router.post("/admin/{kind}s/{entry_id}/revert")
def admin_revert(
    request: Request,
    kind: str,
    entry_id: str,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    _check_kind(kind)
    reverted = ctx.library.revert(db, kind, entry_id)
    db.commit()
    return redirect(
        "/admin/library",
        request,
        f"Back to the data file's version of '{entry_id}'." if reverted else "Nothing to revert.",
    )
