"""Lessons: the instructor uploads her demonstration of a technique, reviews its audit and publishes it;
members whose plan allows it watch it (HTTP range requests: seeking and resuming work).

An upload is checked before anything is kept (:func:`facecoach.studio.upload.check_video`): a refusal
answers 400/413 with the reason and leaves no file and no row behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from facecoach.members.models import AuditJob
from facecoach.members.studio_models import Lesson
from facecoach.studio import lessons as store
from facecoach.studio.media import probe
from facecoach.studio.upload import UploadRefused, check_video, landmarker_face_finder
from facecoach.web.context import AppContext
from facecoach.web.deps import (
    CtxDep,
    Instructor,
    RowId,
    SessionDep,
    Viewer,
    ViewerDep,
    redirect,
    render,
)
from facecoach.web.lesson_jobs import submit_lesson
from facecoach.web.routes.content import library_of
from facecoach.web.uploads import UploadRefused as UploadTooLargeOrEmpty
from facecoach.web.uploads import save_upload

router = APIRouter(include_in_schema=False)

#: Lesson files change only by a new upload (a new folder), so a browser may keep them for a while.
MEDIA_CACHE = "private, max-age=3600"


def _techniques(ctx: AppContext, db: Session) -> list[Any]:
    return list(library_of(ctx, db).techniques.values())


@router.get("/studio/lessons")
def lessons_page(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    rows = list(db.scalars(select(Lesson).order_by(Lesson.id.desc()).limit(200)))
    views = [store.load_view(db, row, ctx.settings.data_dir) for row in rows]
    names = {t.id: t.name for t in _techniques(ctx, db)}
    return render(
        request,
        "studio/lessons.html",
        viewer,
        lessons=views,
        names=names,
        techniques=_techniques(ctx, db),
        error=None,
        chosen=request.query_params.get("technique", ""),
    )


def _keep(upload: Path, data_dir: Path) -> tuple[str, Path, Path]:
    """Move a checked upload into its lesson folder; a link beside it is the processing job's input."""
    token, folder = store.new_folder(data_dir)
    original = folder / ("original" + store.EXTENSIONS.get(_container(upload), ".video"))
    shutil.move(str(upload), original)
    work = folder / ("input" + original.suffix)
    try:
        os.link(original, work)
    except OSError:  # a filesystem without hard links
        shutil.copyfile(original, work)
    return token, original, work


def _container(path: Path) -> str:
    try:
        return probe(path).container
    except ValueError:
        return "other"


@router.post("/studio/lessons")
async def lesson_upload(
    request: Request,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    form = await request.form()
    video = form.get("video")
    technique_id = str(form.get("technique", ""))
    techniques = _techniques(ctx, db)

    def refuse(message: str, status: int = 400) -> Response:
        rows = list(db.scalars(select(Lesson).order_by(Lesson.id.desc()).limit(200)))
        return render(
            request,
            "studio/lessons.html",
            viewer,
            status_code=status,
            lessons=[store.load_view(db, r, ctx.settings.data_dir) for r in rows],
            names={t.id: t.name for t in techniques},
            techniques=techniques,
            error=message,
            chosen=technique_id,
        )

    if technique_id not in {t.id for t in techniques}:
        return refuse("Choose the technique the video demonstrates.")
    if not isinstance(video, UploadFile):
        return refuse("Choose a video file.")
    settings = ctx.settings
    folder = settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    upload = folder / f"lesson-{secrets.token_hex(8)}"
    try:
        size = await save_upload(video, upload, settings.max_video_bytes, "video")
        with landmarker_face_finder(settings.model_path) as has_face:
            checked = check_video(upload, settings.input_limits, has_face)
    except (UploadRefused, UploadTooLargeOrEmpty) as exc:
        upload.unlink(missing_ok=True)
        return refuse(exc.message, exc.status)
    except BaseException:
        upload.unlink(missing_ok=True)
        raise
    token, original, work = _keep(upload, settings.data_dir)
    job = AuditJob(user_id=viewer.id, technique_id=technique_id, filename=(video.filename or "lesson")[:255])
    db.add(job)
    db.flush()
    lesson = Lesson(
        technique_id=technique_id,
        directory=token,
        original_name=(video.filename or "")[:255],
        original_file=original.name,
        size_bytes=size,
        duration_s=round(checked.duration_s, 2),
        width=checked.width,
        height=checked.height,
        job_id=job.id,
        uploaded_by=viewer.id,
    )
    db.add(lesson)
    db.commit()
    submit_lesson(ctx, job.id, work, technique_id)
    message = "Video received: the poster, web copy and audit are on their way."
    return redirect(f"/studio/lessons/{lesson.id}", request, message)


def _lesson(db: Session, lesson_id: int) -> Lesson:
    lesson = db.get(Lesson, lesson_id)
    if lesson is None:
        raise HTTPException(status_code=404, detail="No such lesson.")
    return lesson


@router.get("/studio/lessons/{lesson_id}")
def lesson_page(
    request: Request,
    lesson_id: RowId,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    v = store.load_view(db, _lesson(db, lesson_id), ctx.settings.data_dir)
    technique = library_of(ctx, db).techniques.get(v.lesson.technique_id)
    return render(request, "studio/lesson.html", viewer, v=v, technique=technique, error=None)


@router.post("/studio/lessons/{lesson_id}/publish")
def lesson_publish(
    request: Request,
    lesson_id: RowId,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
    anyway: str = Form(""),
) -> Response:
    v = store.load_view(db, _lesson(db, lesson_id), ctx.settings.data_dir)
    try:
        store.publish(db, v, anyway=bool(anyway))
    except store.LessonError as exc:
        db.rollback()
        technique = library_of(ctx, db).techniques.get(v.lesson.technique_id)
        return render(
            request, "studio/lesson.html", viewer, status_code=409, v=v, technique=technique, error=str(exc)
        )
    db.commit()
    note = " with the audit noted" if v.flags else ""
    return redirect(f"/studio/lessons/{lesson_id}", request, f"Published{note}: members see it now.")


@router.post("/studio/lessons/{lesson_id}/unpublish")
def lesson_unpublish(request: Request, lesson_id: RowId, viewer: Instructor, db: SessionDep) -> Response:
    lesson = _lesson(db, lesson_id)
    lesson.published_at = None
    db.commit()
    return redirect(f"/studio/lessons/{lesson_id}", request, "Taken down: members no longer see it.")


@router.post("/studio/lessons/{lesson_id}/delete")
def lesson_delete(
    request: Request,
    lesson_id: RowId,
    viewer: Instructor,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    lesson = _lesson(db, lesson_id)
    v = store.load_view(db, lesson, ctx.settings.data_dir)
    if v.status == "processing":
        message = "Wait until its processing is done."
        return redirect(f"/studio/lessons/{lesson_id}", request, message, "error")
    store.delete_lesson(db, ctx.settings.data_dir, lesson)
    db.commit()
    return redirect("/studio/lessons", request, "Lesson deleted, its files too.")


# --- watching ----------------------------------------------------------------------------------------


def _watchable(db: Session, ctx: AppContext, viewer: Viewer | None, lesson_id: int) -> store.LessonView:
    """The lesson for someone allowed to watch it: the instructor always (to review it), a member whose
    plan includes lessons once it is published; anyone else gets 401/402/404 (never the file)."""
    if viewer is None:
        raise HTTPException(status_code=401, detail="Log in to watch the lessons.")
    lesson = db.get(Lesson, lesson_id)
    if lesson is None or (lesson.published_at is None and not viewer.is_instructor):
        raise HTTPException(status_code=404, detail="No such lesson.")
    if not viewer.is_instructor and not store.may_watch(viewer.plan):
        raise HTTPException(status_code=402, detail="The Member plan unlocks the instructor's lessons.")
    v = store.load_view(db, lesson, ctx.settings.data_dir)
    if v.media is None or not v.media.is_file():
        raise HTTPException(status_code=404, detail="This lesson's video is not ready.")
    return v


@router.get("/lessons/{lesson_id}/video")
def lesson_video(
    lesson_id: RowId,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    """The video with ``Accept-Ranges``, ``206`` partial answers, ``If-Range`` (ETag / Last-Modified)
    and ``416`` for a range past the end (Starlette's FileResponse does the range arithmetic)."""
    v = _watchable(db, ctx, viewer, lesson_id)
    assert v.media is not None
    return media_response(v.media, v.media_type)


def media_response(path: Path, media_type: str, cache: str = MEDIA_CACHE) -> FileResponse:
    """A video file for a ``<video>``: ``Accept-Ranges``, ``206`` partial answers, ``If-Range`` and
    ``416`` past the end (Starlette's FileResponse does the range arithmetic). Lessons and the audit
    report's kept videos both answer with it."""
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})


@router.get("/lessons/{lesson_id}/poster.jpg")
def lesson_poster(
    lesson_id: RowId,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    v = _watchable(db, ctx, viewer, lesson_id)
    if v.poster is None:
        raise HTTPException(status_code=404, detail="This lesson has no poster frame.")
    return FileResponse(v.poster, media_type="image/jpeg", headers={"Cache-Control": MEDIA_CACHE})


@router.get("/lessons/for")
def lessons_for(
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
    ids: str = "",
) -> Response:
    """Published lessons of up to 50 technique ids (comma-separated), for the live page's steps: an
    empty answer for a viewer whose plan does not include lessons."""
    wanted = [i for i in ids.split(",") if i][:50]
    out: dict[str, dict[str, str]] = {}
    if viewer is not None and (viewer.is_instructor or store.may_watch(viewer.plan)):
        for technique_id in dict.fromkeys(wanted):
            with contextlib.suppress(ValueError):
                v = store.published_for(db, technique_id[:100], ctx.settings.data_dir)
                if v is not None:
                    out[technique_id] = lesson_urls(v)
    return JSONResponse({"lessons": out})


def lesson_urls(v: store.LessonView) -> dict[str, str]:
    base = f"/lessons/{v.lesson.id}"
    return {
        "video": f"{base}/video",
        "poster": f"{base}/poster.jpg" if v.poster is not None else "",
        "type": v.media_type,
    }


def lesson_context(db: Session, ctx: AppContext, viewer: Viewer | None, technique_id: str) -> dict[str, Any]:
    """What a technique page needs to show its lesson: the published lesson and whether this viewer may
    watch it (others see that a lesson exists and which plan unlocks it)."""
    lesson = store.published_for(db, technique_id, ctx.settings.data_dir)
    allowed = viewer is not None and (viewer.is_instructor or store.may_watch(viewer.plan))
    return {"lesson": lesson, "may_watch": allowed}
