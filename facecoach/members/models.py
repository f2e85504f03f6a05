"""Database tables of the membership site (SQLAlchemy 2, typed mappings).

Face pictures are biometric data: ``Scan.picture`` is only filled when the member ticked the box;
measurements (``Scan.measurements``, millimetres and degrees) are always kept. Every row that belongs
to a member references ``users.id`` with ``ON DELETE CASCADE`` so deleting a member removes it all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from facecoach.members.plans import allows


def utcnow() -> dt.datetime:
    """Naive UTC (both SQLite and PostgreSQL ``timestamp`` columns store it the same way)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    plan: Mapped[str] = mapped_column(String(20), default="free")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    plan_since: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    sessions: Mapped[list[AuthSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_instructor(self) -> bool:
        return self.plan == "instructor"

    @property
    def is_member(self) -> bool:
        """Paid member or instructor: everything a member may use."""
        return allows(self.plan, "member")


class AuthSession(Base):
    """A server-side login session; the cookie only carries its signed id, so deleting the row revokes it."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(back_populates="sessions")


class PasswordReset(Base):
    """A one-time reset token; only its SHA-256 is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class SignupRequest(Base):
    """A sign-up waiting for its address to be confirmed: the account exists only once the link in the
    mail is opened (so a sign-up answers the same whether the address has an account or not). Only the
    token's SHA-256 is stored; the password is already an argon2 hash."""

    __tablename__ = "signup_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """A record of mail sent to a member (subject, time); never the link a mail carries."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    to_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(100))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # succeeded | declined
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Assessment(Base):
    """The questionnaire answers (as the planner's ``Answers`` serialises them)."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Scan(Base):
    """A face scan: measurements always (mm, degrees); the picture only when the member opted in."""

    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), nullable=True
    )
    measurements: Mapped[dict[str, Any]] = mapped_column(JSON)
    picture: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # annotated JPEG, opt-in
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PracticeSession(Base):
    """One practice session (stored through :func:`facecoach.members.practice.record_session`).

    ``source`` is ``live`` when the server built the record from its own evaluator during live coaching,
    ``manual`` when the member logged it (the API): progress shows the two apart.
    """

    __tablename__ = "practice_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    technique_ids: Mapped[list[Any]] = mapped_column(JSON)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    faults: Mapped[dict[str, Any]] = mapped_column(JSON)  # fault kind → count
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)  # the validated summary (and live details)
    source: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LibraryEdit(Base):
    """An instructor's validated edit of a technique or claim; the YAML is the seed, this overrides it."""

    __tablename__ = "library_edits"
    __table_args__ = (UniqueConstraint("kind", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # technique | claim
    entry_id: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


#: The folder under ``data_dir`` holding the audits' kept videos (one sub-folder per audit).
AUDIT_MEDIA = "audit-media"


class AuditJob(Base):
    """A video audit running in the background; ``progress`` is 0…1, ``result`` the timeline."""

    __tablename__ = "audit_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    technique_id: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued|running|done|failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: The folder (a random name under ``data_dir/audit-media``) holding the uploaded video, kept with
    #: the audit only so its report can play it; None for audits before the report (and lesson jobs).
    media_dir: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class AuditThumbnail(Base):
    """A small JPEG of one fault's worst frame, made from the audited video by the job; kept only with
    its audit (gone with the audit or the account)."""

    __tablename__ = "audit_thumbnails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("audit_jobs.id", ondelete="CASCADE"), index=True)
    t_s: Mapped[float] = mapped_column(Float)  # the moment in the video (seconds)
    kind: Mapped[str] = mapped_column(String(100), default="")  # the fault it shows
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# The studio's tables share this Base (imported last: they import it from here).
from facecoach.members import studio_models as _studio_models  # noqa: E402, F401


class GuardSetting(Base):
    """A member's habit-guard choices (one row; absent means the defaults of ``guard/data/habits.yaml``).

    Hours are the member's local hours (0–23); ``paused_until`` is naive UTC; ``save_counts`` is the
    opt-in without which no :class:`GuardHour` is ever stored.
    """

    __tablename__ = "guard_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_min: Mapped[int] = mapped_column(Integer, default=10)
    quiet_start_h: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quiet_end_h: Mapped[int | None] = mapped_column(Integer, nullable=True)
    paused_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    sound: Mapped[bool] = mapped_column(Boolean, default=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    save_counts: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class GuardHour(Base):
    """Counts of one local hour from one page (``client_id``: a random id per open page, so a repeated
    upload replaces its own row): seconds watched, seconds of each held habit, nudges shown. Counts only:
    no frame, landmark or measurement is ever stored."""

    __tablename__ = "guard_hours"
    __table_args__ = (UniqueConstraint("user_id", "client_id", "day", "hour"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    hour: Mapped[int] = mapped_column(Integer)
    measured_s: Mapped[float] = mapped_column(Float, default=0.0)
    habit_s: Mapped[dict[str, Any]] = mapped_column(JSON)  # habit id → seconds held
    nudges: Mapped[dict[str, Any]] = mapped_column(JSON)  # habit id → nudges shown
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Checkin(Base):
    """A guided check-in (facecoach.progress.checkin): its measures, always (per measure the clip's value
    and spread, mm or degrees, the frames behind it and the framing: iris px, pose). Never a picture."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10), default="page")  # page | cli
    measures: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class CheckinPicture(Base):
    """The picture of one check-in, kept only when the member opted in, deletable on its own: a JPEG and
    its face landmarks (x, y px, for aligning before/after pairs). Gone with the check-in or the account."""

    __tablename__ = "checkin_pictures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), unique=True)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    points: Mapped[list[Any]] = mapped_column(JSON)  # 478 × [x, y] in the JPEG's pixels
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    """A personal API token (``facecoach.members.api_tokens``): only the SHA-256 of the secret is stored,
    with its short public ``prefix`` for lookup; shown once when created, revoked by setting
    ``revoked_at`` (the row stays, so the account page lists it as revoked)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON)  # e.g. ["read", "write"]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class LiveTicketUse(Base):
    """A live-session ticket that has opened its socket (``facecoach.web.live``): a ticket opens one
    socket only, so one read from a log or a proxy cannot open another within its 120 s. Kept until it
    expires (then it could not open anything anyway); not a member's data: no member in it."""

    __tablename__ = "live_ticket_uses"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
