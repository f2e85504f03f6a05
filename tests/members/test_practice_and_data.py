"""Practice sessions (live coaching's record_session), streaks, export and deletion on a real database."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from facecoach.members import auth, record_session
from facecoach.members.api_tokens import create_token
from facecoach.members.data_rights import MEMBER_TABLES, delete_member, export_member
from facecoach.members.db import Database
from facecoach.members.models import (
    ApiToken,
    Assessment,
    AuditJob,
    AuditThumbnail,
    Checkin,
    CheckinPicture,
    GuardHour,
    GuardSetting,
    OutboxMessage,
    Payment,
    PracticeSession,
    Scan,
    User,
)
from facecoach.members.practice import SessionSummaryError, sessions_per_week, streak

D = dt.date


def test_record_session_stores_the_summary(migrated: Database) -> None:
    with migrated.session() as s:
        uid = auth.create_user(s, "a@example.org", "0123456789ab").id
        row = record_session(
            s,
            uid,
            {
                "technique_ids": ["cheek-lift"],
                "reps": 12,
                "faults": ["forehead_wrinkle", "forehead_wrinkle", "frown"],
                "duration_s": 95.5,
                "date": "2026-11-20",
                "mode": "landmarks",
            },
        )
        assert row.faults == {"forehead_wrinkle": 2, "frown": 1}
    with migrated.session() as s:
        stored = s.scalars(select(PracticeSession)).one()
        assert stored.date == D(2026, 11, 20) and stored.reps == 12 and stored.duration_s == 95.5
        assert stored.summary["mode"] == "landmarks"


@pytest.mark.parametrize(
    ("summary", "field"),
    [
        ({"technique_ids": "cheek-lift"}, "technique_ids"),
        ({"reps": -1}, "reps"),
        ({"reps": True}, "reps"),
        ({"faults": {"frown": "many"}}, "faults"),
        ({"duration_s": 1e9}, "duration_s"),
        ({"date": "yesterday"}, "date"),
    ],
)
def test_record_session_refuses_bad_summaries(
    migrated: Database, summary: dict[str, object], field: str
) -> None:
    with migrated.session() as s:
        uid = auth.create_user(s, "a@example.org", "0123456789ab").id
        with pytest.raises(SessionSummaryError, match=f"^{field}"):
            record_session(s, uid, summary)
        with pytest.raises(SessionSummaryError, match="member_id"):
            record_session(s, uid + 999, {})


def test_streak_and_weeks() -> None:
    today = D(2026, 11, 25)  # a Wednesday
    assert streak([], today) == 0
    assert streak([D(2026, 11, 23), D(2026, 11, 24), D(2026, 11, 25)], today) == 3
    assert streak([D(2026, 11, 23), D(2026, 11, 24)], today) == 2  # today not done yet
    assert streak([D(2026, 11, 22), D(2026, 11, 24)], today) == 1
    assert streak([D(2026, 11, 20)], today) == 0
    weeks = sessions_per_week(
        [D(2026, 11, 23), D(2026, 11, 25), D(2026, 11, 25), D(2026, 11, 17)], today, weeks=3
    )
    assert weeks == [(D(2026, 11, 9), 0), (D(2026, 11, 16), 1), (D(2026, 11, 23), 3)]


def _populate(s: object, email: str) -> int:
    from sqlalchemy.orm import Session

    from tests.reliability.populate import add_studio_rows

    assert isinstance(s, Session)
    user = auth.create_user(s, email, "0123456789ab")
    auth.start_session(s, user)
    a = Assessment(user_id=user.id, answers={"minutes_per_day": 10})
    s.add(a)
    s.flush()
    s.add(
        Scan(
            user_id=user.id,
            assessment_id=a.id,
            measurements={"asymmetry": {"brow_height_mm": 0.4}},
            picture=b"\xff\xd8jpeg",
        )
    )
    s.add(
        Payment(
            user_id=user.id,
            plan="member",
            provider="test",
            reference="r",
            amount_cents=1200,
            currency="EUR",
            status="succeeded",
        )
    )
    job = AuditJob(user_id=user.id, technique_id="", filename="v.mp4", status="done", result={"segments": []})
    s.add(job)
    s.flush()
    s.add(AuditThumbnail(user_id=user.id, job_id=job.id, t_s=1.5, kind="frown", jpeg=b"\xff\xd8thumb"))
    checkin = Checkin(user_id=user.id, source="page", measures={"values": {"brow_height_mm": 0.4}})
    s.add(checkin)
    s.flush()
    s.add(CheckinPicture(user_id=user.id, checkin_id=checkin.id, jpeg=b"\xff\xd8jpeg", points=[[1.0, 2.0]]))
    # A record from before links were kept out of the outbox: its link must not reach the export.
    s.add(OutboxMessage(user_id=user.id, to_email=email, subject="s", body="b http://x/reset/Old-Token_1"))
    record_session(s, user.id, {"technique_ids": ["x"], "reps": 3})
    s.add(GuardSetting(user_id=user.id, save_counts=True))
    s.add(GuardHour(user_id=user.id, client_id="f" * 16, day=dt.date(2026, 11, 20), hour=9, measured_s=60.0,
                    habit_s={}, nudges={}))  # fmt: skip
    auth.request_reset(s, email, "http://x/")
    add_studio_rows(s, user.id)  # program followed, mail preferences, subscription, payment event
    TOKENS[email] = create_token(s, user.id, "my phone", ["read"]).secret
    return user.id


#: The API token each populated member got (its secret must never reach the export).
TOKENS: dict[str, str] = {}


def test_export_has_everything_of_mine_and_nothing_of_others(migrated: Database) -> None:
    with migrated.session() as s:
        mine = _populate(s, "me@example.org")
        _populate(s, "other@example.org")
    with migrated.session() as s:
        user = s.get(User, mine)
        assert user is not None
        data = export_member(s, user)
    assert data["account"]["email"] == "me@example.org"
    assert len(data["assessments"]) == 1 and len(data["scans"]) == 1 and len(data["practice_sessions"]) == 1
    assert data["scans"][0]["picture_jpeg_base64"] is not None
    assert data["scans"][0]["measurements"]["asymmetry"]["brow_height_mm"] == 0.4
    assert len(data["payments"]) == 1 and len(data["video_audits"]) == 1 and len(data["messages"]) == 2
    assert "other@example.org" not in str(data)
    assert "argon2" not in str(data)  # the password hash never leaves
    assert "[link removed from the export]" in str(data)  # nor a live reset link
    assert "Old-Token_1" not in str(data)
    assert [(t["name"], t["scopes"]) for t in data["api_tokens"]] == [("my phone", ["read"])]
    secret = TOKENS["me@example.org"]
    with migrated.session() as s:
        digest = s.scalar(select(ApiToken.token_sha256).where(ApiToken.user_id == mine))
    # The random part is what follows "fc_<prefix>_" (it may itself hold "_", so split once, not at the last).
    random_part = secret.split("_", 2)[2]
    assert len(random_part) >= 40
    assert secret not in str(data) and random_part not in str(data) and digest not in str(data)
    # The subscription with how it is billed and when it ends (issue 18's self-service billing).
    assert data["subscriptions"] == [
        {
            "provider": "stripe",
            "plan": "member",
            "billing": "yearly",
            "status": "active",
            "period_start": "2026-11-20T00:00:00",
            "period_end": "2027-11-20T00:00:00",
            "cancel_at_period_end": True,
            "updated_at": data["subscriptions"][0]["updated_at"],
        }
    ]
    # The audit with its mode and its worst-frame thumbnails (JPEG, base64); the video is not exported.
    audit = data["video_audits"][0]
    assert audit["mode"] == "any tutorial" and audit["technique_id"] is None and audit["video_kept"] is False
    assert [t["kind"] for t in audit["thumbnails"]] == ["frown"]
    assert base64.b64decode(audit["thumbnails"][0]["jpeg_base64"]) == b"\xff\xd8thumb"


def test_delete_removes_every_row_of_the_member(migrated: Database) -> None:
    with migrated.session() as s:
        mine = _populate(s, "me@example.org")
        other = _populate(s, "other@example.org")
    with migrated.session() as s:
        delete_member(s, mine)
    with migrated.session() as s:
        assert s.get(User, mine) is None
        assert AuditThumbnail in MEMBER_TABLES
        for table in MEMBER_TABLES:
            assert s.scalar(select(func.count()).select_from(table).where(table.user_id == mine)) == 0, table
            assert s.scalar(select(func.count()).select_from(table).where(table.user_id == other)) > 0, table


def test_demo_seed_is_idempotent_and_the_demo_member_can_plan(migrated: Database) -> None:
    from facecoach.knowledge import load_library
    from facecoach.members.seed import DEMO_ACCOUNTS, seed_demo
    from facecoach.planning.assessment import parse_answers
    from facecoach.planning.planner import build_plan

    for _ in range(2):
        with migrated.session() as s:
            seed_demo(s)
    with migrated.session() as s:
        users = {u.email: u for u in s.scalars(select(User))}
        assert {a.email for a in DEMO_ACCOUNTS} == set(users)
        assert {u.plan for u in users.values()} == {"member", "instructor"}
        member = next(u for u in users.values() if u.plan == "member")
        answers = s.scalars(select(Assessment).where(Assessment.user_id == member.id)).one().answers
        assert s.scalar(select(func.count(Scan.id))) == 0  # no invented face data
    assert build_plan(parse_answers(answers), None, 1, load_library()).items
