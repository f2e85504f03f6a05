"""A member database with a row in every table (shared by the backup, deletion and kill tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from facecoach.members import auth, signup
from facecoach.members.api_tokens import create_token
from facecoach.members.billing import join_plan
from facecoach.members.db import Database
from facecoach.members.models import (
    Assessment,
    AuditJob,
    AuditThumbnail,
    Checkin,
    CheckinPicture,
    GuardHour,
    GuardSetting,
    LibraryEdit,
    LiveTicketUse,
    Scan,
    User,
)
from facecoach.members.payments import TestPaymentProvider
from facecoach.members.practice import record_session
from facecoach.members.studio_models import (
    Lesson,
    MailPreference,
    PaymentEvent,
    Program,
    ProgramEnrolment,
    Subscription,
)

PASSWORD = "a good long password"
GOOD_CARD = "4242424242424242"


def add_member(
    db: Database, email: str, plan: str = "free", picture: bytes = b"\xff\xd8\xff fake jpeg"
) -> int:
    """A member with an assessment, a scan (with a picture), a check-in (with a picture), a practice
    session, a payment, an audit, a password reset + outbox mail, the habit guard's settings and an hour
    of its counts, and a login session: one row in every member table."""
    with db.session() as s:
        user = auth.create_user(s, email, PASSWORD, name=email.split("@")[0], plan=plan)
        auth.start_session(s, user, "pytest")
        if plan == "free":
            result = join_plan(s, user, "member", GOOD_CARD, TestPaymentProvider())
            assert result.ok, result
        assessment = Assessment(user_id=user.id, answers={"goals": ["symmetry"], "note": "ünïcode ✓"})
        s.add(assessment)
        s.flush()
        s.add(
            Scan(
                user_id=user.id,
                assessment_id=assessment.id,
                measurements={"asymmetry": {"brow_height_mm": 1.25}, "noise_mm": 0.3},
                picture=picture,
            )
        )
        checkin = Checkin(
            user_id=user.id,
            source="page",
            measures={"values": {"brow_height_mm": 0.4}, "spread": {"brow_height_mm": 0.05}, "frames": 12},
        )
        s.add(checkin)
        s.flush()
        s.add(CheckinPicture(user_id=user.id, checkin_id=checkin.id, jpeg=picture, points=[[1.5, 2.5]]))
        summary = {"technique_ids": ["cheek-lift"], "reps": 8, "faults": {"forehead": 2}, "duration_s": 61.5}
        record_session(s, user.id, {**summary, "date": dt.date(2026, 11, 20).isoformat()})
        job = AuditJob(
            user_id=user.id,
            technique_id="cheek-lift",
            filename="me.mp4",
            status="done",
            result={"reps": 3},
        )
        s.add(job)
        s.flush()
        s.add(AuditThumbnail(user_id=user.id, job_id=job.id, t_s=2.0, kind="head_motion", jpeg=picture))
        s.add(GuardSetting(user_id=user.id, save_counts=True, interval_min=15))
        s.add(
            GuardHour(
                user_id=user.id,
                client_id="0123456789abcdef",
                day=dt.date(2026, 11, 20),
                hour=10,
                measured_s=3000.0,
                habit_s={"frown": 240.0},
                nudges={"frown": 1},
            )
        )
        auth.request_reset(s, email, "http://127.0.0.1:8000")
        add_studio_rows(s, user.id)
        revoked = create_token(s, user.id, "old phone", ["read"]).row
        revoked.revoked_at = revoked.created_at
        create_token(s, user.id, "my phone", ["read", "write"])
        # A live ticket the member's app has used (not the member's data: no member in it).
        s.add(LiveTicketUse(nonce=f"used-{user.id:012d}", expires_at=dt.datetime(2026, 11, 20, 10, 2)))
        return user.id


def add_studio_rows(s: Any, user_id: int) -> None:
    """The member follows a program, wants reminders, pays through a provider (the studio's tables)."""
    program = s.scalar(select(Program).where(Program.slug == "seven-day-starter"))
    if program is None:
        program = Program(slug="seven-day-starter", title="7-day starter", weeks=[["cheek-release"]])
        s.add(program)
        s.flush()
    s.add(ProgramEnrolment(user_id=user_id, program_id=program.id, started_on=dt.date(2026, 11, 20)))
    s.add(
        MailPreference(
            user_id=user_id, reminders=True, days=[1, 3, 5], at_local="07:30", timezone="Europe/Vienna"
        )
    )
    # joining the plan made the member's subscription row already (one per member): it is a Stripe one here
    sub = s.scalar(select(Subscription).where(Subscription.user_id == user_id))
    sub = sub or Subscription(user_id=user_id)
    for field, value in {
        "provider": "stripe",
        "customer_ref": f"cus_{user_id}",
        "subscription_ref": f"sub_{user_id}",
        "plan": "member",
        "status": "active",
        "billing": "yearly",
        "item_ref": f"si_{user_id}",
        "period_start": dt.datetime(2026, 11, 20),
        "period_end": dt.datetime(2027, 11, 20),
        "cancel_at_period_end": True,
        "provider_changed_at": 1_795_000_000,
    }.items():
        setattr(sub, field, value)
    s.add(sub)
    s.add(
        PaymentEvent(
            provider="stripe",
            event_id=f"evt_populate_{user_id}",
            kind="checkout.session.completed",
            user_id=user_id,
        )
    )


def add_pending_signup(db: Database, email: str) -> None:
    """A sign-up whose confirmation link was never opened (a row of ``signup_requests``)."""
    with db.session() as s:
        signup.request_signup(s, email, "", auth.hash_password(PASSWORD), "http://127.0.0.1:8000")


def add_instructor_edit(db: Database, email: str = "coach@example.org") -> int:
    with db.session() as s:
        user = auth.create_user(s, email, PASSWORD, name="Coach", plan="instructor")
        s.add(
            LibraryEdit(
                kind="claim", entry_id="jade-roller-myth", data={"id": "jade-roller-myth"}, updated_by=user.id
            )
        )
        s.add(
            Lesson(
                technique_id="smile-lift",
                directory=f"populate-{user.id}",
                original_file="original.mp4",
                uploaded_by=user.id,
            )
        )
        s.add(
            Program(
                slug=f"jaw-{user.id}",
                title="4 weeks for the jaw",
                weeks=[["jaw-release"]],
                created_by=user.id,
            )
        )
        return user.id


def user_ids(db: Database) -> list[int]:
    from sqlalchemy import select

    with db.session() as s:
        return list(s.scalars(select(User.id).order_by(User.id)))
