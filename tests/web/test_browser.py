"""Browser journeys in Debian's headless Chromium against a real ``facecoach serve`` (uvicorn) on a free
port: sign up → choose a plan → assessment with a photo → routine; the webcam snapshot; library filters;
progress charts with data; export and delete. Screenshots of every page go to
``test-artifacts/screenshots/`` (look at them)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.reliability.support import free_port
from tests.support.browser import FAKE_CAMERA, launch
from tests.support.mail import MailSink

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-artifacts" / "screenshots"
PASSWORD = "a good long password"


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[MailSink]:
    """The SMTP server the browser journeys' server mails to (sign-up confirmation links)."""
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mail_sink: MailSink) -> Iterator[str]:
    """``facecoach serve --seed-demo`` in a subprocess, on its own SQLite file and a free port."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'fc.db'}",
        "FACECOACH_DATA_DIR": str(tmp),
        "FACECOACH_SMTP_HOST": "127.0.0.1",
        "FACECOACH_SMTP_PORT": str(mail_sink.port),
        "FACECOACH_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from facecoach.cli import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed-demo",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.close()
            raise AssertionError("server did not start:\n" + (tmp / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    assert "member@demo.facecoach.test" in (tmp / "server.log").read_text()  # credentials printed at start


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Any]:
    b = launch(playwright_instance)
    yield b
    b.close()


class Page:
    """A page that fails the test on any console error or CSP violation, and saves screenshots."""

    def __init__(self, page: Any, base: str, name: str) -> None:
        self.page, self.base, self.name = page, base, name
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        # A page answered with 4xx on purpose (a declined card, a wrong password) logs "Failed to load
        # resource"; sub-resources are checked by status in _response instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response: Any) -> None:
        if response.request.resource_type != "document" and response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def shot(self, label: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{self.name}-{label}.png"), full_page=True)

    def check_clean(self) -> None:
        assert self.errors == [], self.errors


def _page(browser: Any, server: str, name: str, **kwargs: Any) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, **kwargs)
    return Page(context.new_page(), server, name)


def _signup(p: Page, email: str, mail: MailSink) -> None:
    p.go("/signup")
    p.shot("signup")
    p.page.fill("#name", "Robin")
    p.page.fill("#email", email)
    p.page.fill("#password", PASSWORD)
    p.page.click("form[action='/signup'] button[type=submit]")
    p.page.wait_for_selector("#signup-sent")
    p.go(mail.wait_for(email)[0].link())  # the link in the confirmation mail
    p.page.click("form[action^='/signup/confirm/'] button[type=submit]")
    p.page.wait_for_url("**/membership")


def _join(p: Page) -> None:
    p.shot("membership")
    p.page.fill("section[data-plan=member] input[name=card_number]", "4000 0000 0000 0002")
    p.page.click("section[data-plan=member] button[type=submit]")
    assert "declined" in p.page.inner_text(".flash.error")
    p.page.fill("section[data-plan=member] input[name=card_number]", "4242 4242 4242 4242")
    p.page.click("section[data-plan=member] button[type=submit]")
    p.page.wait_for_url("**/assessment")


def _questionnaire(p: Page) -> None:
    p.shot("assessment")
    p.page.check("fieldset[data-field=goals] input[value=lift_cheeks]")
    p.page.check("fieldset[data-field='habits.clenching'] input[value=yes]")
    p.page.fill("input[name=minutes_per_day]", "15")
    p.page.click("#questionnaire button[type=submit]")
    p.page.wait_for_url("**/assessment/scan")


def test_signup_plan_assessment_photo_routine(
    browser: Any, server: str, shared_data: Path, mail_sink: MailSink
) -> None:
    p = _page(browser, server, "journey")
    p.go("/")
    p.shot("home")
    _signup(p, "robin@example.org", mail_sink)
    _join(p)
    _questionnaire(p)
    p.shot("scan")
    p.page.set_input_files("#photo", str(shared_data / "happy_f15.jpg"))
    p.page.click("#scan-submit")
    p.page.wait_for_selector("#annotated-picture")
    size = p.page.evaluate(
        "() => { const i = document.getElementById('annotated-picture'); "
        "return [i.naturalWidth, i.naturalHeight, i.complete]; }"
    )
    assert size[0] > 200 and size[1] > 200 and size[2]
    assert len(p.page.query_selector_all("#scan-sentences li")) >= 5
    p.shot("scan-result")
    p.page.click("#to-routine")
    p.page.wait_for_url("**/routine")
    items = p.page.query_selector_all("#today .routine-item")
    assert items, "today's routine is empty"
    phases = [i.get_attribute("data-phase") for i in items]
    order = ["warmup", "exercise", "release", "drainage"]
    assert [order.index(ph) for ph in phases] == sorted(order.index(ph) for ph in phases)
    assert all(i.query_selector(".reason").inner_text().strip() for i in items)
    assert len(p.page.query_selector_all("#week .day")) == 7
    p.shot("routine")
    p.check_clean()


def _y4m(rgb: np.ndarray, frames: int, path: Path) -> Path:
    """A still picture as a Y4M clip for Chromium's fake camera (4:2:0)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    ycc = np.asarray(Image.fromarray(rgb).convert("YCbCr"), dtype=np.uint8)
    y = ycc[..., 0].tobytes()
    u = np.asarray(Image.fromarray(ycc[..., 1]).resize((w // 2, h // 2))).tobytes()
    v = np.asarray(Image.fromarray(ycc[..., 2]).resize((w // 2, h // 2))).tobytes()
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            fh.write(b"FRAME\n" + y + u + v)
    return path


def test_webcam_snapshot_is_scanned(
    playwright_instance: Any, server: str, shared_data: Path, tmp_path: Path, mail_sink: MailSink
) -> None:
    from PIL import Image

    face = np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB"))
    clip = _y4m(face, 10, tmp_path / "face.y4m")
    b = launch(playwright_instance, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={clip}")
    try:
        p = _page(b, server, "webcam")
        p.page.context.grant_permissions(["camera"], origin=server)
        _signup(p, "cam@example.org", mail_sink)
        p.go("/assessment")
        _questionnaire(p)
        p.page.click("#camera-start")
        p.page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
        p.shot("camera")
        p.page.click("#camera-snap")
        p.page.wait_for_function("() => document.getElementById('photo').files.length === 1")
        p.page.check("#keep_picture")
        p.page.click("#scan-submit")
        p.page.wait_for_selector("#annotated-picture")
        assert "Kept in your account" in p.page.inner_text("figure")
        p.shot("result")
        p.check_clean()
    finally:
        b.close()


def test_library_filters(browser: Any, server: str) -> None:
    p = _page(browser, server, "library")
    p.go("/library")
    total = len(p.page.query_selector_all(".technique-card"))
    p.page.select_option("#kind", "massage")  # the page submits on change
    p.page.wait_for_url("**kind=massage**")
    kinds = {c.get_attribute("data-kind") for c in p.page.query_selector_all(".technique-card")}
    assert kinds == {"massage"}
    massages = len(p.page.query_selector_all(".technique-card"))
    p.page.select_option("#region", "jaw")
    p.page.wait_for_url("**region=jaw**")
    jaw = len(p.page.query_selector_all(".technique-card"))
    assert 0 < jaw < massages < total
    p.shot("filtered")
    p.page.click(".technique-card h3 a")
    p.page.wait_for_selector("h1")
    if p.page.query_selector("#stroke-diagram"):
        assert p.page.query_selector("#stroke-diagram polyline") is not None
    p.shot("technique")
    p.go("/muscles")
    p.page.locator("a.region[data-region=jaw] polygon").first.click()
    p.page.wait_for_url("**region=jaw**")
    p.go("/checker")
    p.page.fill("#q", "jaw exerciser")
    p.page.click("#checker-form button")
    p.page.wait_for_selector("#check-result")
    assert "harmful" in p.page.inner_text("#check-result")
    p.shot("checker")
    p.check_clean()


def test_progress_charts_render_with_data(
    browser: Any, server: str, shared_data: Path, mail_sink: MailSink
) -> None:
    p = _page(browser, server, "progress")
    _signup(p, "charts@example.org", mail_sink)
    _join(p)
    _questionnaire(p)
    for photo in ("happy_f15.jpg", "smile_man.jpg"):
        p.go("/assessment/scan")
        p.page.set_input_files("#photo", str(shared_data / photo))
        p.page.click("#scan-submit")
        p.page.wait_for_selector("#annotated-picture")
    # Sessions arrive the way live coaching's API writes them (CSRF header from the page).
    status = p.page.evaluate(
        """async () => {
          const token = document.querySelector('meta[name=csrf-token]').content;
          const out = [];
          // A logged date is within a day of today, UTC (issue 11): yesterday, today, tomorrow.
          const days = [-1, 0, 1].map((d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10));
          for (const date of days) {
            const r = await fetch('/api/sessions', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
              body: JSON.stringify({technique_ids: ['smile-lift'], reps: 10, date})});
            out.push(r.status);
          }
          return out;
        }"""
    )
    assert status == [201, 201, 201]
    p.go("/progress")
    charts = p.page.query_selector_all("section[data-measure] svg.asym-chart")
    assert len(charts) >= 5
    assert len(charts[0].query_selector_all("circle.point")) == 2
    assert charts[0].query_selector("rect.noise-band") is not None
    box = charts[0].bounding_box()
    assert box is not None and box["width"] > 250 and box["height"] > 80
    assert p.page.inner_text("#total-sessions") == "3"
    bars = [int(b.get_attribute("data-count")) for b in p.page.query_selector_all("#sessions-chart rect.bar")]
    assert len(bars) == 8
    p.shot("page")
    p.check_clean()


def test_export_and_delete(browser: Any, server: str, mail_sink: MailSink) -> None:
    p = _page(browser, server, "account")
    _signup(p, "leaving@example.org", mail_sink)
    p.go("/account")
    p.shot("account")
    with p.page.expect_download() as info:
        p.page.click("#export-link")
    data = json.loads(Path(info.value.path()).read_text())
    assert data["account"]["email"] == "leaving@example.org" and data["format"] == "facecoach-export-1"
    p.page.fill("#confirm", "leaving@example.org")
    p.page.click("form[action='/account/delete'] button")
    p.page.wait_for_url(re.compile(r".*/$"))
    assert "deleted" in p.page.inner_text(".flash")
    p.shot("deleted")
    p.go("/login")
    p.page.fill("#email", "leaving@example.org")
    p.page.fill("#password", PASSWORD)
    p.page.click("form[action='/login'] button[type=submit]")
    assert "Wrong email or password" in p.page.inner_text(".flash.error")
    p.check_clean()


def test_instructor_pages(browser: Any, server: str) -> None:
    p = _page(browser, server, "admin")
    p.go("/login")
    p.page.fill("#email", "coach@demo.facecoach.test")
    p.page.fill("#password", "demo-coach-2026")
    p.page.click("form[action='/login'] button[type=submit]")
    p.page.wait_for_load_state()
    for path, label in [
        ("/admin", "home"),
        ("/admin/members", "members"),
        ("/admin/library", "library"),
        ("/admin/outbox", "outbox"),
        ("/audit", "audit"),
    ]:
        assert p.go(path).status == 200
        p.shot(label)
    p.go("/admin/techniques/smile-lift")
    text = p.page.input_value("textarea[name=text]")
    p.page.fill("textarea[name=text]", text.replace("kind: exercise", "kind: workout"))
    p.page.click("#edit-form button[type=submit]")
    assert "kind" in p.page.inner_text("#edit-error") and "Nothing was saved" in p.page.inner_text(
        "#edit-error"
    )
    p.shot("edit-refused")
    p.check_clean()
