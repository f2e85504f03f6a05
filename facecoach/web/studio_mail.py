"""Welcome and receipt mail, queued on the app's mail thread once the request has committed (the same
path as account mail: facecoach.web.account_mail.MailJobs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.mail import Mail
from facecoach.members.models import OutboxMessage, Payment, User
from facecoach.members.plans import get_plan, money
from facecoach.studio import mailing
from facecoach.web.context import AppContext


def _recorded(db: Session, user: User, kind: str, base: str, secret: str, **fields: str) -> Mail:
    mail, recorded = mailing.compose(kind, user.email, user.id, base, secret, **fields)
    db.add(OutboxMessage(user_id=user.id, to_email=mail.to, subject=mail.subject, body=recorded))
    return mail


def queue_welcome(ctx: AppContext, user_id: int) -> None:
    base, secret = ctx.settings.base_url, ctx.settings.secret_key

    def job(db: Session) -> Mail | None:
        user = db.get(User, user_id)
        if user is None:
            return None
        return _recorded(db, user, "welcome", base, secret, name=user.name or "there")

    ctx.mail_jobs.send_later(job)


def queue_receipt(ctx: AppContext, user_id: int, payment_id: int | None = None) -> None:
    """The receipt of payment ``payment_id`` (by default the member's latest successful one)."""
    base, secret = ctx.settings.base_url, ctx.settings.secret_key

    def job(db: Session) -> Mail | None:
        user = db.get(User, user_id)
        query = select(Payment).where(Payment.user_id == user_id)
        if payment_id is not None:
            query = query.where(Payment.id == payment_id)
        else:
            query = query.where(Payment.status == "succeeded")
        paid = db.scalar(query.order_by(Payment.id.desc()).limit(1))
        if user is None or paid is None:
            return None
        return _recorded(
            db,
            user,
            "payment_failed" if paid.status == "failed" else "receipt",
            base,
            secret,
            name=user.name or "there",
            plan=get_plan(paid.plan).name,
            amount=money(paid.amount_cents, paid.currency),
            reference=paid.reference,
            date=paid.created_at.strftime("%d %B %Y"),
        )

    ctx.mail_jobs.send_later(job)


def queue_billing_mail(ctx: AppContext, user_id: int, kind: str, **fields: str) -> None:
    """``plan_cancelled`` / ``plan_resumed`` / ``plan_changed``: what the member just did, as a record."""
    base, secret = ctx.settings.base_url, ctx.settings.secret_key

    def job(db: Session) -> Mail | None:
        user = db.get(User, user_id)
        if user is None:
            return None
        return _recorded(db, user, kind, base, secret, name=user.name or "there", **fields)

    ctx.mail_jobs.send_later(job)
