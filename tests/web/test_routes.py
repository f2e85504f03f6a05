"""Every route for every role (anonymous, free, member, another member, instructor), on SQLite and on
PostgreSQL: pages either work, redirect to log in, or explain what the plan unlocks (HTTP 200 with an
upsell; the API answers 401/402/403 instead)."""

from __future__ import annotations

import json

import pytest

from facecoach.knowledge import load_library
from tests.web.fixtures import ROLES, Site

LIB = load_library()
MASSAGE = next(
    t.id for t in LIB.techniques.values() if t.kind == "massage" and t.massage and t.massage.strokes
)
EXERCISE = next(t.id for t in LIB.techniques.values() if t.kind == "exercise")
CLAIM = next(iter(LIB.claims))

PUBLIC = [
    "/",
    "/library",
    f"/library/{MASSAGE}",
    f"/library/{EXERCISE}",
    "/muscles",
    "/checker",
    "/membership",
    "/reset",
    "/docs",
    "/openapi.json",
    "/healthz",
    "/api/me",
    "/api/plans",
    "/api/techniques",
    f"/api/techniques/{EXERCISE}",
    "/api/claims",
]

# (path, expected per role: anon, free, member, other, instructor). 303 = redirect to log in,
# "upsell" = 200 with the plan's pitch, "page" = 200 with the real thing.
MATRIX: list[tuple[str, tuple[object, ...]]] = [
    ("/signup", ("page", 303, 303, 303, 303)),
    ("/login", ("page", 303, 303, 303, 303)),
    ("/account", (303, "page", "page", "page", "page")),
    ("/account/export", (303, "page", "page", "page", "page")),
    ("/assessment", (303, "page", "page", "page", "page")),
    ("/assessment/scan", (303, 303, 303, 303, 303)),  # the questions come first
    ("/routine", ("upsell", "page", "page", "page", "page")),
    ("/progress", ("upsell", "upsell", "page", "page", "page")),
    ("/audit", ("upsell", "upsell", "page", "page", "page")),
    ("/admin", (401, 403, 403, 403, "page")),
    ("/admin/members", (401, 403, 403, 403, "page")),
    ("/admin/outbox", (401, 403, 403, 403, "page")),
    ("/admin/library", (401, 403, 403, 403, "page")),
    (f"/admin/techniques/{EXERCISE}", (401, 403, 403, 403, "page")),
    ("/admin/techniques/new", (401, 403, 403, 403, "page")),
    (f"/admin/claims/{CLAIM}", (401, 403, 403, 403, "page")),
    ("/api/routine", (401, 409, 409, 409, 409)),
    ("/api/progress", (401, 402, 200, 200, 200)),
    ("/api/export", (401, 200, 200, 200, 200)),
]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_routes_work_for_everyone(site: Site, path: str) -> None:
    for role in ROLES:
        r = site.client(role).get(path)
        assert r.status_code == 200, (role, path, r.text[:300])


def test_route_matrix(site: Site) -> None:
    for path, expected in MATRIX:
        for role, want in zip(ROLES, expected, strict=True):
            r = site.client(role).get(path, follow_redirects=False)
            if want == "page":
                assert r.status_code == 200, (role, path, r.status_code)
                assert 'data-upsell="' not in r.text, (role, path)
            elif want == "upsell":
                assert r.status_code == 200, (role, path, r.status_code)
                assert 'data-upsell="' in r.text and "/membership" in r.text + "/signup", (role, path)
            else:
                assert r.status_code == want, (role, path, r.status_code, r.text[:200])
                if want == 303:
                    assert r.headers["location"].startswith(("/login", "/account", "/routine", "/assessment"))


def test_error_pages_explain(site: Site) -> None:
    r = site.client("member").get("/admin")
    assert r.status_code == 403 and "for the instructor only" in r.text
    r = site.client("anon").get("/library/no-such-technique")
    assert r.status_code == 404 and "no technique" in r.text.lower()
    assert site.client("anon").get("/api/techniques/nope").json() == {"detail": "no such technique"}


def test_security_headers_and_cookie_flags(site: Site) -> None:
    r = site.client("anon").get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'wasm-unsafe-eval'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    c = site.client("member")
    login = site.login(c, "member@example.org")
    session_cookie = next(h for h in login.headers.get_list("set-cookie") if h.startswith("fc_session="))
    assert "HttpOnly" in session_cookie and "samesite=lax" in session_cookie.lower()
    assert "Secure" not in session_cookie  # plain http here; https sets Secure
    assert site.client("member").get("/account").headers["cache-control"] == "no-store"


def test_no_inline_style_or_script_on_pages(site: Site) -> None:
    """The CSP forbids inline styles and scripts, so no page may rely on them."""
    for path in [
        "/",
        "/library",
        f"/library/{MASSAGE}",
        "/muscles",
        "/membership",
        "/account",
        "/routine",
        "/progress",
        "/audit",
        "/admin",
        "/assessment",
    ]:
        html = site.client("instructor").get(path).text
        assert ' style="' not in html, path
        assert "<script>" not in html and '<script type="text/javascript">' not in html, path


def test_vendor_assets_served_locally(site: Site) -> None:
    c = site.client("anon")
    bundle = c.get("/static/vendor/tasks-vision/vision_bundle.mjs")
    assert bundle.status_code == 200 and len(bundle.content) > 10_000
    wasm = c.get("/static/vendor/tasks-vision/wasm/vision_wasm_internal.wasm")
    assert wasm.status_code == 200 and wasm.content[:4] == b"\0asm"
    from facecoach.vision.model import MODEL_BYTES

    model = c.get("/static/models/face_landmarker.task")
    assert model.status_code == 200 and len(model.content) == MODEL_BYTES


def test_export_is_mine_only(site: Site) -> None:
    for role in ("free", "member", "other", "instructor"):
        r = site.client(role).get("/account/export")
        assert r.headers["content-type"].startswith("application/json")
        assert "attachment" in r.headers["content-disposition"]
        data = json.loads(r.text)
        assert data["account"]["email"] == f"{role}@example.org"
        assert site.client(role).get("/api/export").json()["account"]["email"] == f"{role}@example.org"
