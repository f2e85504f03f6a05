"""The typed gates of ``facecoach.web.deps``: a page answers exactly as it did when each handler checked
the viewer itself (the login redirect's target, the upsell page with HTTP 200), /api answers with a
status, and one request reads its viewer through its own single database session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session

from tests.web.fixtures import Site, csrf_of

# (method, path, where a visitor who is not logged in is sent): a form's POST returns to its page.
LOGIN_TARGETS = [
    ("GET", "/account", "/login?next=/account"),
    ("GET", "/account/export", "/login?next=/account"),
    ("GET", "/account/scans/1/picture", "/login?next=/account"),
    ("POST", "/account/password", "/login?next=/account"),
    ("POST", "/account/delete", "/login?next=/account"),
    ("POST", "/account/scans/1/picture/delete", "/login?next=/account"),
    ("GET", "/assessment", "/login?next=/assessment"),
    ("POST", "/assessment", "/login?next=/assessment"),
    ("GET", "/assessment/scan", "/login?next=/assessment/scan"),
    ("POST", "/assessment/scan", "/login?next=/assessment/scan"),
    ("GET", "/live", "/login?next=/live"),
    ("POST", "/membership/join", "/signup"),
    ("POST", "/membership/cancel", "/login"),
]


@pytest.mark.parametrize(("method", "path", "target"), LOGIN_TARGETS)
def test_a_visitor_is_sent_to_the_same_place_as_before(
    sqlite_site: Site, method: str, path: str, target: str
) -> None:
    c = sqlite_site.client("anon")
    data = {"csrf_token": csrf_of(c.get("/").text), "current_password": "x", "new_password": "y", "plan": "x"}
    r = c.request(method, path, data=data if method == "POST" else None, follow_redirects=False)
    assert r.status_code == 303, (path, r.status_code, r.text[:200])
    assert r.headers["location"] == target


@pytest.mark.parametrize(
    ("role", "path", "plan", "feature"),
    [
        ("anon", "/routine", "free", "Your routine"),
        ("anon", "/progress", "member", "Progress"),
        ("free", "/progress", "member", "Progress"),
        ("free", "/audit", "member", "Video audit"),
        ("free", "/live", "member", "Live coaching with your camera"),
    ],
)
def test_a_gated_page_explains_what_the_plan_unlocks(
    sqlite_site: Site, role: str, path: str, plan: str, feature: str
) -> None:
    r = sqlite_site.client(role).get(path, follow_redirects=False)
    assert r.status_code == 200
    assert f'data-upsell="{plan}"' in r.text and feature in r.text


def test_the_api_answers_with_a_status(sqlite_site: Site) -> None:
    anon, free = sqlite_site.client("anon"), sqlite_site.client("free")
    assert anon.get("/api/progress").json() == {"detail": "log in first"}
    assert anon.get("/api/progress").status_code == 401
    r = free.get("/api/progress")
    assert (r.status_code, r.json()) == (402, {"detail": "the Member plan unlocks this"})
    assert sqlite_site.client("member").get("/api/progress").status_code == 200


@contextmanager
def counting_sessions(site: Site) -> Iterator[list[int]]:
    """Counts the database sessions the app opens (the real ones, opened through ``Database.sessions``)."""
    opened: list[int] = []
    original = site.db.sessions

    @contextmanager
    def sessions() -> Iterator[Session]:
        opened.append(1)
        with original() as s:
            yield s

    site.db.sessions = sessions  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        site.db.sessions = original  # type: ignore[method-assign]


def test_one_request_reads_its_viewer_through_its_one_session(sqlite_site: Site) -> None:
    member = sqlite_site.client("member")
    token = sqlite_site.csrf("member", "/account")
    with counting_sessions(sqlite_site) as opened:
        assert member.get("/progress").status_code == 200
    assert len(opened) == 1  # was 2: get_viewer opened a session of its own beside get_db's
    with counting_sessions(sqlite_site) as opened:  # CSRF check, gate and handler share the viewer
        data = {"csrf_token": token, "confirm": "no"}
        r = member.post("/account/delete", data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/account"
    assert len(opened) == 1
