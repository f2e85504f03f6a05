"""Request dependencies: the app context, a database session, who is asking, CSRF, rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from facecoach.members.api_tokens import SCOPES, token_user
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
    session_id: str  # the login session; "" when a personal API token authenticates the request
    #: The API token that authenticates the request (None: the session cookie) and what it may do.
    token_id: int | None = None
    scopes: frozenset[str] = frozenset(SCOPES)

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


def signer(request: HTTPConnection) -> Signer:
    s: Signer = request.app.state.signer
    return s


def viewer_for(conn: HTTPConnection, db: Session) -> Viewer | None:
    """Who the session cookie names, read through ``db`` (the request's own session, or the socket's)."""
    session_id = signer(conn).unsign(conn.cookies.get(SESSION_COOKIE))
    if session_id is None:
        return None
    found = session_user(db, session_id)
    if found is None:
        db.commit()  # an expired session's row is deleted at once, whatever the handler does next
        return None
    row, user = found
    return Viewer(id=user.id, email=user.email, name=user.name, plan=user.plan, session_id=row.id)


#: The answer to a wrong, revoked or malformed personal API token (RFC 6750's ``invalid_token``).
INVALID_TOKEN = "the API token is wrong or revoked: make a new one on your account page"


def bearer_token(request: HTTPConnection) -> str | None:
    """The ``Authorization: Bearer …`` credential of a request to /api (pages never take tokens), or None."""
    if not request.url.path.startswith("/api/"):
        return None
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def token_viewer(db: Session, token: str) -> Viewer | None:
    """The viewer a personal API token authenticates (its last use written at most once a minute)."""
    found = token_user(db, token)
    if found is None:
        return None
    row, user = found
    if db.dirty:
        db.commit()
    return Viewer(
        id=user.id,
        email=user.email,
        name=user.name,
        plan=user.plan,
        session_id="",
        token_id=row.id,
        scopes=frozenset(row.scopes),
    )


def get_viewer(request: Request, db: Session = Depends(get_db)) -> Viewer | None:
    """The viewer through the request's session: FastAPI caches this (and ``get_db``) per request, so the
    CSRF check, the gates below and the handler share one lookup and one database session. Under /api a
    bearer token, when sent, authenticates instead of the cookie; a wrong or revoked one is a 401."""
    token = bearer_token(request)
    if token is not None:
        viewer = token_viewer(db, token)
        if viewer is None:
            raise HTTPException(
                status_code=401,
                detail=INVALID_TOKEN,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return viewer
    return viewer_for(request, db)


def csrf_base(request: Request, viewer: Viewer | None) -> str | None:
    if viewer is not None:
        return "s:" + viewer.session_id if viewer.token_id is None else None
    anon = getattr(request.state, "anon_id", None) or signer(request).unsign(request.cookies.get(ANON_COOKIE))
    return "a:" + anon if anon else None


def csrf_token(request: Request, viewer: Viewer | None) -> str:
    base = csrf_base(request, viewer)
    return signer(request).csrf_token(base) if base else ""


async def csrf_protect(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> None:
    """Every state-changing request carries the token: a form field or the X-CSRF-Token header."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if viewer is not None and viewer.token_id is not None:
        return  # a bearer token is not sent by a browser on its own: there is no cross-site request to forge
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


# -- gates: who may use a route ------------------------------------------------------------------------------
# A gate raises a small exception; ``create_app``'s handlers answer it: under /api with a status
# (401 / 402), on a page the way the page always answered (a redirect to log in, the upsell page with
# HTTP 200). A route only declares ``viewer: CurrentUser`` / ``MemberUser`` / ``Instructor``; the page's
# wording comes from the decorators ``feature`` and ``signed_out_to`` on its handler.

_F = TypeVar("_F", bound=Callable[..., Any])


class LoginRequired(Exception):
    """Nobody is logged in: /api answers 401, a page redirects to ``login_url``."""

    def __init__(self, login_url: str) -> None:
        super().__init__(login_url)
        self.login_url = login_url


class PlanRequired(Exception):
    """The viewer's plan is below ``plan``: /api answers 402, a page shows what the plan unlocks (200)."""

    def __init__(self, viewer: Viewer | None, plan: str, feature: str) -> None:
        super().__init__(plan)
        self.viewer = viewer
        self.plan = plan
        self.feature = feature


def feature(name: str) -> Callable[[_F], _F]:
    """The feature a gated page's upsell names ("Video audit"); put it on the handler."""

    def mark(endpoint: _F) -> _F:
        endpoint.gate_feature = name  # type: ignore[attr-defined]
        return endpoint

    return mark


def signed_out_to(url: str) -> Callable[[_F], _F]:
    """Where a page sends a visitor who is not logged in, when not ``/login?next=<this path>`` (a form's
    POST returns to the page that holds the form)."""

    def mark(endpoint: _F) -> _F:
        endpoint.gate_login_url = url  # type: ignore[attr-defined]
        return endpoint

    return mark


def _endpoint_mark(request: Request, name: str) -> str | None:
    value = getattr(request.scope.get("endpoint"), name, None)
    return value if isinstance(value, str) else None


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def scope(name: str) -> Callable[[_F], _F]:
    """The token scope an API handler needs when not the method's default (``read`` for GET, ``write``
    otherwise); put it on the handler."""
    if name not in SCOPES:
        raise ValueError(f"unknown scope {name!r}")

    def mark(endpoint: _F) -> _F:
        endpoint.token_scope = name  # type: ignore[attr-defined]
        return endpoint

    return mark


def needed_scope(request: Request) -> str:
    return _endpoint_mark(request, "token_scope") or (
        "read" if request.method in ("GET", "HEAD") else "write"
    )


def token_scope(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> None:
    """A token without the scope the route needs is refused (403); the session cookie has every scope."""
    if viewer is None or viewer.token_id is None:
        return
    needed = needed_scope(request)
    if needed not in viewer.scopes:
        raise HTTPException(status_code=403, detail=f"this API token lacks the {needed!r} scope")


def current_user(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> Viewer:
    if viewer is None:
        login_url = _endpoint_mark(request, "gate_login_url") or "/login?next=" + quote(request.url.path)
        raise LoginRequired(login_url)
    return viewer


def _plan_user(request: Request, viewer: Viewer | None, plan: str) -> Viewer:
    if viewer is not None and PLAN_ORDER.get(viewer.plan, -1) >= PLAN_ORDER[plan]:
        return viewer
    if viewer is None and _is_api(request):
        raise LoginRequired("")
    raise PlanRequired(viewer, plan, _endpoint_mark(request, "gate_feature") or "This page")


def free_user(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> Viewer:
    """Any account; a page shows a visitor what the free plan gives instead of a login redirect."""
    return _plan_user(request, viewer, "free")


def member_user(request: Request, viewer: Viewer | None = Depends(get_viewer)) -> Viewer:
    return _plan_user(request, viewer, "member")


def instructor(viewer: Viewer | None = Depends(get_viewer)) -> Viewer:
    """The admin: 401 / 403 everywhere (pages render them as the error page)."""
    if viewer is None:
        raise HTTPException(status_code=401, detail="Log in with the instructor's account to use the admin.")
    if not viewer.is_instructor:
        raise HTTPException(status_code=403, detail="The admin is for the instructor only.")
    return viewer


CtxDep = Annotated[AppContext, Depends(get_ctx)]
SessionDep = Annotated[Session, Depends(get_db)]
#: Whoever is asking, or None: for pages anyone may see.
ViewerDep = Annotated[Viewer | None, Depends(get_viewer)]
#: Logged in (any plan): pages redirect to /login?next=…, /api answers 401.
CurrentUser = Annotated[Viewer, Depends(current_user)]
#: Any account: pages show the free plan's upsell (200) to a visitor, /api answers 401.
FreeUser = Annotated[Viewer, Depends(free_user)]
#: The Member plan or above: pages show the upsell (200), /api answers 401 (visitor) / 402 (free plan).
MemberUser = Annotated[Viewer, Depends(member_user)]
#: The instructor: 401 / 403.
Instructor = Annotated[Viewer, Depends(instructor)]


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


def gate_answer(request: Request, exc: LoginRequired | PlanRequired) -> Response:
    """The answer to a gate's refusal (``create_app`` registers it for both exceptions)."""
    if isinstance(exc, PlanRequired):
        if _is_api(request):
            detail = f"the {get_plan(exc.plan).name} plan unlocks this"
            return JSONResponse({"detail": detail}, status_code=402)
        return upsell(request, exc.viewer, exc.plan, exc.feature)
    if _is_api(request):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    return redirect(exc.login_url)
