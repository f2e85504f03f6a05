"""``kill -9`` in the middle of writes (sign-up, payment + plan, saved session, instructor edit, account
deletion) on SQLite and PostgreSQL: afterwards the database is consistent — every multi-step write is all
there or not there at all — and every write the process had acknowledged is present."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from facecoach.knowledge import load_library, validate_claim
from facecoach.members.data_rights import MEMBER_TABLES, delete_member
from facecoach.members.db import Database
from facecoach.members.models import AuthSession, LibraryEdit, Payment, PracticeSession, User
from tests.reliability.support import child_env, kill9, spawn, wait_until
from tests.reliability.writer import next_step


def _acknowledged(log: Path) -> dict[str, set[int]]:
    done: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ok":
            done.setdefault(parts[1], set()).add(int(parts[2]))
    return done


def _in_flight(log: Path) -> tuple[str, int] | None:
    """The step after the last acknowledged one: the killed writer may have committed it unprinted."""
    for line in reversed(log.read_text().splitlines()):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "ok":
            return next_step(parts[1], int(parts[2]))
    return None


def _settle(db: Database) -> None:
    """PostgreSQL finishes a killed client's last COMMIT on its own; wait until its backend is gone."""
    if db.is_sqlite:
        return

    def alone() -> bool:
        with db.engine.connect() as conn:
            others = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'"
                )
            ).scalar()
        return others == 0

    db.engine.dispose()
    wait_until(alone, 20, "the killed writer's database connection to end", interval=0.1)


def _check(db: Database, done: dict[str, set[int]], in_flight: set[tuple[str, int]]) -> None:
    """Consistent, and nothing acknowledged is missing — except what the one step each killed writer
    had in flight (``in_flight``) changed: a deletion committed just before its ``ok`` line."""
    _settle(db)
    level = "SERIALIZABLE" if db.is_sqlite else "REPEATABLE READ"  # every query below sees one snapshot
    with db.sessions(bind=db.engine.execution_options(isolation_level=level)) as s:
        if db.is_sqlite:
            assert s.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert s.execute(text("PRAGMA foreign_key_check")).all() == []
        for user in s.scalars(select(User).where(User.email.like("w%@example.org"))):
            n = int(user.email[1:].split("@")[0])
            sessions = s.scalar(select(func.count()).where(AuthSession.user_id == user.id))
            assert sessions == 1, f"sign-up {n} half-saved: {sessions} login sessions"
            paid = s.scalar(
                select(func.count()).where(Payment.user_id == user.id, Payment.status == "succeeded")
            )
            assert (user.plan == "member") == (paid == 1), f"join {n}: plan {user.plan} with {paid} payments"
            if n in done.get("join", set()):
                assert user.plan == "member", f"acknowledged join {n} lost"
            if n in done.get("practice", set()):
                row = s.scalar(select(PracticeSession).where(PracticeSession.user_id == user.id))
                assert row is not None and row.reps == n and len(row.summary["pad"]) == 20_000
            assert n not in done.get("delete", set()), f"acknowledged deletion {n} lost"
        users = {u for u in s.scalars(select(User.id))}
        for table in MEMBER_TABLES:  # no row outlives its member
            owners = set(s.scalars(select(table.user_id).distinct()))
            assert owners <= users | {None}, f"orphans in {table.__tablename__}"
        emails = set(s.scalars(select(User.email)))
        for n in done.get("signup", set()) - done.get("delete", set()):
            assert f"w{n}@example.org" in emails or ("delete", n) in in_flight, (
                f"acknowledged sign-up {n} lost"
            )
        edit = s.scalar(select(LibraryEdit).where(LibraryEdit.entry_id == "exercise-causes-wrinkles"))
        if done.get("edit"):
            assert edit is not None
            validate_claim(edit.data, load_library())
            assert (
                f"(edit {max(done['edit'])})" in edit.data["explanation"]
                or f"(edit {max(done['edit']) + 1})" in edit.data["explanation"]
            )


def test_kill_9_during_writes_leaves_the_database_consistent(migrated: Database, tmp_path: Path) -> None:
    db = migrated
    log = tmp_path / "writer.log"
    rng = random.Random(7)
    start = 0
    in_flight: set[tuple[str, int]] = set()
    for _ in range(3):
        proc = spawn([sys.executable, "-m", "tests.reliability.writer", db.url, str(start)], child_env(), log)
        try:
            before = len(log.read_text().splitlines())
            wait_until(
                lambda b=before: len(log.read_text().splitlines()) >= b + 15,
                60,
                f"writes: {log.read_text()[-500:]}",
            )
            time.sleep(rng.uniform(0.05, 0.4))  # then kill at a random point of the stream
        finally:
            kill9(proc)
        done = _acknowledged(log)
        step = _in_flight(log)
        if step is not None:
            in_flight.add(step)
        _check(db, done, in_flight)
        start = max(done["signup"]) + 1  # the next writer starts after the possibly half-written one
    assert sum(len(v) for v in _acknowledged(log).values()) >= 45


def test_a_deletion_committed_before_its_acknowledgement_is_the_only_allowance(
    migrated: Database, tmp_path: Path
) -> None:
    """The flaky failure ("acknowledged sign-up 42 lost", member 42 due for deletion): the writer was
    killed after deleting member 42 and before printing "ok delete 42". The writer here kills itself at
    exactly that moment: the check must accept it — and still catch a member lost any other way."""
    db = migrated
    log = tmp_path / "writer.log"
    args = [sys.executable, "-m", "tests.reliability.writer", db.url, "0", "delete:3"]
    proc = spawn(args, child_env(), log)
    assert proc.wait(timeout=60) == -9, log.read_text()[-500:]
    assert log.read_text().splitlines()[-1] == "ok edit 3"  # killed before "ok delete 3"
    done = _acknowledged(log)
    assert done["signup"] == {1, 2, 3} and "delete" not in done
    with db.session() as s:  # the cause: the deletion was committed
        assert s.scalar(select(User).where(User.email == "w3@example.org")) is None
    step = _in_flight(log)
    assert step == ("delete", 3)
    _check(db, done, {step})
    with pytest.raises(AssertionError, match="acknowledged sign-up 3 lost"):
        _check(db, done, set())  # the check as it was: the flaky failure, reproduced every time
    with db.session() as s:  # nothing else is allowed: an acknowledged member lost otherwise fails
        user = s.scalar(select(User).where(User.email == "w2@example.org"))
        assert user is not None
        delete_member(s, user.id)
    with pytest.raises(AssertionError, match="acknowledged sign-up 2 lost"):
        _check(db, done, {step})
