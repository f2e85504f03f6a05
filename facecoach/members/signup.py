"""Sign-up with a confirmed address: the same answer and the same work whether the address already has an
account or not (no account enumeration), and the account exists only once its owner opens the link.

A new address gets a confirmation link; an address with an account gets a note to its owner (log in or
reset). Confirming spends every pending sign-up of the address in one conditional DELETE, so of several
confirmations (or sign-ups that raced) exactly one creates the account.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from facecoach.members.auth import AccountError, insert_user, normalise_email
from facecoach.members.mail import Mail
from facecoach.members.models import OutboxMessage, SignupRequest, User, utcnow

SIGNUP_LIFETIME = dt.timedelta(hours=24)
NOT_VALID = "this confirmation link is not valid any more — sign up again"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _record(db: Session, user_id: int | None, email: str, subject: str, what: str) -> None:
    db.add(OutboxMessage(user_id=user_id, to_email=email, subject=subject, body=what))


def request_signup(db: Session, email: str, name: str, password_hash: str, base_url: str) -> Mail:
    """The mail to send for a sign-up (``email`` already valid, ``password_hash`` already argon2)."""
    email = normalise_email(email)
    base = base_url.rstrip("/")
    db.execute(delete(SignupRequest).where(SignupRequest.expires_at < utcnow()))
    user = db.scalar(select(User).where(User.email == email))
    if user is not None:
        subject = "You already have a facecoach account"
        _record(db, user.id, email, subject, "A note that this address already has an account was sent.")
        return Mail(
            to=email,
            subject=subject,
            text="Someone (you, perhaps) tried to create a facecoach account with this address, which "
            f"already has one. Log in at {base}/login, or choose a new password at {base}/reset.\n"
            "If it was not you, ignore this mail: nothing changed.",
        )
    token = secrets.token_urlsafe(32)
    db.add(
        SignupRequest(
            email=email,
            name=name.strip()[:100],
            password_hash=password_hash,
            token_sha256=_sha(token),
            expires_at=utcnow() + SIGNUP_LIFETIME,
        )
    )
    subject = "Confirm your facecoach account"
    _record(db, None, email, subject, "A confirmation link was sent. (The link is only in the mail.)")
    return Mail(
        to=email,
        subject=subject,
        text=f"To finish creating your facecoach account, open:\n{base}/signup/confirm/{token}\n"
        f"The link works once, for {int(SIGNUP_LIFETIME.total_seconds() // 3600)} hours. If you did not "
        "sign up, ignore this mail: no account is created.",
    )


def pending_signup(db: Session, token: str) -> SignupRequest | None:
    row = db.scalar(select(SignupRequest).where(SignupRequest.token_sha256 == _sha(token)))
    if row is None or row.expires_at < utcnow():
        return None
    return row


def confirm_signup(db: Session, token: str) -> User:
    """Creates the account of a pending sign-up; :class:`AccountError` when the link is spent, expired or
    the address has an account by now."""
    row = pending_signup(db, token)
    if row is None:
        raise AccountError(NOT_VALID)
    claimed = db.scalars(
        delete(SignupRequest).where(SignupRequest.email == row.email).returning(SignupRequest.id)
    )
    if row.id not in set(claimed):
        db.rollback()
        raise AccountError(NOT_VALID)
    user = insert_user(db, row.email, row.password_hash, name=row.name)
    # The confirmation's own record becomes the member's (exported and deleted with the account).
    db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.to_email == row.email, OutboxMessage.user_id.is_(None))
        .values(user_id=user.id)
    )
    return user
