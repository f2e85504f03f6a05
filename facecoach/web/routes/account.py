"""Sign up, log in/out, passwords, membership, and the account page (export, delete).

Sign-up, reset and login answer the same, in text and in time, whether the address has an account:
the work that differs runs off the request path (``facecoach.web.account_mail``) and login verifies a
dummy hash for unknown addresses. All three are rate limited (``login_limiter`` per email and address,
``account_limiter`` per address)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from facecoach.members import auth, signup
from facecoach.members.api_tokens import SCOPES, member_tokens
from facecoach.members.billing import JoinError, check_can_join, current_subscription, join_plan, lapse_due
from facecoach.members.data_rights import delete_member, export_member
from facecoach.members.models import Payment, Scan, User
from facecoach.members.payments import CheckoutRequest, PaymentError
from facecoach.members.plans import all_plans, get_plan
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    CurrentUser,
    RowId,
    SessionDep,
    Viewer,
    ViewerDep,
    get_ctx,
    redirect,
    render,
    signed_out_to,
)
from facecoach.web.security import ANON_COOKIE, SESSION_COOKIE, new_anon_id, set_cookie
from facecoach.web.studio_mail import queue_receipt, queue_welcome

router = APIRouter(include_in_schema=False)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_response(request: Request, session_id: str, target: str, message: str) -> Response:
    response = redirect(target, request, message)
    set_cookie(
        request,
        response,
        SESSION_COOKIE,
        request.app.state.signer.sign(session_id),
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    return response


def _logged_out_response(request: Request, target: str, message: str) -> Response:
    response = redirect(target, request, message)
    response.delete_cookie(SESSION_COOKIE, path="/")
    set_cookie(request, response, ANON_COOKIE, request.app.state.signer.sign(new_anon_id()), max_age=None)
    return response


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/routine"


@router.get("/signup")
def signup_page(request: Request, viewer: ViewerDep) -> Response:
    if viewer:
        return redirect("/account")
    return render(request, "signup.html", viewer, error=None, email="", name="")


@router.post("/signup")
def signup_request(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    email: str = Form(..., max_length=254),
    password: str = Form(..., max_length=256),
    name: str = Form("", max_length=100),
) -> Response:
    """ "Check your mail" for a new address and for one with an account alike (see ``members.signup``)."""
    if not ctx.account_limiter.hit(f"signup-ip:{client_ip(request)}"):
        error = "Too many sign-ups from your address. Try again in an hour."
        return render(request, "signup.html", viewer, status_code=429, error=error, email=email, name=name)
    try:
        address = auth.normalise_email(email)
        auth.check_password_rules(password)
    except auth.AccountError as exc:
        return render(request, "signup.html", viewer, status_code=400, error=str(exc), email=email, name=name)
    password_hash = auth.hash_password(password)  # on both paths: the answer takes as long either way
    response = render(request, "signup_sent.html", viewer, email=address)
    response.background = BackgroundTask(ctx.mail_jobs.signup, address, name, password_hash)
    return response


@router.get("/signup/confirm/{token}")
def signup_confirm_form(request: Request, token: str, viewer: ViewerDep, db: SessionDep) -> Response:
    """A button, not an action: mail scanners that open links must not create the account."""
    valid = signup.pending_signup(db, token) is not None
    return render(
        request,
        "signup_confirm.html",
        viewer,
        token=token,
        error=None if valid else signup.NOT_VALID,
        status_code=200 if valid else 400,
    )


@router.post("/signup/confirm/{token}")
def signup_confirm(request: Request, token: str, viewer: ViewerDep, db: SessionDep) -> Response:
    try:
        user = signup.confirm_signup(db, token)
        if viewer is not None:
            auth.end_session(db, viewer.session_id)
        session = auth.start_session(db, user, request.headers.get("user-agent", ""))
        db.commit()
    except auth.AccountError as exc:
        db.rollback()
        return render(request, "signup_confirm.html", viewer, token=token, error=str(exc), status_code=400)
    queue_welcome(get_ctx(request), user.id)
    return _login_response(
        request, session.id, "/membership", "Welcome to facecoach — your account is ready."
    )


@router.get("/login")
def login_page(request: Request, viewer: ViewerDep, next: str = "") -> Response:
    if viewer:
        return redirect(_safe_next(next))
    return render(request, "login.html", viewer, error=None, email="", next=next)


@router.post("/login")
def login(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
    email: str = Form(..., max_length=254),
    password: str = Form(..., max_length=256),
    next: str = Form(""),
) -> Response:
    key = f"login:{email.strip().lower()}|{client_ip(request)}"
    if not ctx.login_limiter.hit(key):
        return render(
            request,
            "login.html",
            viewer,
            status_code=429,
            error="Too many attempts. Wait a few minutes, or reset your password.",
            email=email,
            next=next,
        )
    user = auth.authenticate(db, email, password)
    if user is None:
        db.commit()
        return render(
            request,
            "login.html",
            viewer,
            status_code=400,
            error="Wrong email or password.",
            email=email,
            next=next,
        )
    if viewer is not None:
        auth.end_session(db, viewer.session_id)
    session = auth.start_session(db, user, request.headers.get("user-agent", ""))
    db.commit()
    ctx.login_limiter.reset(key)
    next = next or ("/admin" if user.plan == "instructor" else "")  # the instructor's home is the admin
    return _login_response(
        request, session.id, _safe_next(next), f"Welcome back{', ' + user.name if user.name else ''}."
    )


@router.post("/logout")
def logout(request: Request, viewer: ViewerDep, db: SessionDep) -> Response:
    if viewer is not None:
        auth.end_session(db, viewer.session_id)
        db.commit()
    return _logged_out_response(request, "/", "You are logged out.")


@router.get("/account")
def account_page(request: Request, viewer: CurrentUser, ctx: CtxDep, db: SessionDep) -> Response:
    lapse_due(db, user_id=viewer.id)  # a cancelled membership whose date has come ends here at the latest
    user = db.get(User, viewer.id)
    assert user is not None
    sub = current_subscription(db, user, ctx.payments)
    db.commit()
    payments = (
        db.query(Payment).filter(Payment.user_id == viewer.id).order_by(Payment.id.desc()).limit(20).all()
    )
    scans = db.query(Scan).filter(Scan.user_id == viewer.id).order_by(Scan.id.desc()).limit(50).all()
    plan = get_plan(sub.plan) if sub is not None else None
    return render(
        request,
        "account.html",
        viewer,
        user=user,
        sub=sub if user.plan == "member" else None,
        sub_plan=plan,
        sub_billing=plan.billing_option(sub.billing)
        if plan and sub and sub.billing in {b.id for b in plan.billing}
        else None,
        payments=payments,
        scans=scans,
        error=None,
        api_tokens=member_tokens(db, viewer.id),  # the API tokens section (routes/api_tokens.py)
        token_scopes=SCOPES,
    )


def _own_scan(db: Session, viewer: Viewer, scan_id: int) -> Scan:
    scan = db.get(Scan, scan_id)
    if scan is None or scan.user_id != viewer.id or scan.picture is None:
        raise HTTPException(status_code=404, detail="No such picture.")
    return scan


@router.get("/account/scans/{scan_id}/picture")
@signed_out_to("/login?next=/account")
def scan_picture(scan_id: RowId, viewer: CurrentUser, db: SessionDep) -> Response:
    """A picture the member chose to keep; only its owner sees it (not even the instructor)."""
    scan = _own_scan(db, viewer, scan_id)
    assert scan.picture is not None
    return Response(scan.picture, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@router.post("/account/scans/{scan_id}/picture/delete")
@signed_out_to("/login?next=/account")
def delete_scan_picture(
    request: Request,
    scan_id: RowId,
    viewer: CurrentUser,
    db: SessionDep,
) -> Response:
    """Forget the picture, keep the measurements."""
    _own_scan(db, viewer, scan_id).picture = None
    db.commit()
    return redirect("/account", request, "The picture is deleted; its measurements stay in your progress.")


@router.post("/account/password")
@signed_out_to("/login?next=/account")
def change_password(
    request: Request,
    viewer: CurrentUser,
    db: SessionDep,
    current_password: str = Form(..., max_length=256),
    new_password: str = Form(..., max_length=256),
) -> Response:
    user = db.get(User, viewer.id)
    assert user is not None
    try:
        auth.change_password(db, user, current_password, new_password, keep_session=viewer.session_id)
        db.commit()
    except auth.AccountError as exc:
        db.rollback()
        return redirect("/account", request, f"Password not changed: {exc}.", "error")
    return redirect(
        "/account",
        request,
        "Password changed. Your other sessions were logged out and your API tokens revoked.",
    )


@router.get("/account/export")
@signed_out_to("/login?next=/account")
def export(viewer: CurrentUser, db: SessionDep) -> Response:
    user = db.get(User, viewer.id)
    assert user is not None
    body = json.dumps(export_member(db, user), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="facecoach-my-data.json"'},
    )


@router.post("/account/delete")
@signed_out_to("/login?next=/account")
def delete_account(
    request: Request,
    viewer: CurrentUser,
    db: SessionDep,
    ctx: CtxDep,
    confirm: str = Form(""),
) -> Response:
    if confirm.strip().lower() != viewer.email.lower():
        return redirect("/account", request, "Type your email address to confirm the deletion.", "error")
    delete_member(db, viewer.id, ctx.settings.data_dir)
    db.commit()
    return _logged_out_response(request, "/", "Your account and everything of yours is deleted.")


@router.get("/reset")
def reset_page(request: Request, viewer: ViewerDep) -> Response:
    return render(request, "reset_request.html", viewer, sent=False, error=None)


@router.post("/reset")
def reset_request(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    email: str = Form(..., max_length=254),
) -> Response:
    """The same answer at once for every address; the token and the mail are made in the background."""
    ip = client_ip(request)
    if not (
        ctx.login_limiter.hit(f"reset:{email.strip().lower()}|{ip}")
        and ctx.account_limiter.hit(f"reset-ip:{ip}")
    ):
        error = "Too many reset requests. Wait a few minutes and try again."
        return render(request, "reset_request.html", viewer, sent=False, error=error, status_code=429)
    response = render(request, "reset_request.html", viewer, sent=True, error=None)
    response.background = BackgroundTask(ctx.mail_jobs.reset, email)
    return response


@router.get("/reset/{token}")
def reset_form(request: Request, token: str, viewer: ViewerDep, db: SessionDep) -> Response:
    valid = auth.reset_valid(db, token) is not None
    return render(
        request,
        "reset_form.html",
        viewer,
        token=token,
        valid=valid,
        error=None,
        status_code=200 if valid else 400,
    )


@router.post("/reset/{token}")
def reset_complete(
    request: Request,
    token: str,
    viewer: ViewerDep,
    db: SessionDep,
    new_password: str = Form(..., max_length=256),
) -> Response:
    try:
        auth.complete_reset(db, token, new_password)
        db.commit()
    except auth.AccountError as exc:
        db.rollback()
        return render(
            request, "reset_form.html", viewer, token=token, valid=True, error=str(exc), status_code=400
        )
    return _logged_out_response(request, "/login", "Password reset. Log in with the new password.")


@router.get("/membership")
def membership_page(request: Request, viewer: ViewerDep, ctx: CtxDep) -> Response:
    return _membership(request, viewer, ctx)


def _membership(
    request: Request, viewer: Viewer | None, ctx: AppContext, error: str | None = None, status_code: int = 200
) -> Response:
    return render(
        request,
        "membership.html",
        viewer,
        status_code=status_code,
        plans=all_plans(),
        hosted=ctx.payments.hosted_checkout,
        error=error,
    )


@router.post("/membership/join")
@signed_out_to("/signup")
def membership_join(
    request: Request,
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
    plan: str = Form(..., max_length=20),
    billing: str = Form("", max_length=20),
    card_number: str = Form("", max_length=40),
) -> Response:
    user = db.get(User, viewer.id)
    assert user is not None
    try:
        if ctx.payments.hosted_checkout:
            return _checkout(ctx, user, plan, billing)
        result = join_plan(db, user, plan, card_number, ctx.payments, billing)
        db.commit()
    except JoinError as exc:
        db.rollback()
        return _membership(request, viewer, ctx, str(exc), 400)
    except PaymentError as exc:
        db.rollback()
        return _membership(
            request, viewer, ctx, f"The payment could not be started: {exc}. Nothing was charged.", 502
        )
    if not result.ok:
        return _membership(request, viewer, ctx, f"Payment failed: {result.message}.", 402)
    queue_receipt(ctx, user.id)
    return redirect(
        "/assessment", request, f"You are a member now: {result.message}. Start with the assessment."
    )


def _checkout(ctx: AppContext, user: User, plan_id: str, billing: str) -> Response:
    """To the provider's payment page (Stripe Checkout); its webhook switches the plan once paid."""
    plan, option = check_can_join(user, plan_id, billing)
    base = ctx.settings.base_url.rstrip("/")
    start = ctx.payments.start_checkout(
        CheckoutRequest(
            user_id=user.id,
            customer_email=user.email,
            plan=plan.id,
            billing=option.id,
            success_url=f"{base}/membership/welcome?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/membership",
        )
    )
    return redirect(start.url)
