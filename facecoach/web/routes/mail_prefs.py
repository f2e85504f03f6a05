"""A member's mail choices (practice reminders: days, time, time zone; the weekly summary) and the
unsubscribe link every studio mail carries.

``POST /mail/unsubscribe/{token}`` is the RFC 8058 one-click target that mail programs call without
cookies or a CSRF token: it is a plain route (outside the app's CSRF dependency), and the signed token
is its only authority. The GET page (what a person's click opens) asks for that one click itself, so a
link scanner that fetches every URL in a mail unsubscribes nobody.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import available_timezones

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse, PlainTextResponse

from facecoach.members.models import utcnow
from facecoach.members.studio_models import MailPreference
from facecoach.studio import mailing
from facecoach.studio.reminders import PreferenceError, parse_time, zone
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CurrentUser,
    SessionDep,
    Viewer,
    ViewerDep,
    get_ctx,
    redirect,
    render,
)

router = APIRouter(include_in_schema=False)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _pref(db: Session, user_id: int) -> MailPreference:
    pref = db.scalar(select(MailPreference).where(MailPreference.user_id == user_id))
    if pref is None:
        pref = MailPreference(user_id=user_id, reminders=False, days=[], at_local="08:00", timezone="UTC")
    return pref


def _page(request: Request, viewer: Viewer, pref: MailPreference, error: str | None = None) -> Response:
    return render(
        request,
        "studio/mail_prefs.html",
        viewer,
        status_code=400 if error else 200,
        pref=pref,
        weekdays=list(enumerate(WEEKDAYS, start=1)),
        zones=sorted(available_timezones()),
        error=error,
    )


@router.get("/account/mail")
def mail_page(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    return _page(request, viewer, _pref(db, viewer.id))


@router.post("/account/mail")
async def mail_save(request: Request, viewer: CurrentUser, db: SessionDep) -> Response:
    form = await request.form()
    pref = _pref(db, viewer.id)
    try:
        days = sorted(
            {int(str(d)) for d in form.getlist("days") if str(d) in {"1", "2", "3", "4", "5", "6", "7"}}
        )
        at = parse_time(str(form.get("at_local", ""))[:10])
        tz = str(form.get("timezone", ""))[:64]
        zone(tz)
        reminders = form.get("reminders") == "1"
        if reminders and not days:
            raise PreferenceError("days: choose at least one day for your reminders")
    except PreferenceError as exc:
        db.rollback()
        return _page(request, viewer, pref, str(exc))
    pref.reminders, pref.days, pref.at_local, pref.timezone = reminders, days, at.strftime("%H:%M"), tz
    pref.weekly_summary = form.get("weekly_summary") == "1"
    pref.updated_at = utcnow()
    db.add(pref)
    db.commit()
    return redirect("/account/mail", request, "Saved your mail choices.")


@router.get("/mail/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, viewer: ViewerDep) -> Response:
    valid = mailing.unsubscribed_user(get_ctx(request).settings.secret_key, token) is not None
    return render(
        request, "studio/unsubscribe.html", viewer, status_code=200 if valid else 400, valid=valid, done=False
    )


async def unsubscribe_post(request: Request) -> Response:
    """One click (a mail program's POST, or the button on the page): reminders and summaries off."""
    ctx: AppContext = get_ctx(request)
    user_id = mailing.unsubscribed_user(ctx.settings.secret_key, request.path_params["token"])
    if user_id is None:
        return PlainTextResponse("This unsubscribe link is not valid.", status_code=400)
    with ctx.db.session() as db:
        mailing.unsubscribe(db, user_id)
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(
            ctx.templates.get_template("studio/unsubscribed.html").render(when=dt.date.today().isoformat())
        )
    return PlainTextResponse("Unsubscribed: no more reminders or weekly summaries.")


router.add_route("/mail/unsubscribe/{token}", unsubscribe_post, methods=["POST"])
