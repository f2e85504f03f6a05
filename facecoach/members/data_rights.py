"""A member's data: export everything as one JSON document; delete everything in one transaction."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facecoach.members.auth import redact_links
from facecoach.members.models import (
    Assessment,
    AuditJob,
    AuthSession,
    Checkin,
    CheckinPicture,
    OutboxMessage,
    PasswordReset,
    Payment,
    PracticeSession,
    Scan,
    User,
)

# Every table holding a member's rows, children before parents (scans reference assessments).
MEMBER_TABLES: tuple[type[Any], ...] = (
    CheckinPicture,
    Checkin,
    Scan,
    Assessment,
    PracticeSession,
    Payment,
    AuditJob,
    OutboxMessage,
    PasswordReset,
    AuthSession,
)


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
        "checkins": [
            {"id": c.id, "source": c.source, "created_at": _iso(c.created_at), "measures": c.measures}
            for c in db.scalars(select(Checkin).where(Checkin.user_id == uid).order_by(Checkin.id))
        ],
        "checkin_pictures": [
            {
                "id": p.id,
                "checkin_id": p.checkin_id,
                "created_at": _iso(p.created_at),
                "points": p.points,
                "jpeg_base64": base64.b64encode(p.jpeg).decode(),
            }
            for p in db.scalars(
                select(CheckinPicture).where(CheckinPicture.user_id == uid).order_by(CheckinPicture.id)
            )
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
                # A link in an exported message would let whoever holds the file use it.
                "body": redact_links(m.body, "link removed from the export"),
                "created_at": _iso(m.created_at),
            }
            for m in db.scalars(select(OutboxMessage).where(OutboxMessage.user_id == uid))
        ],
    }


def delete_member(db: Session, user_id: int) -> None:
    """Removes the member and every row of theirs (explicitly, not trusting cascades alone)."""
    for table in MEMBER_TABLES:
        db.execute(delete(table).where(table.user_id == user_id))
    db.execute(delete(User).where(User.id == user_id))
