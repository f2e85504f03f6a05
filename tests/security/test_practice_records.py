"""Issue 11, practice records the site can trust: ``POST /api/sessions`` validates a summary with the one
model (known technique and fault ids, bounded counts and lengths, a date within a day of today), stores
it as *manual*, and progress shows manual sessions apart from the live ones the server built.

Before the fix every refused summary below was stored (201) and the charts could not tell them apart.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from facecoach.members.models import PracticeSession
from facecoach.members.practice import record_session
from tests.web.fixtures import Site


def _today() -> dt.date:
    """Today (UTC), read when a test runs: dates made at collection go stale when the suite crosses
    midnight (collected at 23:59, "the day after tomorrow" is tomorrow by 00:01 and is accepted)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class DaysFromToday:
    """A date field given as days from today, turned into a date only when the request is made."""

    days: int


GOOD: dict[str, Any] = {
    "technique_ids": ["smile-lift", "jaw-release"],
    "reps": 8,
    "faults": {"forehead_wrinkle": 2, "frown": 1},
    "duration_s": 300.0,
    "date": DaysFromToday(0),
}

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("30 MB fault name", {"faults": {"f" * 30_000_000: 1}}, "faults"),
    ("50,000 fault kinds", {"faults": {f"kind_{i}": 1 for i in range(50_000)}}, "faults"),
    ("a count of 10^18", {"faults": {"frown": 10**18}}, "faults"),
    ("10^18 reps", {"reps": 10**18}, "reps"),
    ("unknown technique id", {"technique_ids": ["smile-lift", "no-such-thing"]}, "technique_ids"),
    ("a technique id that is not an id", {"technique_ids": ["<script>"]}, "technique_ids"),
    ("10,000 technique ids", {"technique_ids": ["smile-lift"] * 10_000}, "technique_ids"),
    ("unknown fault id", {"faults": {"sneezing": 1}}, "faults"),
    ("year 1", {"date": "0001-01-01"}, "date"),
    ("year 9999", {"date": "9999-12-31"}, "date"),
    ("two days ago", {"date": DaysFromToday(-2)}, "date"),
    ("the day after tomorrow", {"date": DaysFromToday(2)}, "date"),
    ("a week of practice", {"duration_s": 7 * 86_400}, "duration_s"),
    ("claims to be live", {"source": "live"}, "source"),
    ("an extra field", {"notes": "x" * 1000}, "notes"),
    ("reps as true", {"reps": True}, "reps"),
]


def _post(site: Site, body: dict[str, Any]) -> Any:
    body = {
        k: (_today() + dt.timedelta(days=v.days)).isoformat() if isinstance(v, DaysFromToday) else v
        for k, v in body.items()
    }
    c = site.client("member")
    return c.post("/api/sessions", json=body, headers={"X-CSRF-Token": c.get("/api/me").json()["csrf_token"]})


def _count(site: Site) -> int:
    with site.db.session() as s:
        return int(s.scalar(select(func.count(PracticeSession.id))) or 0)


@pytest.mark.parametrize(("label", "change", "field"), REFUSED, ids=[r[0] for r in REFUSED])
def test_unbelievable_summaries_are_refused(
    sqlite_site: Site, label: str, change: dict[str, Any], field: str
) -> None:
    r = _post(sqlite_site, {**GOOD, **change})
    assert r.status_code == 422, (label, r.status_code, r.text[:300])
    assert field in r.text[:2000], (label, r.text[:300])  # the error names the field
    assert len(r.content) < 100_000  # the refusal does not echo a giant input back in full
    assert _count(sqlite_site) == 0


@pytest.mark.parametrize("days", [-1, 0, 1])
def test_a_day_either_way_is_accepted_and_stored_as_manual(sqlite_site: Site, days: int) -> None:
    day = (_today() + dt.timedelta(days=days)).isoformat()
    r = _post(sqlite_site, {**GOOD, "date": day})
    assert r.status_code == 201, r.text
    assert r.json()["date"] == day and r.json()["source"] == "manual"
    with sqlite_site.db.session() as s:
        row = s.scalars(select(PracticeSession)).one()
        assert row.source == "manual" and row.summary["source"] == "manual"
        assert row.faults == GOOD["faults"] and row.technique_ids == GOOD["technique_ids"]


def test_an_instructors_new_technique_is_known(sqlite_site: Site) -> None:
    """Technique ids come from the app's library (YAML plus edits), not from the YAML alone."""
    ctx = sqlite_site.app.state.ctx
    with sqlite_site.db.session() as s:
        data = ctx.library.current(s).techniques["jaw-release"].model_dump(mode="json")
        data.update(id="jaw-release-gentle", name="Gentle jaw release")
        ctx.library.save(s, "technique", data, None)
    assert _post(sqlite_site, {**GOOD, "technique_ids": ["jaw-release-gentle"]}).status_code == 201


def test_the_fault_ids_are_the_coaching_engines() -> None:
    from facecoach.coaching.specs import fault_kinds, load_movements
    from facecoach.knowledge.models import FaultKind

    assert fault_kinds() == frozenset(load_movements().faults) == frozenset(FaultKind.__args__)  # type: ignore[attr-defined]


def test_the_export_stays_small_after_an_attack(sqlite_site: Site) -> None:
    """The member whose export grew to 63 MB: the same posts now leave nothing behind."""
    for _, change, _ in REFUSED[:4]:
        _post(sqlite_site, {**GOOD, **change})
    assert _post(sqlite_site, GOOD).status_code == 201
    export = sqlite_site.client("member").get("/api/export")
    assert export.status_code == 200 and len(export.content) < 20_000
    assert len(export.json()["practice_sessions"]) == 1


def _live_session(site: Site, day: dt.date) -> None:
    """A session as live coaching stores it (the server-built record, source live)."""
    site.client("member")  # signs the member up
    with site.db.session() as s:
        record_session(
            s,
            site.user_ids["member"],
            {"technique_ids": ["smile-lift"], "reps": 5, "duration_s": 60.0, "date": day.isoformat()},
            source="live",
        )


def test_progress_marks_manual_sessions(sqlite_site: Site) -> None:
    _live_session(sqlite_site, _today())
    _live_session(sqlite_site, _today())
    assert _post(sqlite_site, GOOD).status_code == 201
    c = sqlite_site.client("member")
    html = c.get("/progress").text
    this_week = re.findall(r'class="bar" data-count="(\d+)" data-manual="(\d+)"', html)[-1]
    assert this_week == ("3", "1")
    assert len(re.findall(r'class="bar-manual" data-manual="1"', html)) == 1
    assert 'id="manual-sessions">1<' in html and "logged by hand" in html
    weeks = c.get("/api/progress").json()["sessions_per_week"]
    assert weeks[-1] == {**weeks[-1], "sessions": 3, "manual": 1}
    assert sum(w["manual"] for w in weeks) == 1


def test_progress_without_manual_sessions_shows_no_mark(sqlite_site: Site) -> None:
    _live_session(sqlite_site, _today())
    html = sqlite_site.client("member").get("/progress").text
    assert "bar-manual" not in html and "manual-sessions" not in html


def test_live_sessions_are_saved_through_the_same_model() -> None:
    """The live record is built on the server and validated by the same model before it is saved."""
    from facecoach.live.session import saved_record
    from facecoach.members.session_summary import SessionSummary

    record, details = saved_record(
        {
            "technique_ids": ["smile-lift"],
            "reps": 2,
            "faults": {"forehead_wrinkle": 1},
            "duration_s": 40.0,
            "steps": [{"technique_id": "smile-lift", "completed": True}],
            "mode": "landmarks",
            "source": "live",
        }
    )
    assert isinstance(record, SessionSummary) and record.reps == 2
    assert details == {"steps": [{"technique_id": "smile-lift", "completed": True}], "mode": "landmarks"}
    assert json.loads(record.model_dump_json())["faults"] == {"forehead_wrinkle": 1}
