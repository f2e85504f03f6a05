"""Accounts on a real database (SQLite and PostgreSQL): hashes, sessions, resets, plans, payments."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from facecoach.members import auth
from facecoach.members.billing import JoinError, join_plan
from facecoach.members.db import Database
from facecoach.members.models import AuthSession, OutboxMessage, Payment, User
from facecoach.members.payments import ChargeRequest, TestPaymentProvider
from facecoach.members.plans import all_plans, allows, get_plan

PASSWORD = "correct horse battery"


def test_passwords_are_argon2_and_verified(migrated: Database) -> None:
    with migrated.session() as s:
        user = auth.create_user(s, "  Ada@Example.ORG ", PASSWORD, name="Ada")
        assert user.email == "ada@example.org"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    with migrated.session() as s:
        assert auth.authenticate(s, "ada@example.org", PASSWORD) is not None
        assert auth.authenticate(s, "ADA@example.org", PASSWORD) is not None
        assert auth.authenticate(s, "ada@example.org", PASSWORD + "x") is None
        assert auth.authenticate(s, "nobody@example.org", PASSWORD) is None
        assert auth.authenticate(s, "not an email", PASSWORD) is None


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("bad-email", PASSWORD, "valid email"),
        ("a@example.org", "short", "at least 10"),
        ("a@example.org", "x" * 300, "at most"),
    ],
)
def test_account_rules(migrated: Database, email: str, password: str, message: str) -> None:
    with migrated.session() as s, pytest.raises(auth.AccountError, match=message):
        auth.create_user(s, email, password)


def test_duplicate_email_refused(migrated: Database) -> None:
    with migrated.session() as s:
        auth.create_user(s, "a@example.org", PASSWORD)
    with migrated.session() as s, pytest.raises(auth.AccountError, match="already exists"):
        auth.create_user(s, "A@example.org", PASSWORD)


def test_sessions_are_server_side_and_revocable(migrated: Database) -> None:
    with migrated.session() as s:
        user = auth.create_user(s, "a@example.org", PASSWORD)
        one = auth.start_session(s, user).id
        two = auth.start_session(s, user).id
        assert one != two
    with migrated.session() as s:
        found = auth.session_user(s, one)
        assert found is not None and found[1].email == "a@example.org"
        auth.end_session(s, one)
    with migrated.session() as s:
        assert auth.session_user(s, one) is None
        assert auth.session_user(s, two) is not None
        # An expired session is refused and removed.
        row = s.get(AuthSession, two)
        assert row is not None
        row.expires_at = dt.datetime(2000, 1, 1)
    with migrated.session() as s:
        assert auth.session_user(s, two) is None
        # Expired rows are also swept when the account logs in again.
        user = s.scalars(select(User)).one()
        stale = auth.start_session(s, user)
        stale.expires_at = dt.datetime(2000, 1, 1)
        s.flush()
        auth.start_session(s, user)
        assert s.get(AuthSession, stale.id) is None


def test_change_password_revokes_other_sessions(migrated: Database) -> None:
    with migrated.session() as s:
        user = auth.create_user(s, "a@example.org", PASSWORD)
        keep = auth.start_session(s, user).id
        other = auth.start_session(s, user).id
    with migrated.session() as s:
        user = s.scalars(select(User)).one()
        with pytest.raises(auth.AccountError, match="current password"):
            auth.change_password(s, user, "wrong password!", "a brand new password", keep)
        auth.change_password(s, user, PASSWORD, "a brand new password", keep)
    with migrated.session() as s:
        assert auth.session_user(s, keep) is not None
        assert auth.session_user(s, other) is None
        assert auth.authenticate(s, "a@example.org", "a brand new password") is not None


def test_reset_link_goes_by_mail_and_works_once(migrated: Database) -> None:
    with migrated.session() as s:
        user = auth.create_user(s, "a@example.org", PASSWORD)
        auth.start_session(s, user)
        mail = auth.request_reset(s, "a@example.org", "http://127.0.0.1:9/")
        assert auth.request_reset(s, "nobody@example.org", "http://127.0.0.1:9/") is None  # nothing
    with migrated.session() as s:
        messages = list(s.scalars(select(OutboxMessage)))
        assert len(messages) == 1  # the record that a mail went out
        assert mail is not None and mail.to == "a@example.org"
        token = mail.text.split("/reset/")[1].split()[0]
        assert "http://127.0.0.1:9/reset/" in mail.text
        assert token not in messages[0].body and "/reset/" not in messages[0].body  # the link is not kept
        auth.complete_reset(s, token, "another good password")
    with migrated.session() as s:
        assert auth.authenticate(s, "a@example.org", "another good password") is not None
        assert s.scalar(select(func.count(AuthSession.id))) == 0  # every session revoked
        with pytest.raises(auth.AccountError, match="not valid"):
            auth.complete_reset(s, token, "yet another password")
        with pytest.raises(auth.AccountError, match="not valid"):
            auth.complete_reset(s, "made-up-token", "yet another password")


def test_memory_rate_limiter_window() -> None:
    limiter = auth.MemoryRateLimiter(limit=3, window_s=0.2)
    assert [limiter.hit("k") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("other")
    import time

    time.sleep(0.25)
    assert limiter.hit("k")
    limiter.reset("k")
    assert all(limiter.hit("k") for _ in range(3))


def _charge(card: str, amount: int = 1200) -> Any:
    return TestPaymentProvider().charge(ChargeRequest(amount, "EUR", "test", card, "a@example.org"))


def test_test_payment_provider_cards() -> None:
    assert _charge("4242 4242 4242 4242").ok
    declined = _charge("4000-0000-0000-0002")
    assert declined.status == "declined" and "declined" in declined.message
    assert "not a valid card" in _charge("1234 5678 9012 3456").message
    assert not _charge("4242424242424242", amount=0).ok


def test_joining_a_plan(migrated: Database) -> None:
    provider = TestPaymentProvider()
    with migrated.session() as s:
        user = auth.create_user(s, "a@example.org", PASSWORD)
        declined = join_plan(s, user, "member", "4000000000000002", provider)
        assert not declined.ok and user.plan == "free"
        with pytest.raises(JoinError, match="cannot be bought"):
            join_plan(s, user, "instructor", "4242424242424242", provider)
        with pytest.raises(JoinError, match="no such plan"):
            join_plan(s, user, "gold", "4242424242424242", provider)
        ok = join_plan(s, user, "member", "4242424242424242", provider)
        assert ok.ok and user.plan == "member" and user.plan_since is not None
        with pytest.raises(JoinError, match="already"):
            join_plan(s, user, "member", "4242424242424242", provider)
    with migrated.session() as s:
        payments = list(s.scalars(select(Payment).order_by(Payment.id)))
        assert [p.status for p in payments] == ["declined", "succeeded"]
        assert payments[1].amount_cents == get_plan("member").price_cents > 0


def test_plans_data() -> None:
    ids = [p.id for p in all_plans()]
    assert ids == ["free", "member", "instructor"]
    assert allows("member", "free") and allows("instructor", "member") and not allows("free", "member")
    assert not allows(None, "free")
    assert all(p.unlocks for p in all_plans())
