"""Self-service billing (docs/payments.md): a member cancels, keeps, or changes how they pay for their
membership on their own — each change stated (the date it ends, the price difference), confirmed on a
page of its own, sent as a mail — and the Stripe webhook.

``POST /payments/stripe/webhook`` is Stripe's call, without cookies or a CSRF token: it is a plain route
(outside the app's CSRF dependency) and the ``Stripe-Signature`` header, verified with the endpoint's
secret, is its only authority. A missing, wrong or stale signature is answered 400 and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.responses import JSONResponse

from facecoach.members import billing
from facecoach.members.models import User
from facecoach.members.payments import PaymentError
from facecoach.members.plans import get_plan
from facecoach.members.stripe_events import handle_event
from facecoach.members.stripe_payments import StripeProvider, WebhookRefused
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    CurrentUser,
    SessionDep,
    Viewer,
    get_ctx,
    redirect,
    render,
    signed_out_to,
)
from facecoach.web.studio_mail import queue_billing_mail, queue_receipt

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
#: The largest webhook body read (Stripe's events are a few kB; its documented limit is far below this).
MAX_WEBHOOK_BYTES = 512 * 1024


def _user(db: SessionDep, viewer: Viewer) -> User:
    user = db.get(User, viewer.id)
    assert user is not None
    return user


def _confirm(
    request: Request, viewer: Viewer, action: str, status_code: int = 200, **context: object
) -> Response:
    return render(
        request, "membership_confirm.html", viewer, status_code=status_code, action=action, **context
    )


@router.get("/membership/welcome")
def membership_welcome(request: Request, viewer: CurrentUser) -> Response:
    """Where Stripe's checkout returns: the plan switches when Stripe's webhook says it is paid (this
    page's address proves nothing and changes nothing)."""
    return render(request, "membership_welcome.html", viewer)


@router.get("/membership/cancel")
def cancel_page(request: Request, viewer: CurrentUser, ctx: CtxDep, db: SessionDep) -> Response:
    user = _user(db, viewer)
    sub = billing.current_subscription(db, user, ctx.payments)
    db.commit()
    if user.plan != "member" or sub is None or sub.status == "canceled":
        return redirect("/account", request, "You have no paid membership to cancel.", "error")
    return _confirm(request, viewer, "cancel", sub=sub, plan=get_plan(sub.plan))


@router.post("/membership/cancel")
@signed_out_to("/login")
def membership_cancel(
    request: Request, viewer: CurrentUser, ctx: CtxDep, db: SessionDep, confirm: str = Form("")
) -> Response:
    if confirm != "yes":
        return redirect("/membership/cancel")
    user = _user(db, viewer)
    try:
        sub = billing.cancel(db, user, ctx.payments)
        db.commit()
    except (billing.BillingError, PaymentError) as exc:
        db.rollback()
        return redirect("/account", request, f"Nothing was changed: {exc}.", "error")
    ends = f"{sub.period_end:%d %B %Y}" if sub.period_end else "the end of the period you paid for"
    plan = get_plan(sub.plan).name
    queue_billing_mail(ctx, user.id, "plan_cancelled", plan=plan, ends_on=ends)
    return redirect(
        "/account",
        request,
        f"Your membership is cancelled. You keep everything until {ends}, then the free plan.",
    )


@router.post("/membership/resume")
@signed_out_to("/login")
def membership_resume(request: Request, viewer: CurrentUser, ctx: CtxDep, db: SessionDep) -> Response:
    user = _user(db, viewer)
    try:
        sub = billing.resume(db, user, ctx.payments)
        db.commit()
    except (billing.BillingError, PaymentError) as exc:
        db.rollback()
        return redirect("/account", request, f"Nothing was changed: {exc}.", "error")
    renews = f"{sub.period_end:%d %B %Y}" if sub.period_end else "the end of this period"
    queue_billing_mail(ctx, user.id, "plan_resumed", plan=get_plan(sub.plan).name, renews_on=renews)
    return redirect("/account", request, f"Your membership continues: it renews on {renews}.")


@router.get("/membership/change")
def change_page(
    request: Request,
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
    billing_id: Annotated[str, Query(alias="billing", max_length=20)] = "",
) -> Response:
    user = _user(db, viewer)
    try:
        quote = billing.quote_for(db, user, ctx.payments, billing_id)
        db.commit()
    except billing.BillingError as exc:
        db.rollback()
        return redirect("/account", request, f"{str(exc)[:1].upper()}{str(exc)[1:]}.", "error")
    return _confirm(request, viewer, "change", quote=quote, plan=get_plan("member"))


@router.post("/membership/change")
@signed_out_to("/login")
def membership_change(
    request: Request,
    viewer: CurrentUser,
    ctx: CtxDep,
    db: SessionDep,
    billing_id: str = Form("", alias="billing", max_length=20),
    confirm: str = Form(""),
) -> Response:
    if confirm != "yes":
        return redirect(f"/membership/change?billing={billing_id if billing_id.isalpha() else ''}")
    user = _user(db, viewer)
    try:
        quote = billing.change_billing(db, user, ctx.payments, billing_id)
        db.commit()
    except (billing.BillingError, PaymentError) as exc:
        db.rollback()
        return redirect("/account", request, f"Nothing was changed: {exc}.", "error")
    plan = get_plan("member").name
    queue_billing_mail(ctx, user.id, "plan_changed", plan=plan, statement=quote.statement())
    return redirect("/account", request, f"Done. {quote.statement()}")


# -- Stripe's webhook ------------------------------------------------------------------------------------


async def stripe_webhook(request: Request) -> Response:
    """Verify, apply once, answer 200 (Stripe retries anything else); 400 for what is not Stripe's."""
    ctx: AppContext = get_ctx(request)
    provider = ctx.payments
    if not isinstance(provider, StripeProvider):
        return JSONResponse({"detail": "Stripe is not configured on this site: no event is accepted"}, 400)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"detail": "event too large"}, status_code=413)
    try:
        event = provider.verified_event(body, request.headers.get("stripe-signature"))
    except WebhookRefused as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    with ctx.db.sessions() as db:
        try:
            outcome = handle_event(db, event, provider.price_keys)
            db.commit()
        except IntegrityError:  # the same event, delivered twice at once: the other delivery applied it
            db.rollback()
            return JSONResponse({"received": True, "result": "duplicate"})
    if outcome.mail and outcome.user_id is not None:
        queue_receipt(ctx, outcome.user_id, outcome.payment_id)
    log.info("stripe event %s (%s): %s", event["id"], event["type"], outcome.result)
    return JSONResponse({"received": True, "result": outcome.result})


router.add_route("/payments/stripe/webhook", stripe_webhook, methods=["POST"])
