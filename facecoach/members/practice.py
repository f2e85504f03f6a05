"""Practice sessions (live coaching, or logged by hand) and what progress reads from them: sessions per
week, streak."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import PracticeSession, User
from facecoach.members.session_summary import SessionSummary, SessionSummaryError, Source, parse_summary

__all__ = [
    "SessionSummary",
    "SessionSummaryError",
    "record_session",
    "session_dates",
    "sessions_per_week",
    "streak",
]


def record_session(
    db: Session,
    member_id: int,
    summary: SessionSummary | Mapping[str, Any],
    source: Source = "manual",
    details: Mapping[str, Any] | None = None,
) -> PracticeSession:
    """Store one practice session of ``member_id``.

    ``summary`` is a :class:`SessionSummary` (the API and live coaching validate and check it first), or
    for trusted callers (seeding, benchmarks) a mapping with its fields, validated by the same model;
    the mapping's other keys are kept in the stored ``summary`` as they are. ``source`` says where it
    came from: ``"live"`` only for a record the server built from its own evaluator, ``"manual"``
    otherwise. ``details`` (live coaching: the steps and the mode) are kept beside it.
    """
    if db.get(User, member_id) is None:
        raise SessionSummaryError("member_id: no such member")
    extra: dict[str, Any] = {}
    if not isinstance(summary, SessionSummary):
        fields = set(SessionSummary.model_fields)
        extra = {k: v for k, v in summary.items() if k not in fields and k != "source"}
        summary = parse_summary({k: v for k, v in summary.items() if k in fields})
    stored = {
        **_jsonable(extra),
        **_jsonable(dict(details or {})),
        **summary.model_dump(mode="json", exclude_none=True),
        "source": source,
    }
    row = PracticeSession(
        user_id=member_id,
        date=summary.date or dt.datetime.now(dt.UTC).date(),
        technique_ids=list(summary.technique_ids),
        reps=summary.reps,
        faults=dict(summary.faults),
        duration_s=float(summary.duration_s),
        summary=stored,
        source=source,
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


def session_dates(db: Session, member_id: int, source: Source | None = None) -> list[dt.date]:
    """The days of the member's sessions, oldest first (``source``: only the live or the manual ones)."""
    query = select(PracticeSession.date).where(PracticeSession.user_id == member_id)
    if source is not None:
        query = query.where(PracticeSession.source == source)
    return list(db.scalars(query.order_by(PracticeSession.date)))


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
