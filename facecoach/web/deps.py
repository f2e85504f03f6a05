"""Request dependencies: the app context, a database session, who is asking, CSRF, rendering."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from facecoach.members.auth import session_user
from facecoach.members.plans import PLAN_ORDER, allows, get_plan
from facecoach.web.context import AppContext
from facecoach.web.security import (
    ANON_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    FLASH_COOKIE,
    SESSION_COOKIE,
    Signer,
    set_cookie,
)

#: The largest id a database row can have (a signed 64-bit integer, as in PostgreSQL and SQLite).
MAX_ROW_ID = 2**63 - 1
#: Every integer id in a URL: an id beyond a row's range names nothing (404 — see ``create_app``'s
#: handler for path parameters) instead of reaching the database and overflowing there (500).
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as a plain snapshot (handlers load the row when they change it)."""

    id: int
    email: str
    name: str
    plan: str
    session_id: str

    @property
    def is_member(self) -> bool:
        return allows(self.plan, "member")

    @property
    def is_instructor(self) -> bool:
        return self.plan == "instructor"


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_db(ctx: AppContext = Depends(get_ctx)) -> Iterator[Session]:
    """A session per request; handlers commit their writes explicitly, anything else is rolled back."""
    with ctx.db.sessions() as session:
        try:
            yield session
        finally:
            session.rollback()


def signer(request: Request) -> Signer:
    s: Signer = request.app.state.signer
    return s


def get_viewer(request: Request, ctx: AppContext = Depends(get_ctx)) -> Viewer | None:
    session_id = signer(request).unsign(request.cookies.get(SESSION_COOKIE))
    if session_id is None:
        return None
    with ctx.db.session() as db:
        found = session_user(db, session_id)
        if found is None:
            return None
        row, user = found
        return Viewer(id=user.id, email=user.email, name=user.name, plan=user.plan, session_id=row.id)


def csrf_base(request: Request, viewer: Viewer | None) -> str | None:
    if viewer is not None:
        return "s:" + viewer.session_id
    anon = getattr(request.state, "anon_id", None) or signer(request).unsign(request.cookies.get(ANON_COOKIE))
    return "a:" + anon if anon else None


def csrf_token(request: Request, viewer: Viewer | None) -> str:
    base = csrf_base(request, viewer)
    return signer(request).csrf_token(base) if base else ""


async def csrf_protect(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> None:
    """Every state-changing request carries the token: a form field or the X-CSRF-Token header."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if token is None and (
        content_type.startswith("application/x-www-form-urlencoded") or content_type.startswith("multipart/")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not signer(request).csrf_ok(csrf_base(request, viewer), token):
        raise HTTPException(
            status_code=403, detail="CSRF token missing or wrong — reload the page and try again"
        )


def require_viewer_api(viewer: Viewer | None = Depends(get_viewer)) -> Viewer:
    if viewer is None:
        raise HTTPException(status_code=401, detail="log in first")
    return viewer


def require_plan_api(viewer: Viewer, plan: str) -> None:
    if plan == "instructor" and not viewer.is_instructor:
        raise HTTPException(status_code=403, detail="for the instructor only")
    if PLAN_ORDER.get(viewer.plan, -1) < PLAN_ORDER[plan]:
        raise HTTPException(status_code=402, detail=f"the {get_plan(plan).name} plan unlocks this")


def flash(request: Request, response: Response, message: str, kind: str = "ok") -> None:
    set_cookie(request, response, FLASH_COOKIE, signer(request).sign(f"{kind}|{message}"), max_age=60)


def redirect(
    url: str, request: Request | None = None, message: str | None = None, kind: str = "ok"
) -> Response:
    response = RedirectResponse(url, status_code=303)
    if message and request is not None:
        flash(request, response, message, kind)
    return response


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    ctx = get_ctx(request)
    flash_msg = None
    raw = signer(request).unsign(request.cookies.get(FLASH_COOKIE))
    if raw and "|" in raw:
        kind, _, text = raw.partition("|")
        flash_msg = {"kind": kind, "text": text}
    response = ctx.templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "csrf": csrf_token(request, viewer),
            "flash": flash_msg,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    if flash_msg:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def upsell(request: Request, viewer: Viewer | None, plan: str, feature: str) -> HTMLResponse:
    """A gated page explains what the plan unlocks (HTTP 200) instead of failing."""
    return render(request, "upsell.html", viewer, plan=get_plan(plan), feature=feature)
