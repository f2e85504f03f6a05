"""A member's data: export everything as one JSON document; delete everything in one transaction."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecoach.members.models import (
    Assessment,
    AuditJob,
    AuthSession,
    GuardHour,
    GuardSetting,
    OutboxMessage,
    PasswordReset,
    Payment,
    PracticeSession,
    Scan,
    User,
)

# Every table holding a member's rows, children before parents (scans reference assessments).
MEMBER_TABLES: tuple[type[Any], ...] = (
    Scan,
    Assessment,
    PracticeSession,
    GuardHour,
    GuardSetting,
    Payment,
    AuditJob,
    OutboxMessage,
    PasswordReset,
    AuthSession,
)


# A reset link in an exported message would let whoever holds the file reset the password.
_RESET_LINK = re.compile(r"/reset/[A-Za-z0-9_-]+")


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_member(db: Session, user: User) -> dict[str, Any]:
    uid = user.id
    return {
        "format": "facecoach-export-1",
        "exported_at": _iso(dt.datetime.now(dt.UTC)),
        "account": {
            "id": uid,
            "email": user.email,
            "name": user.name,
            "plan": user.plan,
            "created_at": _iso(user.created_at),
            "plan_since": _iso(user.plan_since),
        },
        "assessments": [
            {"id": a.id, "created_at": _iso(a.created_at), "answers": a.answers}
            for a in db.scalars(select(Assessment).where(Assessment.user_id == uid).order_by(Assessment.id))
        ],
        "scans": [
            {
                "id": s.id,
                "assessment_id": s.assessment_id,
                "created_at": _iso(s.created_at),
                "measurements": s.measurements,
                "picture_jpeg_base64": base64.b64encode(s.picture).decode() if s.picture else None,
            }
            for s in db.scalars(select(Scan).where(Scan.user_id == uid).order_by(Scan.id))
        ],
        "practice_sessions": [
            {
                "id": p.id,
                "date": _iso(p.date),
                "technique_ids": p.technique_ids,
                "reps": p.reps,
                "faults": p.faults,
                "duration_s": p.duration_s,
                "summary": p.summary,
            }
            for p in db.scalars(
                select(PracticeSession).where(PracticeSession.user_id == uid).order_by(PracticeSession.id)
            )
        ],
        "habit_guard": _guard_export(db, uid),
        "payments": [
            {
                "id": p.id,
                "plan": p.plan,
                "provider": p.provider,
                "reference": p.reference,
                "amount_cents": p.amount_cents,
                "currency": p.currency,
                "status": p.status,
                "created_at": _iso(p.created_at),
            }
            for p in db.scalars(select(Payment).where(Payment.user_id == uid).order_by(Payment.id))
        ],
        "video_audits": [
            {
                "id": j.id,
                "technique_id": j.technique_id,
                "filename": j.filename,
                "status": j.status,
                "result": j.result,
                "created_at": _iso(j.created_at),
            }
            for j in db.scalars(select(AuditJob).where(AuditJob.user_id == uid).order_by(AuditJob.id))
        ],
        "messages": [
            {
                "subject": m.subject,
                "body": _RESET_LINK.sub("/reset/[link removed from the export]", m.body),
                "created_at": _iso(m.created_at),
            }
            for m in db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == uid))
        ],
    }


def _guard_export(db: Session, uid: int) -> dict[str, Any]:
    """The habit guard's settings and its opt-in hourly counts (there is nothing else: no frames)."""
    setting = db.get(GuardSetting, uid)
    return {
        "settings": None
        if setting is None
        else {
            "enabled": setting.enabled,
            "interval_min": setting.interval_min,
            "quiet_start_h": setting.quiet_start_h,
            "quiet_end_h": setting.quiet_end_h,
            "paused_until": _iso(setting.paused_until),
            "sound": setting.sound,
            "notify": setting.notify,
            "save_counts": setting.save_counts,
        },
        "hours": [
            {
                "day": _iso(h.day),
                "hour": h.hour,
                "measured_s": h.measured_s,
                "habit_s": h.habit_s,
                "nudges": h.nudges,
            }
            for h in db.scalars(
                select(GuardHour).where(GuardHour.user_id == uid).order_by(GuardHour.day, GuardHour.hour)
            )
        ],
    }


def delete_member(db: Session, user_id: int) -> None:
    """Removes the member and every row of theirs (explicitly, not trusting cascades alone)."""
    for table in MEMBER_TABLES:
        db.execute(delete(table).where(table.user_id == user_id))
    db.execute(delete(User).where(User.id == user_id))
