"""Practice sessions (from live coaching) and what progress reads from them: sessions per week, streak."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import PracticeSession, User


class SessionSummaryError(ValueError):
    """The summary sent by live coaching is malformed (the field is named)."""


def record_session(db: Session, member_id: int, summary: Mapping[str, Any]) -> PracticeSession:
    """Store one coached session. ``summary`` keys: ``technique_ids`` (list of str), ``reps`` (int),
    ``faults`` (fault kind → count, or a list of fault kinds), ``duration_s`` (seconds), optional
    ``date`` (ISO date, default today UTC). Everything else is kept as is in ``summary``.
    """
    if db.get(User, member_id) is None:
        raise SessionSummaryError("member_id: no such member")
    ids = summary.get("technique_ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) and 0 < len(i) <= 100 for i in ids):
        raise SessionSummaryError("technique_ids: a list of technique ids is needed")
    reps = summary.get("reps", 0)
    if not isinstance(reps, int) or isinstance(reps, bool) or not 0 <= reps <= 100_000:
        raise SessionSummaryError("reps: a whole number ≥ 0 is needed")
    faults_in = summary.get("faults", {})
    faults: dict[str, int]
    if isinstance(faults_in, list):
        faults = dict(Counter(str(f) for f in faults_in))
    elif isinstance(faults_in, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in faults_in.values()
    ):
        faults = {str(k): int(v) for k, v in faults_in.items()}
    else:
        raise SessionSummaryError("faults: a mapping of fault kind to count (or a list of kinds) is needed")
    duration = summary.get("duration_s", 0.0)
    if not isinstance(duration, int | float) or isinstance(duration, bool) or not 0 <= duration <= 86_400:
        raise SessionSummaryError("duration_s: seconds between 0 and 86400 are needed")
    raw_date = summary.get("date")
    try:
        day = dt.date.fromisoformat(raw_date) if raw_date else dt.datetime.now(dt.UTC).date()
    except (TypeError, ValueError) as exc:
        raise SessionSummaryError("date: an ISO date (YYYY-MM-DD) is needed") from exc
    row = PracticeSession(
        user_id=member_id,
        date=day,
        technique_ids=list(ids),
        reps=reps,
        faults=faults,
        duration_s=float(duration),
        summary=_jsonable(dict(summary)),
    )
    db.add(row)
    db.flush()
    return row


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def session_dates(db: Session, member_id: int) -> list[dt.date]:
    return list(
        db.scalars(
            select(PracticeSession.date)
            .where(PracticeSession.user_id == member_id)
            .order_by(PracticeSession.date)
        )
    )


def streak(dates: Sequence[dt.date], today: dt.date) -> int:
    """Consecutive days with a session, ending today (or yesterday: today may not be done yet)."""
    days = set(dates)
    start = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while start in days:
        count += 1
        start -= dt.timedelta(days=1)
    return count


def sessions_per_week(dates: Sequence[dt.date], today: dt.date, weeks: int = 8) -> list[tuple[dt.date, int]]:
    """(Monday of the week, number of sessions) for the last ``weeks`` ISO weeks, oldest first."""
    monday = today - dt.timedelta(days=today.weekday())
    starts = [monday - dt.timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    counts = Counter(d - dt.timedelta(days=d.weekday()) for d in dates)
    return [(s, counts.get(s, 0)) for s in starts]
