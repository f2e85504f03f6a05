"""The assessment wizard on real faces: questionnaire → photo → scan → annotated picture → routine.
Measurements are always stored; the picture only when the member ticks the box."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from facecoach.members.models import Assessment, Scan
from tests.web.fixtures import Site, csrf_of

QUESTIONS = {
    "goals": ["lift_cheeks", "jaw_tension"],
    "habits.stress": "6",
    "habits.clenching": "yes",
    "habits.chewing_side": "left",
    "habits.frowning": "yes",
    "habits.screen_squinting": "no",
    "habits.one_sided_expression": "none",
    "habits.sleeping_side": "back",
    "conditions.tmj": "no",
    "conditions.facial_palsy": "no",
    "conditions.blood_thinners": "no",
    "minutes_per_day": "12",
    "tools": ["gua_sha"],
}


def answer(site: Site, role: str, extra: dict[str, object] | None = None) -> object:
    c = site.client(role)
    token = csrf_of(c.get("/assessment").text)
    return c.post(
        "/assessment", data={**QUESTIONS, **(extra or {}), "csrf_token": token}, follow_redirects=False
    )


def upload(site: Site, role: str, content: bytes, keep: bool = False, name: str = "face.jpg") -> object:
    c = site.client(role)
    token = csrf_of(c.get("/assessment/scan").text)
    data = {"csrf_token": token, **({"keep_picture": "yes"} if keep else {})}
    return c.post("/assessment/scan", data=data, files={"photo": (name, content, "image/jpeg")})


def test_questionnaire_is_stored_and_validated(sqlite_site: Site) -> None:
    r = answer(
        sqlite_site,
        "free",
        {
            "conditions.injectables:region": "cheeks",
            "conditions.injectables:weeks:cheeks": "3",
            "conditions.skin:active_acne": ["chin"],
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/assessment/scan"
    with sqlite_site.db.session() as s:
        stored = s.scalars(select(Assessment)).one().answers
    assert stored["goals"] == ["lift_cheeks", "jaw_tension"] and stored["habits"]["clenching"] is True
    assert stored["conditions"]["injectables"] == [{"region": "cheeks", "weeks_ago": 3, "cleared": False}]
    assert stored["conditions"]["skin"] == [{"condition": "active_acne", "region": "chin"}]
    bad = answer(sqlite_site, "free", {"minutes_per_day": "500"})
    assert bad.status_code == 400 and "minutes_per_day" in bad.text
    bad = answer(sqlite_site, "free", {"conditions.surgery:region": "nose"})
    assert bad.status_code == 400 and "weeks" in bad.text


def _checked(html: str, name: str, value: str) -> bool:
    """Whether the input ``name``=``value`` is rendered ticked."""
    pattern = rf'<input type="(?:radio|checkbox)" name="{re.escape(name)}" value="{re.escape(value)}"([^>]*)>'
    found = re.search(pattern, html)
    assert found, f"no input {name}={value}"
    return " checked" in found.group(1)


def test_a_refused_questionnaire_keeps_every_answer_and_names_the_question(sqlite_site: Site) -> None:
    # The finding: injectables → forehead ticked without "weeks ago" reset every answer to its default
    # and showed "field 'conditions.injectables': …" at the top.
    r = answer(sqlite_site, "free", {"conditions.injectables:region": "forehead"})
    assert r.status_code == 400
    html = r.text
    assert "field '" not in html and "conditions.injectables:" not in html.split("<form")[0]
    assert _checked(html, "habits.clenching", "yes") and not _checked(html, "habits.clenching", "no")
    assert _checked(html, "habits.chewing_side", "left") and _checked(html, "habits.sleeping_side", "back")
    assert _checked(html, "goals", "lift_cheeks") and _checked(html, "goals", "jaw_tension")
    assert _checked(html, "tools", "gua_sha") and not _checked(html, "tools", "jade_roller")
    assert _checked(html, "conditions.injectables:region", "forehead")
    assert re.search(r'name="habits.stress"[^>]*value="6"', html)
    assert re.search(r'name="minutes_per_day"[^>]*value="12"', html)
    # The sentence sits inside the injectables question, which is marked invalid, and nowhere else.
    fieldset = re.search(r'<fieldset data-field="conditions.injectables".*?</fieldset>', html, re.S)
    assert fieldset and 'aria-invalid="true"' in fieldset.group(0)
    assert "Say how many weeks ago the forehead was treated." in fieldset.group(0)
    assert html.count('aria-invalid="true"') == 1
    with sqlite_site.db.session() as s:
        assert s.scalars(select(Assessment)).first() is None  # nothing half-stored


def test_a_number_out_of_range_is_explained_beside_its_question(sqlite_site: Site) -> None:
    r = answer(sqlite_site, "free", {"minutes_per_day": "500"})
    assert r.status_code == 400
    fieldset = re.search(r'<fieldset data-field="minutes_per_day".*?</fieldset>', r.text, re.S)
    assert fieldset and 'aria-invalid="true"' in fieldset.group(0)
    assert "should be less than or equal to" in fieldset.group(0)
    assert _checked(r.text, "habits.clenching", "yes")


def test_the_questionnaire_shows_the_previous_answers(sqlite_site: Site) -> None:
    extra = {"conditions.surgery:region": "nose", "conditions.surgery:weeks:nose": "20"}
    assert answer(sqlite_site, "free", extra).status_code == 303  # type: ignore[attr-defined]
    html = sqlite_site.client("free").get("/assessment").text
    assert _checked(html, "habits.chewing_side", "left") and _checked(html, "tools", "gua_sha")
    assert _checked(html, "conditions.surgery:region", "nose")
    assert re.search(r'name="conditions.surgery:weeks:nose"[^>]*value="20"', html)
    assert "You have answered before" in html


def test_photo_scan_shows_annotated_picture_and_stores_measurements_only(
    sqlite_site: Site, shared_data: Path
) -> None:
    answer(sqlite_site, "member")
    photo = (shared_data / "happy_f15.jpg").read_bytes()
    r = upload(sqlite_site, "member", photo)
    assert r.status_code == 200, r.text[-1500:]
    assert 'id="annotated-picture"' in r.text and "data:image/jpeg;base64," in r.text
    assert "Not stored" in r.text
    with sqlite_site.db.session() as s:
        scan = s.scalars(select(Scan)).one()
        assert scan.picture is None
        assert set(scan.measurements["asymmetry"]) >= {
            "brow_height_mm",
            "mouth_corner_mm",
            "lower_face_width_mm",
        }
        assert all(abs(v) < 45 for v in scan.measurements["asymmetry"].values())
    # With the box ticked the annotated picture is kept (a JPEG), and it is in the export.
    r = upload(sqlite_site, "member", photo, keep=True)
    assert "Kept in your account" in r.text
    with sqlite_site.db.session() as s:
        kept = s.scalars(select(Scan).order_by(Scan.id.desc())).first()
        assert kept is not None and kept.picture is not None and kept.picture[:3] == b"\xff\xd8\xff"
    export = sqlite_site.client("member").get("/api/export").json()
    assert [sc["picture_jpeg_base64"] is not None for sc in export["scans"]] == [False, True]
    # The routine now uses the scan; the week is shown to a member.
    routine = sqlite_site.client("member").get("/routine").text
    assert 'id="today"' in routine and 'id="week"' in routine and "Add a face scan" not in routine
    assert 'class="reason"' in routine


def _jpeg(array: np.ndarray) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 400, "That file is empty"),
        (b"GIF89a not really", 400, "not a readable image"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 200, 400, "not a readable image"),
    ],
)
def test_bad_uploads_are_refused_clearly(
    sqlite_site: Site, content: bytes, status: int, message: str
) -> None:
    answer(sqlite_site, "free")
    r = upload(sqlite_site, "free", content)
    assert r.status_code == status and message in r.text, r.text[-800:]
    with sqlite_site.db.session() as s:
        assert s.scalars(select(Scan)).first() is None


def test_no_face_is_refused(sqlite_site: Site) -> None:
    answer(sqlite_site, "free")
    r = upload(sqlite_site, "free", _jpeg(np.full((400, 400, 3), 180, np.uint8)))
    assert r.status_code == 422 and "could not be made" in r.text


def test_free_plan_gets_a_taste_routine(sqlite_site: Site) -> None:
    answer(sqlite_site, "free")
    html = sqlite_site.client("free").get("/routine").text
    assert 'id="today"' in html and 'id="week"' not in html
    assert html.count('class="card routine-item"') <= 3
    api = sqlite_site.client("free").get("/api/routine").json()
    assert api["taste"] is True and api["days"] is None and len(api["today"]["plan"]["items"]) <= 3
    answer(sqlite_site, "member")
    full = sqlite_site.client("member").get("/api/routine").json()
    assert full["taste"] is False and len(full["days"]) == 7


def test_kept_picture_is_visible_to_its_owner_only_and_can_be_deleted(
    sqlite_site: Site, shared_data: Path
) -> None:
    answer(sqlite_site, "member")
    upload(sqlite_site, "member", (shared_data / "happy_f15.jpg").read_bytes(), keep=True)
    with sqlite_site.db.session() as s:
        scan_id = s.scalars(select(Scan)).one().id
    url = f"/account/scans/{scan_id}/picture"
    own = sqlite_site.client("member").get(url)
    assert own.status_code == 200 and own.content[:3] == b"\xff\xd8\xff"
    assert own.headers["cache-control"] == "private, no-store"
    for role in ("other", "instructor"):
        assert sqlite_site.client(role).get(url).status_code == 404
    assert sqlite_site.client("anon").get(url, follow_redirects=False).status_code == 303
    assert url in sqlite_site.client("member").get("/account").text
    token = sqlite_site.csrf("other", "/account")
    r = sqlite_site.client("other").post(f"{url}/delete", data={"csrf_token": token})
    assert r.status_code == 404
    token = sqlite_site.csrf("member", "/account")
    r = sqlite_site.client("member").post(f"{url}/delete", data={"csrf_token": token})
    assert "picture is deleted" in r.text
    with sqlite_site.db.session() as s:
        scan = s.get(Scan, scan_id)
        assert scan is not None and scan.picture is None and scan.measurements["asymmetry"]
    assert sqlite_site.client("member").get(url).status_code == 404


def test_answers_that_no_longer_plan_ask_for_a_new_assessment(sqlite_site: Site) -> None:
    """Stored answers from an older format are not a crash: the member is asked to answer again."""
    sqlite_site.client("member")
    with sqlite_site.db.session() as s:
        s.add(
            Assessment(
                user_id=sqlite_site.user_ids["member"], answers={"minutes_per_day": 10, "mood": "great"}
            )
        )
    r = sqlite_site.client("member").get("/routine")
    assert r.status_code == 409 and "take the assessment again" in r.text and "mood" in r.text
    api = sqlite_site.client("member").get("/api/routine")
    assert api.status_code == 409 and "retake the assessment" in api.json()["detail"]


def test_member_sees_what_next_week_adds(sqlite_site: Site) -> None:
    import re

    from facecoach.knowledge import load_library
    from facecoach.planning.assessment import parse_answers
    from facecoach.planning.planner import build_plan

    answer(sqlite_site, "member")
    html = sqlite_site.client("member").get("/routine").text
    this_week = set(re.findall(r'<li><span class="badge \w+">\w+</span> ([^<]+)</li>', html))
    with sqlite_site.db.session() as s:
        answers = parse_answers(s.scalars(select(Assessment)).one().answers)
    week2 = {i.technique for i in build_plan(answers, None, 2, load_library()).items}
    section = re.search(r'<section class="card soft mt" id="next-week">(.*?)</section>', html, re.S)
    names = {t.id: t.name for t in load_library().techniques.values()}
    if section is None:  # nothing new next week for these answers
        assert {names[t] for t in week2} <= this_week
        return
    added = re.findall(r'href="/library/([\w-]+)"', section.group(1))
    assert added and all(t in week2 and names[t] not in this_week for t in added)
