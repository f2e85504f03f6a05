"""Accounts: argon2 password hashes, server-side sessions (revocable), one-time password resets (the
link goes out by mail only; the outbox keeps a record without it), and a pluggable rate limiter
(in-process by default; Redis implements the protocol in ``facecoach.web.backends``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facecoach.members.mail import Mail
from facecoach.members.models import ApiToken, AuthSession, OutboxMessage, PasswordReset, User, utcnow

SESSION_LIFETIME = dt.timedelta(days=14)
RESET_LIFETIME = dt.timedelta(hours=2)
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# A link that logs somebody in (reset, sign-up confirmation): never shown outside the mail that carries it.
_ACCOUNT_LINK = re.compile(r"/(reset|signup/confirm)/[A-Za-z0-9_-]+")
DUPLICATE_EMAIL = "an account with this email already exists"
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)


class AccountError(ValueError):
    """A user error about an account (shown to the person as is)."""


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise AccountError("enter a valid email address")
    return email


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password can have at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hash: str | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the argon2 parameters (tests use a cheap profile; a server may tune it to its hardware)."""
    global _hasher, _dummy_hash
    _hasher = hasher
    _dummy_hash = None


def _dummy() -> str:
    """A real hash to verify against when the account does not exist, so timing does not reveal accounts."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password-x")
    return _dummy_hash


def redact_links(text: str, note: str = "link removed") -> str:
    """The text with every reset or confirmation link's token replaced by ``[note]`` (records written
    before links were kept out of the outbox; the admin and exports show them this way)."""
    return _ACCOUNT_LINK.sub(lambda m: f"/{m.group(1)}/[{note}]", text)


def create_user(db: Session, email: str, password: str, name: str = "", plan: str = "free") -> User:
    email = normalise_email(email)
    check_password_rules(password)
    return insert_user(db, email, hash_password(password), name=name, plan=plan)


def insert_user(db: Session, email: str, password_hash: str, name: str = "", plan: str = "free") -> User:
    """Adds the account; a duplicate address (also one inserted concurrently, which only the unique index
    sees) is an :class:`AccountError` and rolls the session's transaction back."""
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(DUPLICATE_EMAIL)
    user = User(email=email, name=name.strip()[:100], password_hash=password_hash, plan=plan)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise AccountError(DUPLICATE_EMAIL) from None
    return user


def authenticate(db: Session, email: str, password: str) -> User | None:
    try:
        email = normalise_email(email)
    except AccountError:
        verify_password(_dummy(), password)
        return None
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        verify_password(_dummy(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(db: Session, user: User, user_agent: str = "") -> AuthSession:
    """A fresh session id at every login (no session fixation); the account's expired sessions go."""
    db.execute(delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.expires_at < utcnow()))
    session = AuthSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        expires_at=utcnow() + SESSION_LIFETIME,
        user_agent=user_agent[:200],
    )
    db.add(session)
    db.flush()
    return session


def session_user(db: Session, session_id: str) -> tuple[AuthSession, User] | None:
    row = db.get(AuthSession, session_id)
    if row is None:
        return None
    if row.expires_at < utcnow():
        db.delete(row)
        return None
    user = db.get(User, row.user_id)
    if user is None:
        return None
    return row, user


def end_session(db: Session, session_id: str) -> None:
    db.execute(delete(AuthSession).where(AuthSession.id == session_id))


def change_password(db: Session, user: User, current: str, new: str, keep_session: str | None) -> None:
    """Changing the password revokes every other session of the account and every API token (a token
    made by whoever knew the old password must not outlive it)."""
    if not verify_password(user.password_hash, current):
        raise AccountError("the current password is not right")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    invalidate_resets(db, user.id)
    revoke_api_tokens(db, user.id)
    stmt = delete(AuthSession).where(AuthSession.user_id == user.id)
    if keep_session:
        stmt = stmt.where(AuthSession.id != keep_session)
    db.execute(stmt)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invalidate_resets(db: Session, user_id: int) -> list[int]:
    """Marks every outstanding reset token of the account used, in one conditional UPDATE; returns the
    ids this statement claimed (a concurrent claimer that got there first leaves none to this one)."""
    stmt = (
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used.is_(False))
        .values(used=True)
        .returning(PasswordReset.id)
    )
    return list(db.scalars(stmt))


def request_reset(db: Session, email: str, base_url: str) -> Mail | None:
    """A new reset token for the account, and the mail that carries its link (None when there is no such
    account). The outbox records that a link was sent, never the link. ``base_url`` is the site's
    configured public address, never the request's Host."""
    try:
        email = normalise_email(email)
    except AccountError:
        return None
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(user_id=user.id, token_sha256=_sha(token), expires_at=utcnow() + RESET_LIFETIME))
    subject = "Reset your facecoach password"
    db.add(
        OutboxMessage(
            user_id=user.id,
            to_email=user.email,
            subject=subject,
            body="A password reset link was sent. (The link is only in the mail; it is not kept here.)",
        )
    )
    link = f"{base_url.rstrip('/')}/reset/{token}"
    return Mail(
        to=user.email,
        subject=subject,
        text=f"Someone asked to reset the password of this account. If it was you, open:\n{link}\n"
        f"The link works once, for {int(RESET_LIFETIME.total_seconds() // 3600)} hours. If it was not you, "
        "ignore this mail: nothing changes.",
    )


def reset_valid(db: Session, token: str) -> PasswordReset | None:
    row = db.scalar(select(PasswordReset).where(PasswordReset.token_sha256 == _sha(token)))
    if row is None or row.used or row.expires_at < utcnow():
        return None
    return row


def complete_reset(db: Session, token: str, new_password: str) -> User:
    """Sets the new password if the token is still good. Using it spends every outstanding token of the
    account in one conditional UPDATE, so of N concurrent uses (of this or another token of the same
    account) exactly one wins; the others get :class:`AccountError`. Every session and API token is
    revoked."""
    invalid = AccountError("this reset link is not valid any more — ask for a new one")
    check_password_rules(new_password)
    row = reset_valid(db, token)
    if row is None:
        raise invalid
    new_hash = hash_password(new_password)  # before the UPDATE: its row locks are held only briefly
    if row.id not in invalidate_resets(db, row.user_id):
        db.rollback()
        raise invalid
    user = db.get(User, row.user_id)
    if user is None:
        raise invalid
    user.password_hash = new_hash
    db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    revoke_api_tokens(db, user.id)
    return user


def revoke_api_tokens(db: Session, user_id: int) -> None:
    """Every unrevoked API token of the account stops working (one UPDATE)."""
    stmt = update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
    db.execute(stmt.values(revoked_at=utcnow()))


class RateLimiter(Protocol):
    """Counts attempts per key in a sliding window (a Redis implementation can share it across workers)."""

    def hit(self, key: str) -> bool:
        """Record an attempt; False when the key is over its limit (the attempt must be refused)."""
        ...

    def reset(self, key: str) -> None: ...


@dataclass
class MemoryRateLimiter:
    """In-process sliding window: ``limit`` attempts per ``window_s`` seconds per key.

    At most ``max_keys`` keys are kept. When a new key would pass that bound, a tenth of the table is
    freed: first keys whose window has run out, then the least recently used keys that are not locked
    out, and locked-out keys (oldest first) only if nothing else is left — so a flood of fresh keys
    cannot lift a lockout, and memory stays bounded.
    """

    limit: int = 5
    window_s: float = 300.0
    max_keys: int = 100_000

    def __post_init__(self) -> None:
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _live(self, hits: deque[float], now: float) -> deque[float]:
        while hits and now - hits[0] > self.window_s:
            hits.popleft()
        return hits

    def _make_room(self, now: float) -> None:
        target = self.max_keys - max(1, self.max_keys // 10)
        for key in [k for k, h in self._hits.items() if not self._live(h, now)]:
            del self._hits[key]
        unlocked = (k for k, h in self._hits.items() if len(h) < self.limit)
        for key in list(islice(unlocked, max(0, len(self._hits) - target))):
            del self._hits[key]
        while len(self._hits) > target:
            self._hits.popitem(last=False)

    def hit(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                if len(self._hits) >= self.max_keys:
                    self._make_room(now)
                hits = self._hits[key] = deque()
            else:
                self._hits.move_to_end(key)
            if len(self._live(hits, now)) >= self.limit:
                return False
            hits.append(now)
            return True

    def __len__(self) -> int:
        return len(self._hits)

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
