"""Video audit as a background job, polled while it runs, on a real video (SQLite only: the job, not
the database, is the subject)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from facecoach.coaching.audit import audit_video
from tests.web.fixtures import Site, csrf_of


def _submit(site: Site, role: str, video: Path, technique: str) -> Any:
    c = site.client(role)
    token = csrf_of(c.get("/audit").text)
    with video.open("rb") as fh:
        return c.post(
            "/audit",
            data={"technique": technique, "csrf_token": token},
            files={"video": (video.name, fh, "video/mp4")},
            follow_redirects=False,
        )


def _wait(site: Site, role: str, job: str, timeout_s: float = 120.0) -> dict[str, Any]:
    c = site.client(role)
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        data = c.get(f"/api/audits/{job}").json()
        seen.append(data["progress"])
        if data["status"] in ("done", "failed"):
            data["seen_progress"] = seen
            return data
        time.sleep(0.2)
    raise AssertionError(f"audit {job} did not finish in {timeout_s} s (progress {seen[-5:]})")


def test_member_audits_a_video_and_sees_the_timeline(sqlite_site: Site, shared_data: Path) -> None:
    r = _submit(sqlite_site, "member", shared_data / "woman_expressions_24fps.mp4", "smile-lift")
    assert r.status_code == 303, r.text[-800:]
    job = r.headers["location"].rsplit("/", 1)[1]
    page = sqlite_site.client("member").get(f"/audit/{job}").text
    assert f'data-audit-job="{job}"' in page and "<progress" in page
    data = _wait(sqlite_site, "member", job)
    assert data["status"] == "done", data
    result = data["result"]
    assert result["technique"] == "smile-lift" and 19 < result["duration_s"] < 21
    # The job's result is the coaching engine's own audit of that file (reps, holds and faults alike).
    limits = sqlite_site.app.state.ctx.settings.input_limits
    direct = audit_video(shared_data / "woman_expressions_24fps.mp4", "smile-lift", limits=limits)
    direct_json = direct.model_dump(mode="json")
    assert {k: result[k] for k in direct_json} == direct_json
    assert [e["t"] for e in result["events"]] == sorted(e["t"] for e in result["events"])
    assert data["seen_progress"] == sorted(data["seen_progress"])  # progress only moves forward
    html = sqlite_site.client("member").get(f"/audit/{job}").text
    # One exercise named: the report is one segment over the video, the events table as before.
    assert 'id="audit-timeline"' in html and 'id="audit-report-timeline"' in html
    assert f"{result['reps']} rep" in html and 'id="audit-segments"' in html
    # Private: neither the instructor nor another member sees it; a free member is offered the plan.
    assert sqlite_site.client("instructor").get(f"/audit/{job}").status_code == 404
    assert sqlite_site.client("other").get(f"/audit/{job}").status_code == 404
    assert 'data-upsell="member"' in sqlite_site.client("free").get(f"/audit/{job}").text
    # The upload is kept only with its audit (for the report's player): no stray copy in uploads/, and
    # the job's own input link is gone once it finished.
    assert not list((sqlite_site.tmp / "uploads").glob("audit-*"))
    kept = [p.name for p in (sqlite_site.tmp / "audit-media").glob("*/*")]
    assert kept == ["video.mp4"], kept


def test_a_video_without_a_face_fails_with_a_reason(sqlite_site: Site, shared_data: Path) -> None:
    r = _submit(sqlite_site, "member", shared_data / "cartoon_no_face.mp4", "smile-lift")
    job = r.headers["location"].rsplit("/", 1)[1]
    data = _wait(sqlite_site, "member", job)
    assert data["status"] == "failed" and data["error"]
    assert data["error"] in sqlite_site.client("member").get(f"/audit/{job}").text


def test_bad_audit_requests(sqlite_site: Site, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    r = _submit(sqlite_site, "member", junk, "not-a-technique")
    assert r.status_code == 400 and "Choose the exercise" in r.text
    assert not list((sqlite_site.tmp / "audit-media").glob("*/*"))  # nothing kept of a refused upload
    r = _submit(sqlite_site, "member", junk, "smile-lift")
    job = r.headers["location"].rsplit("/", 1)[1]
    data = _wait(sqlite_site, "member", job)
    assert data["status"] == "failed" and data["error"], data  # one line a person can act on
    assert "\n" not in data["error"] and "Traceback" not in data["error"]
    assert sqlite_site.client("member").get("/healthz").status_code == 200
