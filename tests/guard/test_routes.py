"""The guard's routes on a real app and database: who may see the page, the settings (interval, quiet
hours, pause, off), the opt-in counts and everything they refuse, the day and week views, the export and
the account deletion."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from sqlalchemy import select

from facecoach.members.models import GuardHour, GuardSetting
from tests.web.fixtures import Site, csrf_of


def _post(site: Site, role: str, path: str, body: Any, token: str | None = None) -> Any:
    client = site.client(role)
    token = token if token is not None else csrf_of(client.get("/guard").text)
    return client.post(
        path,
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token},
    )


def _hour(**over: Any) -> dict[str, Any]:
    today = dt.datetime.now(dt.UTC).date()
    return {
        "day": today.isoformat(),
        "hour": 10,
        "measured_s": 3000.0,
        "habit_s": {"frown": 600.0},
        "nudges": {"frown": 1},
        **over,
    }


def test_who_sees_the_page(sqlite_site: Site) -> None:
    site = sqlite_site
    r = site.client("anon").get("/guard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/guard"
    free = site.client("free").get("/guard")
    assert free.status_code == 200 and 'id="guard-config"' not in free.text and "member" in free.text.lower()
    page = site.client("member").get("/guard")
    assert page.status_code == 200
    assert "Nothing of your face leaves this device" in page.text
    config = json.loads(
        re.search(r'<script type="application/json" id="guard-config">(.*?)</script>', page.text, re.S).group(
            1
        )
    )
    assert config["settings"] == {
        "enabled": True,
        "interval_min": 10,
        "quiet_start_h": None,
        "quiet_end_h": None,
        "paused_until_s": None,
        "sound": False,
        "notify": False,
        "save_counts": False,
    }
    assert config["model_url"] == "/static/models/face_landmarker.task" and config[
        "vision_module"
    ].startswith("/static/vendor/tasks-vision/")
    assert '<a href="/guard"' in page.text  # the nav link
    rules = site.client("anon").get("/guard/rules.json").json()
    assert [h["id"] for h in rules["rules"]["habits"]] == [
        "frown",
        "brow_raise",
        "squint",
        "lip_press",
        "smirk",
    ]
    assert len(rules["basis"]["ids"]) == len(rules["basis"]["vertices"]) > 10
    # settings and counts are for members only, and need the CSRF token
    assert _post(site, "free", "/guard/settings", {"sound": True}).status_code == 402
    assert _post(site, "member", "/guard/settings", {"sound": True}, token="forged").status_code == 403


def test_settings_interval_quiet_hours_pause_and_off(site: Site) -> None:
    uid = site.client("member") and site.user_ids["member"]
    r = _post(
        site,
        "member",
        "/guard/settings",
        {"interval_min": 30, "quiet_start_h": 22, "quiet_end_h": 7, "sound": True},
    )
    assert r.status_code == 200, r.text
    assert r.json() | {} == {
        **r.json(),
        "interval_min": 30,
        "quiet_start_h": 22,
        "quiet_end_h": 7,
        "sound": True,
    }
    # an interval the rules do not offer, an hour past 23, an unknown key: refused, nothing changed
    for bad in ({"interval_min": 3}, {"quiet_start_h": 24}, {"landmarks": [1, 2, 3]}, [1, 2]):
        r = _post(site, "member", "/guard/settings", bad)
        assert r.status_code == 422, (bad, r.text)
    before = time.time()
    paused = _post(site, "member", "/guard/settings", {"pause": True}).json()
    assert before + 3590 <= paused["paused_until_s"] <= time.time() + 3610
    assert _post(site, "member", "/guard/settings", {"resume": True}).json()["paused_until_s"] is None
    off = _post(site, "member", "/guard/settings", {"enabled": False}).json()
    assert off["enabled"] is False and off["interval_min"] == 30
    assert _post(site, "member", "/guard/settings", {"quiet_hours": False}).json()["quiet_start_h"] is None
    with site.db.session() as s:
        row = s.get(GuardSetting, uid)
        assert row is not None and (row.enabled, row.interval_min, row.quiet_start_h, row.sound) == (
            False,
            30,
            None,
            True,
        )
    # the page the member opens next starts from the stored settings
    page = site.client("member").get("/guard").text
    assert '"enabled": false' in page and '"interval_min": 30' in page


def test_counts_need_the_opt_in_and_only_counts_are_taken(site: Site) -> None:
    uid = site.client("member") and site.user_ids["member"]
    upload = {"client_id": "a1b2c3d4e5f60718", "hours": [_hour()]}
    r = _post(site, "member", "/guard/counts", upload)
    assert r.status_code == 409 and "off" in r.json()["detail"]
    assert _post(site, "member", "/guard/settings", {"save_counts": True}).status_code == 200
    refused = [
        {**upload, "landmarks": [[0.1, 0.2, 0.3]] * 478},  # anything but counts
        {"client_id": "a1b2c3d4e5f60718", "hours": [{**_hour(), "points": [1.0, 2.0]}]},
        {"client_id": "a1b2c3d4e5f60718", "hours": [_hour(habit_s={"jaw": 5.0})]},  # an unknown habit
        {"client_id": "a1b2c3d4e5f60718", "hours": [_hour(habit_s={"frown": 3500.0}, measured_s=600.0)]},
        {"client_id": "a1b2c3d4e5f60718", "hours": [_hour(hour=24)]},
        {"client_id": "a1b2c3d4e5f60718", "hours": [_hour(day="2020-01-01")]},  # not a recent day
        {"client_id": "not hex!", "hours": [_hour()]},
        {"client_id": "a1b2c3d4e5f60718", "hours": [_hour()] * 49},
    ]
    for body in refused:
        r = _post(site, "member", "/guard/counts", body)
        assert r.status_code == 422, (str(body)[:80], r.text)
        assert "Traceback" not in r.text
    big = {"client_id": "a1b2c3d4e5f60718", "hours": [_hour()], "pad": "x" * 20000}
    assert _post(site, "member", "/guard/counts", big).status_code == 413
    with site.db.session() as s:
        assert s.scalars(select(GuardHour).where(GuardHour.user_id == uid)).all() == []
    # accepted; sent again (a retry, or later in the hour): replaced, not added
    assert _post(site, "member", "/guard/counts", upload).json() == {"saved": 1}
    later = {"client_id": "a1b2c3d4e5f60718", "hours": [_hour(measured_s=3600.0, habit_s={"frown": 900.0})]}
    assert _post(site, "member", "/guard/counts", later).json() == {"saved": 1}
    with site.db.session() as s:
        rows = s.scalars(select(GuardHour).where(GuardHour.user_id == uid)).all()
        assert [(r.measured_s, r.habit_s, r.nudges) for r in rows] == [
            (3600.0, {"frown": 900.0}, {"frown": 1})
        ]
    # another page (tab) of the same member adds its own row; the day view adds them up
    other = {
        "client_id": "ffffffffffffffff",
        "hours": [_hour(habit_s={"frown": 300.0, "squint": 120.0}, nudges={})],
    }
    assert _post(site, "member", "/guard/counts", other).status_code == 200
    html = site.client("member").get("/guard/history").text
    frown = re.search(r'class="habit" data-habit="frown" data-hour="10" data-minutes="([0-9.]+)"', html)
    assert frown and float(frown.group(1)) == pytest.approx(20.0)  # (900 + 300) s
    squint = re.search(r'class="habit" data-habit="squint" data-hour="10" data-minutes="([0-9.]+)"', html)
    assert squint and float(squint.group(1)) == pytest.approx(2.0)
    assert 'id="guard-not-saving"' not in html
    # another member sees none of it, and cannot write it either
    assert 'data-habit="frown" data-hour="10"' not in site.client("other").get("/guard/history").text
    # forget: every count goes, the settings stay
    client = site.client("member")
    r = client.post(
        "/guard/forget",
        headers={"Accept": "application/json", "X-CSRF-Token": csrf_of(client.get("/guard").text)},
    )
    assert r.json() == {"deleted": 2}
    with site.db.session() as s:
        assert s.scalars(select(GuardHour).where(GuardHour.user_id == uid)).all() == []
        assert s.get(GuardSetting, uid) is not None


def test_week_view_says_how_the_habit_changed_and_shows_the_routine_tip(sqlite_site: Site) -> None:
    site = sqlite_site
    client = site.client("member")
    uid = site.user_ids["member"]
    today = dt.datetime.now(dt.UTC).date()
    last_week = today - dt.timedelta(days=7)
    from facecoach.members.models import Assessment

    with site.db.session() as s:
        s.add(GuardSetting(user_id=uid, save_counts=True))
        s.add(
            GuardHour(
                user_id=uid,
                client_id="a" * 16,
                day=last_week,
                hour=9,
                measured_s=3600.0,
                habit_s={"frown": 1000.0},
                nudges={},
            )
        )
        s.add(
            GuardHour(
                user_id=uid,
                client_id="a" * 16,
                day=today,
                hour=9,
                measured_s=3600.0,
                habit_s={"frown": 600.0},
                nudges={},
            )
        )
        s.add(Assessment(user_id=uid, answers=_answers_with_frowning()))
    html = client.get("/guard/history").text
    assert "Frowning: 40 % less this week than last (per hour watched)." in html
    assert (
        "Your routine&#39;s tip: When you catch yourself frowning" in html
        or "Your routine's tip: When you catch yourself frowning" in html
    )
    points = re.findall(r'class="point" data-habit="frown" data-rate="([0-9.]+)"', html)
    assert [float(p) for p in points][-2:] == pytest.approx([1000 / 60, 10.0], abs=1e-3)
    # a day that is not a date: a clear 422, not a 500
    assert client.get("/guard/history?day=someday").status_code == 422


def _answers_with_frowning() -> dict[str, Any]:
    from facecoach.planning.examples import load_examples

    for example in load_examples():
        if example.answers.get("habits", {}).get("frowning"):
            return example.answers
    raise AssertionError("no example with frowning")


def test_export_and_deletion_carry_the_guard(site: Site) -> None:
    uid = site.client("member") and site.user_ids["member"]
    _post(site, "member", "/guard/settings", {"save_counts": True, "interval_min": 15})
    _post(site, "member", "/guard/counts", {"client_id": "abcdefabcdefabcd", "hours": [_hour()]})
    export = site.client("member").get("/api/export").json()
    assert export["habit_guard"]["settings"]["interval_min"] == 15
    assert export["habit_guard"]["hours"] == [{k: v for k, v in _hour().items()}]
    from facecoach.members.data_rights import delete_member

    with site.db.session() as s:
        delete_member(s, uid)
    with site.db.session() as s:
        assert s.get(GuardSetting, uid) is None
        assert s.scalars(select(GuardHour).where(GuardHour.user_id == uid)).all() == []
