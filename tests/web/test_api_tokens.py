"""Personal API tokens end to end, on SQLite and PostgreSQL: made on the account page (shown once) or
through the API, only a hash at rest, scopes enforced, revoked → 401, no CSRF with a bearer token while
cookie writes still need it; the new endpoints (assessment, routine by week, progress series, scan,
audits, live tickets, account deletion) through a token, with a real face and a real live socket."""

from __future__ import annotations

import html
import io
import re
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from facecoach.members import auth
from facecoach.members.models import ApiToken, Assessment, AuditJob, LiveTicketUse, Scan, User
from facecoach.planning.assessment import Answers
from tests.web.fixtures import PASSWORD, Site

ANSWERS = Answers(minutes_per_day=12).model_dump(mode="json")


def _csrf(site: Site, role: str) -> str:
    token = site.client(role).get("/api/me").json()["csrf_token"]
    assert token
    return str(token)


def make_token(site: Site, role: str, scopes: list[str], name: str = "phone") -> str:
    r = site.client(role).post(
        "/api/tokens", json={"name": name, "scopes": scopes}, headers={"x-csrf-token": _csrf(site, role)}
    )
    assert r.status_code == 201, r.text
    secret = r.json()["token"]
    assert re.fullmatch(r"fc_[0-9a-f]{10}_[A-Za-z0-9_-]{43}", secret), secret
    return str(secret)


def bearer(site: Site, secret: str) -> TestClient:
    """A client with no cookies at all: only the token."""
    c = TestClient(site.app)
    c.headers["authorization"] = f"Bearer {secret}"
    return c


def test_a_token_made_on_the_account_page_is_shown_once_and_only_its_hash_is_kept(site: Site) -> None:
    c = site.client("member")
    page = c.get("/account")
    assert 'id="api-tokens"' in page.text and "No tokens yet" in page.text
    r = c.post(
        "/account/tokens",
        data={"name": "my phone", "scopes": ["read", "write"], "csrf_token": site.csrf("member", "/account")},
    )
    assert r.status_code == 200 and "shown this once" in r.text
    secret = html.unescape(re.search(r'id="token-value"[^>]*value="([^"]+)"', r.text).group(1))  # type: ignore[union-attr]
    assert "fc_" + secret.split("_")[1] in c.get("/account").text  # the list shows the prefix…
    assert secret not in c.get("/account").text  # …never the secret again
    with site.db.session() as s:
        row = s.scalars(select(ApiToken)).one()
        stored = [str(v) for v in (row.name, row.prefix, row.token_sha256, row.scopes)]
    assert row.scopes == ["read", "write"] and row.user_id == site.user_ids["member"]
    random_part = secret.split("_", 2)[2]  # what follows fc_<prefix>_ (it may itself hold "_")
    assert not any(random_part in v for v in stored)  # the secret part is nowhere in the row
    import hashlib

    assert row.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    me = bearer(site, secret).get("/api/me").json()
    assert (me["email"], me["auth"], me["scopes"], me["csrf_token"]) == (
        "member@example.org",
        "token",
        ["read", "write"],
        "",
    )
    with site.db.session() as s:
        assert s.scalars(select(ApiToken)).one().last_used_at is not None


def test_the_account_form_refuses_a_token_without_a_scope_or_name(site: Site) -> None:
    c = site.client("free")
    for data in ({"name": "x"}, {"name": "", "scopes": ["read"]}, {"name": "x", "scopes": ["root"]}):
        r = c.post("/account/tokens", data={**data, "csrf_token": site.csrf("free", "/account")})
        assert r.status_code == 200 and "Token not made" in r.text, data  # the account page, with the reason
    with site.db.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_revoked_wrong_and_malformed_tokens_answer_401(site: Site) -> None:
    secret = make_token(site, "member", ["read"])
    client = bearer(site, secret)
    assert client.get("/api/progress").status_code == 200
    prefix = secret.split("_")[1]
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "fc_" + prefix, "nonsense", "fc_" * 80):
        r = bearer(site, wrong).get("/api/plans")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer"), wrong
    with site.db.session() as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    page = site.client("member").get("/account").text
    assert f"/account/tokens/{token_id}/revoke" in page
    # Another member cannot revoke it (404), the owner can, with the form's CSRF field.
    other = site.client("other")
    assert (
        other.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": site.csrf("other")}).status_code
        == 404
    )
    assert client.get("/api/me").status_code == 200
    r = site.client("member").post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": site.csrf("member")}, follow_redirects=False
    )
    assert r.status_code == 303
    r = client.get("/api/me")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert "revoked" in site.client("member").get("/account").text


def test_scopes_are_enforced(site: Site) -> None:
    read = bearer(site, make_token(site, "member", ["read"], "reader"))
    write = bearer(site, make_token(site, "member", ["write"], "writer"))
    account = bearer(site, make_token(site, "member", ["account"], "admin"))
    assert read.get("/api/progress").status_code == 200
    assert read.post("/api/check", json={"text": "jade roller"}).status_code == 200  # a read, though a POST
    r = read.post("/api/sessions", json={"reps": 2})
    assert r.status_code == 403 and "'write' scope" in r.json()["detail"]
    assert read.get("/api/export").status_code == 403
    assert read.get("/api/tokens").status_code == 403
    assert write.get("/api/progress").status_code == 403
    assert write.post("/api/sessions", json={"reps": 2}).status_code == 201
    assert account.get("/api/export").json()["account"]["email"] == "member@example.org"
    listed = account.get("/api/tokens").json()
    assert {t["name"] for t in listed} == {"reader", "writer", "admin"}
    assert all("token" not in t and "token_sha256" not in t for t in listed)
    # The token endpoints: a token with `account` makes and revokes tokens, without any CSRF header.
    made = account.post("/api/tokens", json={"name": "script", "scopes": ["read"]})
    assert made.status_code == 201
    assert account.post("/api/tokens", json={"name": "bad", "scopes": ["everything"]}).status_code == 422
    assert account.delete(f"/api/tokens/{made.json()['id']}").json()["revoked_at"] is not None
    assert bearer(site, made.json()["token"]).get("/api/me").status_code == 401
    other = bearer(site, make_token(site, "other", ["account"]))
    assert other.delete(f"/api/tokens/{listed[0]['id']}").status_code == 404  # not theirs


def test_csrf_is_still_required_for_cookie_writes_and_not_for_bearer(site: Site) -> None:
    c = site.client("member")
    for method, path, body in (
        ("POST", "/api/sessions", {"reps": 1}),
        ("PUT", "/api/assessment", ANSWERS),
        ("POST", "/api/tokens", {"name": "x", "scopes": ["read"]}),
        ("DELETE", "/api/account", {"confirm": "member@example.org"}),
    ):
        r = c.request(method, path, json=body)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"], (method, path)
    assert (
        c.post("/api/sessions", json={"reps": 1}, headers={"x-csrf-token": _csrf(site, "member")}).status_code
        == 201
    )
    secret = make_token(site, "member", ["write"])
    # The cookie session of the same browser does not make a bearer request need CSRF, nor the reverse:
    # a bearer token is honoured only as sent, and pages never take it.
    assert bearer(site, secret).post("/api/sessions", json={"reps": 1}).status_code == 201
    assert bearer(site, secret).get("/account", follow_redirects=False).status_code == 303  # not signed in
    with site.db.session() as s:
        assert len(s.scalars(select(ApiToken)).all()) == 1  # the refused token POST made nothing


def test_a_member_does_everything_through_a_token(site: Site, astronaut: np.ndarray) -> None:
    """Assessment, routine by week, scan of a real face, progress series, audit upload and poll, export,
    live ticket, deletion — no cookie anywhere."""
    api = bearer(site, make_token(site, "member", ["read", "write", "account"]))
    assert api.get("/api/routine").status_code == 409  # take the assessment first
    empty = api.get("/api/assessment").json()
    assert empty["answers"] is None and empty["questionnaire"]["questions"]
    bad = api.put("/api/assessment", json={**ANSWERS, "minutes_per_day": -4})
    assert bad.status_code == 422 and "minutes_per_day" in bad.json()["detail"]
    put = api.put("/api/assessment", json=ANSWERS)
    assert put.status_code == 200 and put.json()["answers"]["minutes_per_day"] == 12
    week1 = api.get("/api/routine").json()
    assert week1["week"] == week1["current_week"] == 1 and len(week1["days"]) == 7
    week3 = api.get("/api/routine", params={"week": 3}).json()
    assert week3["week"] == 3 and week3["current_week"] == 1 and len(week3["days"]) == 7
    assert api.get("/api/routine", params={"week": 0}).status_code == 422

    jpeg = io.BytesIO()
    Image.fromarray(astronaut).save(jpeg, format="JPEG", quality=92)
    scan = api.post("/api/scan", files={"file": ("me.jpg", jpeg.getvalue(), "image/jpeg")})
    assert scan.status_code == 201, scan.text
    body = scan.json()
    assert body["result"]["kind"] == "photo" and body["sentences"] and body["picture_kept"] is False
    noise = api.post("/api/scan", files={"file": ("x.jpg", b"not a picture at all", "image/jpeg")})
    assert noise.status_code == 400 and noise.json()["code"] == "unreadable"
    assert api.post("/api/scan", files={"file": ("e.jpg", b"", "image/jpeg")}).status_code == 400
    assert api.post("/api/scan").status_code == 422  # no file at all
    series = api.get("/api/progress").json()["series"]
    assert series["brow_height_mm"][0]["value"] == body["result"]["asymmetry"]["brow_height_mm"]
    assert [s["id"] for s in api.get("/api/scans").json()] == [body["id"]]

    from tests.security.test_authorization import EXERCISE

    refused = api.post(
        "/api/audits", data={"technique": "no-such"}, files={"video": ("v.mp4", b"x", "video/mp4")}
    )
    assert refused.status_code == 400 and refused.json()["code"] == "technique"
    job = api.post(
        "/api/audits", data={"technique": EXERCISE}, files={"video": ("v.mp4", b"\0" * 64, "video/mp4")}
    )
    assert job.status_code == 202 and job.json()["status"] in ("queued", "running", "failed")
    polled = api.get(f"/api/audits/{job.json()['id']}").json()
    assert polled["technique_id"] == EXERCISE and polled["filename"] == "v.mp4"
    assert [j["id"] for j in api.get("/api/audits").json()] == [job.json()["id"]]

    assert api.get("/api/export").json()["scans"][0]["id"] == body["id"]
    ticket = api.post("/api/live/tokens", json={"technique": EXERCISE, "reps": 2}).json()
    assert ticket["steps"][0]["id"] == EXERCISE and ticket["ws_path"].startswith("/live/ws?ticket=")
    assert api.post("/api/live/tokens", json={"technique": "no-such"}).status_code == 404

    wrong = api.request("DELETE", "/api/account", json={"confirm": "someone@example.org"})
    assert wrong.status_code == 422
    gone = api.request("DELETE", "/api/account", json={"confirm": "MEMBER@example.org"})
    assert gone.status_code == 200 and gone.json()["deleted"] is True
    assert api.get("/api/me").status_code == 401  # its tokens went with it
    with site.db.session() as s:
        uid = site.user_ids["member"]
        for table in (User, ApiToken, Scan, Assessment, AuditJob):
            column = table.id if table is User else table.user_id  # type: ignore[attr-defined]
            assert s.scalars(select(table).where(column == uid)).all() == [], table


def _live_hello(site: Site, path: str) -> Any:
    from starlette.websockets import WebSocketDisconnect

    try:
        with TestClient(site.app).websocket_connect(path) as ws:
            return ws.receive_json()
    except WebSocketDisconnect as exc:
        return exc.code


def test_a_live_ticket_opens_the_socket_until_its_token_is_revoked(site: Site) -> None:
    secret = make_token(site, "member", ["read", "write"])
    api = bearer(site, secret)
    ticket = api.post("/api/live/tokens", json={}).json()
    unused = api.post("/api/live/tokens", json={}).json()  # for after the token is revoked
    assert ticket["expires_in_s"] > 0
    assert _live_hello(site, ticket["ws_path"])["type"] == "hello"
    assert _live_hello(site, ticket["ws_path"][:-3] + "xyz") == 4401  # a forged ticket
    assert _live_hello(site, "/live/ws") == 4401  # no cookie, no ticket
    # A cookie session's ticket works too, and never carries the session id itself.
    cookie_ticket = (
        site.client("member")
        .post("/api/live/tokens", json={}, headers={"x-csrf-token": _csrf(site, "member")})
        .json()
    )
    from facecoach.web.security import SESSION_COOKIE

    session_id = site.app.state.signer.unsign(site.client("member").cookies.get(SESSION_COOKIE))
    import base64

    decoded = base64.urlsafe_b64decode(cookie_ticket["ticket"].split(".")[0] + "==")
    assert session_id and session_id.encode() not in decoded
    assert _live_hello(site, cookie_ticket["ws_path"])["type"] == "hello"
    with site.db.session() as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    assert api.delete(f"/api/tokens/{token_id}").status_code == 403  # no `account` scope
    assert (
        site.client("member")
        .delete(f"/api/tokens/{token_id}", headers={"x-csrf-token": _csrf(site, "member")})
        .status_code
        == 200
    )
    assert _live_hello(site, unused["ws_path"]) == 4401  # the revoked token's ticket no longer opens it
    # A free member's token cannot start live coaching (402), as the page shows the upsell.
    free = bearer(site, make_token(site, "free", ["write"]))
    assert free.post("/api/live/tokens", json={}).status_code == 402


def test_a_new_password_revokes_every_token(site: Site) -> None:
    """A token made by whoever knew the old password must not outlive it: changing the password (and a
    reset, which goes through the same rule in ``members.auth``) revokes every token of the account."""
    secret = make_token(site, "member", ["read"])
    other = make_token(site, "other", ["read"])
    assert bearer(site, secret).get("/api/me").status_code == 200
    c = site.client("member")
    r = c.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "another good long password",
            "csrf_token": site.csrf("member", "/account"),
        },
    )
    assert r.status_code == 200 and "API tokens revoked" in r.text
    assert bearer(site, secret).get("/api/me").status_code == 401
    assert bearer(site, other).get("/api/me").status_code == 200  # another member's token is untouched
    with site.db.session() as s:
        assert all(
            t.revoked_at is not None
            for t in s.scalars(select(ApiToken).where(ApiToken.user_id == site.user_ids["member"]))
        )


def test_a_password_reset_revokes_every_token(site: Site) -> None:
    secret = make_token(site, "member", ["read"])
    with site.db.session() as s:
        user = s.get(User, site.user_ids["member"])
        assert user is not None
        mail = auth.request_reset(s, user.email, "http://testserver")
        assert mail is not None
        token = re.search(r"/reset/(\S+)", mail.text).group(1)  # type: ignore[union-attr]
        auth.complete_reset(s, token, "another good long password")
        s.commit()
    assert bearer(site, secret).get("/api/me").status_code == 401


def test_a_live_ticket_opens_one_socket_only(site: Site) -> None:
    """The ticket sits in the socket's URL (so in access logs): once it has opened a socket, a copy of it
    opens nothing, while a fresh ticket does."""
    api = bearer(site, make_token(site, "member", ["read", "write"]))
    ticket = api.post("/api/live/tokens", json={}).json()
    assert _live_hello(site, ticket["ws_path"])["type"] == "hello"
    assert _live_hello(site, ticket["ws_path"]) == 4401  # the same ticket again
    again = api.post("/api/live/tokens", json={}).json()
    assert again["ticket"] != ticket["ticket"]
    assert _live_hello(site, again["ws_path"])["type"] == "hello"
    with site.db.session() as s:
        assert s.scalar(select(func.count()).select_from(LiveTicketUse)) == 2
