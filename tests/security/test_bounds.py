"""Cost and crash bounds (issue 11), each seen on the running site: ids too large for the database,
server paths in error texts, pages with health data that a cache could keep, HSTS over https, and
scans and audits beyond the server's capacity."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from facecoach.knowledge import load_library
from facecoach.members.models import AuditJob
from tests.fuzz.hostile import jpeg_with_size, png_bomb
from tests.security.routes import int_path_routes
from tests.web.fixtures import Site, csrf_of
from tests.web.test_assessment import answer, upload

HUGE_IDS = ("99999999999999999999", "9223372036854775808", "18446744073709551616", "1" + "0" * 400)
EXERCISE = next(t.id for t in load_library().techniques.values() if t.kind == "exercise")


def test_every_int_path_parameter_is_bounded(sqlite_site: Site) -> None:
    """Generated from the route table: every route with an integer path parameter answers a 404 (for
    GET, as the owner and as the instructor) or at least never a 5xx, however large the id."""
    routes = int_path_routes(sqlite_site.app)
    assert {path for _m, path, _n in routes} >= {"/audit/{job_id}", "/api/audits/{job_id}"}
    for role in ("member", "instructor"):
        c = sqlite_site.client(role)
        token = sqlite_site.csrf(role)
        for method, path, names in routes:
            for huge in HUGE_IDS:
                url = path
                for name in names:
                    url = url.replace("{" + name + "}", huge)
                r = c.request(method, url, headers={"x-csrf-token": token}, data={"csrf_token": token})
                # The instructor may use every route, so she sees the 404; a member may instead be
                # denied a route that is not hers (the instructor's studio) before the id is looked at.
                allowed = {404} if role == "instructor" else {404, 401, 402, 403}
                assert r.status_code in allowed, (role, method, url, r.status_code, r.text[:200])


def _server_paths(site: Site) -> re.Pattern[str]:
    """Anything that looks like an absolute path of this server (temporary files, the data folder)."""
    return re.compile(r"(/tmp/|/var/|/home/|/work/|facecoach-scan-|" + re.escape(str(site.tmp)) + ")")


def test_no_error_text_shows_a_server_path(sqlite_site: Site, astronaut_jpeg: bytes) -> None:
    answer(sqlite_site, "member")
    hostile = {
        "not an image": b"hello, this is text",
        "GIF": b"GIF89a" + b"\0" * 100,
        "JPEG head only": b"\xff\xd8\xff\xe0" + b"\0" * 200,
        "PNG signature, no chunks": b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
        "PNG bomb": png_bomb(100_000, 100_000),
        "JPEG declaring 60 000²": jpeg_with_size(astronaut_jpeg, 60_000, 60_000),
        "truncated JPEG": astronaut_jpeg[: len(astronaut_jpeg) // 3],
        "WebP head only": b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\0" * 40,
    }
    pattern = _server_paths(sqlite_site)
    for what, content in hostile.items():
        r = upload(sqlite_site, "member", content)
        assert 400 <= r.status_code < 500, (what, r.status_code)  # type: ignore[attr-defined]
        found = pattern.search(r.text)  # type: ignore[attr-defined]
        assert found is None, f"{what}: the answer shows {found.group(0)!r}"


def test_pages_with_health_data_are_not_stored_by_caches(sqlite_site: Site, astronaut_jpeg: bytes) -> None:
    c = sqlite_site.client("member")
    answer(sqlite_site, "member")
    scanned = upload(sqlite_site, "member", astronaut_jpeg)  # the result page shows the face inline
    assert scanned.status_code == 200  # type: ignore[attr-defined]
    assert scanned.headers.get("cache-control") == "no-store"  # type: ignore[attr-defined]
    for path in ("/assessment", "/assessment/scan", "/routine", "/progress", "/audit", "/account", "/live"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers.get("cache-control") == "no-store", path
    # Every page carries the viewer's name and CSRF token, so none is stored; static files may be.
    assert c.get("/library").headers.get("cache-control") == "no-store"
    assert "no-store" not in c.get("/static/css/app.css").headers.get("cache-control", "")


def test_hsts_only_over_https(sqlite_site: Site) -> None:
    with TestClient(sqlite_site.app, base_url="https://facecoach.test") as https:
        for path in ("/", "/login", "/api/plans", "/static/css/app.css", "/no-such-page"):
            value = https.get(path).headers.get("strict-transport-security", "")
            assert re.fullmatch(r"max-age=(\d+); includeSubDomains", value), (path, value)
            assert int(value.split("=")[1].split(";")[0]) >= 180 * 86_400
    with TestClient(sqlite_site.app) as plain:  # http: a browser ignores it, and it must not be sent
        assert "strict-transport-security" not in plain.get("/").headers


def test_scans_over_capacity_are_refused_at_once_with_retry_after(
    sqlite_site: Site, astronaut_jpeg: bytes
) -> None:
    scanner = sqlite_site.app.state.ctx.scanner
    answer(sqlite_site, "member")
    member = sqlite_site.user_ids["member"]
    with scanner.slot(member):  # this member's scan is in flight: a second one is theirs to wait for
        r = upload(sqlite_site, "member", astronaut_jpeg)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "still running" in r.text  # type: ignore[attr-defined]
    total = scanner.slots.total
    assert total == sqlite_site.app.state.ctx.settings.max_scans_in_flight
    others = [10_000 + i for i in range(total)]
    holders = [scanner.slot(uid) for uid in others]
    for h in holders:
        h.__enter__()
    try:  # the server's scans are all taken by other members: 503, not a queue
        r = upload(sqlite_site, "member", astronaut_jpeg)
    finally:
        for h in holders:
            h.__exit__(None, None, None)
    assert r.status_code == 503 and int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert scanner.slots.in_flight == 0
    assert upload(sqlite_site, "member", astronaut_jpeg).status_code == 200  # type: ignore[attr-defined]


def _audit(site: Site, role: str) -> object:
    c = site.client(role)
    token = csrf_of(c.get("/audit").text)
    return c.post(
        "/audit",
        data={"csrf_token": token, "technique": EXERCISE},
        files={"video": ("clip.mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 100, "video/mp4")},
    )


def test_audits_over_capacity_are_refused_with_retry_after(sqlite_site: Site) -> None:
    settings = sqlite_site.app.state.ctx.settings
    sqlite_site.client("member")
    member = sqlite_site.user_ids["member"]
    with sqlite_site.db.session() as s:  # the member's own audits, still waiting
        for _ in range(settings.max_audits_per_member):
            s.add(AuditJob(user_id=member, technique_id=EXERCISE, status="queued"))
    r = _audit(sqlite_site, "member")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    sqlite_site.client("other")
    other = sqlite_site.user_ids["other"]
    with sqlite_site.db.session() as s:  # the site's queue is full of someone else's audits
        for _ in range(settings.max_audits_pending):
            s.add(AuditJob(user_id=other, technique_id=EXERCISE, status="running"))
    with sqlite_site.db.session() as s:
        for job in s.query(AuditJob).filter(AuditJob.user_id == member):
            job.status = "done"
    r = _audit(sqlite_site, "member")
    assert r.status_code == 503 and int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    with sqlite_site.db.session() as s:
        assert s.query(AuditJob).filter(AuditJob.user_id == member).count() == settings.max_audits_per_member


@pytest.fixture(scope="module")
def astronaut_jpeg(astronaut: object) -> bytes:
    from tests.fuzz.hostile import jpeg_bytes

    return jpeg_bytes(astronaut)  # type: ignore[arg-type]


def test_instructor_edits_are_bounded(sqlite_site: Site) -> None:
    import yaml
    from sqlalchemy import func, select

    from facecoach.members.models import LibraryEdit

    c = sqlite_site.client("instructor")
    claim = next(iter(load_library().claims.values())).model_dump(mode="json")
    token = csrf_of(c.get("/admin/claims/new").text)
    for field, value in (("id", "a" * 5_000), ("claim", "x" * 90_000)):
        text = yaml.safe_dump({**claim, field: value})
        r = c.post("/admin/claims/save", data={"text": text, "csrf_token": token})
        assert r.status_code == 400 and "Nothing was saved" in r.text, (field, r.status_code)
        assert len(r.text) < len(text) + 20_000  # the error names the field, it does not repeat the value
    with sqlite_site.db.session() as s:
        assert s.scalar(select(func.count(LibraryEdit.id))) == 0


def test_without_paths_cuts_paths_and_keeps_everything_else() -> None:
    from facecoach.errors import without_paths

    assert without_paths("cannot identify image file '/tmp/facecoach-scan-x1/photo'") == (
        "cannot identify image file 'photo'"
    )
    assert without_paths(r"C:\srv\uploads\audit-1 failed") == "audit-1 failed"
    kept = "scale 0.2 mm/px, 1/2 of the frames, see https://example.org/a/b"
    assert without_paths(kept) == kept
