"""A member's data: export everything as one JSON document; delete everything in one transaction."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from facecoach.members.auth import redact_links
from facecoach.members.models import (
    AUDIT_MEDIA,
    ApiToken,
    Assessment,
    AuditJob,
    AuditThumbnail,
    AuthSession,
    Checkin,
    CheckinPicture,
    GuardHour,
    GuardSetting,
    OutboxMessage,
    PasswordReset,
    Payment,
    PracticeSession,
    Scan,
    User,
)
from facecoach.members.studio_models import (
    Lesson,
    MailPreference,
    PaymentEvent,
    Program,
    ProgramEnrolment,
    Subscription,
)

# Every table holding a member's rows, children before parents (scans reference assessments).
MEMBER_TABLES: tuple[type[Any], ...] = (
    CheckinPicture,
    Checkin,
    Scan,
    Assessment,
    PracticeSession,
    GuardHour,
    GuardSetting,
    Payment,
    AuditThumbnail,
    AuditJob,
    OutboxMessage,
    PasswordReset,
    AuthSession,
    ApiToken,
    ProgramEnrolment,
    MailPreference,
    Subscription,
    PaymentEvent,
)
#: The instructor's content: it stays when her account goes, without her as its author.
AUTHORED: tuple[tuple[type[Any], str], ...] = ((Lesson, "uploaded_by"), (Program, "created_by"))


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
        "video_audits": _audits_export(db, uid),
        **_studio_export(db, uid),
        # The tokens' names, scopes and dates; never their hashes (nor the secrets, which are not kept).
        "api_tokens": [
            {
                "id": t.id,
                "name": t.name,
                "scopes": t.scopes,
                "created_at": _iso(t.created_at),
                "last_used_at": _iso(t.last_used_at),
                "revoked_at": _iso(t.revoked_at),
            }
            for t in db.scalars(select(ApiToken).where(ApiToken.user_id == uid).order_by(ApiToken.id))
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


def _audits_export(db: Session, uid: int) -> list[dict[str, Any]]:
    """Each audit with its result and its worst-frame thumbnails (JPEG, base64: they are the member's
    pictures); the kept video is not in the export (``video_kept`` says whether the site still has it —
    it is the member's own upload, and deleting the audit deletes it)."""
    shots: dict[int, list[dict[str, Any]]] = {}
    for t in db.scalars(
        select(AuditThumbnail).where(AuditThumbnail.user_id == uid).order_by(AuditThumbnail.id)
    ):
        shots.setdefault(t.job_id, []).append(
            {"t_s": t.t_s, "kind": t.kind, "jpeg_base64": base64.b64encode(t.jpeg).decode()}
        )
    return [
        {
            "id": j.id,
            "technique_id": j.technique_id or None,
            "mode": "technique" if j.technique_id else "any tutorial",
            "filename": j.filename,
            "status": j.status,
            "error": j.error or None,
            "result": j.result,
            "created_at": _iso(j.created_at),
            "video_kept": j.media_dir is not None,
            "thumbnails": shots.get(j.id, []),
        }
        for j in db.scalars(select(AuditJob).where(AuditJob.user_id == uid).order_by(AuditJob.id))
    ]


def _studio_export(db: Session, uid: int) -> dict[str, Any]:
    """Programs followed, mail preferences, subscriptions; for the instructor her lessons and programs."""
    enrolments = db.execute(
        select(ProgramEnrolment, Program.slug)
        .join(Program, Program.id == ProgramEnrolment.program_id)
        .where(ProgramEnrolment.user_id == uid)
        .order_by(ProgramEnrolment.id)
    )
    prefs = db.scalar(select(MailPreference).where(MailPreference.user_id == uid))
    return {
        "programs_followed": [
            {"program": slug, "started_on": _iso(e.started_on), "ended_at": _iso(e.ended_at)}
            for e, slug in enrolments
        ],
        "mail_preferences": None
        if prefs is None
        else {
            "reminders": prefs.reminders,
            "days": prefs.days,
            "at_local": prefs.at_local,
            "timezone": prefs.timezone,
            "weekly_summary": prefs.weekly_summary,
        },
        "subscriptions": [
            {
                "provider": s.provider,
                "plan": s.plan,
                "billing": s.billing,
                "status": s.status,
                "period_start": _iso(s.period_start),
                "period_end": _iso(s.period_end),
                "cancel_at_period_end": s.cancel_at_period_end,
                "updated_at": _iso(s.updated_at),
            }
            for s in db.scalars(select(Subscription).where(Subscription.user_id == uid))
        ],
        "lessons_uploaded": [
            {
                "technique_id": lesson.technique_id,
                "file": lesson.original_name,
                "created_at": _iso(lesson.created_at),
            }
            for lesson in db.scalars(select(Lesson).where(Lesson.uploaded_by == uid).order_by(Lesson.id))
        ],
        "programs_created": [
            {"slug": p.slug, "title": p.title, "weeks": p.weeks}
            for p in db.scalars(select(Program).where(Program.created_by == uid).order_by(Program.id))
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


def remove_audit_media(data_dir: Path, names: list[str | None]) -> None:
    """Delete the kept-video folders of audits (``audit_jobs.media_dir`` names; others are ignored)."""
    for name in names:
        if name and re.fullmatch(r"[0-9a-f]{8,64}", name):
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(data_dir / AUDIT_MEDIA / name)


def delete_member(db: Session, user_id: int, data_dir: Path | None = None) -> None:
    """Removes the member and every row of theirs (explicitly, not trusting cascades alone); with
    ``data_dir``, also the files kept with their audits (the uploaded videos)."""
    if data_dir is not None:
        names = list(db.scalars(select(AuditJob.media_dir).where(AuditJob.user_id == user_id)))
        remove_audit_media(data_dir, names)
    for table in MEMBER_TABLES:
        db.execute(delete(table).where(table.user_id == user_id))
    for table, column in AUTHORED:
        db.execute(update(table).where(getattr(table, column) == user_id).values({column: None}))
    db.execute(delete(User).where(User.id == user_id))
