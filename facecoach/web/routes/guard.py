"""The habit guard's pages (members): ``/guard`` left open in a tab, ``/guard/history`` (day and week).

The page runs the Face Landmarker and the detector itself; the server only ever sees the member's settings
and, when they opted in, hourly counts (``POST /guard/counts``, validated to the last key by
:class:`facecoach.guard.store.CountsUpload`). ``/guard/rules.json`` gives the page the one habit definition.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from facecoach.guard.policy import GuardSettings
from facecoach.guard.rules import GuardRules, browser_model, guard_rules
from facecoach.guard.store import (
    CountsError,
    SettingsChange,
    apply_change,
    change_sentence,
    day_hours,
    forget_counts,
    load_settings,
    parse_upload,
    save_counts,
    save_settings,
    week_totals,
)
from facecoach.planning.assessment import describe_validation_error
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    CurrentUser,
    MemberUser,
    SessionDep,
    Viewer,
    feature,
    get_db,
    get_viewer,
    render,
)
from facecoach.web.guard_charts import day_chart, week_chart

router = APIRouter(include_in_schema=False)

#: largest JSON body a guard request may have (counts of 48 hours are ~6 KB)
MAX_BODY_BYTES = 16 * 1024
WEEKS_SHOWN = 8


def _member(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise HTTPException(status_code=401, detail="log in first")
    if not viewer.is_member:
        raise HTTPException(status_code=402, detail="the habit guard is for members")
    return viewer


async def _json_body(request: Request) -> Any:
    """The request's JSON, read up to MAX_BODY_BYTES (413 past it, 422 when it is not JSON)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(status_code=413, detail=f"more than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(status_code=422, detail="the body is not JSON") from None


def _settings_json(s: GuardSettings) -> dict[str, Any]:
    return dict(s.__dict__)


@router.get("/guard")
@feature("The habit guard")
def guard_page(request: Request, _signed_in: CurrentUser, viewer: MemberUser, db: SessionDep) -> Response:
    rules = guard_rules()
    config = {
        "member": viewer.id,
        "settings": _settings_json(load_settings(db, viewer.id, rules)),
        "rules_url": "/guard/rules.json",
        "settings_url": "/guard/settings",
        "counts_url": "/guard/counts",
        "model_url": "/static/models/face_landmarker.task",
        "wasm_url": "/static/vendor/tasks-vision/wasm",
        "vision_module": "/static/vendor/tasks-vision/vision_bundle.mjs",
    }
    return render(request, "guard/page.html", viewer, guard_config=config, rules=rules)


@router.get("/guard/rules.json")
def guard_rules_json() -> Response:
    """The habit rules and the geometry the page's detector needs (no member data: cacheable)."""
    return JSONResponse(browser_model(guard_rules()), headers={"Cache-Control": "public, max-age=3600"})


@router.post("/guard/settings")
async def guard_settings(
    request: Request,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """Change some settings (JSON, see ``SettingsChange``); answers with all of them."""
    member = _member(viewer)
    rules = guard_rules()
    try:
        change = SettingsChange.model_validate(await _json_body(request))
        updated = apply_change(load_settings(db, member.id, rules), change, rules, time.time())
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=describe_validation_error(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    save_settings(db, member.id, updated)
    db.commit()
    return JSONResponse(_settings_json(updated), headers={"Cache-Control": "no-store"})


@router.post("/guard/counts")
async def guard_counts(
    request: Request,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """Hourly counts from the page (only when the member opted in: 409 otherwise)."""
    member = _member(viewer)
    rules = guard_rules()
    try:
        upload = parse_upload(await _json_body(request), rules, dt.datetime.now(dt.UTC).date())
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=describe_validation_error(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    try:
        saved = save_counts(db, member.id, upload, load_settings(db, member.id, rules))
    except CountsError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    db.commit()
    return JSONResponse({"saved": saved}, headers={"Cache-Control": "no-store"})


@router.post("/guard/forget")
async def guard_forget(
    request: Request,
    viewer: Viewer | None = Depends(get_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """Delete every saved count (settings stay)."""
    member = _member(viewer)
    gone = forget_counts(db, member.id)
    db.commit()
    return JSONResponse({"deleted": gone}, headers={"Cache-Control": "no-store"})


def _routine_tips(ctx: AppContext, db: Session, user_id: int, rules: GuardRules) -> dict[str, str]:
    """habit id → the routine's habit tip about it, for the tips today's routine gives this member."""
    from facecoach.web.routes.content import library_of
    from facecoach.web.routine import RoutineError, routine_for

    try:
        routine = routine_for(db, user_id, library_of(ctx, db), dt.datetime.now(dt.UTC).date())
    except RoutineError:
        return {}
    if routine is None:
        return {}
    from facecoach.planning.policy import default_policy

    templates = default_policy().text.tips
    found: dict[str, str] = {}
    for habit in rules.habits:
        template = templates.get(habit.routine_tip or "")
        if not template:
            continue
        head = template.split("{", 1)[0]
        for tip in routine.today.plan.habit_tips:
            if tip.startswith(head):
                found[habit.id] = tip
    return found


@router.get("/guard/history")
@feature("The habit guard")
def guard_history(
    request: Request,
    _signed_in: CurrentUser,
    viewer: MemberUser,
    ctx: CtxDep,
    db: SessionDep,
    day: str | None = None,
) -> Response:
    """The day view (minutes of each habit per hour) and the week view (the trend), as pictures."""
    rules = guard_rules()
    today = dt.datetime.now(dt.UTC).date()
    try:
        shown = dt.date.fromisoformat(day) if day else today
    except ValueError:
        raise HTTPException(status_code=422, detail="day must be a date like 2026-12-08") from None
    hours = day_hours(db, viewer.id, shown)
    weeks = week_totals(db, viewer.id, today, WEEKS_SHOWN)
    tips = _routine_tips(ctx, db, viewer.id, rules)
    trends = []
    for habit in rules.habits:
        sentence = change_sentence(habit.label, weeks[-1][1], weeks[-2][1], habit.id)
        trends.append(
            {
                "habit": habit,
                "sentence": sentence,
                "tip": tips.get(habit.id),
                "day_min": sum(h.habit_s.get(habit.id, 0.0) for h in hours) / 60,
            }
        )
    settings = load_settings(db, viewer.id, rules)
    return render(
        request,
        "guard/history.html",
        viewer,
        day=shown,
        prev_day=shown - dt.timedelta(days=1),
        next_day=shown + dt.timedelta(days=1) if shown < today else None,
        day_svg=day_chart(hours, rules.habits),
        week_svg=week_chart(weeks, rules.habits),
        watched_min=sum(h.measured_s for h in hours) / 60,
        trends=trends,
        save_counts=settings.save_counts,
    )
