"""Lessons through the app (SQLite: the subject is the files, the audit and the serving): upload, the
audit's flags, publishing, range requests for members only, and refusals that leave nothing behind."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from facecoach.members.models import AuditJob
from facecoach.members.studio_models import Lesson
from facecoach.studio.media import probe, web_type
from tests.web.fixtures import Site, build_site, csrf_of


def upload(site: Site, video: Path, technique: str = "smile-lift", name: str | None = None) -> Any:
    c = site.client("instructor")
    token = csrf_of(c.get("/studio/lessons").text)
    with video.open("rb") as fh:
        return c.post(
            "/studio/lessons",
            data={"technique": technique, "csrf_token": token},
            files={"video": (name or video.name, fh, "video/mp4")},
            follow_redirects=False,
        )


def wait_ready(site: Site, lesson_id: int, timeout_s: float = 120.0) -> str:
    """The lesson page once processing is over (the job runs on the app's audit thread)."""
    c = site.client("instructor")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = c.get(f"/studio/lessons/{lesson_id}").text
        if 'id="lesson-status">processing' not in page:
            return page
        time.sleep(0.3)
    raise AssertionError(f"lesson {lesson_id} still processing after {timeout_s} s")


def lesson_id_of(response: Any) -> int:
    assert response.status_code == 303, response.text[response.text.find("<main") :][:3000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def publish(site: Site, lesson_id: int, anyway: bool = False) -> Any:
    c = site.client("instructor")
    token = csrf_of(c.get(f"/studio/lessons/{lesson_id}").text)
    data = {"csrf_token": token, **({"anyway": "1"} if anyway else {})}
    return c.post(f"/studio/lessons/{lesson_id}/publish", data=data, follow_redirects=False)


def leftovers(site: Site) -> tuple[list[Path], int, int]:
    """Files under uploads/ and lessons/, and lesson and job rows."""
    files = [p for d in ("uploads", "lessons") for p in (site.tmp / d).rglob("*") if p.is_file()]
    with site.db.session() as s:
        return (
            files,
            s.scalar(select(func.count(Lesson.id))) or 0,
            s.scalar(select(func.count(AuditJob.id))) or 0,
        )


def test_a_creased_demonstration_is_flagged_and_published_only_anyway(
    sqlite_site: Site, creased_lesson: Path
) -> None:
    site = sqlite_site
    lesson_id = lesson_id_of(upload(site, creased_lesson))
    page = wait_ready(site, lesson_id)
    assert 'id="lesson-status">ready' in page, page[-2000:]
    # The audit ran the coaching engine over her video and found the forehead creases in the hold.
    assert 'id="audit-flags"' in page and 'data-fault="forehead_wrinkle"' in page
    assert "the face wrinkles" in page
    # Members see nothing yet: unpublished lessons are the instructor's only.
    assert site.client("member").get(f"/lessons/{lesson_id}/video").status_code == 404
    assert 'id="lesson"' not in site.client("member").get("/library/smile-lift").text
    # Publishing is refused until she says "anyway"; then the audit is noted on the lesson.
    refused = publish(site, lesson_id)
    assert refused.status_code == 409 and "publish anyway" in refused.text
    assert publish(site, lesson_id, anyway=True).status_code == 303
    page = site.client("instructor").get(f"/studio/lessons/{lesson_id}").text
    assert 'id="lesson-status">published' in page and 'id="published-despite"' in page
    assert "forehead wrinkle at" in page
    # The upload was MPEG-4 Part 2 (no browser plays it): members get the H.264 web copy, with a poster.
    with site.db.session() as s:
        lesson = s.get(Lesson, lesson_id)
        assert lesson is not None and lesson.media_file == "web.mp4" and lesson.has_poster
        folder = site.tmp / "lessons" / lesson.directory
    assert web_type(probe(folder / lesson.original_file)) is None
    assert web_type(probe(folder / "web.mp4")) == "video/mp4"
    assert not list(folder.glob("input*"))  # the job's input link is gone, the upload stays
    assert (folder / lesson.original_file).is_file()


def test_members_watch_with_range_requests_others_do_not(sqlite_site: Site, clean_lesson: Path) -> None:
    site = sqlite_site
    lesson_id = lesson_id_of(upload(site, clean_lesson))
    page = wait_ready(site, lesson_id)
    assert 'id="audit-clean"' in page and 'id="anyway"' not in page
    assert publish(site, lesson_id).status_code == 303  # no flags: no "anyway" needed
    member = site.client("member")
    url = f"/lessons/{lesson_id}/video"
    whole = member.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "video/mp4"
    body = whole.content
    size = len(body)
    assert size > 10_000
    part = member.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == body[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{size}"
    tail = member.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == body[-500:]
    # If-Range: the same version gets the range, a changed one (another ETag) the whole file again.
    etag = whole.headers["etag"]
    assert member.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206
    stale = member.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-this-version"'})
    assert stale.status_code == 200 and len(stale.content) == size
    assert member.get(url, headers={"Range": f"bytes={size + 10}-"}).status_code == 416
    poster = member.get(f"/lessons/{lesson_id}/poster.jpg")
    assert poster.status_code == 200 and poster.content[:3] == b"\xff\xd8\xff"
    # The technique page shows it to members; a free member is told the plan; anonymous gets 401.
    assert f'src="/lessons/{lesson_id}/video"' in member.get("/library/smile-lift").text
    free_page = site.client("free").get("/library/smile-lift").text
    assert 'id="lesson-locked"' in free_page and f"/lessons/{lesson_id}/video" not in free_page
    assert site.client("free").get(url).status_code == 402
    assert site.client("anon").get(url).status_code == 401
    assert member.get("/lessons/for?ids=smile-lift,cheek-lift").json() == {
        "lessons": {
            "smile-lift": {
                "video": url,
                "poster": f"/lessons/{lesson_id}/poster.jpg",
                "type": "video/mp4",
            }
        }
    }
    assert site.client("free").get("/lessons/for?ids=smile-lift").json() == {"lessons": {}}


@pytest.fixture
def short_site(tmp_path: Path) -> Any:
    """The app with a 5-second, 2 MB video limit (to refuse too long and too large uploads)."""
    from facecoach.members import migrate
    from facecoach.members.db import Database

    db = Database.connect(f"sqlite:///{tmp_path / 'short.db'}")
    migrate.upgrade(db)
    site = build_site(db, tmp_path, max_video_seconds=5.0, max_video_bytes=2_000_000)
    yield site
    site.close()
    db.dispose()


def test_bad_uploads_are_refused_and_leave_nothing_behind(
    short_site: Site, clean_lesson: Path, shared_data: Path, tmp_path: Path
) -> None:
    site = short_site
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all, whatever the name says")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    big = tmp_path / "big.mp4"
    big.write_bytes(clean_lesson.read_bytes() + b"\0" * 2_000_000)
    cases = [
        (text, 400, "not a video"),
        (empty, 400, "empty"),
        (shared_data / "happy_f15.jpg", 400, "picture, not a video"),
        (clean_lesson, 413, "more than the limit of 5 s"),  # ~10 s long
        (big, 413, "larger than 2 MB"),
        (shared_data / "cartoon_no_face.mp4", 400, "No face was found"),
    ]
    for video, status, words in cases:
        r = upload(site, video)
        assert r.status_code == status, (video.name, r.status_code, r.text[-800:])
        assert words in r.text, (video.name, r.text[-1500:])
        assert 'id="upload-error"' in r.text
        assert leftovers(site) == ([], 0, 0), video.name
    # A technique that is not in the library is refused before the file is even read.
    r = upload(site, text, technique="no-such-technique")
    assert r.status_code == 400 and "Choose the technique" in r.text
    assert leftovers(site) == ([], 0, 0)


def test_only_the_instructor_uploads(sqlite_site: Site, clean_lesson: Path) -> None:
    c = sqlite_site.client("member")
    token = csrf_of(c.get("/").text)
    with clean_lesson.open("rb") as fh:
        r = c.post(
            "/studio/lessons", data={"technique": "smile-lift", "csrf_token": token}, files={"video": fh}
        )
    assert r.status_code == 403
    assert sqlite_site.client("anon").get("/studio/lessons").status_code == 401
    assert leftovers(sqlite_site) == ([], 0, 0)
