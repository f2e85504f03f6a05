"""Practice reminders and the weekly summary, decided in each member's own time zone.

A reminder goes on a chosen weekday once the chosen local time has come, at most
:data:`REMINDER_WINDOW` later (a scheduler that was down at 07:30 does not wake anyone at midnight),
once a day, and never to a member who has already practised that local day. The weekly summary goes on
Monday from the member's chosen time (08:00 if none), once a week, about the week before.

``run_once`` is what ``facecoach reminders`` runs (from cron, or every minute with ``--loop``); the
decisions are the pure functions above it, given the time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.db import Database
from facecoach.members.mail import Mailer
from facecoach.members.models import PracticeSession, User
from facecoach.members.practice import streak
from facecoach.members.studio_models import MailPreference
from facecoach.studio import mailing

REMINDER_WINDOW = dt.timedelta(hours=3)
SUMMARY_TIME = dt.time(8, 0)


class PreferenceError(ValueError):
    """Reminder preferences that cannot be kept (the message names the field)."""


def parse_time(text: str) -> dt.time:
    try:
        hours, minutes = text.strip().split(":")
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise PreferenceError("time: give it as HH:MM, e.g. 07:30") from None


def zone(name: str) -> ZoneInfo:
    if name not in available_timezones():
        raise PreferenceError(f"time zone: '{name[:60]}' is not a time zone name (e.g. Europe/Vienna)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PreferenceError(f"time zone: '{name[:60]}' is not a time zone name") from None


def local_now(now_utc: dt.datetime, timezone: str) -> dt.datetime:
    """``now_utc`` (aware) in the member's zone (UTC if the stored name no longer exists)."""
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return now_utc.astimezone(tz)


def reminder_due(pref: MailPreference, local: dt.datetime, practised: set[dt.date]) -> bool:
    if not pref.reminders or local.isoweekday() not in set(pref.days or []):
        return False
    at = dt.datetime.combine(local.date(), parse_time(pref.at_local), tzinfo=local.tzinfo)
    if not at <= local < at + REMINDER_WINDOW:
        return False
    return pref.last_reminder_on != local.date() and local.date() not in practised


def summary_due(pref: MailPreference, local: dt.datetime) -> bool:
    if not pref.weekly_summary or local.isoweekday() != 1:
        return False
    at = parse_time(pref.at_local) if pref.at_local else SUMMARY_TIME
    return local.time() >= at and pref.last_summary_on != local.date()


def practised_days(db: Session, user_id: int, local: dt.datetime) -> set[dt.date]:
    """The member's local days with a session around ``local`` (the stored day, and the local day of
    the time it was recorded: a session logged for "today" in another zone still counts)."""
    since = (local - dt.timedelta(days=2)).astimezone(dt.UTC).replace(tzinfo=None)
    rows = db.execute(
        select(PracticeSession.date, PracticeSession.created_at).where(
            PracticeSession.user_id == user_id, PracticeSession.created_at >= since
        )
    )
    days = set()
    for day, created in rows:
        days.add(day)
        days.add(created.replace(tzinfo=dt.UTC).astimezone(local.tzinfo).date())
    return days


@dataclass(frozen=True)
class WeekSummary:
    sessions: int
    minutes: float
    streak: int
    top_fault: str | None


def week_summary(db: Session, user_id: int, local: dt.datetime) -> WeekSummary:
    """The member's own week before ``local``'s Monday: sessions, minutes, streak, most frequent fault."""
    monday = local.date() - dt.timedelta(days=local.weekday())
    start = monday - dt.timedelta(days=7)
    rows = list(
        db.execute(
            select(PracticeSession.date, PracticeSession.duration_s, PracticeSession.faults).where(
                PracticeSession.user_id == user_id,
                PracticeSession.date >= start,
                PracticeSession.date < monday,
            )
        )
    )
    faults: Counter[str] = Counter()
    for _d, _s, counts in rows:
        faults.update({str(k): int(v) for k, v in (counts or {}).items() if isinstance(v, int)})
    dates = list(db.scalars(select(PracticeSession.date).where(PracticeSession.user_id == user_id)))
    top = faults.most_common(1)[0][0] if faults else None
    minutes = sum(float(s) for _d, s, _f in rows) / 60.0
    return WeekSummary(len(rows), minutes, streak(dates, local.date()), top)


def _streak_words(days: int) -> str:
    return f"Your streak: {days} day{'s' if days != 1 else ''} in a row." if days >= 2 else ""


@dataclass(frozen=True)
class RunResult:
    reminders: int
    summaries: int
    failed: int


def _summary_fields(s: WeekSummary) -> dict[str, str]:
    fault = s.top_fault.replace("_", " ") if s.top_fault else ""
    return {
        "sessions": f"{s.sessions} time{'s' if s.sessions != 1 else ''}",
        "minutes": f"about {round(s.minutes)} minutes in all",
        "streak": _streak_words(s.streak),
        "top_fault": f"What the coach saw most: {fault}. Keep an eye on it this week.\n" if fault else "",
    }


@dataclass(frozen=True)
class Outgoing:
    """Where studio mail goes and how its links are made."""

    mailer: Mailer
    base_url: str
    secret: str

    def send(self, db: Session, user: User, kind: str, **fields: str) -> bool:
        mail, recorded = mailing.compose(kind, user.email, user.id, self.base_url, self.secret, **fields)
        return mailing.send(db, self.mailer, user.id, mail, recorded)


def _one_member(
    db: Session, out: Outgoing, pref: MailPreference, user: User, now_utc: dt.datetime
) -> tuple[int, int, int]:
    local = local_now(now_utc, pref.timezone)
    sent = summaries = failed = 0
    name = user.name or "there"
    if reminder_due(pref, local, practised_days(db, user.id, local)):
        dates = list(db.scalars(select(PracticeSession.date).where(PracticeSession.user_id == user.id)))
        if out.send(db, user, "reminder", name=name, streak=_streak_words(streak(dates, local.date()))):
            pref.last_reminder_on, sent = local.date(), 1
        else:
            failed += 1
    if summary_due(pref, local):
        if out.send(
            db, user, "weekly_summary", name=name, **_summary_fields(week_summary(db, user.id, local))
        ):
            pref.last_summary_on, summaries = local.date(), 1
        else:
            failed += 1
    return sent, summaries, failed


def run_once(db: Database, mailer: Mailer, base_url: str, secret: str, now_utc: dt.datetime) -> RunResult:
    """Send every reminder and summary due at ``now_utc`` (aware); each member in their own transaction,
    so one failure does not hold back the others and a sent mail is marked at once."""
    with db.session() as s:
        ids = list(
            s.scalars(
                select(MailPreference.id).where(
                    (MailPreference.reminders.is_(True)) | (MailPreference.weekly_summary.is_(True))
                )
            )
        )
    totals = [0, 0, 0]
    for pref_id in ids:
        with db.session() as s:
            pref = s.get(MailPreference, pref_id)
            user = s.get(User, pref.user_id) if pref is not None else None
            if pref is None or user is None:
                continue
            for i, n in enumerate(_one_member(s, Outgoing(mailer, base_url, secret), pref, user, now_utc)):
                totals[i] += n
    return RunResult(*totals)
