"""Demo accounts for ``facecoach serve --seed-demo`` (demo only: the passwords are printed at start)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.auth import create_user
from facecoach.members.models import Assessment, User, utcnow
from facecoach.planning.assessment import Answers


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    plan: str


DEMO_ACCOUNTS = (
    DemoAccount("member", "member@demo.facecoach.test", "demo-member-2026", "member"),
    DemoAccount("instructor", "coach@demo.facecoach.test", "demo-coach-2026", "instructor"),
)


def seed_demo(db: Session) -> list[DemoAccount]:
    """Creates the demo accounts if missing (idempotent: safe to run from several instances). The demo
    member has answered the questionnaire (so "My routine" works at once) but has no face scan: scans are
    only ever measured from a real picture."""
    for account in DEMO_ACCOUNTS:
        if db.scalar(select(User.id).where(User.email == account.email)) is None:
            user = create_user(
                db, account.email, account.password, name=f"Demo {account.role}", plan=account.plan
            )
            user.plan_since = utcnow()
            if account.role == "member":
                answers = Answers(minutes_per_day=12, goals=["lift_cheeks", "symmetry"], tools=["gua_sha"])
                db.add(Assessment(user_id=user.id, answers=answers.model_dump(mode="json")))
    return list(DEMO_ACCOUNTS)
