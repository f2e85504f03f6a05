"""The authorization matrix over EVERY route of the app and every role (anonymous, free, member, another
member, instructor), on SQLite and PostgreSQL. The route list comes from the app's own route table: a
route without a rule here fails the test, so a new route cannot ship unreviewed.

Each response is classified: ``allowed`` (the thing itself, or a validation answer about the input),
``denied`` (401/402/403, a redirect to log in, or the page explaining what a plan unlocks) or ``hidden``
(404 for something that exists but is not yours). A 5xx is always a failure. Nobody but the member sees
the member's own data (checked by markers planted in it), and nobody writes without the CSRF token.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from facecoach.knowledge import load_library
from facecoach.members.api_tokens import create_token
from facecoach.members.models import Assessment, AuditJob, Scan
from facecoach.members.studio_models import Lesson, Program
from facecoach.planning.assessment import Answers
from facecoach.studio.lessons import folder_of
from tests.security.routes import route_table
from tests.web.fixtures import ROLES, Site

LIB = load_library()
EXERCISE = next(t.id for t in LIB.techniques.values() if t.kind == "exercise")
SECRET_FILE = "member-private-clip-7f3a.mp4"
SECRET_MEASURE = 7.3141
PROGRAM_SLUG = "authz-starter"

# Who may use each route: public · login (any account) · member (paid plan or instructor) · owner (the
# member who owns the object, or the instructor) · instructor · anon-only (forms for the logged-out).
RULES: dict[tuple[str, str], str] = {
    # The habit guard (issue 16): the page and its own settings and counts; the rules are public data.
    ("GET", "/guard"): "member",
    ("GET", "/guard/history"): "member",
    ("GET", "/guard/rules.json"): "public",
    ("POST", "/guard/settings"): "member",
    ("POST", "/guard/counts"): "member",
    ("POST", "/guard/forget"): "member",
    # The instructor's studio (issue 18): her lessons, programs and dashboard; members watch and join.
    ("GET", "/studio"): "instructor",
    ("GET", "/studio/lessons"): "instructor",
    ("POST", "/studio/lessons"): "instructor",
    ("GET", "/studio/lessons/{lesson_id}"): "instructor",
    ("POST", "/studio/lessons/{lesson_id}/publish"): "instructor",
    ("POST", "/studio/lessons/{lesson_id}/unpublish"): "instructor",
    ("POST", "/studio/lessons/{lesson_id}/delete"): "instructor",
    ("GET", "/studio/programs"): "instructor",
    ("GET", "/studio/programs/{program_id}"): "instructor",
    ("POST", "/studio/programs/save"): "instructor",
    ("POST", "/studio/programs/{program_id}/delete"): "instructor",
    ("GET", "/lessons/{lesson_id}/video"): "member",
    ("GET", "/lessons/{lesson_id}/poster.jpg"): "member",
    ("GET", "/lessons/for"): "public",
    ("GET", "/programs/{slug}"): "public",
    ("POST", "/programs/{slug}/join"): "member",
    ("POST", "/programs/leave"): "login",
    ("GET", "/account/mail"): "login",
    ("POST", "/account/mail"): "login",
    ("GET", "/mail/unsubscribe/{token}"): "public",
    ("POST", "/mail/unsubscribe/{token}"): "public",
    ("GET", "/"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/openapi.json"): "public",
    ("GET", "/static/models/face_landmarker.task"): "public",
    ("GET", "/static/models/hand_landmarker.task"): "public",
    ("GET", "/library"): "public",
    ("GET", "/library/{technique_id}"): "public",
    ("GET", "/muscles"): "public",
    ("GET", "/checker"): "public",
    ("POST", "/checker"): "public",
    ("GET", "/membership"): "public",
    ("GET", "/signup"): "public",
    ("POST", "/signup"): "public",
    ("GET", "/signup/confirm/{token}"): "public",
    ("POST", "/signup/confirm/{token}"): "public",
    ("GET", "/login"): "public",
    ("POST", "/login"): "public",
    ("GET", "/reset"): "public",
    ("POST", "/reset"): "public",
    ("GET", "/reset/{token}"): "public",
    ("POST", "/reset/{token}"): "public",
    ("GET", "/api/me"): "public",
    ("GET", "/api/plans"): "public",
    ("GET", "/api/techniques"): "public",
    ("GET", "/api/techniques/{technique_id}"): "public",
    ("GET", "/api/claims"): "public",
    ("POST", "/api/check"): "public",
    ("GET", "/account"): "login",
    ("GET", "/account/export"): "login",
    ("POST", "/account/password"): "login",
    ("POST", "/account/delete"): "login",
    ("POST", "/membership/join"): "login",
    ("POST", "/membership/cancel"): "login",
    # Self-service billing (issue 18): each change confirmed on a page of its own; Stripe's webhook is
    # authorised by its signature alone (below, CSRF_EXEMPT).
    ("GET", "/membership/cancel"): "login",
    ("POST", "/membership/resume"): "login",
    ("GET", "/membership/change"): "login",
    ("POST", "/membership/change"): "login",
    ("GET", "/membership/welcome"): "login",
    ("POST", "/payments/stripe/webhook"): "public",
    ("POST", "/logout"): "public",
    ("GET", "/assessment"): "login",
    ("POST", "/assessment"): "login",
    ("GET", "/assessment/scan"): "login",
    ("POST", "/assessment/scan"): "login",
    ("GET", "/routine"): "login",
    ("GET", "/api/routine"): "login",
    ("GET", "/api/export"): "login",
    ("GET", "/progress"): "member",
    ("GET", "/api/progress"): "member",
    ("POST", "/api/sessions"): "member",
    ("GET", "/audit"): "member",
    ("POST", "/audit"): "member",
    ("GET", "/live"): "member",
    ("WS", "/live/ws"): "member",
    ("GET", "/account/scans/{scan_id}/picture"): "self",
    ("POST", "/account/scans/{scan_id}/picture/delete"): "self",
    # An audit is the member's alone (issue 14): its report, video, thumbnails and export; not the instructor.
    ("GET", "/audit/{job_id}"): "mine",
    ("GET", "/api/audits/{job_id}"): "mine",
    ("GET", "/audit/{job_id}/video"): "mine",
    ("GET", "/audit/{job_id}/thumbnails/{thumb_id}.jpg"): "mine",
    ("GET", "/audit/{job_id}/export.html"): "mine",
    ("POST", "/audit/{job_id}/delete"): "mine",
    ("GET", "/checkin"): "member",
    ("GET", "/checkin/framing.json"): "public",
    ("POST", "/api/checkin"): "member",
    ("GET", "/progress/compare"): "member",
    ("GET", "/progress/report"): "member",
    ("GET", "/progress/report.pdf"): "member",
    ("GET", "/checkin/pictures/{checkin_id}.jpg"): "self",
    ("POST", "/checkin/pictures/{checkin_id}/delete"): "self",
    ("GET", "/progress/compare/{before_id}/{after_id}/{side}.jpg"): "self",
    # The API a mobile app is built on (issue 15): the member's work, personal tokens, the docs.
    ("GET", "/redoc"): "public",
    ("GET", "/static/vendor/redoc/redoc.standalone.js"): "public",
    ("GET", "/api/assessment"): "login",
    ("PUT", "/api/assessment"): "login",
    ("POST", "/api/scan"): "login",
    ("GET", "/api/scans"): "login",
    ("GET", "/api/audits"): "member",
    ("POST", "/api/audits"): "member",
    ("POST", "/api/live/tokens"): "member",
    ("DELETE", "/api/account"): "login",
    ("GET", "/api/tokens"): "login",
    ("POST", "/api/tokens"): "login",
    ("DELETE", "/api/tokens/{token_id}"): "self",
    ("POST", "/account/tokens"): "login",
    ("POST", "/account/tokens/{token_id}/revoke"): "self",
    ("GET", "/admin"): "instructor",
    ("GET", "/admin/members"): "instructor",
    ("GET", "/admin/outbox"): "instructor",
    ("GET", "/admin/library"): "instructor",
    ("GET", "/admin/{kind}s/new"): "instructor",
    ("GET", "/admin/{kind}s/{entry_id}"): "instructor",
    ("POST", "/admin/{kind}s/save"): "instructor",
    ("POST", "/admin/{kind}s/{entry_id}/revert"): "instructor",
}

EXPECTED = {
    "public": dict.fromkeys(ROLES, "allowed"),
    "login": {
        "anon": "denied",
        "free": "allowed",
        "member": "allowed",
        "other": "allowed",
        "instructor": "allowed",
    },
    "member": {
        "anon": "denied",
        "free": "denied",
        "member": "allowed",
        "other": "allowed",
        "instructor": "allowed",
    },
    "owner": {
        "anon": "denied",
        "free": "denied",
        "member": "allowed",
        "other": "hidden",
        "instructor": "allowed",
    },
    "instructor": {
        "anon": "denied",
        "free": "denied",
        "member": "denied",
        "other": "denied",
        "instructor": "allowed",
    },
    # A paid feature's private object: the member who owns it; not another member, not the instructor.
    "mine": {
        "anon": "denied",
        "free": "denied",
        "member": "allowed",
        "other": "hidden",
        "instructor": "hidden",
    },
    # The member's own kept face picture: nobody else, not even the instructor.
    "self": {
        "anon": "denied",
        "free": "hidden",
        "member": "allowed",
        "other": "hidden",
        "instructor": "hidden",
    },
}
# POSTs that end a role's state are run last, in this order.
LAST = [
    ("POST", "/audit/{job_id}/delete"),
    ("POST", "/studio/lessons/{lesson_id}/delete"),
    ("POST", "/studio/programs/{program_id}/delete"),
    ("POST", "/membership/cancel"),
    ("POST", "/account/delete"),
    ("POST", "/logout"),
]
# Harmless input for each write: authorized roles get a validation answer or a no-op, never a change of plan.
FORMS: dict[str, dict[str, str]] = {
    "/checker": {"text": "jade rollers"},
    "/signup": {"email": "not-an-email", "password": "short"},
    "/login": {"email": "nobody@example.org", "password": "wrong password!!"},
    "/reset": {"email": "nobody@example.org"},
    "/reset/{token}": {"new_password": "a new long password"},
    "/account/password": {"current_password": "wrong password!!", "new_password": "another long one"},
    "/account/delete": {"confirm": "not-my-email@example.org"},
    "/membership/join": {"plan": "no-such-plan", "card_number": "4242424242424242"},
    "/membership/change": {"billing": "yearly"},  # without confirm=yes: back to the confirmation page
    "/assessment": {},
    "/assessment/scan": {},
    "/audit": {"technique": "no-such-exercise"},
    "/admin/{kind}s/save": {"yaml": "id: [unclosed"},
    "/account/tokens": {"name": ""},  # refused (no name): back to the account page with the reason
    "/api/audits": {"technique": "no-such-exercise"},  # no video either: a validation answer
}
# Writes that carry their own credential instead of the CSRF token: RFC 8058 one-click unsubscribe is
# POSTed by mail programs without cookies; the signed token in its URL is what authorises it. An invalid
# token must be refused (400) and change nothing.
# Stripe's webhook likewise: no cookies, no token; its Stripe-Signature is its only authority, and a body
# without a valid one is refused with 400 (here Stripe is not configured: every event is refused, 400;
# tests/members/test_stripe.py checks the signatures with Stripe configured).
CSRF_EXEMPT = {("POST", "/mail/unsubscribe/{token}"), ("POST", "/payments/stripe/webhook")}
JSON_BODIES: dict[str, Any] = {
    "/api/check": {"text": "jade rollers"},
    "/api/sessions": {"reps": 1},
    "/guard/settings": {"sound": False},
    "/guard/counts": {"client_id": "0" * 16, "hours": []},  # refused (no hours): a validation answer
    "/api/assessment": Answers(minutes_per_day=12).model_dump(mode="json"),
    "/api/live/tokens": {"reps": 1},
    "/api/account": {"confirm": "not-my-email@example.org"},  # refused: a validation answer (422)
    "/api/tokens": {"name": "matrix", "scopes": ["read"]},
}


def _plant_member_data(site: Site) -> int:
    """Private data of the member: an assessment, a scan and an audit job, with recognisable markers
    (a measurement value and a file name)."""
    site.client("member")
    uid = site.user_ids["member"]
    with site.db.session() as s:
        a = Assessment(user_id=uid, answers=Answers(minutes_per_day=12).model_dump(mode="json"))
        s.add(a)
        s.flush()
        scan = Scan(
            user_id=uid,
            assessment_id=a.id,
            measurements={"asymmetry": {"brow_height_mm": SECRET_MEASURE}},
            picture=b"\xff\xd8\xff\xe0 kept picture",
        )
        s.add(scan)
        s.flush()
        PLANTED["scan_id"] = scan.id
        PLANTED["checkin_ids"] = _plant_checkins(s, uid)
        job = AuditJob(
            user_id=uid,
            technique_id=EXERCISE,
            filename=SECRET_FILE,
            status="done",
            result={},
            media_dir="ab" * 12,
        )
        s.add(job)
        s.flush()
        PLANTED["thumb_id"] = _plant_audit_media(site, s, job)
        lesson = Lesson(
            technique_id=EXERCISE,
            directory="authz",
            original_file="lesson.mp4",
            media_file="lesson.mp4",
            published_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            has_poster=True,
        )
        program = Program(slug=PROGRAM_SLUG, title="7-day starter", weeks=[[EXERCISE]], published=True)
        s.add_all([lesson, program])
        s.flush()
        PLANTED["lesson_id"], PLANTED["program_id"] = lesson.id, program.id
        PLANTED["token_id"] = create_token(s, uid, "the member's phone", ["read"]).row.id
        folder = folder_of(site.app.state.ctx.settings.data_dir, lesson)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "lesson.mp4").write_bytes(b"\0\0\0\x18ftypmp42 not played here")
        (folder / "poster.jpg").write_bytes(b"\xff\xd8\xff\xe0 poster")
        s.commit()
        return job.id


PLANTED: dict[str, Any] = {}


def _plant_audit_media(site: Site, s: Any, job: AuditJob) -> int:
    """The audit's kept video (a real, browser-playable clip) and one thumbnail of it."""
    import shutil

    from facecoach.members.models import AuditThumbnail
    from tests.conftest import SHARED_DATA

    folder = site.app.state.ctx.settings.data_dir / "audit-media" / str(job.media_dir)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SHARED_DATA / "woman_expressions_24fps.mp4", folder / "video.mp4")
    thumb = AuditThumbnail(
        user_id=job.user_id, job_id=job.id, t_s=1.0, kind="frown", jpeg=b"\xff\xd8\xff\xe0 t"
    )
    s.add(thumb)
    s.flush()
    return int(thumb.id)


def _plant_checkins(s: Any, uid: int) -> list[int]:
    """Two check-ins of the member with kept pictures (real JPEGs, landmarks spread over them)."""
    import io

    import numpy as np
    from PIL import Image

    from facecoach.members.models import Checkin, CheckinPicture

    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)).save(buf, format="JPEG")
    ids = []
    for _ in range(2):
        row = Checkin(user_id=uid, source="page", measures={"values": {"brow_height_mm": SECRET_MEASURE}})
        s.add(row)
        s.flush()
        points = rng.uniform(10, 86, (478, 2)).tolist()
        s.add(CheckinPicture(user_id=uid, checkin_id=row.id, jpeg=buf.getvalue(), points=points))
        ids.append(row.id)
    return ids


def _fill(path: str, job_id: int) -> str:
    return (
        path.replace("{technique_id}", EXERCISE)
        .replace("{scan_id}", str(PLANTED.get("scan_id", 0)))
        .replace("{checkin_id}", str(PLANTED.get("checkin_ids", [0])[0]))
        .replace("{before_id}", str(PLANTED.get("checkin_ids", [0, 0])[0]))
        .replace("{after_id}", str(PLANTED.get("checkin_ids", [0, 0])[-1]))
        .replace("{side}", "before")
        .replace("{token}", "not-a-valid-reset-token")
        .replace("{job_id}", str(job_id))
        .replace("{thumb_id}", str(PLANTED.get("thumb_id", 0)))
        .replace("{kind}", "technique")
        .replace("{entry_id}", EXERCISE)
        .replace("{lesson_id}", str(PLANTED.get("lesson_id", 0)))
        .replace("{program_id}", str(PLANTED.get("program_id", 0)))
        .replace("{slug}", PROGRAM_SLUG)
        .replace("{token_id}", str(PLANTED.get("token_id", 0)))
    )


def _classify(r: Any) -> str:
    if r.status_code >= 500:
        return f"server error {r.status_code}"
    if r.status_code in (401, 402, 403):
        return "denied"
    if r.status_code == 404:
        return "hidden"
    if r.status_code in (302, 303, 307) and r.headers["location"].startswith(("/login", "/signup")):
        return "denied"
    if r.status_code == 200 and 'data-upsell="' in r.text:
        return "denied"
    return "allowed"


def _ws_outcome(site: Site, role: str) -> str:
    from starlette.websockets import WebSocketDisconnect

    try:
        with site.client(role).websocket_connect("/live/ws") as ws:
            hello = ws.receive_json()
            return "allowed" if hello.get("type") == "hello" else "denied"
    except WebSocketDisconnect as exc:
        return "denied" if exc.code in (4401, 4403) else f"closed {exc.code}"


def test_every_route_has_a_rule(site: Site) -> None:
    table = set(route_table(site.app))
    assert table - set(RULES) == set(), "routes without an authorization rule: add them to RULES"
    assert set(RULES) - table == set(), "rules for routes that no longer exist"


def test_authorization_matrix(site: Site) -> None:
    job_id = _plant_member_data(site)
    for role in ROLES:
        site.client(role)
    routes = sorted(RULES, key=lambda r: (r in LAST, LAST.index(r) if r in LAST else 0, r[0] != "GET", r))
    problems = []
    for method, template in routes:
        rule = RULES[(method, template)]
        for role in ROLES:
            client = site.client(role)
            path = _fill(template, job_id)
            if method == "WS":
                got = _ws_outcome(site, role)
            elif method == "GET":
                r = client.get(path, follow_redirects=False)
                got = _classify(r)
                if role != "member" and r.status_code == 200 and not path.startswith("/static/"):
                    for marker in (SECRET_FILE, str(SECRET_MEASURE)):
                        if marker in r.text:
                            problems.append(f"{role} sees the member's {marker} on {path}")
            else:
                token = client.get("/api/me").json()["csrf_token"]
                if template in JSON_BODIES:
                    body, headers = JSON_BODIES[template], {"x-csrf-token": token}
                    r = client.request(method, path, json=body, headers=headers, follow_redirects=False)
                else:
                    data = {**FORMS.get(template, {}), "csrf_token": token}
                    r = client.request(method, path, data=data, follow_redirects=False)
                got = _classify(r)
            want = EXPECTED[rule][role]
            if got != want:
                problems.append(f"{method} {path} as {role}: {got}, expected {want} ({rule})")
    assert problems == [], "\n".join(problems)


def test_other_members_objects_are_invisible(site: Site) -> None:
    """Ids are guessable; ownership is checked: the other member gets a 404 that says nothing."""
    job_id = _plant_member_data(site)
    other = site.client("other")
    for path in (
        f"/audit/{job_id}",
        f"/api/audits/{job_id}",
        f"/audit/{job_id}/video",
        f"/audit/{job_id}/thumbnails/{PLANTED['thumb_id']}.jpg",
        f"/audit/{job_id}/export.html",
        f"/audit/{job_id + 1}",
        f"/api/audits/{job_id + 1}",
    ):
        for role in ("other", "instructor"):
            r = site.client(role).get(path)
            assert r.status_code == 404 and SECRET_FILE not in r.text, (role, path)
    assert json.loads(other.get("/api/export").text)["video_audits"] == []
    with site.db.session() as s:  # the other member's writes land on their own account only
        before = len(list(s.scalars(select(Scan).where(Scan.user_id == site.user_ids["member"]))))
    token = other.get("/api/me").json()["csrf_token"]
    assert other.post("/api/sessions", json={"reps": 3}, headers={"x-csrf-token": token}).status_code == 201
    assert site.client("member").get("/api/export").json()["practice_sessions"] == []
    with site.db.session() as s:
        assert len(list(s.scalars(select(Scan).where(Scan.user_id == site.user_ids["member"])))) == before


def test_every_write_needs_the_csrf_token(sqlite_site: Site) -> None:
    """Without the token (or with another browser's) every write is refused and nothing changes."""
    from facecoach.members.backup import digests

    site = sqlite_site
    job_id = _plant_member_data(site)
    stolen = site.client("other").get("/api/me").json()["csrf_token"]
    clients = {role: site.client(role) for role in ("anon", "member", "instructor")}
    before = digests(site.db)
    problems = []
    for method, template in RULES:
        if method in ("GET", "WS"):
            continue
        path = _fill(template, job_id)
        data = FORMS.get(template, {})
        for role, client in clients.items():
            for headers, form in (
                ({}, data),
                ({"x-csrf-token": stolen}, data),
                ({}, {**data, "csrf_token": stolen}),
            ):
                r = client.request(method, path, data=form, headers=headers, follow_redirects=False)
                if (method, template) in CSRF_EXEMPT:
                    if r.status_code != 400:
                        problems.append(f"{method} {path} as {role} with a forged token: {r.status_code}")
                elif r.status_code != 403 or "CSRF" not in r.text:
                    problems.append(f"{method} {path} as {role} without a valid token: {r.status_code}")
    assert problems == [], "\n".join(problems)
    assert digests(site.db) == before
