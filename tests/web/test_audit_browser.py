"""The audit report in Debian's headless Chromium against a real ``facecoach serve``: upload a real clip
without naming a technique, wait for the job, see the verdict, the segments, a thumbnail and a chart,
click a fault and watch the video jump there; download the one-file export. Screenshots at 1280×900
and 390×844 go to ``var/screenshots/`` (look at them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.test_accessibility import _describe, axe_violations
from tests.web.test_browser import REPO, _page, browser, mail_sink, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = REPO / "var" / "screenshots"


def _login_member(p: Any) -> None:
    p.go("/login")
    p.page.fill("#email", "member@demo.facecoach.test")
    p.page.fill("#password", "demo-member-2026")
    p.page.click("form[action='/login'] button[type=submit]")
    p.page.wait_for_load_state()


#: the video element's state, for a failure message that says why the playhead is not where it should be
VIDEO_STATE = """() => { const v = document.getElementById('audit-video');
  return {url: location.href, t: v.currentTime, duration: v.duration, ready: v.readyState,
    network: v.networkState, seeking: v.seeking, error: v.error && v.error.code, src: v.currentSrc}; }"""


def _wait_at(page: Any, t: float) -> None:
    """The video's playhead is at ``t`` (s) within 0.2 s, or the failure says the video's state."""
    try:
        page.wait_for_function(
            "(t) => Math.abs(document.getElementById('audit-video').currentTime - t) < 0.2",
            arg=t,
            timeout=10_000,
        )
    except Exception as exc:
        raise AssertionError(f"the video is not at {t} s: {page.evaluate(VIDEO_STATE)}") from exc


def test_audit_any_tutorial_report_in_the_browser(
    browser: Any,  # noqa: F811
    server: str,  # noqa: F811
    shared_data: Path,
    tmp_path: Path,
) -> None:
    p = _page(browser, server, "audit-report")
    _login_member(p)
    p.go("/audit")
    assert p.page.input_value("#technique") == ""  # "any tutorial" is the default
    p.page.set_input_files("#video", str(shared_data / "woman_expressions_24fps.mp4"))
    p.page.click("#audit-form button[type=submit]")
    p.page.wait_for_url("**/audit/*")
    p.page.wait_for_selector("#audit-verdict", timeout=240_000)  # the page reloads when the job is done

    sentence = p.page.inner_text(".verdict-sentence")
    assert sentence.startswith("Safe to follow: "), sentence
    assert len(p.page.query_selector_all("#audit-segments li.segment")) >= 2
    thumb = p.page.wait_for_selector(".fault .thumb")
    p.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=thumb)
    assert p.page.is_visible("svg[id^=chart-still-]") and p.page.is_visible("#audit-report-timeline")

    # The video plays in the page; a click on a fault seeks it to the fault's worst moment.
    p.page.wait_for_function("() => document.getElementById('audit-video').readyState >= 1", timeout=30_000)
    buttons = p.page.query_selector_all(".fault-seek")
    target = buttons[-1]
    t = float(target.get_attribute("data-seek") or "nan")
    assert t > 1.0
    target.click()
    _wait_at(p.page, t)
    # The playhead moved with it, on the timeline and on the charts.
    x = float(p.page.get_attribute("#audit-report-timeline line.playhead", "x1") or "0")
    left = float(p.page.get_attribute("#audit-report-timeline", "data-left") or "0")
    assert x > left + 1
    assert p.page.get_attribute("svg[id^=chart-still-] line.playhead", "x1") == f"{x:.1f}"
    # A click on a segment of the timeline seeks to its start.
    seg = p.page.query_selector_all("#audit-report-timeline rect.segment")[0]
    seg.click()
    _wait_at(p.page, float(seg.get_attribute("data-seek") or "nan"))
    target.scroll_into_view_if_needed()
    target.click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    p.page.screenshot(path=str(SHOTS / "audit-report-1280.png"), full_page=True)
    assert _describe(axe_violations(p.page)) == []  # no serious or critical accessibility problem

    # The export: a download, one file with no script and nothing to fetch.
    with p.page.expect_download() as dl:
        p.page.click("#audit-export")
    saved = tmp_path / "report.html"
    dl.value.save_as(saved)
    html = saved.read_text()
    assert "<script" not in html and "data:image/jpeg;base64," in html and sentence.split(",")[0] in html
    # Opened from disk it shows everything without asking any server for anything.
    offline = p.page.context.new_page()
    asked: list[str] = []
    offline.on("request", lambda r: asked.append(r.url))
    offline.goto(saved.as_uri())
    offline.wait_for_selector("#audit-verdict")
    assert offline.evaluate("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert [u for u in asked if not u.startswith(("file:", "data:"))] == []
    offline.screenshot(path=str(SHOTS / "audit-export-1280.png"), full_page=True)
    offline.close()

    p.page.set_viewport_size({"width": 390, "height": 844})
    p.page.reload()
    p.page.wait_for_selector("#audit-verdict")
    overflow = p.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the report is {overflow}px wider than a phone"
    p.page.screenshot(path=str(SHOTS / "audit-report-390.png"), full_page=True)
    assert _describe(axe_violations(p.page)) == []
    p.check_clean()
