"""The studio's mail to members — welcome, receipts, practice reminders, the weekly summary — with a
one-click unsubscribe in every message: a signed link in the text and the ``List-Unsubscribe`` /
``List-Unsubscribe-Post`` headers (RFC 8058), so a mail program's own "unsubscribe" button works too.
Unsubscribing turns reminders and the weekly summary off; it needs no login (the link is signed with
the site's secret and names only the member's id).

Every mail is also recorded in the outbox (the instructor's record, and the fallback's twin when mail
goes to files), without the unsubscribe link. Texts are data (``data/mail.yaml``), checked on load.
"""

from __future__ import annotations

import logging
import smtplib
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.mail import Mail, Mailer
from facecoach.members.models import OutboxMessage
from facecoach.members.studio_models import MailPreference
from facecoach.yamlfile import read_yaml

log = logging.getLogger(__name__)
_TEXTS = Path(__file__).resolve().parent / "data" / "mail.yaml"
_SALT = "facecoach-unsubscribe"


class MailText(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)


class MailTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    welcome: MailText
    receipt: MailText
    plan_cancelled: MailText
    plan_resumed: MailText
    plan_changed: MailText
    payment_failed: MailText
    reminder: MailText
    weekly_summary: MailText


@lru_cache(maxsize=1)
def texts() -> MailTexts:
    return MailTexts.model_validate(read_yaml(_TEXTS))


def unsubscribe_token(secret: str, user_id: int) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps(user_id)


def unsubscribed_user(secret: str, token: str) -> int | None:
    """The member id a token was signed for, or None for a forged or damaged token."""
    try:
        value = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unsubscribe(db: Session, user_id: int) -> bool:
    """Reminders and the weekly summary off (the caller commits); False when nothing was on."""
    pref = db.scalar(select(MailPreference).where(MailPreference.user_id == user_id))
    if pref is None or not (pref.reminders or pref.weekly_summary):
        return False
    pref.reminders = pref.weekly_summary = False
    return True


def compose(kind: str, to: str, user_id: int, base_url: str, secret: str, **fields: str) -> tuple[Mail, str]:
    """The mail of ``kind`` (a key of mail.yaml) and its text as recorded (without the link)."""
    text: MailText = getattr(texts(), kind)
    body = text.body.format(base_url=base_url.rstrip("/"), **fields).rstrip() + "\n"
    url = f"{base_url.rstrip('/')}/mail/unsubscribe/{unsubscribe_token(secret, user_id)}"
    footer = f"\n--\nNo more reminders or weekly summaries from facecoach: {url}\n"
    headers = (("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return Mail(to=to, subject=text.subject.format(**fields), text=body + footer, headers=headers), body


def send(db: Session, mailer: Mailer, user_id: int, mail: Mail, recorded: str) -> bool:
    """Send and record one mail; a failure is logged (address and subject only) and returns False."""
    try:
        mailer.send(mail)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail %r to %s not sent: %s", mail.subject, mail.to, exc)
        return False
    db.add(OutboxMessage(user_id=user_id, to_email=mail.to, subject=mail.subject, body=recorded))
    return True
