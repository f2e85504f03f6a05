"""The instructor's dashboard: retention by week of joining, active members, skipped techniques and
faults — aggregates only (an item needs 3 members), drawn as charts."""

from __future__ import annotations

import datetime as dt

from facecoach.members.practice import record_session
from facecoach.studio.retention import active_per_week, cohorts, faults_most, skipped_most
from tests.web.fixtures import Site

MON = dt.date(2026, 11, 2)


def test_retention_by_week_of_joining() -> None:
    joined = {1: MON, 2: MON + dt.timedelta(days=2), 3: MON + dt.timedelta(days=7)}
    practice = [
        (1, MON),
        (2, MON + dt.timedelta(days=3)),
        (1, MON + dt.timedelta(days=8)),
        (3, MON + dt.timedelta(days=9)),
    ]
    today = MON + dt.timedelta(days=10)
    rows = cohorts(joined, practice, today, weeks=4)
    assert [(c.week, c.size, c.retained) for c in rows] == [
        (MON, 2, [1.0, 0.5]),
        (MON + dt.timedelta(days=7), 1, [1.0]),
    ]
    assert active_per_week(practice, today, weeks=2) == [(MON, 2), (MON + dt.timedelta(days=7), 2)]


def test_an_item_needs_three_members() -> None:
    steps = {"steps": [{"technique_id": "cheek-puff", "skipped": True}]}
    assert skipped_most([(1, steps), (1, steps), (2, steps)]) == []  # 3 skips but 2 members
    assert skipped_most([(1, steps), (2, steps), (3, steps)]) == [("cheek-puff", 3)]
    faults = [(1, {"frown": 4}), (2, {"frown": 1, "squint": 9}), (3, {"frown": 2})]
    assert faults_most(faults) == [("frown", 7)]  # squint: one member only


def test_the_dashboard_shows_charts_for_the_instructor_only(site: Site) -> None:
    for role in ("member", "other", "free"):
        site.client(role)
        with site.db.session() as s:
            summary = {"technique_ids": ["smile-lift"], "reps": 4, "faults": {"forehead_wrinkle": 2}}
            record_session(s, site.user_ids[role], summary)
    page = site.client("instructor").get("/studio").text
    for chart in ("active-chart", "retention-chart", "skipped-chart", "faults-chart"):
        assert f'id="{chart}"' in page
    faults = page[page.index('id="faults-chart"') :]
    assert "forehead wrinkle" in faults[: faults.index("</svg>")] and ">6<" in faults
    assert 'id="active-now">3<' in page
    assert 'class="cell"' in page  # this week's cohort
    assert "member@example.org" not in page  # nobody by name or address
    assert site.client("member").get("/studio").status_code == 403
