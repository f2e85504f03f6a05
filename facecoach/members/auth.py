"""Accounts: argon2 password hashes, server-side sessions (revocable), password resets through the
outbox, and a pluggable login rate limiter (in-process by default; Redis can implement the protocol).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecoach.members.models import AuthSession, OutboxMessage, PasswordReset, User, utcnow

SESSION_LIFETIME = dt.timedelta(days=14)
RESET_LIFETIME = dt.timedelta(hours=2)
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
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


def create_user(db: Session, email: str, password: str, name: str = "", plan: str = "free") -> User:
    email = normalise_email(email)
    check_password_rules(password)
    if db.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("an account with this email already exists")
    user = User(email=email, name=name.strip()[:100], password_hash=hash_password(password), plan=plan)
    db.add(user)
    db.flush()
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
    """Changing the password revokes every other session of the account."""
    if not verify_password(user.password_hash, current):
        raise AccountError("the current password is not right")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    stmt = delete(AuthSession).where(AuthSession.user_id == user.id)
    if keep_session:
        stmt = stmt.where(AuthSession.id != keep_session)
    db.execute(stmt)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(db: Session, email: str, base_url: str) -> None:
    """Writes a reset link to the outbox if the account exists; says nothing either way."""
    try:
        email = normalise_email(email)
    except AccountError:
        return
    user = db.scalar(select(User).where(User.email == email))
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    db.add(PasswordReset(user_id=user.id, token_sha256=_sha(token), expires_at=utcnow() + RESET_LIFETIME))
    link = f"{base_url.rstrip('/')}/reset/{token}"
    db.add(
        OutboxMessage(
            user_id=user.id,
            to_email=user.email,
            subject="Reset your facecoach password",
            body=f"Someone asked to reset the password of this account. If it was you, open:\n{link}\n"
            f"The link works once, for {int(RESET_LIFETIME.total_seconds() // 3600)} hours.",
        )
    )


def reset_valid(db: Session, token: str) -> PasswordReset | None:
    row = db.scalar(select(PasswordReset).where(PasswordReset.token_sha256 == _sha(token)))
    if row is None or row.used or row.expires_at < utcnow():
        return None
    return row


def complete_reset(db: Session, token: str, new_password: str) -> User:
    row = reset_valid(db, token)
    if row is None:
        raise AccountError("this reset link is not valid any more — ask for a new one")
    check_password_rules(new_password)
    user = db.get(User, row.user_id)
    if user is None:
        raise AccountError("this reset link is not valid any more — ask for a new one")
    user.password_hash = hash_password(new_password)
    row.used = True
    db.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    return user


class RateLimiter(Protocol):
    """Counts attempts per key in a sliding window (a Redis implementation can share it across workers)."""

    def hit(self, key: str) -> bool:
        """Record an attempt; False when the key is over its limit (the attempt must be refused)."""
        ...

    def reset(self, key: str) -> None: ...


@dataclass
class MemoryRateLimiter:
    """In-process sliding window: ``limit`` attempts per ``window_s`` seconds per key."""

    limit: int = 5
    window_s: float = 300.0

    def __post_init__(self) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:  # bound memory under a flood of distinct keys
                self._hits.clear()
            return True

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
