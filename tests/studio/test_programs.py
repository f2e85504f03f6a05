"""Programs: composing one (validated as the data files are, previewed through the planner's rules), a
member joining it from the library, the routine following it with every safety rule, and leaving it."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

from facecoach.knowledge import load_library
from facecoach.members.models import Assessment
from facecoach.planning.assessment import parse_answers
from facecoach.planning.context import make_context
from facecoach.planning.policy import default_policy
from facecoach.planning.rules import check_plan
from facecoach.studio.programs import ProgramSpec, program_day, week_library
from facecoach.web.routine import routine_for
from tests.web.fixtures import Site, csrf_of

JAW_WEEKS = [
    ["jaw-release", "temple-release", "gua-sha-jawline", "smile-lift", "cheek-release", "lymph-drainage"],
    ["jaw-release", "temple-release", "cheek-suck", "cheek-release", "lymph-drainage"],
]
#: Blood thinners: light pressure only, no gua sha (facecoach.planning.rules.BloodThinnersLightPressure).
THINNERS = {"minutes_per_day": 20, "tools": ["gua_sha"], "conditions": {"blood_thinners": True}}


def compose(site: Site, weeks: list[list[str]], slug: str = "jaw-4", **extra: str) -> Any:
    c = site.client("instructor")
    form = {
        "csrf_token": csrf_of(c.get("/studio/programs").text),
        "title": "4 weeks for the jaw",
        "slug": slug,
        "summary": "Release the jaw, lift the cheeks.",
        "weeks": "\n".join(", ".join(w) for w in weeks),
        "published": "1",
        **extra,
    }
    return c.post("/studio/programs/save", data=form, follow_redirects=False)


def assess(site: Site, role: str, answers: dict[str, Any]) -> None:
    site.client(role)  # makes the account
    with site.db.session() as s:
        s.add(Assessment(user_id=site.user_ids[role], answers=answers))


def test_composing_is_validated_and_previewed(site: Site) -> None:
    bad = compose(site, [["jaw-release", "no-such-move"]])
    assert bad.status_code == 400 and "week 1: there is no technique 'no-such-move'" in unescape(bad.text)
    assert "Nothing was saved" in bad.text and "no-such-move" in bad.text  # her text is kept in the form
    assert compose(site, [["jaw-release"]], slug="Not A Slug").status_code == 400
    assert compose(site, [], slug="empty").status_code == 400
    r = compose(site, [["cheek-suck", "cheek-release"], ["cheek-suck", "cheek-release"]])
    assert r.status_code == 303, r.text[-1500:]
    page = site.client("instructor").get(r.headers["location"]).text
    # The planner's own rules preview the program: cheek-suck unlocks in week 2, so week 1 loses it.
    warnings = page[page.index('id="program-warnings"') :]
    assert "Week 1" in warnings and "unlocks in week 2" in warnings and "Week 2" not in warnings
    # A second program cannot take the same address.
    clash = compose(site, [["jaw-release"]], program_id="")
    assert clash.status_code == 400 and "already uses 'jaw-4'" in unescape(clash.text)
    # Members and visitors never reach the composer.
    assert site.client("member").get("/studio/programs").status_code == 403


def test_a_member_follows_a_program_and_a_condition_always_wins(site: Site) -> None:
    assert compose(site, JAW_WEEKS).status_code == 303
    member = site.client("member")
    # Joining is offered in the library, and needs the assessment first.
    assert 'href="/programs/jaw-4"' in member.get("/library").text
    token = csrf_of(member.get("/programs/jaw-4").text)
    r = member.post("/programs/jaw-4/join", data={"csrf_token": token}, follow_redirects=False)
    assert r.headers["location"] == "/assessment"
    assess(site, "member", THINNERS)
    page = member.get("/programs/jaw-4").text
    # Before joining, the member already sees what their answers leave out, week by week, and why.
    assert page.count("blood thinners") >= 3 and 'data-technique="gua-sha-jawline"' in page
    r = member.post("/programs/jaw-4/join", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/routine"

    routine = member.get("/routine").text
    assert 'id="routine-program"' in routine and "week 1 of 2" in routine
    planned = set(re.findall(r'data-phase="\w+"[^>]*>\s*.*?href="/library/([a-z0-9-]+)"', routine, re.S))
    assert planned and planned <= set(JAW_WEEKS[0])  # only the program's techniques …
    assert not planned & {"jaw-release", "temple-release", "gua-sha-jawline"}  # … never the ruled-out ones
    left_out = routine[routine.index("Left out for you") :]
    assert "blood thinners" in left_out and "Gua sha jawline" in left_out

    # The same as the planner's own check: every rule holds on every day of the program week.
    library = load_library()
    with site.db.session() as s:
        view = routine_for(s, site.user_ids["member"], library, dt.datetime.now(dt.UTC).date())
    assert view is not None and view.program is not None and view.program.slug == "jaw-4"
    answers = parse_answers(THINNERS)
    narrowed = week_library(library, JAW_WEEKS[0])
    for day in view.days:
        ctx = make_context(answers, None, narrowed, default_policy(), week=1, rest_day=day.rest)
        assert check_plan(day.plan, ctx) == [], day

    # Leaving: the routine is the member's own plan again (techniques from the whole library).
    token = csrf_of(member.get("/routine").text)
    member.post("/programs/leave", data={"csrf_token": token})
    assert 'id="routine-program"' not in member.get("/routine").text


def test_the_program_week_follows_the_calendar_and_ends() -> None:
    library = load_library()
    spec = ProgramSpec(slug="two", title="Two weeks", weeks=JAW_WEEKS)
    answers = parse_answers({"minutes_per_day": 20})
    start = dt.date(2026, 11, 2)
    week2 = program_day(spec, answers, None, start, start + dt.timedelta(days=8), library)
    assert week2 is not None and (week2.week, week2.day) == (2, 2)
    techniques = {i.technique for d in week2.days for i in d.plan.items}
    assert "cheek-suck" in techniques and techniques <= set(JAW_WEEKS[1])
    assert program_day(spec, answers, None, start, start + dt.timedelta(days=14), library) is None


def test_free_members_are_offered_the_plan(site: Site) -> None:
    assert compose(site, JAW_WEEKS).status_code == 303
    free = site.client("free")
    assert 'id="program-locked"' in free.get("/programs/jaw-4").text
    token = csrf_of(free.get("/programs/jaw-4").text)
    r = free.post("/programs/jaw-4/join", data={"csrf_token": token})
    assert r.status_code == 200 and "Programs by the instructor" in r.text
    assert site.client("anon").get("/programs/no-such").status_code == 404
