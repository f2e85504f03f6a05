"""Welcome and receipt mail, queued on the app's mail thread once the request has committed (the same
path as account mail: facecoach.web.account_mail.MailJobs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.mail import Mail
from facecoach.members.models import OutboxMessage, Payment, User
from facecoach.members.plans import get_plan
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


def queue_receipt(ctx: AppContext, user_id: int) -> None:
    """The receipt of the member's latest successful payment."""
    base, secret = ctx.settings.base_url, ctx.settings.secret_key

    def job(db: Session) -> Mail | None:
        user = db.get(User, user_id)
        paid = db.scalar(
            select(Payment)
            .where(Payment.user_id == user_id, Payment.status == "succeeded")
            .order_by(Payment.id.desc())
            .limit(1)
        )
        if user is None or paid is None:
            return None
        return _recorded(
            db,
            user,
            "receipt",
            base,
            secret,
            name=user.name or "there",
            plan=get_plan(paid.plan).name,
            amount=f"{paid.amount_cents / 100:.2f} {paid.currency}",
            reference=paid.reference,
            date=paid.created_at.strftime("%d %B %Y"),
        )

    ctx.mail_jobs.send_later(job)
