"""A process that keeps writing the way the app writes — sign-ups (account + login session), plan
purchases (payment + plan), saved practice sessions, instructor edits, account deletions — each as
the app's one transaction, printing ``ok <kind> <n>`` after every commit. The kill tests ``kill -9`` it
mid-stream and then check that the database is consistent and that nothing acknowledged is missing.

Run: ``python -m tests.reliability.writer DATABASE_URL START``
"""

from __future__ import annotations

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


def main(url: str, start: int) -> None:
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
        print(f"ok signup {n}", flush=True)
        with db.session() as s:  # joining: the payment row and the plan change, together
            user = s.get(User, uid)
            assert user is not None
            assert join_plan(s, user, "member", "4242424242424242", TestPaymentProvider()).ok
        print(f"ok join {n}", flush=True)
        with db.session() as s:  # a coached session saved at the end of live coaching
            summary = {
                "technique_ids": ["smile-lift"] * 20,
                "reps": n,
                "faults": {"f": n},
                "duration_s": 30.0,
            }
            record_session(s, uid, {**summary, "pad": "x" * 20_000})
        print(f"ok practice {n}", flush=True)
        with db.session() as s:  # an instructor's edit, validated then stored
            store.save(s, "claim", {**claim, "explanation": f"{claim['explanation']} (edit {n})"}, coach_id)
        print(f"ok edit {n}", flush=True)
        if n % 3 == 0:  # every third member leaves again: many tables, one transaction
            with db.session() as s:
                delete_member(s, uid)
            print(f"ok delete {n}", flush=True)
        time.sleep(0.001)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
