"""The studio in Debian's headless Chromium against a real uvicorn server: the instructor uploads a
lesson whose hold shows forehead creases, sees the audit flag it and publishes it anyway; a member plays
it on the technique page (the browser fetches it with range requests) and sees it in the live step.
Screenshots go to ``test-artifacts/screenshots/studio-*.png``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from facecoach.members import auth, migrate
from facecoach.members.db import Database
from facecoach.members.mail import SmtpMailer
from facecoach.members.models import User
from facecoach.studio.reminders import run_once
from tests.support.browser import FAKE_CAMERA, launch
from tests.web.fixtures import PASSWORD, Site, build_site
from tests.web.ux_site import _serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """The app (its mail to a real SMTP server) on a real uvicorn server, with three accounts."""
    tmp = tmp_path_factory.mktemp("studio")
    db = Database.connect(f"sqlite:///{tmp / 'studio.db'}")
    migrate.upgrade(db)
    with db.session() as s:
        for email, plan in (("coach@example.org", "instructor"), ("mia@example.org", "member")):
            auth.create_user(s, email, PASSWORD, name=email.split("@")[0].title(), plan=plan)
    site = build_site(db, tmp)
    for base in _serve(site.app):
        yield site, base
    site.close()
    db.dispose()


@pytest.fixture(scope="module")
def chromium(playwright_instance: Any) -> Iterator[Any]:
    b = launch(playwright_instance, *FAKE_CAMERA, "--autoplay-policy=no-user-gesture-required")
    yield b
    b.close()


def page_for(chromium: Any, base: str, email: str) -> Any:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    page.errors = errors
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"studio-{name}.png"), full_page=True)


def test_upload_flagged_lesson_publish_anyway_and_a_member_plays_it(
    studio: tuple[Site, str], chromium: Any, creased_lesson: Path
) -> None:
    _site, base = studio
    coach = page_for(chromium, base, "coach@example.org")
    coach.goto(base + "/studio/lessons")
    coach.select_option("#technique", "smile-lift")
    coach.set_input_files("#video", str(creased_lesson))
    coach.click("#lesson-form button[type=submit]")
    coach.wait_for_selector("#lesson-status:text('ready')", timeout=120_000)  # the page refreshes itself
    assert "forehead wrinkle" in coach.inner_text("#audit-flags + ul")
    shot(coach, "lesson-flagged")
    coach.click("#publish")
    assert "publish anyway" in coach.inner_text("#lesson-error")
    coach.check("#anyway")
    coach.click("#publish")
    coach.wait_for_selector("#published-despite")
    shot(coach, "lesson-published")

    member = page_for(chromium, base, "mia@example.org")
    ranges: list[tuple[int, str | None]] = []
    member.on(
        "response",
        lambda r: ranges.append((r.status, r.request.headers.get("range"))) if "/video" in r.url else None,
    )
    member.goto(base + "/library/smile-lift")
    member.wait_for_selector("#lesson-video")
    played = member.evaluate(
        """async () => { const v = document.getElementById('lesson-video'); v.muted = true;
           await v.play(); await new Promise(r => setTimeout(r, 1500));
           return [v.currentTime, v.videoWidth, v.error && v.error.code]; }"""
    )
    assert played[0] > 0.5 and played[1] == 640 and played[2] is None, played
    assert any(status == 206 and rng for status, rng in ranges), ranges  # Chromium asked for byte ranges
    shot(member, "technique-lesson")

    # The live step shows the same lesson once the session starts.
    member.goto(base + "/live?technique=smile-lift")
    member.wait_for_selector("#live[data-state='ready']", timeout=60_000)
    member.click("#btn-start")
    member.wait_for_selector("#live-lesson:not([hidden])", timeout=20_000)
    assert member.get_attribute("#live-lesson", "data-technique") == "smile-lift"
    assert member.get_attribute("#live-lesson video", "src").endswith("/video")
    shot(member, "live-lesson")
    assert coach.errors == [] and member.errors == []


def test_a_reset_mail_arrives_and_its_link_works_once(studio: tuple[Site, str], chromium: Any) -> None:
    site, base = studio
    assert site.mail is not None
    context = chromium.new_context()
    page = context.new_page()
    page.goto(base + "/reset")
    page.fill("#email", "mia@example.org")
    page.click("form[action='/reset'] button[type=submit]")
    page.wait_for_load_state()
    link = site.mail_to("mia@example.org")[0].link()  # the mail the local SMTP server received
    page.goto(base + link)
    page.fill("#new_password", "a brand new long password")
    page.click(f"form[action='{link}'] button[type=submit]")
    page.wait_for_url("**/login")
    page.fill("#email", "mia@example.org")
    page.fill("#password", "a brand new long password")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    again = page.goto(base + link)
    assert again is not None and again.status == 400 and "not valid any more" in page.inner_text("main")
    context.close()
    with site.db.session() as s:  # the next test logs Mia in with the old password
        user = s.scalar(select(User).where(User.email == "mia@example.org"))
        assert user is not None
        user.password_hash = auth.hash_password(PASSWORD)


def test_a_reminder_is_sent_and_unsubscribed_in_the_browser(studio: tuple[Site, str], chromium: Any) -> None:
    site, base = studio
    assert site.mail is not None
    member = page_for(chromium, base, "mia@example.org")
    now = dt.datetime.now(dt.UTC)
    member.goto(base + "/account/mail")
    member.check("#reminders")
    member.check(f"input[name=days][value='{now.isoweekday()}']")
    member.fill("#at_local", now.strftime("%H:%M"))
    member.select_option("#timezone", "UTC")
    member.click("#mail-form button[type=submit]")
    member.wait_for_selector(".flash")
    settings = site.app.state.ctx.settings
    sent = run_once(site.db, SmtpMailer("127.0.0.1", site.mail.port), base, settings.secret_key, now)
    assert sent.reminders == 1
    mail = next(m for m in site.mail.to("mia@example.org") if m.subject == "Time for your face practice")
    path = re.search(r"/mail/unsubscribe/[A-Za-z0-9_.-]+", mail.text)
    assert path is not None
    member.goto(base + path.group(0))
    member.click("#unsubscribe")
    member.wait_for_selector("#unsubscribed")
    shot(member, "unsubscribed")
    member.goto(base + "/account/mail")
    assert not member.is_checked("#reminders")
    assert (
        run_once(site.db, SmtpMailer("127.0.0.1", site.mail.port), base, settings.secret_key, now).reminders
        == 0
    )
