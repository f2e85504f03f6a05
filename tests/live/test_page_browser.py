"""What the live page says and does in Chromium (issue 15), driven by a fake camera clip.

* A restless practice (tests/live/clips.py ``restless_script``): the head jumps sideways five times
  (five ``head_motion`` faults), the face leaves the picture and comes back, then one smile lift with
  forehead creases (a ``forehead_wrinkle`` fault). The cue
  list and the end summary show one line per fault kind with its count, and after "Back in view." the
  prompt returns to the step's instruction within a second or two — it never stays on a sentence that says
  nothing about what to do next.
* Nothing leaves for another origin: every request the page makes is to the site itself, including the
  Face Landmarker library's usage-logging call (made on a 60 s timer, fast-forwarded here with
  Playwright's clock), and the CSP reports no blocked request.
* The page's title names the exercise; the stroke map carries the site's one left/right sentence; axe
  finds nothing "serious" or worse on the running page and the summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from facecoach.web.diagrams import SIDES_NOTE
from facecoach.web.security import SESSION_COOKIE
from tests.live.clips import (
    AWAY_S,
    AWAY_START_S,
    RESTLESS_JUMPS,
    Clip,
    render_clip,
    restless_script,
    write_y4m,
)
from tests.live.conftest import LiveApp
from tests.support.browser import FAKE_CAMERA, launch
from tests.web.test_accessibility import BLOCKING, axe_violations  # the site-wide check's helpers

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "live"
BACK = "Back in view."
# Every CSP violation the page meets, recorded before any of its scripts runs; and every text the prompt
# shows, with its time (ms), however briefly.
RECORD = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
});
window.__prompts = [];
document.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('prompt');
  if (!el) return;
  new MutationObserver(() => window.__prompts.push([performance.now(), el.textContent]))
    .observe(el, {childList: true, characterData: true, subtree: true});
});
"""


@pytest.fixture(scope="module")
def restless_clip(live_face: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    face, points = live_face
    clip: Clip = render_clip(
        face, points, 1, None, 15.0, restless_script(), ((AWAY_START_S, AWAY_START_S + AWAY_S),)
    )
    return write_y4m(tmp_path_factory.mktemp("restless") / "restless.y4m", clip.frames, fps=15)


@pytest.fixture
def open_page(playwright_instance: Any, server: str, live_app: LiveApp) -> Iterator[Callable[..., Any]]:
    """``open_page(clip)``: a signed-in member's page in a fresh Chromium whose fake camera plays ``clip``
    (Chromium's own test pattern when None); CSP violations are recorded in ``window.__csp``."""
    browsers: list[Any] = []

    def open_(clip: Path | None = None) -> Any:
        args = [*FAKE_CAMERA, "--autoplay-policy=no-user-gesture-required"]
        if clip is not None:
            args.append(f"--use-file-for-fake-video-capture={clip}")
        browser = launch(playwright_instance, *args)
        browsers.append(browser)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.add_cookies([{"name": SESSION_COOKIE, "value": live_app.member(fresh=False), "url": server}])
        page = context.new_page()
        page.add_init_script(RECORD)
        return page

    yield open_
    for browser in browsers:
        browser.close()


def _foreign(requests: list[str], server: str) -> list[str]:
    """Requests to anywhere but the site (data: and blob: URLs never leave the browser)."""
    own = urlsplit(server).netloc
    return [u for u in requests if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != own]


def _cues(page: Any) -> list[dict[str, str]]:
    return list(
        page.eval_on_selector_all(
            "#cues li",
            "els => els.map(e => ({kind: e.dataset.kind || '', count: e.dataset.count || '1',"
            " text: e.innerText}))",
        )
    )


def _blocking(page: Any) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in axe_violations(page) if v["impact"] in BLOCKING]


def test_restless_practice_one_line_per_fault_and_a_prompt_that_moves_on(
    open_page: Callable[..., Any], restless_clip: Path, server: str, live_app: LiveApp
) -> None:
    page = open_page(restless_clip)
    live_app.limits()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    onsets: dict[str, int] = {}  # fault kind -> onsets the server reported

    def received(payload: str | bytes) -> None:
        for ev in json.loads(payload).get("events", []):
            if ev.get("type") == "fault" and ev.get("end_s") is None:
                onsets[ev["kind"]] = onsets.get(ev["kind"], 0) + 1

    page.on("websocket", lambda ws: ws.on("framereceived", received))
    page.goto(f"{server}/live?technique=smile-lift&reps=1")
    assert page.title().startswith("Live coaching · Smile lift"), page.title()
    page.wait_for_selector("#live[data-state='ready']", timeout=60_000)
    assert page.get_attribute("#live-mode", "data-mode") == "landmarks"
    page.click("#btn-start")
    page.wait_for_selector("#live[data-state='running']", timeout=20_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worst_list: list[dict[str, str]] = []
    axe_running: list[str] | None = None
    shots: set[str] = set()
    t0 = time.monotonic()
    while page.get_attribute("#live", "data-state") == "running":
        now = time.monotonic() - t0
        assert now < 150, "the session did not finish in time"
        cues = _cues(page)
        if len(cues) >= len(worst_list):
            worst_list = cues
        if len(cues) >= 2 and "cues" not in shots:  # both kinds: the newest on top, the other below it
            page.screenshot(path=str(ARTIFACTS / "restless-cues.png"))
            shots.add("cues")
            axe_running = _blocking(page)
        if page.inner_text("#prompt") == BACK and "back" not in shots:
            page.screenshot(path=str(ARTIFACTS / "restless-back.png"))
            shots.add("back")
        time.sleep(0.1)
    page.wait_for_selector("#live[data-state='finished']", timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "restless-summary.png"), full_page=True)
    prompts = [(t / 1000.0, text) for t, text in page.evaluate("window.__prompts")]
    summary = json.loads(page.get_attribute("#live", "data-summary") or "{}")
    cells = page.eval_on_selector_all(
        "#summary-rows tr td:nth-child(3) li", "els => els.map(e => e.innerText)"
    )
    (ARTIFACTS / "restless.json").write_text(
        json.dumps({"prompts": prompts, "cues": worst_list, "onsets": onsets, "cells": cells}, indent=1)
    )

    # The clip's jumps were seen as separate faults of one kind, the creases as another …
    assert onsets.get("head_motion", 0) >= RESTLESS_JUMPS - 1 and onsets.get("forehead_wrinkle"), onsets
    # … and the cue list shows each kind once, with its count.
    kinds = [c["kind"] for c in worst_list]
    assert len(kinds) == len(set(kinds)), worst_list
    head = next(c for c in worst_list if c["kind"] == "head_motion")
    assert head["count"] == str(onsets["head_motion"]), (head, onsets)
    assert f"× {onsets['head_motion']}" in head["text"], head
    # The summary: one line per kind, with the count the server saved.
    assert summary["faults"]["head_motion"] == onsets["head_motion"], summary
    assert len(cells) == len(summary["faults"]), cells
    assert sum("Keep your head still" in c for c in cells) == 1, cells
    assert any(f"× {onsets['head_motion']}" in c for c in cells if "Keep your head still" in c), cells

    # The prompt always says what to do next: never empty; "Back in view." soon gives way to the instruction.
    assert len(prompts) > 3 and all(text.strip() for _, text in prompts), prompts
    runs: list[tuple[float, str]] = []  # (seconds "Back in view." stayed, what came next)
    start: float | None = None
    for t, text in prompts:
        if text == BACK and start is None:
            start = t
        elif text != BACK and start is not None:
            runs.append((t - start, text))
            start = None
    assert runs, "the face never came back into view"  # the clip leaves the picture once, for 1.5 s
    # The page flashes it for 1.5 s; a page busy with the model on a loaded machine runs its timer late
    # (2.3 s seen), so 3 s here. Before the fix it stayed 5.7 s, until the rep began.
    assert max(seconds for seconds, _ in runs) <= 3.0, runs
    # After the member came back, the step's instruction (no rep done yet: the first one's cue).
    assert runs[-1][1].startswith("Go: "), runs

    # Nothing went to another origin, and the CSP had nothing to block.
    assert _foreign(requests, server) == []
    assert page.evaluate("window.__csp") == []
    assert axe_running == [], axe_running  # None: the list never showed two lines
    assert _blocking(page) == []


def test_nothing_goes_to_another_origin(open_page: Callable[..., Any], server: str) -> None:
    """The Face Landmarker library (1.1.0) starts a usage logger with every task it creates: it posts to
    a Google endpoint every 60 s and on close, and has no option to turn it off. Playwright's clock
    runs the page past that minute; the page must not even try (no request, no CSP report)."""
    page = open_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.clock.install()
    page.goto(f"{server}/live?technique=smile-lift")
    page.wait_for_selector("#live[data-state='ready']", timeout=60_000)
    assert page.get_attribute("#live-mode", "data-mode") == "landmarks"
    page.clock.run_for(65_000)  # the logger's 60 s flush comes due
    page.wait_for_timeout(1500)  # and its request, were there one, would be on its way
    assert [u for u in requests if "tasks-vision" in u], "the in-page model was not loaded"
    assert _foreign(requests, server) == []
    assert page.evaluate("window.__csp") == []
    # The library did try (its logger's flush), and the page kept it in.
    assert int(page.get_attribute("html", "data-refused-requests") or "0") >= 1


GUARD = """async () => {
  const m = await import('/live-static/same-origin.js');
  m.keepRequestsOnThisSite();
  const out = {};
  try { await fetch('https://odml.pa.googleapis.com/v1/log', {method: 'POST'}); out.fetch = 'sent'; }
  catch (e) { out.fetch = e.name; }
  try { await fetch(new Request('https://example.org/r')); out.request = 'sent'; }
  catch (e) { out.request = e.name; }
  try { const x = new XMLHttpRequest(); x.open('POST', 'https://example.org/x'); x.send(); out.xhr = 'sent'; }
  catch (e) { out.xhr = e.name; }
  out.beacon = navigator.sendBeacon('https://example.org/b', 'x');
  out.own = (await fetch('/live-static/index.html')).status;
  out.data = (await fetch('data:text/plain,hi')).status;
  out.refused = m.refusedOrigins();
  return out;
}"""


def test_the_page_guard_refuses_every_way_out(static_page: Any) -> None:
    """static/live/same-origin.js alone: fetch (URL or Request), XMLHttpRequest and sendBeacon to another
    origin are refused before a request exists; the site itself and data: URLs still work. (A WebSocket
    to another host is left to the CSP: tests/security/test_csp_browser.py.)"""
    requests: list[str] = []
    static_page.on("request", lambda r: requests.append(r.url))
    got = static_page.evaluate(GUARD)
    assert got["fetch"] == got["request"] == got["xhr"] == "TypeError", got
    assert got["beacon"] is False and got["own"] == 200 and got["data"] == 200, got
    assert got["refused"] == ["https://odml.pa.googleapis.com", *["https://example.org"] * 3], got
    assert [u for u in requests if "facecoach.test" not in u and not u.startswith("data:")] == []


TALLY = """async () => {
  const m = await import('/live-static/cues.js');
  const faults = [
    {kind: 'head_motion', cue: 'Keep your head still.'},
    {kind: 'asymmetry', cue: 'Your left side is lagging.'},
    {kind: 'head_motion', cue: 'Keep your head still.'},
    {kind: 'asymmetry', cue: 'Your right side is lagging.'},
    {kind: 'head_motion', cue: 'Keep your head still.'},
  ];
  return m.tally(faults).map(m.lineText);
}"""


def test_faults_are_tallied_one_line_per_kind(static_page: Any) -> None:
    """One line per kind in first-seen order, the latest words of that kind, "× n" from the second time."""
    assert static_page.evaluate(TALLY) == ["Keep your head still. × 3", "Your right side is lagging. × 2"]


def test_massage_map_states_the_sites_sides_convention(open_page: Callable[..., Any], server: str) -> None:
    """The stroke map says the one sentence the library pages say (facecoach.web.diagrams.SIDES_NOTE),
    given by the server, not words of its own; the massage view passes axe."""
    page = open_page()
    page.goto(f"{server}/live?technique=jaw-release&mode=jpeg")
    assert page.title().startswith("Live coaching · "), page.title()
    page.wait_for_selector("#live[data-state='ready']", timeout=30_000)
    page.click("#btn-start")
    page.wait_for_selector("#massage-view:not([hidden])", timeout=20_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "massage-sides.png"), full_page=True)
    assert page.inner_text("#stroke-sides") == SIDES_NOTE
    labels = page.eval_on_selector_all("#stroke-map text[data-side]", "els => els.map(e => e.textContent)")
    assert labels == ["your left", "your right"], labels
    assert _blocking(page) == []
