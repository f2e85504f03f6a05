"""The /live page over HTTP: who sees what, today's routine in order, single-technique practice."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import yaml
from starlette.testclient import TestClient

from facecoach.config import PACKAGE_DIR
from facecoach.members.models import Assessment
from facecoach.web.security import SESSION_COOKIE
from tests.live.conftest import LiveApp

CONFIG = re.compile(r'<script type="application/json" id="live-config">(.*?)</script>', re.S)


def _get(live: LiveApp, path: str, cookie: str | None) -> Any:
    client = TestClient(live.app, follow_redirects=False)
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client.get(path)


def _config(page_html: str) -> dict[str, Any]:
    found = CONFIG.search(page_html)
    assert found, "no live-config block"
    return dict(json.loads(found.group(1)))


def test_anonymous_is_sent_to_log_in_and_free_sees_the_upsell(live_app: LiveApp) -> None:
    r = _get(live_app, "/live", None)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = _get(live_app, "/live", live_app.member("free", fresh=False))
    assert r.status_code == 200 and 'data-upsell="member"' in r.text and "live-config" not in r.text


def test_member_without_an_assessment_is_pointed_to_it(live_app: LiveApp) -> None:
    r = _get(live_app, "/live", live_app.member())
    assert r.status_code == 200
    assert 'href="/assessment"' in r.text and _config(r.text)["steps"] == []
    assert "/static/live/app.js" not in r.text  # nothing to run


def test_todays_routine_in_the_planners_order(live_app: LiveApp) -> None:
    from facecoach.web.routes.content import library_of
    from facecoach.web.routine import routine_for

    examples = yaml.safe_load((PACKAGE_DIR / "planning" / "data" / "examples.yaml").read_text())
    answers = next(e for e in examples if e["id"] == "corner")["answers"]
    cookie = live_app.member()
    member_id = live_app.member_id(cookie)
    with live_app.db.session() as s:
        s.add(Assessment(user_id=member_id, answers=answers))
    r = _get(live_app, "/live", cookie)
    assert r.status_code == 200
    config = _config(r.text)
    ctx = live_app.app.state.ctx
    with live_app.db.session() as s:
        routine = routine_for(s, member_id, library_of(ctx, s), dt.datetime.now(dt.UTC).date())
    assert routine is not None
    items = routine.today.plan.items
    assert [st["id"] for st in config["steps"]] == [i.technique for i in items]
    assert [st["reason"] for st in config["steps"]] == [i.reason for i in items]
    for step in config["steps"]:
        if step["kind"] == "massage":
            assert step["massage"]["strokes"] and step["massage"]["pressure"]
    assert config["model_url"] == "/static/models/face_landmarker.task"
    assert "/static/live/app.js" in r.text


def test_single_technique_practice_and_fewer_reps(live_app: LiveApp) -> None:
    cookie = live_app.member(fresh=False)
    config = _config(_get(live_app, "/live?technique=smile-lift&reps=3", cookie).text)
    assert [s["id"] for s in config["steps"]] == ["smile-lift"] and config["steps"][0]["reps"] == 3
    more = _config(_get(live_app, "/live?technique=smile-lift&reps=99", cookie).text)
    assert more["steps"][0]["reps"] < 99  # never more than the technique's own reps
    assert _get(live_app, "/live?technique=no-such-thing", cookie).status_code == 404


def test_config_block_cannot_be_broken_out_of(live_app: LiveApp) -> None:
    """Content goes into a JSON block: a closing tag inside it must not end the script element."""
    from facecoach.web.live import live_page  # noqa: F401  (the page under test)

    r = _get(live_app, "/live?technique=smile-lift", live_app.member(fresh=False))
    block = CONFIG.search(r.text)
    assert block is not None and "</" not in block.group(1)
    assert html.unescape(block.group(1)) == block.group(1)  # JSON as is, not HTML-escaped
