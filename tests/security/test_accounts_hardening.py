"""Account takeover and sign-up (docs/security.md, "Account takeover and sign-up"): every finding of the
issue is reproduced here against the real app on SQLite and PostgreSQL, with its mail received by a real
SMTP server. The same attacks against a real ``facecoach serve`` are in ``test_accounts_server.py``;
timing is in ``test_accounts_timing.py``."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text
from starlette.testclient import WebSocketDenialResponse

from facecoach.members import auth, migrate, signup
from facecoach.members.db import Database
from facecoach.members.models import OutboxMessage, PasswordReset, SignupRequest, User
from facecoach.web.security import allowed_hosts, forwarded_client, trusted_networks
from tests.support.mail import MailSink
from tests.web.fixtures import PASSWORD, Site, build_site, csrf_of

NEW_PASSWORD = "the reset password"


@pytest.fixture
def coach_site(migrated: Database, tmp_path: Path) -> Iterator[Site]:
    """A site whose public address is not the address the tests reach it on."""
    site = build_site(migrated, tmp_path, base_url="https://coach.example.org")
    yield site
    site.close()


def _ask_reset(c: TestClient, email: str, **headers: str) -> Any:
    token = csrf_of(c.get("/reset", headers=headers).text)
    return c.post("/reset", data={"email": email, "csrf_token": token}, headers=headers)


def _use_reset(c: TestClient, link: str, password: str = NEW_PASSWORD) -> Any:
    form = c.get(link)
    token = csrf_of(form.text)
    return c.post(link, data={"new_password": password, "csrf_token": token}, follow_redirects=False)


def _signup(c: TestClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_of(c.get("/signup").text)
    return c.post("/signup", data={"email": email, "password": password, "csrf_token": token})


def _drain(site: Site) -> None:
    assert site.app.state.ctx.mail_jobs.drain(30)


# --- Reset links follow the Host header -------------------------------------------------------------


def test_reset_link_comes_from_the_base_url_and_other_hosts_are_refused(coach_site: Site) -> None:
    site = coach_site
    site.make_user("free")
    c = site.client("anon")
    token = csrf_of(c.get("/reset").text)
    evil = c.post(
        "/reset",
        data={"email": "free@example.org", "csrf_token": token},
        headers={"host": "evil.example:8443"},
    )
    assert evil.status_code == 400 and "Invalid host header" in evil.text
    _drain(site)
    assert site.mail is not None and site.mail.to("free@example.org") == []  # nothing was mailed
    # From an allowed host that is not the public one, the link still starts with FACECOACH_BASE_URL.
    for host in ("testserver", "localhost:8000"):
        assert _ask_reset(c, "free@example.org", host=host).status_code == 200
    mails = site.mail_to("free@example.org", count=2)
    assert [m.link_base() for m in mails] == ["https://coach.example.org"] * 2
    assert all("evil.example" not in m.text and "testserver" not in m.text for m in mails)


def test_allowed_hosts_default_to_the_base_url_and_loopback(sqlite_site: Site, tmp_path: Path) -> None:
    assert allowed_hosts("https://coach.example.org/", "") == [
        "coach.example.org",
        "127.0.0.1",
        "localhost",
        "[::1]",
    ]
    assert allowed_hosts("http://127.0.0.1:8000", "") == ["127.0.0.1", "localhost", "[::1]"]
    assert allowed_hosts("https://x.org", " A.example , b.example ") == ["a.example", "b.example"]
    # The defaults (no FACECOACH_ALLOWED_HOSTS): what `make run` is opened with answers, others do not.
    site = build_site(sqlite_site.db, tmp_path / "defaults", allowed_hosts="")
    try:
        for base, expected in (
            ("http://127.0.0.1:8000", 200),
            ("http://localhost:8000", 200),
            ("http://testserver", 400),
            ("http://evil.example", 400),
        ):
            with TestClient(site.app, base_url=base) as c:
                assert c.get("/login").status_code == expected, base
                if expected == 400:  # the live socket too
                    with pytest.raises(WebSocketDenialResponse) as denied, c.websocket_connect("/live/ws"):
                        pass
                    assert denied.value.status_code == 400
    finally:
        site.close()


# --- The instructor can read working reset links ----------------------------------------------------


def test_outbox_and_logs_never_hold_a_usable_link(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    site.make_user("free")
    anon = site.client("anon")
    assert _ask_reset(anon, "free@example.org").status_code == 200
    link = site.mail_to("free@example.org")[0].link()
    token = link.rsplit("/", 1)[1]
    outbox = site.client("instructor").get("/admin/outbox")
    assert outbox.status_code == 200
    assert "A password reset link was sent" in outbox.text and "free@example.org" in outbox.text
    assert token not in outbox.text and "/reset/" not in outbox.text.split('id="outbox"')[1]
    with site.db.session() as s:
        bodies = [m.subject + m.body for m in s.scalars(select(OutboxMessage))]
        assert len(bodies) == 1 and token not in bodies[0]
    # Nothing the app logs holds it (the test's own SMTP server and HTTP client log what they carry).
    app_log = [r.getMessage() for r in caplog.records if not r.name.startswith(("mail.log", "httpx"))]
    assert app_log and not [line for line in app_log if token in line]
    # The mail's link is the one that works (once).
    assert _use_reset(anon, link).status_code == 303
    assert site.login(anon, "free@example.org", NEW_PASSWORD).status_code == 303


def test_an_old_outbox_record_with_a_link_is_shown_masked(site: Site) -> None:
    site.make_user("free")
    with site.db.session() as s:
        user = s.scalar(select(User).where(User.email == "free@example.org"))
        assert user is not None
        s.add(
            OutboxMessage(
                user_id=user.id,
                to_email=user.email,
                subject="Reset your facecoach password",
                body="open:\nhttp://testserver/reset/AbC-123_secret\n",
            )
        )
    page = site.client("instructor").get("/admin/outbox").text
    assert "AbC-123_secret" not in page and "/reset/[link removed]" in page


def test_migration_masks_old_links_and_spends_their_tokens(database_url: str) -> None:
    db = Database.connect(database_url)
    try:
        migrate.upgrade(db, "0001")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, password_hash, plan, created_at) "
                    "VALUES (1, 'a@example.org', '', 'x', 'free', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO password_resets (user_id, token_sha256, created_at, expires_at, used) "
                    "VALUES (1, :sha, CURRENT_TIMESTAMP, '2999-01-01 00:00:00', false)"
                ),
                {"sha": "0" * 64},
            )
            conn.execute(
                text(
                    "INSERT INTO outbox (user_id, to_email, subject, body, created_at) VALUES "
                    "(1, 'a@example.org', 'Reset', 'open http://h/reset/Tok_en-1 now', CURRENT_TIMESTAMP)"
                )
            )
        migrate.upgrade(db)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM outbox")).scalar_one() == (
                "open http://h/reset/[link removed] now"
            )
            assert conn.execute(text("SELECT used FROM password_resets")).scalar_one() in (True, 1)
        assert "signup_requests" in inspect(db.engine).get_table_names()
        migrate.downgrade(db, "0001")
        assert "signup_requests" not in inspect(db.engine).get_table_names()
        assert migrate.current_revision(db) == "0001"
        migrate.upgrade(db)
        assert migrate.current_revision(db) == migrate.head_revision(db)
    finally:
        db.dispose()


# --- Reset tokens are not one-time ------------------------------------------------------------------


def test_using_a_token_or_changing_the_password_spends_every_token(site: Site) -> None:
    site.make_user("free")
    anon = site.client("anon")
    for _ in range(2):
        assert _ask_reset(anon, "free@example.org").status_code == 200
    first, second = (m.link() for m in site.mail_to("free@example.org", count=2))
    assert _use_reset(anon, first).status_code == 303
    assert anon.get(second).status_code == 400  # the other outstanding token died with the first use
    assert _use_reset(anon, second, "an attacker's password").status_code == 400
    # A password change spends the tokens asked for before it.
    assert _ask_reset(anon, "free@example.org").status_code == 200
    third = site.mail_to("free@example.org", count=3)[2].link()
    member = TestClient(site.app)
    site.login(member, "free@example.org", NEW_PASSWORD)
    token = csrf_of(member.get("/account").text)
    changed = member.post(
        "/account/password",
        data={"current_password": NEW_PASSWORD, "new_password": "a changed password", "csrf_token": token},
    )
    assert "Password changed" in changed.text
    assert _use_reset(anon, third, "an attacker's password").status_code == 400
    assert site.login(anon, "free@example.org", "a changed password").status_code == 303


def _race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Runs ``work(i)`` on ``n`` threads released together; each result or exception, in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # collected: the test says which kinds are allowed
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_concurrent_uses_of_reset_tokens_exactly_one_wins(migrated: Database) -> None:
    """Six uses at once — four of one token, two of other tokens of the same member — on separate
    connections: exactly one password is set, the other five are a clear refusal."""
    with migrated.session() as s:
        auth.create_user(s, "a@example.org", PASSWORD)
    tokens = []
    for _ in range(3):
        with migrated.session() as s:
            mail = auth.request_reset(s, "a@example.org", "http://x")
            assert mail is not None
            tokens.append(mail.text.split("/reset/")[1].split()[0])
    plan = [tokens[0]] * 4 + [tokens[1], tokens[2]]

    def use(i: int) -> str:
        with migrated.session() as s:
            auth.complete_reset(s, plan[i], f"new password number {i}")
        return f"new password number {i}"

    results = _race(len(plan), use)
    won = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, auth.AccountError)]
    assert len(won) == 1 and len(refused) == 5, results
    with migrated.session() as s:
        assert auth.authenticate(s, "a@example.org", won[0]) is not None
        assert s.scalar(select(func.count(PasswordReset.id)).where(PasswordReset.used.is_(False))) == 0


# --- Concurrent sign-ups with one email give HTTP 500 -----------------------------------------------


def test_concurrent_accounts_for_one_address_are_a_clear_refusal(migrated: Database) -> None:
    """The check-then-insert race: both see no account, one insert wins, the other is the same
    AccountError as a sequential duplicate (not an IntegrityError)."""

    def create(i: int) -> int:
        with migrated.session() as s:
            user = auth.create_user(s, "same@example.org", PASSWORD, name=f"n{i}")
            time.sleep(0.3)  # hold the transaction open so the other one has read "no account" by now
            return user.id

    results = _race(2, create)
    assert sum(isinstance(r, int) for r in results) == 1, results
    refused = [r for r in results if not isinstance(r, int)]
    assert [type(r) for r in refused] == [auth.AccountError], results
    assert str(refused[0]) == "an account with this email already exists"  # as a sequential duplicate
    with migrated.session() as s:
        assert s.scalar(select(func.count(User.id))) == 1


def test_concurrent_confirmations_create_one_account(migrated: Database) -> None:
    tokens = []
    for i in range(4):  # four sign-ups of one address (raced or repeated): four links
        with migrated.session() as s:
            mail = signup.request_signup(
                s, "same@example.org", f"n{i}", auth.hash_password(PASSWORD), "http://x"
            )
            tokens.append(mail.text.split("/signup/confirm/")[1].split()[0])

    def confirm(i: int) -> int:
        with migrated.session() as s:
            return signup.confirm_signup(s, tokens[i]).id

    results = _race(4, confirm)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(isinstance(r, auth.AccountError) for r in results if not isinstance(r, int)), results
    with migrated.session() as s:
        assert s.scalar(select(func.count(User.id))) == 1
        assert s.scalar(select(func.count(SignupRequest.id))) == 0


# --- Answers that tell whether an address has an account --------------------------------------------


def _page_text(html: str, email: str) -> str:
    """The answer without what the asker typed in and the per-session token."""
    html = re.sub(r'(name="csrf[-_]token"[^>]*(content|value)=")[^"]*"', r"\1\"", html)
    return html.replace(email, "EMAIL")


def test_signup_answers_alike_for_a_new_address_and_an_existing_one(site: Site) -> None:
    site.make_user("free")
    c = site.client("anon")
    existing, new = _signup(c, "free@example.org"), _signup(c, "fresh@example.org")
    assert existing.status_code == new.status_code == 200
    assert _page_text(existing.text, "free@example.org") == _page_text(new.text, "fresh@example.org")
    assert "Check your mail" in new.text and "fc_session" not in c.cookies
    # The owner of the existing address is told; the new address gets the link that creates the account.
    note = site.mail_to("free@example.org")[0]
    assert "already has one" in note.text and "/signup/confirm/" not in note.text
    confirm = site.mail_to("fresh@example.org")[0].link()
    # Until then the new address cannot log in, and says so exactly as an unknown one does.
    token = csrf_of(c.get("/login").text)
    pending = c.post("/login", data={"email": "fresh@example.org", "password": PASSWORD, "csrf_token": token})
    unknown = c.post(
        "/login", data={"email": "nobody@example.org", "password": PASSWORD, "csrf_token": token}
    )
    assert pending.status_code == unknown.status_code == 400
    assert _page_text(pending.text, "fresh@example.org") == _page_text(unknown.text, "nobody@example.org")
    form = c.get(confirm)
    r = c.post(confirm, data={"csrf_token": csrf_of(form.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/membership"
    assert c.get("/account").status_code == 200
    # The existing account kept its password: the sign-up changed nothing of it.
    assert site.login(TestClient(site.app), "free@example.org").status_code == 303


def test_reset_and_login_answer_alike_for_known_and_unknown_addresses(site: Site) -> None:
    site.make_user("free")
    c = site.client("anon")
    known, unknown = _ask_reset(c, "free@example.org"), _ask_reset(c, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert _page_text(known.text, "free@example.org") == _page_text(unknown.text, "nobody@example.org")
    token = csrf_of(c.get("/login").text)
    wrong = c.post(
        "/login", data={"email": "free@example.org", "password": "wrong password!", "csrf_token": token}
    )
    nobody = c.post(
        "/login", data={"email": "nobody@example.org", "password": "wrong password!", "csrf_token": token}
    )
    assert wrong.status_code == nobody.status_code == 400
    assert _page_text(wrong.text, "free@example.org") == _page_text(nobody.text, "nobody@example.org")


# --- Sign-up and reset are unlimited ---------------------------------------------------------------


def test_signup_and_reset_are_limited_per_client_address(site: Site) -> None:
    c = site.client("anon")
    codes = [_signup(c, f"new{i}@example.org").status_code for i in range(11)]
    assert codes == [200] * 10 + [429]
    codes = [_ask_reset(c, f"who{i}@example.org").status_code for i in range(11)]
    assert codes == [200] * 10 + [429]
    assert "Too many" in _ask_reset(c, "free@example.org").text
    # Per email and address too, as login: five for one address.
    other = TestClient(site.app, client=("192.0.2.7", 1000))
    assert [_ask_reset(other, "x@example.org").status_code for _ in range(6)] == [200] * 5 + [429]


def test_signup_limit_is_shared_through_redis(migrated: Database, tmp_path: Path, redis_url: str) -> None:
    """Two app instances (two workers) on one Redis: ten sign-ups in all, whichever answers."""
    namespace = f"fc-test-{tmp_path.name}"
    sites = [
        build_site(migrated, tmp_path / str(i), redis_url=redis_url, queue_namespace=namespace)
        for i in range(2)
    ]
    try:
        clients = [TestClient(s.app) for s in sites]
        codes = [_signup(clients[i % 2], f"n{i}@example.org").status_code for i in range(12)]
        assert codes == [200] * 10 + [429, 429]
    finally:
        for s in sites:
            s.close()
        import redis

        r = redis.Redis.from_url(redis_url)
        for key in r.scan_iter(f"{namespace}:*"):
            r.delete(key)


# --- The in-memory limiter forgets every key; X-Forwarded-For is believed from anyone ---------------


def test_a_flood_of_new_keys_does_not_lift_a_lockout() -> None:
    limiter = auth.MemoryRateLimiter()  # the defaults: 5 per 300 s, 100 000 keys
    assert [limiter.hit("login:victim@example.org|198.51.100.1") for _ in range(6)] == [True] * 5 + [False]
    limiter.hit("early-key")
    for i in range(150_000):
        assert limiter.hit(f"login:flood{i}@example.org|198.51.100.1")
    assert not limiter.hit("login:victim@example.org|198.51.100.1")  # still locked out
    assert len(limiter) <= 100_000
    assert limiter.hit("login:flood149999@example.org|198.51.100.1")  # recent keys are kept
    # When every key is locked out, the oldest go first, never the whole table.
    small = auth.MemoryRateLimiter(limit=1, max_keys=10)
    for i in range(12):
        assert small.hit(f"k{i}")
    assert len(small) == 10
    assert small.hit("k0") and not small.hit("k11")


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(sqlite_site: Site, tmp_path: Path) -> None:
    nets = trusted_networks("10.0.0.0/8, 192.0.2.1")
    assert forwarded_client("203.0.113.5", "1.2.3.4", nets) == "203.0.113.5"  # not a proxy: ignored
    assert forwarded_client("10.1.1.1", "1.2.3.4, 198.51.100.9, 10.2.2.2", nets) == "198.51.100.9"
    assert forwarded_client("192.0.2.1", None, nets) == "192.0.2.1"
    with pytest.raises(ValueError, match="not an address"):
        trusted_networks("10.0.0.0/8, proxy.example")

    def wrong_logins(site: Site, peer: str) -> list[int]:
        c = TestClient(site.app, client=(peer, 4000))
        token = csrf_of(c.get("/login").text)
        return [
            c.post(
                "/login",
                data={"email": "free@example.org", "password": "wrong password!", "csrf_token": token},
                headers={"x-forwarded-for": f"198.51.100.{i}"},
            ).status_code
            for i in range(7)
        ]

    assert wrong_logins(sqlite_site, "203.0.113.5") == [400] * 5 + [429] * 2  # default: trust no one
    behind = build_site(sqlite_site.db, tmp_path / "proxy", trusted_proxies="10.0.0.0/8")
    try:
        assert wrong_logins(behind, "203.0.113.5") == [400] * 5 + [429] * 2  # not the proxy
        assert wrong_logins(behind, "10.0.0.2") == [400] * 7  # the proxy: each client its own limit
        # X-Forwarded-Proto likewise: https from the proxy makes every cookie Secure, from others not.
        for peer, secure in (("10.0.0.2", True), ("203.0.113.5", False)):
            r = TestClient(behind.app, client=(peer, 1)).get("/login", headers={"x-forwarded-proto": "https"})
            cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("fc_anon="))
            assert ("secure" in cookie.lower()) is secure, (peer, cookie)
    finally:
        behind.close()


def test_mail_that_cannot_be_sent_is_logged_without_its_link(
    sqlite_site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = MailSink()  # a port nothing listens on
    site = build_site(sqlite_site.db, tmp_path / "nomail", smtp_port=sink.port)
    try:
        site.make_user("free", "lost@example.org")
        c = TestClient(site.app)
        assert _ask_reset(c, "lost@example.org").status_code == 200
        _drain(site)
        app_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("facecoach"))
        assert "not sent" in app_log and "lost@example.org" in app_log and "/reset/" not in app_log
        assert c.get("/healthz").status_code == 200
    finally:
        site.close()
