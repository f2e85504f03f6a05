"""A process that keeps writing the way the app writes — sign-ups (account + login session), plan
purchases (payment + plan), saved practice sessions, instructor edits, account deletions — each as
the app's one transaction, printing ``ok <kind> <n>`` after every commit. The kill tests ``kill -9`` it
mid-stream and then check that the database is consistent and that nothing acknowledged is missing.

Run: ``python -m tests.reliability.writer DATABASE_URL START [KIND:N]`` — with ``KIND:N`` the writer
kills itself (SIGKILL) right after committing that step and before acknowledging it: the one moment a
``kill -9`` leaves a committed write unacknowledged (see :func:`next_step`).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from sqlalchemy import select

from facecoach.members import auth
from facecoach.members.billing import join_plan
from facecoach.members.data_rights import delete_member
from facecoach.members.db import Database
from facecoach.members.library_store import LibraryStore
from facecoach.members.models import User
from facecoach.members.payments import TestPaymentProvider
from facecoach.members.practice import record_session

CLAIM = "exercise-causes-wrinkles"
#: The steps of one member, in order (``delete`` only for every third member).
STEPS = ("signup", "join", "practice", "edit", "delete")


def deletes(n: int) -> bool:
    return n % 3 == 0


def next_step(kind: str, n: int) -> tuple[str, int]:
    """The step the writer runs after acknowledging ``ok KIND N``: the only write that may be committed
    without an ``ok`` line when the writer is killed (between its commit and its print)."""
    if (kind == "edit" and not deletes(n)) or kind == "delete":
        return "signup", n + 1
    return STEPS[STEPS.index(kind) + 1], n


def _ok(kind: str, n: int, die_after: tuple[str, int] | None) -> None:
    if (kind, n) == die_after:
        os.kill(os.getpid(), signal.SIGKILL)  # committed, not acknowledged
    print(f"ok {kind} {n}", flush=True)


def main(url: str, start: int, die_after: tuple[str, int] | None = None) -> None:
    auth.use_password_hasher(PasswordHasher.from_parameters(CHEAPEST))
    db = Database.connect(url)
    store = LibraryStore()
    claim = store.base.claims[CLAIM].model_dump(mode="json")
    with db.session() as s:
        coach = s.scalar(select(User).where(User.email == "coach@example.org"))
        coach_id = (
            coach.id if coach else auth.create_user(s, "coach@example.org", "x" * 12, plan="instructor").id
        )
    n = start
    while True:
        n += 1
        email = f"w{n}@example.org"
        with db.session() as s:  # sign-up: the account and its first login session, together
            user = auth.create_user(s, email, "a good long password", name=f"w{n}")
            auth.start_session(s, user, "writer")
            uid = user.id
        _ok("signup", n, die_after)
        with db.session() as s:  # joining: the payment row and the plan change, together
            user = s.get(User, uid)
            assert user is not None
            assert join_plan(s, user, "member", "4242424242424242", TestPaymentProvider()).ok
        _ok("join", n, die_after)
        with db.session() as s:  # a coached session saved at the end of live coaching
            summary = {
                "technique_ids": ["smile-lift"] * 20,
                "reps": n,
                "faults": {"f": n},
                "duration_s": 30.0,
            }
            record_session(s, uid, {**summary, "pad": "x" * 20_000})
        _ok("practice", n, die_after)
        with db.session() as s:  # an instructor's edit, validated then stored
            store.save(s, "claim", {**claim, "explanation": f"{claim['explanation']} (edit {n})"}, coach_id)
        _ok("edit", n, die_after)
        if deletes(n):  # every third member leaves again: many tables, one transaction
            with db.session() as s:
                delete_member(s, uid)
            _ok("delete", n, die_after)
        time.sleep(0.001)


if __name__ == "__main__":
    stop = sys.argv[3].split(":") if len(sys.argv) > 3 else None
    main(sys.argv[1], int(sys.argv[2]), (stop[0], int(stop[1])) if stop else None)
