"""The check-in on the web app (real database, SQLite then PostgreSQL): what the page sends is re-checked
and measured; a picture is stored only with consent, shown only to its owner, deletable one by one, in the
export and gone with the account; progress shows the band; the report is one page of HTML and of PDF."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

from facecoach.members.models import Checkin, CheckinPicture
from tests.progress import clips
from tests.progress.payloads import checkin_body
from tests.web.fixtures import Site


@pytest.fixture(scope="module")
def bodies() -> dict[str, dict[str, Any]]:
    still = clips.still_frames(4.0)
    return {
        "plain": checkin_body(still),
        "kept": checkin_body(still, keep_picture=True),
        "kept2": checkin_body(clips.still_frames(4.0, seed=7), keep_picture=True),
    }


def _post(site: Site, role: str, body: dict[str, Any]) -> Any:
    return site.client(role).post(
        "/api/checkin", json=body, headers={"X-CSRF-Token": site.csrf(role, "/checkin")}
    )


def _rows(site: Site, model: Any) -> list[Any]:
    with site.db.session() as s:
        return list(s.scalars(select(model)))


def test_a_checkin_is_measured_and_stored_without_a_picture(site: Site, bodies) -> None:
    r = _post(site, "member", bodies["plain"])
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["picture_kept"] is False and set(doc["values"]) >= {"brow_height_mm", "mouth_corner_mm"}
    (row,) = _rows(site, Checkin)
    assert row.user_id == site.user_ids["member"] and row.source == "page"
    assert row.measures["frames"] == len(bodies["plain"]["frames"])
    assert _rows(site, CheckinPicture) == []
    # A picture sent without the box ticked is not kept either.
    sneaky = {**bodies["kept"], "keep_picture": False}
    assert _post(site, "member", sneaky).json()["picture_kept"] is False
    assert _rows(site, CheckinPicture) == []


def test_what_the_page_sends_is_checked_again(site: Site, bodies) -> None:
    turned = copy.deepcopy(bodies["plain"])
    for f in turned["frames"]:  # every point mirrored within the frame: the face now turned the other way
        f["points"] = [[f["width"] - x, y, z] for x, y, z in f["points"]]
    dark = {**bodies["plain"], "light": {**bodies["plain"]["light"], "luma": 20.0}}
    assert _post(site, "member", dark).status_code == 422
    assert "Too dark" in _post(site, "member", dark).json()["detail"]
    smile = copy.deepcopy(bodies["plain"])
    smile["frames"][3]["blendshapes"]["mouthUpperUpLeft"] = 0.8
    r = _post(site, "member", smile)
    assert r.status_code == 422 and "teeth" in r.json()["detail"]
    few = {**bodies["plain"], "frames": bodies["plain"]["frames"][:2]}
    assert _post(site, "member", few).status_code == 422
    assert _rows(site, Checkin) == []


@pytest.mark.parametrize(
    "broken",
    [
        {"frames": []},
        {"frames": "x"},
        {"light": {"luma": "bright"}},
        {"picture_frame": -1},
        {"unknown": 1},
    ],
)
def test_bad_bodies_get_a_clear_4xx(site: Site, bodies, broken: dict[str, Any]) -> None:
    r = _post(site, "member", {**bodies["plain"], **broken})
    assert r.status_code == 422 and r.json()["detail"]
    nan = copy.deepcopy(bodies["plain"])
    nan["frames"][0]["points"][5][0] = 1e9
    assert _post(site, "member", nan).status_code == 422
    bad_jpeg = {**bodies["kept"], "picture": "data:image/jpeg;base64,bm90IGEganBlZw=="}
    assert _post(site, "member", bad_jpeg).status_code == 400
    assert _rows(site, Checkin) == []


def test_only_members_check_in(site: Site, bodies) -> None:
    assert _post(site, "free", bodies["plain"]).status_code == 402
    assert site.client("anon").post("/api/checkin", json=bodies["plain"]).status_code == 403  # no CSRF token
    assert "member" in site.client("free").get("/checkin").text.lower()


def test_pictures_kept_shown_deleted_exported_and_gone_with_the_account(site: Site, bodies) -> None:
    first = _post(site, "member", bodies["kept"]).json()
    second = _post(site, "member", bodies["kept2"]).json()
    assert first["picture_kept"] and second["picture_kept"]
    member = site.client("member")
    jpeg = member.get(f"/checkin/pictures/{first['id']}.jpg")
    assert jpeg.status_code == 200 and jpeg.content[:3] == b"\xff\xd8\xff"
    assert site.client("other").get(f"/checkin/pictures/{first['id']}.jpg").status_code == 404
    page = member.get("/progress/compare")
    assert page.status_code == 200 and 'id="pair-changes"' in page.text and "within noise" in page.text
    for side in ("before", "after"):
        img = member.get(f"/progress/compare/{first['id']}/{second['id']}/{side}.jpg")
        assert img.status_code == 200 and img.content[:3] == b"\xff\xd8\xff"
    assert (
        site.client("other").get(f"/progress/compare/{first['id']}/{second['id']}/after.jpg").status_code
        == 404
    )
    export = member.get("/api/export").json()
    assert [c["id"] for c in export["checkins"]] == [first["id"], second["id"]]
    assert base64.b64decode(export["checkin_pictures"][0]["jpeg_base64"])[:3] == b"\xff\xd8\xff"
    token = site.csrf("member", "/progress/compare")
    assert (
        site.client("other")
        .post(f"/checkin/pictures/{first['id']}/delete", data={"csrf_token": site.csrf("other")})
        .status_code
        == 404
    )
    r = member.post(
        f"/checkin/pictures/{first['id']}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    assert [p.checkin_id for p in _rows(site, CheckinPicture)] == [second["id"]]
    assert len(_rows(site, Checkin)) == 2  # the measures stay
    assert member.get(f"/checkin/pictures/{first['id']}.jpg").status_code == 404
    assert "needs two check-ins with a kept picture" in member.get("/progress/compare").text


def test_progress_shows_each_measure_with_its_mdc_band(site: Site, bodies) -> None:
    for body in (bodies["plain"], bodies["kept"]):
        assert _post(site, "member", body).status_code == 201
    html = site.client("member").get("/progress").text
    assert html.count('class="mdc-band"') == 8 and "within noise" in html
    # The band is the pooled MDC95. The two check-ins are the same clip, so their one successive
    # difference is 0: sd = √(4 · 0.20² / (4 + 1)) = 0.179, MDC95 = 1.96 · √2 · 0.179 = 0.496 mm.
    brow = html.split('id="checkin-brow_height_mm"', 1)[1].split("</svg>", 1)[0]
    assert 'data-half="0.496"' in brow
    assert "20 % from your own check-ins" in html


def test_the_report_is_one_page_of_html_and_pdf(site: Site, bodies) -> None:
    from pypdf import PdfReader

    for body in (bodies["kept"], bodies["kept2"]):
        assert _post(site, "member", body).status_code == 201
    member = site.client("member")
    html = member.get("/progress/report")
    assert (
        html.status_code == 200
        and 'id="report-pair"' in html.text
        and html.text.count('class="mdc-band"') == 8
    )
    pdf = member.get("/progress/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Progress report" in text and "Brow height" in text and "within noise" in text
    assert f"{dt.datetime.now(dt.UTC):%Y}" in text
    assert len(reader.pages[0].images) == 2  # the aligned pair
    assert site.client("free").get("/progress/report.pdf").status_code == 402
