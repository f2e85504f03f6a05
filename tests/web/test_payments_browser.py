"""A member cancels from the account page in Debian's headless Chromium against a real uvicorn server:
the page states the date, asks for confirmation, and the account page then says until when everything is
kept (issue 18). Screenshots go to ``test-artifacts/screenshots/payments-*.png``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from facecoach.members import auth, migrate
from facecoach.members.billing import join_plan, subscription_of
from facecoach.members.db import Database
from facecoach.members.payments import TestPaymentProvider
from tests.support.browser import launch
from tests.web.fixtures import PASSWORD, Site, build_site
from tests.web.ux_site import _serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str, int]]:
    tmp = tmp_path_factory.mktemp("payments")
    db = Database.connect(f"sqlite:///{tmp / 'payments.db'}")
    migrate.upgrade(db)
    with db.session() as s:
        user = auth.create_user(s, "mia@example.org", PASSWORD, name="Mia", plan="free")
        assert join_plan(s, user, "member", "4242424242424242", TestPaymentProvider(), "monthly").ok
        uid = user.id
    site = build_site(db, tmp)
    for base in _serve(site.app):
        yield site, base, uid
    site.close()
    db.dispose()


def test_cancelling_from_the_account_page(served: tuple[Site, str, int], playwright_instance: Any) -> None:
    site, base, uid = served
    with site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.period_end is not None
        ends = f"{sub.period_end:%d %B %Y}"
    browser = launch(playwright_instance)
    try:
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/login")
        page.fill("#email", "mia@example.org")
        page.fill("#password", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_load_state()
        page.goto(base + "/account")
        assert page.inner_text("#period-end") == ends
        assert "€12.00" in page.inner_text("#payments")
        with page.expect_navigation():
            page.click("#cancel-link")
        assert f"ends on {ends}" in page.inner_text("#cancel-statement")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "payments-cancel-confirm.png"), full_page=True)
        with page.expect_navigation():
            page.click("#confirm-cancel")
        assert page.url == base + "/account"
        assert f"You keep everything until {ends}" in page.inner_text("body")
        assert ends in page.inner_text("#cancel-notice") and page.is_visible("#resume")
        page.screenshot(path=str(SHOTS / "payments-cancelled.png"), full_page=True)
        assert errors == []
    finally:
        browser.close()
    with site.db.session() as s:
        sub = subscription_of(s, uid)
        assert sub is not None and sub.cancel_at_period_end and sub.status == "active"
    assert "is cancelled" in site.mail_to("mia@example.org", 1)[0].subject
