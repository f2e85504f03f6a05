"""What the pages and the JSON API both do with an uploaded photo or video: stream it to disk within its
byte limit, scan it (photo or video, within the scan slots), or queue a video audit (within the audit
capacity). One implementation, so a page and the API refuse the same input with the same reason."""

from __future__ import annotations

import secrets
from pathlib import Path, PurePath

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from facecoach.jobs.audit_media import keep_upload, new_media
from facecoach.jobs.audit_work import ANY_TUTORIAL
from facecoach.members.models import AuditJob, Scan
from facecoach.vision.scan import Scan as VisionScan
from facecoach.vision.scan import ScanRefused
from facecoach.vision.sources import SourceError, file_kind
from facecoach.web.capacity import Busy, check_audit_capacity
from facecoach.web.context import AppContext
from facecoach.web.scanner import annotated_jpeg


class UploadRefused(Exception):
    """An upload that cannot be used: ``message`` for the person, ``status`` (400, 413, 422, 429, 503),
    ``code`` stable for programs, ``headers`` (``Retry-After`` when over capacity)."""

    def __init__(
        self, message: str, status: int = 400, code: str = "bad_input", headers: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.headers = headers or {}


def _busy(exc: Busy) -> UploadRefused:
    return UploadRefused(exc.message, exc.status, "busy", exc.headers)


async def save_upload(upload: UploadFile, dest: Path, limit: int, what: str) -> int:
    """Stream ``upload`` to ``dest``; its size, or :class:`UploadRefused` (413 over ``limit``, 400 empty)
    with nothing left on disk."""
    size = 0
    with dest.open("wb") as fh:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                break
            fh.write(chunk)
    if size > limit:
        dest.unlink(missing_ok=True)
        raise UploadRefused(f"That {what} is larger than {limit // 1_000_000} MB.", 413, "too_large")
    if size == 0:
        dest.unlink(missing_ok=True)
        raise UploadRefused("That file is empty.", 400, "empty")
    return size


def is_file(value: object) -> bool:
    return isinstance(value, UploadFile) and bool(value.filename or value.size)


def _scan_and_draw(ctx: AppContext, path: Path, videos: bool) -> tuple[VisionScan, bytes]:
    """CPU work (landmarks, measures, drawing): run off the event loop. A photo goes through the app's
    shared image landmarker; a video (when ``videos``) through the scan's own video pipeline."""
    if videos and file_kind(path) == "video":
        from facecoach.vision.scan_video import analyse_video

        scan = analyse_video(path, ctx.settings.input_limits, model=ctx.settings.model_path)
    else:
        scan = ctx.scanner.scan_path(path)
    return scan, annotated_jpeg(scan)


async def scan_upload(
    ctx: AppContext, member_id: int, upload: UploadFile, tmp: Path, *, videos: bool = False
) -> tuple[VisionScan, bytes]:
    """Scan an uploaded photo (or a video too, with ``videos``) saved under the folder ``tmp``: the scan and
    the annotated JPEG, or :class:`UploadRefused` (413 too large, 400 unreadable, 422 refused by the scan
    with its reason, 429/503 over capacity)."""
    limits = ctx.settings
    path = tmp / "upload"
    limit = max(limits.max_image_bytes, limits.max_video_bytes) if videos else limits.max_image_bytes
    size = await save_upload(upload, path, limit, "video" if videos else "photo")
    try:
        if videos and file_kind(path) == "image" and size > limits.max_image_bytes:
            raise UploadRefused(
                f"That photo is larger than {limits.max_image_bytes // 1_000_000} MB.", 413, "too_large"
            )
        with ctx.scanner.slot(member_id):  # bounded: over capacity is refused at once, never queued
            return await run_in_threadpool(_scan_and_draw, ctx, path, videos)
    except Busy as exc:
        raise _busy(exc) from None
    except SourceError as exc:
        raise UploadRefused(exc.message, 413 if exc.code == "too_large" else 400, exc.code) from None
    except ScanRefused as exc:
        status = 413 if exc.code == "too_large" else 400 if exc.code == "unreadable" else 422
        raise UploadRefused(f"The scan could not be made: {exc.message}", status, exc.code) from None


def store_scan(
    db: Session, member_id: int, assessment_id: int, scan: VisionScan, picture: bytes, keep: bool
) -> Scan:
    """The scan's row (measurements always; the annotated picture only if the member chose to keep it)."""
    row = Scan(
        user_id=member_id,
        assessment_id=assessment_id,
        measurements=scan.result.model_dump(mode="json"),
        picture=picture if keep else None,
    )
    db.add(row)
    db.commit()
    return row


async def submit_audit(
    ctx: AppContext, db: Session, member_id: int, technique_id: str, video: object, exercises: set[str]
) -> AuditJob:
    """Queue a video audit of one of ``exercises`` or of any tutorial (``ANY_TUTORIAL``): the job's row,
    or :class:`UploadRefused` (unknown exercise or no file 400, over capacity 429/503, 413 too large,
    400 empty). The video is kept with the audit (its report plays it) until the member deletes it."""
    if technique_id != ANY_TUTORIAL and technique_id not in exercises:
        raise UploadRefused("Choose the exercise the video shows, or “any tutorial”.", 400, "technique")
    if not isinstance(video, UploadFile):
        raise UploadRefused("Choose a video file.", 400, "no_file")
    settings = ctx.settings
    try:  # bounded: the longest an audit may take is the queue's time limit (twice the video, + 5 min)
        check_audit_capacity(
            db,
            member_id,
            settings.max_audits_per_member,
            settings.max_audits_pending,
            stale_after_s=settings.max_video_seconds * 2 + 300,
        )
    except Busy as exc:
        raise _busy(exc) from None
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / f"audit-{secrets.token_hex(8)}"
    await save_upload(video, path, settings.max_video_bytes, "video")
    name, folder = new_media(settings.data_dir)
    work = keep_upload(path, folder, PurePath(video.filename or "").suffix.lower())
    job = AuditJob(
        user_id=member_id,
        technique_id=technique_id,
        filename=(video.filename or "video")[:255],
        media_dir=name,
    )
    db.add(job)
    db.commit()
    from facecoach.jobs.audit_work import run_audit

    ctx.jobs.submit(job.id, work, technique_id, run_audit)
    return job
