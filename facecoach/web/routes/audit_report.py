"""The audit report's own files: the kept video (with range requests), the worst-frame thumbnails, the
report as one self-contained HTML file, and deleting an audit with everything kept for it.

Private to the member who uploaded the video: anyone else, the instructor included, gets 404.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.jobs.audit_media import kept_video, media_folder, remove_media, video_type
from facecoach.members.models import AuditJob, AuditThumbnail
from facecoach.web.audit_report import Report, build_report, thumbs_of
from facecoach.web.context import AppContext
from facecoach.web.deps import CtxDep, MemberUser, RowId, SessionDep, feature, redirect
from facecoach.web.routes.content import library_of
from facecoach.web.routes.lessons import media_response
from facecoach.web.routes.member import load_job

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: A member's own video and pictures: the browser may keep them for the visit, never a shared cache.
PRIVATE_CACHE = "private, max-age=600"


def _thumb_rows(db: Session, job: AuditJob) -> list[AuditThumbnail]:
    stmt = select(AuditThumbnail).where(AuditThumbnail.job_id == job.id).order_by(AuditThumbnail.t_s)
    return list(db.scalars(stmt))


def _names(ctx: AppContext, db: Session) -> dict[str, str]:
    return {t.id: t.name for t in library_of(ctx, db).techniques.values()}


def _report(db: Session, ctx: AppContext, job: AuditJob, inline: bool) -> Report | None:
    if job.status != "done" or not job.result:
        return None
    rows = _thumb_rows(db, job)
    if inline:
        thumbs = thumbs_of(rows, lambda r: "data:image/jpeg;base64," + base64.b64encode(r.jpeg).decode())
    else:
        thumbs = thumbs_of(rows, lambda r: f"/audit/{job.id}/thumbnails/{r.id}.jpg")
    return build_report(job.result, _names(ctx, db), thumbs)


def _video_of(ctx: AppContext, job: AuditJob) -> tuple[Path, str] | None:
    """The kept video and its MIME type, when there is one a browser can play."""
    path = kept_video(media_folder(ctx.settings.data_dir, job.media_dir))
    if path is None or job.status != "done":
        return None
    mime = video_type(path)
    return (path, mime) if mime is not None else None


def report_context(db: Session, ctx: AppContext, job: AuditJob) -> dict[str, Any]:
    """What ``audit_job.html`` needs: the job, its report when done, and whether its video plays."""
    names = _names(ctx, db)
    video = _video_of(ctx, job)
    kept = kept_video(media_folder(ctx.settings.data_dir, job.media_dir)) is not None
    return {
        "job": job,
        "label": names.get(job.technique_id, job.technique_id) if job.technique_id else "any tutorial",
        "report": _report(db, ctx, job, inline=False),
        "video_type": video[1] if video else None,
        "video_kept": kept,
    }


@router.get("/audit/{job_id}/video")
@feature("Video audit")
def audit_video_file(job_id: RowId, viewer: MemberUser, ctx: CtxDep, db: SessionDep) -> Response:
    """The member's uploaded video (or its web copy), with range requests for seeking."""
    job = load_job(db, viewer, job_id)
    video = _video_of(ctx, job)
    if video is None:
        raise HTTPException(status_code=404, detail="This audit keeps no video a browser can play.")
    return media_response(video[0], video[1], PRIVATE_CACHE)


@router.get("/audit/{job_id}/thumbnails/{thumb_id}.jpg")
@feature("Video audit")
def audit_thumbnail(job_id: RowId, thumb_id: RowId, viewer: MemberUser, db: SessionDep) -> Response:
    job = load_job(db, viewer, job_id)
    row = db.get(AuditThumbnail, thumb_id)
    if row is None or row.job_id != job.id:
        raise HTTPException(status_code=404, detail="No such thumbnail.")
    return Response(row.jpeg, media_type="image/jpeg", headers={"Cache-Control": PRIVATE_CACHE})


@router.get("/audit/{job_id}/export.html")
@feature("Video audit")
def audit_export(
    request: Request, job_id: RowId, viewer: MemberUser, ctx: CtxDep, db: SessionDep
) -> Response:
    """The report as one HTML file that needs nothing else: styles inline, charts as inline SVG,
    thumbnails as data: URIs, no script, no video, no link to any server."""
    job = load_job(db, viewer, job_id)
    report = _report(db, ctx, job, inline=True)
    if report is None:
        raise HTTPException(status_code=409, detail="The audit has not finished.")
    css = (
        (STATIC_DIR / "css" / "app.css").read_text()
        + "\n"
        + (STATIC_DIR / "audit" / "report.css").read_text()
    )
    names = _names(ctx, db)
    html = ctx.templates.get_template("audit_export.html").render(
        job=job,
        label=names.get(job.technique_id, job.technique_id) if job.technique_id else "any tutorial",
        report=report,
        css=css,
    )
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(job.filename).stem)[:60] or "video"
    return Response(
        html,
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{job.id}-{stem}.html"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/audit/{job_id}/delete")
@feature("Video audit")
def audit_delete(
    request: Request, job_id: RowId, viewer: MemberUser, ctx: CtxDep, db: SessionDep
) -> Response:
    """Delete the audit: its result, its thumbnails (cascade) and its kept video, at once."""
    job = load_job(db, viewer, job_id)
    name = job.media_dir
    db.query(AuditThumbnail).filter(AuditThumbnail.job_id == job.id).delete()
    db.delete(job)
    db.commit()
    remove_media(ctx.settings.data_dir, name)
    return redirect("/audit", request, "The audit, its pictures and its video are deleted.")
