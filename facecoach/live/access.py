"""Whether an open live socket may stay open (issue 11).

A live-session ticket (``POST /api/live/tokens``) opens one socket only: :func:`claim_ticket` records its
nonce, and the database's primary key makes a second claim fail, whichever process or thread tries it.

A socket used to be checked once, when it opened, and then lived up to 3 h through a logout, a password
change (which ends the account's other sessions), an account deletion or a plan cancellation. The
socket handler now calls :func:`still_allowed` at least every ``session_recheck_s`` seconds and on
``finish``, and closes with the code it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facecoach.live.protocol import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from facecoach.members.api_tokens import credential_user
from facecoach.members.db import Database
from facecoach.members.models import LiveTicketUse
from facecoach.members.plans import allows


@dataclass(frozen=True)
class Refusal:
    """Why the socket closes: a WebSocket close code and its reason."""

    code: int
    reason: str


SIGNED_OUT = Refusal(CLOSE_UNAUTHENTICATED, "you are no longer signed in: log in again")
NOT_A_MEMBER = Refusal(CLOSE_FORBIDDEN, "live coaching needs the Member plan")


def still_allowed(db: Database, session_id: str, member_id: int) -> Refusal | None:
    """None while the login session ``session_id`` that opened the socket (or the API token,
    ``tok:<id>``, behind its ticket) is alive and belongs to ``member_id``, whose plan includes live
    coaching. Blocking (a database read): call it from a thread."""
    with db.session() as s:
        user = credential_user(s, session_id, member_id)
        if user is None or user.id != member_id:
            return SIGNED_OUT
        if not allows(user.plan, "member"):
            return NOT_A_MEMBER
    return None


def claim_ticket(db: Session, nonce: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
    """True the first time the ticket ``nonce`` (valid until ``expires_at``, naive UTC) is claimed, False
    ever after. Commits; claims whose tickets have expired by ``now`` are dropped on the way (an expired
    ticket is refused before it gets here)."""
    db.execute(delete(LiveTicketUse).where(LiveTicketUse.expires_at < now))
    db.add(LiveTicketUse(nonce=nonce, expires_at=expires_at))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True
