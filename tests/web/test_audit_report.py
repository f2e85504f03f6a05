"""The audit report of any tutorial, over HTTP, on a real clip (woman_expressions_24fps.mp4) audited by
the real engine in the app's job runner: verdict, segments, thumbnails of the worst frames, charts,
the kept video with range requests, the one-file export, deletion; nobody but the owner sees any of it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from facecoach.members.models import AuditJob, AuditThumbnail
from tests.web.fixtures import Site, csrf_of

CLIP = "woman_expressions_24fps.mp4"


def submit(site: Site, role: str, video: Path, technique: str = "") -> str:
    c = site.client(role)
    token = csrf_of(c.get("/audit").text)
    with video.open("rb") as fh:
        r = c.post(
            "/audit",
            data={"technique": technique, "csrf_token": token},
            files={"video": (video.name, fh, "video/mp4")},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text[-800:]
    return str(r.headers["location"].rsplit("/", 1)[1])


def wait(site: Site, role: str, job: str, timeout_s: float = 240.0) -> dict[str, Any]:
    c = site.client(role)
    seen: list[float] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = c.get(f"/api/audits/{job}").json()
        seen.append(data["progress"])
        if data["status"] in ("done", "failed"):
            data["seen_progress"] = seen
            return dict(data)
        time.sleep(0.2)
    raise AssertionError(f"audit {job} did not finish in {timeout_s} s (progress {seen[-5:]})")


def denied(r: Any) -> bool:
    """Refused as the app refuses a role (the authorization matrix's "denied"): 401/402/403, a redirect
    to log in or sign up, or the page saying which plan unlocks it."""
    if r.status_code in (401, 402, 403):
        return True
    if r.status_code in (302, 303, 307):
        return bool(r.headers["location"].startswith(("/login", "/signup")))
    return r.status_code == 200 and 'data-upsell="' in r.text


def _thumb_count(site: Site, job: str) -> int:
    with site.db.session() as s:
        return int(
            s.scalar(select(func.count(AuditThumbnail.id)).where(AuditThumbnail.job_id == int(job))) or 0
        )


def test_any_tutorial_report_video_thumbnails_export_and_delete(sqlite_site: Site, shared_data: Path) -> None:
    site = sqlite_site
    job = submit(site, "member", shared_data / CLIP)
    running = site.client("member").get(f"/audit/{job}").text
    assert f'data-audit-job="{job}"' in running and "<progress" in running  # progress while it runs
    data = wait(site, "member", job)
    assert data["status"] == "done", data
    assert data["seen_progress"] == sorted(data["seen_progress"])
    result = data["result"]
    assert data["technique_id"] == "" and "_thumbnails" not in result  # the pictures are not in the JSON
    assert result["verdict"]["level"] in ("safe", "care", "unsafe") and result["segments"]

    member = site.client("member")
    page = member.get(f"/audit/{job}").text
    # The verdict in one sentence, and every segment with its kind and what it is.
    assert result["verdict"]["sentence"].split(",")[0] in page and 'id="audit-verdict"' in page
    assert page.count('class="segment segment-') == len(result["segments"])
    for seg in result["segments"]:
        assert f'data-seek="{seg["start_s"]:.2f}"' in page
    # A thumbnail per fault moment, each one a real JPEG of this member's video.
    n_faults = sum(len(s["faults"]) for s in result["segments"])
    assert n_faults > 0, "the clip has faults (head motion at least)"
    thumbs = re.findall(rf'src="(/audit/{job}/thumbnails/\d+\.jpg)"', page)
    assert thumbs and _thumb_count(site, job) >= 1
    shot = member.get(thumbs[0])
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
    assert shot.content[:3] == b"\xff\xd8\xff" and len(shot.content) > 2000
    # Charts of the working and keep-still measures, against their thresholds, on the video's time axis.
    assert 'id="chart-work-smile"' in page and 'id="chart-still-squint"' in page
    assert page.count('class="threshold"') >= 2 and 'class="series"' in page
    # The video plays in the page, served with ranges to its owner only.
    assert f'<source src="/audit/{job}/video" type="video/mp4">' in page
    full = member.get(f"/audit/{job}/video")
    assert full.status_code == 200 and full.content == (shared_data / CLIP).read_bytes()
    part = member.get(f"/audit/{job}/video", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == (shared_data / CLIP).read_bytes()[100:200]
    assert part.headers["content-range"].startswith("bytes 100-199/")
    assert member.get(f"/audit/{job}/video", headers={"Range": "bytes=999999999-"}).status_code == 416
    # The list names the mode and the date.
    listing = member.get("/audit").text
    assert f'href="/audit/{job}">Any tutorial</a>' in listing

    # Nobody else: another member, the instructor, a free account, nobody logged in.
    urls = [
        f"/audit/{job}",
        f"/audit/{job}/video",
        thumbs[0],
        f"/audit/{job}/export.html",
        f"/api/audits/{job}",
    ]
    for role in ("other", "instructor"):
        for url in urls:
            r = site.client(role).get(url, follow_redirects=False)
            assert r.status_code == 404 and CLIP not in r.text, (role, url, r.status_code)
    for role in ("anon", "free"):
        for url in urls:
            r = site.client(role).get(url, follow_redirects=False)
            assert denied(r) and CLIP not in r.text, (role, url, r.status_code)

    # The export: one HTML file, nothing fetched from anywhere (no script, no URL but data:).
    export = member.get(f"/audit/{job}/export.html")
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    html = export.text
    assert result["verdict"]["sentence"].split(",")[0] in html
    assert html.count("data:image/jpeg;base64,") == len(thumbs) and "<svg" in html and "<style>" in html
    assert "<script" not in html and "<video" not in html and "<link" not in html
    urls_in = re.findall(r'(?:src|href)="([^"]*)"', html) + re.findall(r"url\(([^)]*)\)", html)
    assert all(u.startswith("data:") for u in urls_in), [u for u in urls_in if not u.startswith("data:")][:5]

    # Deleting the audit deletes the row, its thumbnails and its video folder.
    with site.db.session() as s:
        media_dir = s.get(AuditJob, int(job)).media_dir  # type: ignore[union-attr]
    folder = site.tmp / "audit-media" / str(media_dir)
    assert folder.is_dir()
    token = csrf_of(page)
    assert (
        site.client("other")
        .post(f"/audit/{job}/delete", data={"csrf_token": csrf_of(site.client("other").get("/audit").text)})
        .status_code
        == 404
    )
    r = member.post(f"/audit/{job}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    assert not folder.exists() and _thumb_count(site, job) == 0
    assert member.get(f"/audit/{job}").status_code == 404
    assert member.get(thumbs[0]).status_code == 404 and member.get(f"/audit/{job}/video").status_code == 404


def test_a_failed_audit_shows_its_reason_in_the_list(sqlite_site: Site, shared_data: Path) -> None:
    job = submit(sqlite_site, "member", shared_data / "cartoon_no_face.mp4")
    data = wait(sqlite_site, "member", job)
    assert data["status"] == "failed" and data["error"]
    listing = sqlite_site.client("member").get("/audit").text
    row = re.search(rf'<li class="spread" data-job="{job}">.*?</li>', listing, re.S)
    assert row is not None and data["error"] in row.group(0) and "%" not in row.group(0)
    page = sqlite_site.client("member").get(f"/audit/{job}").text
    assert 'id="audit-failure"' in page and data["error"] in page and "failed · " not in page


def test_deleting_the_account_deletes_the_kept_videos(sqlite_site: Site, shared_data: Path) -> None:
    site = sqlite_site
    job = submit(site, "member", shared_data / "cartoon_no_face.mp4")  # kept at once, audited or not
    wait(site, "member", job)
    folders = list((site.tmp / "audit-media").iterdir())
    assert len(folders) == 1 and any(folders[0].iterdir())
    c = site.client("member")
    token = csrf_of(c.get("/account").text)
    r = c.post("/account/delete", data={"confirm": "member@example.org", "csrf_token": token})
    assert r.status_code == 200
    assert list((site.tmp / "audit-media").iterdir()) == []
    with site.db.session() as s:
        assert s.scalar(select(func.count(AuditJob.id))) == 0


def test_a_video_browsers_cannot_play_is_kept_as_a_web_copy(
    sqlite_site: Site, shared_data: Path, tmp_path: Path
) -> None:
    """An upload in MPEG-4 Part 2 (OpenCV's mp4v, which no browser plays) is audited as it is, and the
    report plays an H.264 copy made by the job; the undecodable-in-browsers original is not kept."""
    import cv2

    from facecoach.studio.media import probe

    src = cv2.VideoCapture(str(shared_data / CLIP))
    fps = src.get(cv2.CAP_PROP_FPS)
    clip = tmp_path / "cut-mp4v.mp4"
    out = None
    for _ in range(int(fps * 4)):  # the first 4 s
        ok, frame = src.read()
        assert ok
        if out is None:
            h, w = frame.shape[:2]
            out = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
        out.write(frame)
    assert out is not None
    out.release()
    src.release()
    assert probe(clip).video_codec == "mpeg4"
    job = submit(sqlite_site, "member", clip)
    assert wait(sqlite_site, "member", job)["status"] == "done"
    with sqlite_site.db.session() as s:
        folder = sqlite_site.tmp / "audit-media" / str(s.get(AuditJob, int(job)).media_dir)  # type: ignore[union-attr]
    assert sorted(p.name for p in folder.iterdir()) == ["web.mp4"]
    served = sqlite_site.client("member").get(f"/audit/{job}/video")
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert (
        served.content == (folder / "web.mp4").read_bytes()
        and probe(folder / "web.mp4").video_codec == "h264"
    )
    assert (
        f'<source src="/audit/{job}/video" type="video/mp4">'
        in sqlite_site.client("member").get(f"/audit/{job}").text
    )
