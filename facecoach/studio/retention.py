"""What the instructor's dashboard shows, computed from plain rows (pure functions, no database): active
members per week, retention by week of joining, the techniques skipped most and the faults made most.

Only counts across members leave here, never one member's data: a technique or fault is listed only
when at least :data:`MIN_MEMBERS` different members contributed to it, so no bar can be one person.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MIN_MEMBERS = 3


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def active_per_week(
    practice: Iterable[tuple[int, dt.date]], today: dt.date, weeks: int = 12
) -> list[tuple[dt.date, int]]:
    """(Monday, members with at least one session that week) for the last ``weeks`` weeks, oldest first."""
    members: dict[dt.date, set[int]] = defaultdict(set)
    for user_id, day in practice:
        members[monday(day)].add(user_id)
    this = monday(today)
    starts = [this - dt.timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    return [(s, len(members.get(s, set()))) for s in starts]


@dataclass(frozen=True)
class Cohort:
    """Members who joined in the week of ``week``; ``retained[k]``: the share of them who practised in
    their k-th week after joining (k = 0 is the week they joined), for the weeks that have passed."""

    week: dt.date
    size: int
    retained: list[float]


def cohorts(
    joined: Mapping[int, dt.date], practice: Iterable[tuple[int, dt.date]], today: dt.date, weeks: int = 8
) -> list[Cohort]:
    """Retention by week of joining for the cohorts of the last ``weeks`` weeks (oldest first)."""
    active: dict[int, set[dt.date]] = defaultdict(set)
    for user_id, day in practice:
        active[user_id].add(monday(day))
    this = monday(today)
    by_week: dict[dt.date, list[int]] = defaultdict(list)
    for user_id, day in joined.items():
        by_week[monday(day)].append(user_id)
    out = []
    for w in range(weeks - 1, -1, -1):
        start = this - dt.timedelta(weeks=w)
        members = by_week.get(start, [])
        if not members:
            continue
        retained = []
        for k in range(w + 1):
            week = start + dt.timedelta(weeks=k)
            retained.append(sum(1 for m in members if week in active[m]) / len(members))
        out.append(Cohort(start, len(members), retained))
    return out


def _shared(counts: Counter[str], who: Mapping[str, set[int]], top: int) -> list[tuple[str, int]]:
    return [(k, n) for k, n in counts.most_common() if len(who[k]) >= MIN_MEMBERS][:top]


def skipped_most(sessions: Iterable[tuple[int, Mapping[str, Any]]], top: int = 8) -> list[tuple[str, int]]:
    """(technique id, times skipped) from live sessions' steps, most skipped first."""
    counts: Counter[str] = Counter()
    who: dict[str, set[int]] = defaultdict(set)
    for user_id, summary in sessions:
        for step in summary.get("steps") or []:
            if isinstance(step, dict) and step.get("skipped") and isinstance(step.get("technique_id"), str):
                counts[step["technique_id"]] += 1
                who[step["technique_id"]].add(user_id)
    return _shared(counts, who, top)


def faults_most(sessions: Iterable[tuple[int, Mapping[str, Any]]], top: int = 8) -> list[tuple[str, int]]:
    """(fault kind, times) summed over every session's fault counts, most frequent first."""
    counts: Counter[str] = Counter()
    who: dict[str, set[int]] = defaultdict(set)
    for user_id, faults in sessions:
        for kind, n in faults.items():
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                counts[str(kind)] += n
                who[str(kind)].add(user_id)
    return _shared(counts, who, top)


def share_active(per_week: Sequence[tuple[dt.date, int]], members: int) -> float:
    """This week's active members as a share of all members (0 when there are none)."""
    return per_week[-1][1] / members if members and per_week else 0.0
