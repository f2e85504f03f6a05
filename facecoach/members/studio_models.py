"""Tables of the instructor's studio (migration ``0004_studio``): lessons, programs and who follows them,
mail preferences, and the payment provider's subscriptions and processed webhook events.

Rows that belong to a member reference ``users.id`` with ``ON DELETE CASCADE`` (and
:func:`facecoach.members.data_rights.delete_member` deletes them explicitly); the instructor's content
(lessons, programs) keeps existing when her account goes, its author set to NULL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facecoach.members.models import Base, utcnow


class Lesson(Base):
    """The instructor's demonstration video of one technique.

    Files live in ``data_dir/lessons/<directory>/``: the upload as it came, the web copy when one was
    needed, the poster frame. ``job_id`` is the ``audit_jobs`` row that processed it (poster, web copy,
    the coaching engine's audit); its result says what the audit found. Members see a lesson only once
    it is ``published`` (``media_*`` then say which file and type); ``published_despite``
    keeps the audit's findings she published it with.
    """

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    technique_id: Mapped[str] = mapped_column(String(100), index=True)
    directory: Mapped[str] = mapped_column(String(40), unique=True)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    original_file: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("audit_jobs.id", ondelete="SET NULL"), nullable=True, index=True
    )
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    #: What members get, copied from the job's result when published (the job row may go later).
    media_file: Mapped[str] = mapped_column(String(40), default="")
    media_type: Mapped[str] = mapped_column(String(40), default="")
    has_poster: Mapped[bool] = mapped_column(Boolean, default=False)
    published_despite: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Program(Base):
    """A multi-week program: ``weeks`` is a list (one entry a week) of lists of technique ids."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    weeks: Mapped[list[Any]] = mapped_column(JSON)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ProgramEnrolment(Base):
    """A member following a program from ``started_on`` (day 1 of its week 1) until ``ended_at``."""

    __tablename__ = "program_enrolments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class MailPreference(Base):
    """What a member wants by mail: practice reminders (ISO weekdays 1–7 in ``days``, at ``at_local``
    "HH:MM" in ``timezone``) and the weekly summary. ``last_reminder_on``/``last_summary_on`` are the
    member's local dates of the last one sent, so each goes at most once a day / a week."""

    __tablename__ = "mail_preferences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=False)
    days: Mapped[list[Any]] = mapped_column(JSON)
    at_local: Mapped[str] = mapped_column(String(5), default="08:00")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    weekly_summary: Mapped[bool] = mapped_column(Boolean, default=False)
    last_reminder_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_summary_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Subscription(Base):
    """A member's subscription at a payment provider (the provider's customer and subscription ids).

    Since ``0008_billing``: which billing option of the plan (``monthly``/``yearly``), the provider's
    subscription item (what a change of price replaces), the current period, whether it ends at the
    period's end (a cancellation), and ``provider_changed_at`` — the provider's time (Unix seconds) of
    the state stored, so that an older event arriving late changes nothing.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    customer_ref: Mapped[str] = mapped_column(String(100), default="")
    subscription_ref: Mapped[str] = mapped_column(String(100), default="", index=True)
    plan: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))  # active | past_due | canceled
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    billing: Mapped[str] = mapped_column(String(20), default="monthly")
    item_ref: Mapped[str] = mapped_column(String(100), default="")
    period_start: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    period_end: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_changed_at: Mapped[int] = mapped_column(BigInteger, default=0)


class PaymentEvent(Base):
    """A provider's webhook event already handled (its id, never its payload): a redelivery is a no-op."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
