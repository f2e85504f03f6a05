"""What a demanding new member notices, checked as they would see it: in Chromium at 1280×900 and 390×844
(screenshots in ``test-artifacts/ux/ux-*.png``), over HTTP where the page's words are the point, and the
CLI in an 80-column terminal."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from facecoach.knowledge import load_library
from tests.support.browser import launch
from tests.web.fixtures import Site, csrf_of
from tests.web.ux_site import WIDTHS, UxSite, log_in, shot

LIB = load_library()


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Any]:
    b = launch(playwright_instance)
    yield b
    b.close()


def _page(browser: Any, width: str = "wide") -> Any:
    w, h = WIDTHS[width]
    return browser.new_context(viewport={"width": w, "height": h}).new_page()


# --- over HTTP -------------------------------------------------------------------------------------------


def test_unknown_url_is_the_styled_404_for_browsers_and_json_for_the_api(sqlite_site: Site) -> None:
    c = sqlite_site.client("anon")
    page = c.get("/foo", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert (
        "<title>Not found · facecoach</title>" in page.text
        and "There is no page at this address" in page.text
    )
    api = c.get("/api/nothing-here")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    wants_json = c.get("/foo", headers={"accept": "application/json"})
    assert wants_json.status_code == 404 and wants_json.json() == {"detail": "Not Found"}


def test_web_form_shows_web_wording_not_terminal_help(sqlite_site: Site) -> None:
    html = sqlite_site.client("free").get("/assessment").text
    assert "separated by commas" not in html and "Tick any that apply" in html
    # The terminal questionnaire keeps its own wording.
    from facecoach.planning.questionnaire import load_questionnaire

    goals = next(q for q in load_questionnaire().questions if q.field == "goals")
    assert "commas" in goals.help and goals.web_help


def test_signup_knows_the_chosen_plan_and_payments_show_amounts(sqlite_site: Site) -> None:
    anon = sqlite_site.client("anon")
    membership = anon.get("/membership").text
    assert 'href="/signup?plan=member"' in membership and 'href="/signup?plan=free"' in membership
    assert 'href="/signup?plan=free"' in anon.get("/").text
    chosen = anon.get("/signup?plan=member").text
    assert 'id="chosen-plan" data-plan="member"' in chosen and "You chose the Member plan" in chosen
    assert "chosen-plan" not in anon.get("/signup").text
    assert "chosen-plan" not in anon.get("/signup?plan=instructor").text
    c = sqlite_site.client("free")
    token = csrf_of(c.get("/membership").text)
    r = c.post(
        "/membership/join", data={"plan": "member", "card_number": "4242 4242 4242 4242", "csrf_token": token}
    )
    assert r.status_code == 200
    flash = re.search(r'<div class="flash ok" role="status">([^<]*)</div>', r.text)
    assert flash, r.text[:500]
    text = flash.group(1)
    assert "You are a member now" in text and not re.search(r"\([^)]*\(", text), text
    account = c.get("/account").text
    assert re.search(r'<strong class="amount">€12\.00</strong>', account), account


def test_instructor_lands_on_admin_members_on_their_routine(sqlite_site: Site) -> None:
    for role, home in (("instructor", "/admin"), ("member", "/routine")):
        with TestClient(sqlite_site.app) as c:
            r = sqlite_site.login(c, sqlite_site.make_user(role))
            assert r.headers["location"] == home, role


def test_technique_page_follows_an_edit_of_reps(sqlite_site: Site) -> None:
    """After the instructor changes reps, the page's progression comes from the new numbers."""
    c = sqlite_site.client("instructor")
    t = LIB.techniques["smile-lift"]
    token = csrf_of(c.get("/admin/techniques/smile-lift").text)
    data = t.model_dump(mode="json")
    data["defaults"] = {**data["defaults"], "reps": 10}
    r = c.post(
        "/admin/techniques/save",
        data={"text": yaml.safe_dump(data), "original_id": t.id, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:400]
    html = sqlite_site.client("anon").get("/library/smile-lift").text
    progression = re.search(r'<ul class="list-plain" id="progression">(.*?)</ul>', html, re.S)
    assert progression and "Week 1: 10 × 5 s" in progression.group(1), html
    assert "8 holds" not in html
    assert re.search(r'id="takes">about 1\.5 min \(10 reps', html)


def test_empty_sessions_chart_says_so() -> None:
    from facecoach.web.charts import weekly_bars

    monday = dt.date(2026, 11, 2)
    empty = weekly_bars([(monday + dt.timedelta(weeks=i), 0) for i in range(8)])
    assert "No sessions yet" in empty and 'class="empty"' in empty
    some = weekly_bars([(monday, 2), (monday + dt.timedelta(weeks=1), 0)])
    assert "No sessions yet" not in some


def test_diagrams_are_drawn_as_a_mirror_and_say_so() -> None:
    from facecoach.web.diagrams import SIDES_NOTE, WIDTH, regions_diagram, stroke_diagram, to_svg

    assert to_svg(1.0, 0.5)[0] < WIDTH / 2 < to_svg(0.0, 0.5)[0]  # the person's left on the left
    svg = str(stroke_diagram(LIB.techniques["jaw-release"].massage.strokes, "d"))  # type: ignore[union-attr]
    assert 'data-side="left">your left<' in svg and 'data-side="right">your right<' in svg
    assert 'data-side="left"' in str(regions_diagram({}, {}))
    assert "mirror" in SIDES_NOTE and "your left is on the left" in SIDES_NOTE


def test_cli_tables_read_at_80_columns() -> None:
    env = {**os.environ, "COLUMNS": "80", "LINES": "50", "NO_COLOR": "1"}
    for command, rows in (("techniques", len(LIB.techniques)), ("muscles", len(LIB.muscles))):
        out = subprocess.run(
            [sys.executable, "-c", "from facecoach.cli import main; main()", command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        lines = out.rstrip("\n").splitlines()
        assert max(len(line) for line in lines) <= 80
        # One line a row (plus title, blank line, header and rule): no row folds into a stack of fragments.
        assert len(lines) <= rows + 5, (command, len(lines), rows)
        assert "smile-lift" in out if command == "techniques" else "masseter-left" in out


# --- in the browser --------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", list(WIDTHS))
def test_header_nav_and_home_fit_the_screen(browser: Any, ux_site: UxSite, width: str) -> None:
    w = WIDTHS[width][0]
    for role in ("visitor", "instructor"):
        page = _page(browser, width)
        if role == "instructor":
            log_in(page, ux_site.base, role)
            assert page.url.endswith("/admin")
        page.goto(ux_site.base + "/")
        shot(page, f"ux-home-{role}-{width}")
        links = page.evaluate(
            "() => [...document.querySelectorAll('.nav a')].map(a => {"
            " const r = a.getBoundingClientRect(); return [a.textContent, r.left, r.right]; })"
        )
        if width == "wide":  # one row of links on a laptop: none left alone on a second line
            tops = page.evaluate("() => [...document.querySelectorAll('.nav a')].map(a => a.offsetTop)")
            assert len(set(tops)) == 1, (role, tops)
        assert links and all(left >= 0 and right <= w for _, left, right in links), links
        labels = [label for label, _, _ in links]
        if role == "visitor":
            assert "Membership" in labels
        else:
            assert {"Routine", "Coach", "Progress", "Audit", "Admin"} <= set(labels)
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= w, overflow
        panel = page.evaluate("() => document.querySelector('.hero-art').getBoundingClientRect().right")
        assert panel <= w - 12, panel  # the container's padding stays between the panel and the edge
        if width == "wide":
            tops = page.evaluate(
                "() => [...document.querySelectorAll('#featured .technique-card')]"
                ".map(c => Math.round(c.getBoundingClientRect().top))"
            )
            assert len(tops) == 4 and len(set(tops)) == 1, tops  # four cards, one row
        tags = page.inner_text("#featured")
        assert "No tool" in tags and "Hands" in tags and not re.search(r"\b(none|hands)\b", tags)
        if role == "instructor":
            name = page.evaluate(
                "() => { const n = document.querySelector('.user-name');"
                " return [n.textContent, n.scrollWidth, n.clientWidth, getComputedStyle(n).display]; }"
            )
            assert name[0] == "Demo instructor"
            assert name[3] == "none" or name[1] <= name[2], name  # shown whole (phones show the avatar)
        page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", list(WIDTHS))
def test_library_selects_show_their_whole_choice(browser: Any, ux_site: UxSite, width: str) -> None:
    page = _page(browser, width)
    page.goto(ux_site.base + "/library")
    shot(page, f"ux-library-{width}")
    cut = page.evaluate(
        """() => [...document.querySelectorAll('#library-filters select')].map(s => {
             const c = getComputedStyle(s), ctx = document.createElement('canvas').getContext('2d');
             ctx.font = c.fontWeight + ' ' + c.fontSize + ' ' + c.fontFamily;
             const text = ctx.measureText(s.options[s.selectedIndex].text).width;
             const room = s.clientWidth - parseFloat(c.paddingLeft) - parseFloat(c.paddingRight) - 20;
             return [s.id, text, room]; })"""
    )
    assert all(text <= room for _, text, room in cut), cut
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_progress_axis_labels_are_not_clipped(browser: Any, ux_site: UxSite) -> None:
    page = _page(browser)
    log_in(page, ux_site.base, "member")
    page.goto(ux_site.base + "/progress")
    shot(page, "ux-progress-wide")
    ticks = page.evaluate(
        "() => [...document.querySelectorAll('svg.asym-chart text.tick')]"
        ".map(t => [t.textContent, t.getBBox().x])"
    )
    assert len(ticks) >= 25
    assert all(x >= 0 for _, x in ticks), [t for t in ticks if t[1] < 0]
    assert any(label.startswith("+") and "." in label for label, _ in ticks)  # e.g. "+1.5 mm" shown whole
    page.context.close()
    coach = _page(browser)
    log_in(coach, ux_site.base, "instructor")
    coach.goto(ux_site.base + "/progress")  # the instructor has no sessions of their own
    assert coach.text_content("#sessions-chart text.empty") == "No sessions yet"
    shot(coach, "ux-progress-empty")
    coach.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", list(WIDTHS))
def test_routine_names_phases_sets_and_rest_minutes(browser: Any, ux_site: UxSite, width: str) -> None:
    page = _page(browser, width)
    log_in(page, ux_site.base, "member")
    page.goto(ux_site.base + "/routine")
    shot(page, f"ux-routine-{width}")
    today = page.inner_text("#today")
    assert "warmup" not in today.lower().replace("warm-up", "")
    names = [n.inner_text() for n in page.query_selector_all("#today .routine-item h3 a")]
    assert all(a != b for a, b in itertools.pairwise(names)), names  # none twice in a row
    smile = page.query_selector("#today .routine-item[data-sets='2']")
    assert smile is not None and "Set 2: right" in smile.inner_text()
    for day in page.query_selector_all("#week .day.rest"):
        assert re.search(r"rest day · \d+ min", day.inner_text()), day.inner_text()
        assert "warm-up" not in day.inner_text()  # nothing to warm up for: its massages are releases
    for item in page.query_selector_all("#today .routine-item"):  # every step says how long it takes
        assert re.search(r"\d+(\.\d)? min", item.inner_text()), item.inner_text()
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_audit_list_and_failed_audit(browser: Any, ux_site: UxSite) -> None:
    page = _page(browser)
    log_in(page, ux_site.base, "member")
    page.goto(ux_site.base + "/audit")
    shot(page, "ux-audit-list")
    rows = page.query_selector_all(".audit-list li")
    assert len(rows) == 2
    for row in rows:
        text = row.inner_text()
        assert "Smile lift" in text and re.search(r"\d\d \w\w\w 20\d\d", text), text
    page.goto(ux_site.base + "/audit/2")
    shot(page, "ux-audit-failed")
    status = page.inner_text("[data-status]")
    assert status == "failed" and page.query_selector("progress") is None
    assert "Smile lift" in page.title()
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", list(WIDTHS))
def test_muscles_map_labels_legend_and_height(browser: Any, ux_site: UxSite, width: str) -> None:
    page = _page(browser, width)
    page.goto(ux_site.base + "/muscles")
    shot(page, f"ux-muscles-{width}")
    outside = page.evaluate(
        """() => [...document.querySelectorAll('a.region')].flatMap(a => {
             const text = a.querySelector('text.region-label'), poly = a.querySelector('polygon');
             const b = text.getBBox(), m = text.getCTM(), inv = poly.getCTM().inverse();
             const corners = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height],
                              [b.x + b.width, b.y + b.height]];
             return corners.filter(([x, y]) => {
               const p = new DOMPoint(x, y).matrixTransform(m).matrixTransform(inv);
               return !poly.isPointInFill(p);
             }).map(() => a.dataset.region); })"""
    )
    assert outside == [], outside
    legend = page.evaluate(
        "() => [...document.querySelectorAll('#regions-legend li')].map(li => li.dataset.use)"
    )
    assert legend == ["overused", "underused", "balanced"]
    height = page.evaluate("() => document.getElementById('regions-diagram').getBoundingClientRect().height")
    assert height < 900, height
    page.context.close()


@pytest.mark.browser
@pytest.mark.slow
def test_technique_diagram_states_the_side_convention(browser: Any, ux_site: UxSite) -> None:
    page = _page(browser)
    page.goto(ux_site.base + "/library/jaw-release")
    shot(page, "ux-technique-diagram")
    caption = page.inner_text("#stroke-diagram figcaption")
    assert "your left is on the left" in caption and "their left" not in caption
    left, right = page.evaluate(
        "() => ['left', 'right'].map(s => document.querySelector(`#stroke-diagram [data-side=${s}]`)"
        ".getBoundingClientRect().left)"
    )
    assert left < right
    page.context.close()


# --- found in the verification pass (issue 15 and the report of issue 17) -------------------------------


def test_signed_figures_never_read_minus_zero() -> None:
    from facecoach.web.charts import asymmetry_chart, signed

    assert [signed(v) for v in (-0.04, 0.04, 0.0, -0.3, 1.26)] == ["0.0", "0.0", "0.0", "-0.3", "+1.3"]
    assert signed(-0.004, 2) == "0.00" and signed(-0.006, 2) == "-0.01"
    now = dt.datetime(2026, 11, 2)
    svg = str(asymmetry_chart([(now, -0.02, 0.4), (now + dt.timedelta(days=7), 0.3, 0.4)], " mm", "t", "c"))
    ticks = re.findall(r'class="tick">([^<]*)<', svg)
    assert "0 mm" in ticks and "+0 mm" not in ticks and "-0 mm" not in ticks, ticks
    assert ">-0.0 mm" not in svg and "0.0 mm (±0.4)" in svg


def test_technique_page_tags_read_like_the_cards(sqlite_site: Site) -> None:
    html = sqlite_site.client("anon").get("/library/smile-lift").text
    assert '<span class="badge" id="region-tag">Cheeks</span>' in html
    assert "No tool" in html


def _pdf_text_sizes(pdf: bytes) -> list[tuple[str, float]]:
    """Every text run of the PDF's first page with its size on paper (pt): the font size times the scale
    of the text and transformation matrices in force."""
    import io

    from pypdf import PdfReader

    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            scale_cm = (abs(cm[0] * cm[3] - cm[1] * cm[2])) ** 0.5
            scale_tm = (abs(tm[0] * tm[3] - tm[1] * tm[2])) ** 0.5
            runs.append((text.strip(), size * scale_cm * scale_tm))

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    reader.pages[0].extract_text(visitor_text=visit)
    return runs


def test_pdf_report_is_one_legible_page_with_practice_beside_the_pair() -> None:
    """The PDF drawn from the very charts the pages show: one A4 page, the sessions chart drawn (not only a
    sentence), the explanation not justified into gaps, every chart label at least 6.5 pt on paper (at
    640 units wide they came out at about 5 pt), no "-0.0"."""
    import io

    from PIL import Image

    from facecoach.progress.report_pdf import ReportMeasure, build_report
    from facecoach.web.charts import asymmetry_chart, weekly_bars

    day = dt.datetime(2026, 11, 2)
    measures = [
        ReportMeasure(
            label=f"measure {i}",
            unit=" mm",
            svg=str(
                asymmetry_chart(
                    [(day, 0.4, 0.3), (day + dt.timedelta(days=20), 0.38, 0.3)],
                    " mm",
                    "t",
                    f"c{i}",
                    change_band=(0.4, 0.5),
                )
            ),
            mdc95=0.5,
            delta=-0.02,
            beyond=False,
        )
        for i in range(8)
    ]
    buf = io.BytesIO()
    Image.new("RGB", (240, 300), (180, 150, 130)).save(buf, format="JPEG")
    monday = dt.date(2026, 10, 5)
    weeks = [(monday + dt.timedelta(weeks=i), i % 3) for i in range(8)]
    pdf = build_report(
        name="Robin",
        today=dt.date(2026, 12, 1),
        checkins=3,
        streak=2,
        total_sessions=7,
        active_weeks=5,
        weeks=8,
        measures=measures,
        pair=(buf.getvalue(), buf.getvalue()),
        sessions_svg=str(weekly_bars(weeks, chart_id="pdf-sessions", width=400)),
    )
    runs = _pdf_text_sizes(pdf)
    text = " ".join(t for t, _ in runs)
    assert "Sessions per week" in text and "19 Oct" in text  # the bar chart itself, its week labels
    assert "change 0.0 mm: within noise" in text and "-0.0" not in text
    ticks = [(t, size) for t, size in runs if re.fullmatch(r"[+-]?[0-9.]+ mm", t)]
    assert len(ticks) >= 8 * 5, ticks
    assert min(size for _, size in ticks) >= 6.5, sorted(ticks, key=lambda r: r[1])[:3]
    # Left-aligned: fpdf2 justifies by widening the word spacing (Tw), which the text then shows as gaps.
    from pypdf import PdfReader

    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents()
    assert content is not None and b" Tw" not in content.get_data()


@pytest.mark.browser
@pytest.mark.slow
def test_report_prints_on_one_page_and_compare_fits_a_phone(browser: Any, ux_site: UxSite) -> None:
    """With two kept check-ins: the report printed from the browser is one A4 page (no header, footer or
    buttons); the before/after page and its change table fit a 390 px screen; chart labels on a phone are
    at least 8 px."""
    import io

    from pypdf import PdfReader

    from tests.progress import clips
    from tests.progress.payloads import checkin_body

    page = _page(browser, "phone")
    log_in(page, ux_site.base, "member")
    for seed in (None, 7):
        frames = clips.still_frames(4.0) if seed is None else clips.still_frames(4.0, seed=seed)
        body = checkin_body(frames, keep_picture=True)
        page.goto(ux_site.base + "/checkin")
        token = page.get_attribute('meta[name="csrf-token"]', "content")
        r = page.request.post(ux_site.base + "/api/checkin", data=body, headers={"X-CSRF-Token": token})
        assert r.status == 201, r.text()
    page.goto(ux_site.base + "/progress/compare")
    shot(page, "ux-compare-phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    table = page.evaluate(
        "() => { const t = document.querySelector('#pair-changes table');"
        " const c = document.getElementById('pair-changes');"
        " return [t.getBoundingClientRect().right, c.getBoundingClientRect().right]; }"
    )
    assert table[0] <= table[1], table
    page.goto(ux_site.base + "/progress")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('svg.asym-chart')].map(svg => {
             const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
             return parseFloat(svg.querySelector('text.tick').getAttribute('font-size')) * scale; })"""
    )
    assert sizes and min(sizes) >= 8, sizes
    week_labels = page.evaluate(
        "() => [...document.querySelectorAll('#sessions-chart text.week')]"
        ".filter(t => getComputedStyle(t).display !== 'none').map(t => t.getBoundingClientRect().height)"
    )
    assert week_labels and min(week_labels) >= 8, week_labels
    page.context.close()
    wide = _page(browser)
    log_in(wide, ux_site.base, "member")
    wide.goto(ux_site.base + "/progress/report")
    shot(wide, "ux-report-wide")
    pdf = wide.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1, len(reader.pages)
    assert "Progress report" in text and "Brow height" in text and "Download as PDF" not in text
    assert "Log out" not in text
    wide.context.close()
