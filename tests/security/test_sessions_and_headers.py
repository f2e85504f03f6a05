"""Sessions, cookies, headers, the login rate limit and secrets in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from facecoach.members.models import AuthSession
from facecoach.web.security import ANON_COOKIE, CSP, SECURITY_HEADERS, SESSION_COOKIE
from tests.security.routes import route_table
from tests.web.fixtures import PASSWORD, Site, csrf_of

REPO = Path(__file__).resolve().parents[2]


def _session_ids(site: Site) -> set[str]:
    with site.db.session() as s:
        return set(s.scalars(select(AuthSession.id)))


def test_session_id_rotates_at_login_and_a_planted_one_is_ignored(sqlite_site: Site) -> None:
    site = sqlite_site
    email = site.make_user("member")
    c = TestClient(site.app)
    # An attacker plants a session cookie (signed or not) in the victim's browser before login.
    planted = site.app.state.signer.sign("attacker-chosen-session-id")
    c.cookies.set(SESSION_COOKIE, planted)
    assert c.get("/api/me").json()["email"] is None
    first = site.app.state.signer.unsign(site.login(c, email).cookies.get(SESSION_COOKIE))
    assert first and first != "attacker-chosen-session-id"
    assert _session_ids(site) == {first}
    # Logging in again (same browser) replaces the session: the old id is gone from the database.
    second = site.app.state.signer.unsign(site.login(c, email).cookies.get(SESSION_COOKIE))
    assert second != first and _session_ids(site) == {second}
    # A copy of the old cookie is worth nothing now.
    old = TestClient(site.app)
    old.cookies.set(SESSION_COOKIE, site.app.state.signer.sign(first))
    assert old.get("/api/me").json()["email"] is None
    # A forged signature is ignored (the id inside is a real one).
    forged = TestClient(site.app)
    forged.cookies.set(SESSION_COOKIE, site.app.state.signer.sign(second)[:-2] + "xx")
    assert forged.get("/api/me").json()["email"] is None


def test_cookie_flags_over_https(sqlite_site: Site) -> None:
    site = sqlite_site
    email = site.make_user("free")
    c = TestClient(site.app, base_url="https://testserver")
    r = c.get("/login")
    cookies = r.headers.get_list("set-cookie")
    anon = next(h for h in cookies if h.startswith(ANON_COOKIE + "="))
    token = csrf_of(r.text)
    r = c.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    session = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    for header in (anon, session):
        flags = [f.strip().lower() for f in header.split(";")]
        assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags and "path=/" in flags, (
            header
        )
    assert "max-age=1209600" in session.lower()  # 14 days, then the server-side session expires too


def test_security_headers_on_every_page_and_error(sqlite_site: Site) -> None:
    site = sqlite_site
    c = site.client("member")
    paths = [p for m, p in route_table(site.app) if m == "GET" and "{" not in p]
    paths += ["/no-such-page", "/library/no-such-technique", "/api/techniques/nope", "/static/css/app.css"]
    for path in paths:
        r = c.get(path, follow_redirects=False)
        for key, value in SECURITY_HEADERS.items():
            got = r.headers.get(key)
            if path == "/redoc" and key == "Content-Security-Policy" and got is not None:
                # ReDoc inserts its styles at run time: the one exception is a per-response nonce for
                # styles (never 'unsafe-inline', never for scripts), so the rest must be the very policy.
                nonce = re.search(r"style-src 'self' ('nonce-[A-Za-z0-9_-]{16,}')", got)
                assert nonce is not None and "unsafe-inline" not in got, got
                got = got.replace(" " + nonce.group(1), "")
            assert got == value, (path, key, got)
    csp = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert (
        csp["default-src"] == "'self'"
        and csp["object-src"] == "'none'"
        and csp["frame-ancestors"] == "'none'"
    )
    assert csp["script-src"] == "'self' 'wasm-unsafe-eval'"  # the WASM landmarker; no inline script, no eval
    assert "unsafe-inline" not in CSP and "http" not in CSP.replace("https:", "")  # no third-party origins
    # The API explorer is served from the local Swagger UI under the very same policy: no exception.
    docs = c.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == CSP
    assert c.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_static_files_stay_inside_their_folder(sqlite_site: Site) -> None:
    c = sqlite_site.client("anon")
    for path in (
        "/static/../facecoach/config.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/vendor/tasks-vision/../../../../../../etc/passwd",
    ):
        r = c.get(path)
        assert r.status_code in (400, 404) and "root:" not in r.text and "[project]" not in r.text, path


def test_login_rate_limit(sqlite_site: Site) -> None:
    site = sqlite_site
    email = site.make_user("free")
    c = TestClient(site.app)
    codes = []
    for _ in range(7):
        token = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"email": email, "password": "not the password", "csrf_token": token})
        codes.append(r.status_code)
    assert codes == [400] * 5 + [429] * 2
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 429 and "Too many attempts" in r.text
    # Another account from the same address is not locked out by it.
    other = site.make_user("other")
    assert site.login(TestClient(site.app), other).status_code == 303


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "Stripe key": re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}"),
    "Google key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "URL with a password": re.compile(r"\b[a-z+]+://[^/\s:@'\"]+:(?!//)[^@\s/'\"{}]{3,}@"),
    "assigned secret": re.compile(
        r"""(?i)\b(?:secret_key|api_key|password|passwd|token)\s*[:=]\s*['"]([A-Za-z0-9/+_=-]{24,})['"]"""
    ),
}


def test_no_secret_in_the_repository() -> None:
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    assert len(files) > 50
    found = []
    for name in filter(None, files):
        path = REPO / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary
        text = data.decode("utf-8", "replace")
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                found.append(f"{name}: {what}: {match.group(0)[:60]}")
        if name.endswith((".env", ".pem", ".key", ".p12")) or "/.env" in name:
            found.append(f"{name}: a secrets file is tracked")
    assert found == [], "\n".join(found)


def test_the_default_secret_key_is_for_demos_only() -> None:
    """The built-in key signs cookies on a demo box; the settings say so and the environment overrides it."""
    from facecoach.config import Settings

    assert "dev-only" in Settings().secret_key
    import os

    os.environ["FACECOACH_SECRET_KEY"] = "from-the-environment-" + "x" * 20
    try:
        assert Settings().secret_key.startswith("from-the-environment-")
    finally:
        del os.environ["FACECOACH_SECRET_KEY"]
