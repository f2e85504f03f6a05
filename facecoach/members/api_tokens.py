"""Personal API tokens: what a mobile app or a script sends instead of the session cookie.

A token is ``fc_<prefix>_<secret>``: ``prefix`` (10 characters, public, stored as is) finds the row, the
whole string's SHA-256 is what is stored and compared (the 32-byte random secret has 256 bits of
entropy, so a fast hash is enough; no secret is ever stored or logged). The member sees it once, when it
is made. A token carries scopes (``SCOPES``); revoking it sets ``revoked_at``, and it answers 401 from
then on. Deleting the account deletes its tokens (``data_rights.MEMBER_TABLES``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facecoach.members.auth import session_user
from facecoach.members.models import ApiToken, AuthSession, User, utcnow

TOKEN_PREFIX = "fc_"
#: What a token may do. ``read``: GET your data; ``write``: change it (scan, assessment, sessions,
#: audits, live coaching); ``account``: export everything, delete the account, manage tokens.
SCOPES: dict[str, str] = {
    "read": "read your routine, progress, assessment, audits and profile",
    "write": "scan, answer the assessment, log sessions, upload audits, start live coaching",
    "account": "export all your data, manage your API tokens, delete your account",
}
#: Active (unrevoked) tokens one member may hold at once.
MAX_TOKENS_PER_MEMBER = 20
#: How often ``last_used_at`` is written (a busy app must not write a row per request).
LAST_USED_EVERY = dt.timedelta(minutes=1)
_PREFIX_CHARS = 10


class TokenError(ValueError):
    """A token cannot be made: the name or scopes are wrong, or the member has too many."""


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is the whole token, shown to the member this once."""

    row: ApiToken
    secret: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes in ``SCOPES`` order, or :class:`TokenError` naming an unknown one / none at all."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise TokenError(f"unknown scope {unknown[0]!r}: choose from {', '.join(SCOPES)}")
    if not wanted:
        raise TokenError("choose at least one scope")
    return [s for s in SCOPES if s in wanted]


def active_tokens(db: Session, user_id: int) -> int:
    stmt = select(func.count(ApiToken.id)).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    return db.scalar(stmt) or 0


def create_token(db: Session, user_id: int, name: str, scopes: Iterable[str]) -> NewToken:
    """A new token for the member (flushed, not committed); :class:`TokenError` for a bad request."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= 100:
        raise TokenError("give the token a name of 1 to 100 characters (e.g. the app that uses it)")
    ordered = check_scopes(scopes)
    if active_tokens(db, user_id) >= MAX_TOKENS_PER_MEMBER:
        raise TokenError(f"you have {MAX_TOKENS_PER_MEMBER} active tokens: revoke one first")
    prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user_id, name=name, prefix=prefix, token_sha256=_digest(secret), scopes=ordered)
    db.add(row)
    db.flush()
    return NewToken(row=row, secret=secret)


def parse_prefix(token: str) -> str | None:
    """The lookup prefix of a well-formed token string, else None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    prefix, sep, rest = token[len(TOKEN_PREFIX) :].partition("_")
    if not sep or len(prefix) != _PREFIX_CHARS or not rest:
        return None
    return prefix


def token_user(db: Session, token: str) -> tuple[ApiToken, User] | None:
    """The active token ``token`` names and its member, or None (malformed, unknown, wrong secret,
    revoked). Updates ``last_used_at`` (at most once a minute; the caller commits)."""
    prefix = parse_prefix(token)
    if prefix is None:
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if row is None or not hmac.compare_digest(row.token_sha256, _digest(token)) or row.revoked_at is not None:
        return None
    user = db.get(User, row.user_id)
    if user is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return row, user


def member_tokens(db: Session, user_id: int) -> list[ApiToken]:
    """The member's tokens, newest first (revoked ones too, marked)."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    return list(db.scalars(stmt))


def revoke_token(db: Session, user_id: int, token_id: int) -> bool:
    """Revoke the member's token ``token_id``; False when it is not theirs (or does not exist)."""
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True


#: Credentials as a live-coaching socket's ticket names them: an API token, ``tok:<id>`` (its id is not
#: secret), or a login session, ``ses:<SHA-256 of the session id>`` (a ticket is readable, so it never
#: carries the session id itself). A plain login session id is a credential too (the cookie's socket).
TOKEN_CREDENTIAL = "tok:"
SESSION_CREDENTIAL = "ses:"


def session_credential(session_id: str) -> str:
    return SESSION_CREDENTIAL + _digest(session_id)


def credential_user(db: Session, credential: str, member_id: int) -> User | None:
    """The member ``member_id`` while the login session or active API token ``credential`` of theirs
    is alive, else None (logged out, expired, revoked, account deleted, or someone else's)."""
    if credential.startswith(TOKEN_CREDENTIAL):
        raw_id = credential[len(TOKEN_CREDENTIAL) :]
        row = db.get(ApiToken, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 19 else None
        if row is None or row.revoked_at is not None or row.user_id != member_id:
            return None
        return db.get(User, member_id)
    if credential.startswith(SESSION_CREDENTIAL):
        wanted = credential[len(SESSION_CREDENTIAL) :]
        stmt = select(AuthSession.id).where(AuthSession.user_id == member_id)
        matches = [sid for sid in db.scalars(stmt) if hmac.compare_digest(_digest(sid), wanted)]
        if not matches:
            return None
        credential = matches[0]
    found = session_user(db, credential)
    return found[1] if found is not None and found[1].id == member_id else None
