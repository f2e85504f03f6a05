"""Whether an open live socket may stay open (issue 11).

A socket used to be checked once, when it opened, and then lived up to 3 h through a logout, a password
change (which ends the account's other sessions), an account deletion or a plan cancellation. The
socket handler now calls :func:`still_allowed` at least every ``session_recheck_s`` seconds and on
``finish``, and closes with the code it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from facecoach.live.protocol import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from facecoach.members.api_tokens import credential_user
from facecoach.members.db import Database
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
