"""Lessons: where their files are, what state each is in, publishing, and who may watch.

A lesson's state follows its processing job (``audit_jobs`` row): ``processing`` while the job is queued
or running, ``failed`` when it failed, ``ready`` when done (the instructor reviews the audit), and
``published`` once she published it. Publishing a lesson with audit flags needs her explicit "publish
anyway"; the flags she published it with are kept on the lesson (``published_despite``). Members see the
newest published lesson of a technique; publishing one takes the technique's other lessons down.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecoach.members.models import AuditJob, utcnow
from facecoach.members.plans import allows
from facecoach.members.studio_models import Lesson

#: The plan that unlocks the instructor's lessons (the instructor herself always sees them).
LESSON_PLAN = "member"
#: File name extension of the upload as kept, by container family (facecoach.studio.media).
EXTENSIONS = {"mp4": ".mp4", "webm": ".webm", "quicktime": ".mov", "other": ".video"}


class LessonError(ValueError):
    """A lesson action that cannot be done now (the message says why)."""


_GONE = "its processing record is gone: upload the video again"


def lessons_root(data_dir: Path) -> Path:
    return data_dir / "lessons"


def new_folder(data_dir: Path) -> tuple[str, Path]:
    """A fresh folder for one lesson's files (readable by the server's user only)."""
    token = secrets.token_hex(12)
    folder = lessons_root(data_dir) / token
    folder.mkdir(parents=True, mode=0o700)
    return token, folder


def folder_of(data_dir: Path, lesson: Lesson) -> Path:
    return lessons_root(data_dir) / lesson.directory


def may_watch(plan: str | None) -> bool:
    return allows(plan, LESSON_PLAN)


@dataclass(frozen=True)
class LessonView:
    """A lesson as pages show it (paths are on the server; pages use the lesson's URLs)."""

    lesson: Lesson
    status: str  # processing | failed | ready | published
    progress: float
    error: str
    media: Path | None
    media_type: str
    poster: Path | None
    transcoded: bool
    audited: bool
    audit_note: str
    flags: list[dict[str, Any]] = field(default_factory=list)

    @property
    def wrinkling(self) -> list[dict[str, Any]]:
        return [f for f in self.flags if f.get("wrinkling")]


def _published_view(lesson: Lesson, folder: Path) -> LessonView:
    """A published lesson from its own columns (its job row may be gone)."""
    return LessonView(
        lesson=lesson,
        status="published",
        progress=1.0,
        error="",
        media=folder / (lesson.media_file or lesson.original_file),
        media_type=lesson.media_type or "video/mp4",
        poster=folder / "poster.jpg" if lesson.has_poster else None,
        transcoded=bool(lesson.media_file and lesson.media_file != lesson.original_file),
        audited=bool(lesson.published_despite),
        audit_note="",
    )


def view(lesson: Lesson, job: AuditJob | None, data_dir: Path) -> LessonView:
    folder = folder_of(data_dir, lesson)
    if job is None:
        if lesson.published_at is not None:
            return _published_view(lesson, folder)
        return LessonView(lesson, "failed", 0.0, _GONE, None, "", None, False, False, "")
    if job.status != "done" or not job.result:
        status = "failed" if job.status == "failed" else "processing"
        return LessonView(lesson, status, job.progress, job.error, None, "", None, False, False, "")
    result: dict[str, Any] = job.result
    media = result.get("media", {})
    audit = result.get("audit", {})
    poster = folder / str(result.get("poster", "poster.jpg"))
    return LessonView(
        lesson=lesson,
        status="published" if lesson.published_at is not None else "ready",
        progress=1.0,
        error="",
        media=folder / (media.get("file") or lesson.original_file),
        media_type=str(media.get("type") or "video/mp4"),
        poster=poster if poster.is_file() else None,
        transcoded=bool(media.get("transcoded")),
        audited=bool(audit.get("audited")),
        audit_note=str(audit.get("reason", "")),
        flags=list(audit.get("flags", [])),
    )


def load_view(db: Session, lesson: Lesson, data_dir: Path) -> LessonView:
    job = db.get(AuditJob, lesson.job_id) if lesson.job_id is not None else None
    return view(lesson, job, data_dir)


def flags_text(flags: list[dict[str, Any]]) -> str:
    """The flags in one line, as kept on a lesson published despite them."""
    return "; ".join(f"{f['kind'].replace('_', ' ')} at {f['start_s']:.1f}–{f['end_s']:.1f} s" for f in flags)


def publish(db: Session, v: LessonView, anyway: bool) -> None:
    """Publish a ready lesson (see the module docstring); the caller commits."""
    if v.status == "published":
        raise LessonError("This lesson is already published.")
    if v.status != "ready":
        raise LessonError("Only a lesson whose processing has finished can be published.")
    if v.flags and not anyway:
        raise LessonError(
            "The audit flagged this demonstration: tick “publish anyway” to publish it with the audit noted."
        )
    for other in db.scalars(
        select(Lesson).where(Lesson.technique_id == v.lesson.technique_id, Lesson.id != v.lesson.id)
    ):
        other.published_at = None
    v.lesson.published_at = utcnow()
    v.lesson.media_file = v.media.name if v.media is not None else ""
    v.lesson.media_type = v.media_type
    v.lesson.has_poster = v.poster is not None
    v.lesson.published_despite = flags_text(v.flags) if v.flags else ""


def published_for(db: Session, technique_id: str, data_dir: Path) -> LessonView | None:
    """The technique's published lesson, if its files are there."""
    lesson = db.scalar(
        select(Lesson)
        .where(Lesson.technique_id == technique_id, Lesson.published_at.is_not(None))
        .order_by(Lesson.published_at.desc(), Lesson.id.desc())
        .limit(1)
    )
    if lesson is None:
        return None
    v = _published_view(lesson, folder_of(data_dir, lesson))
    return v if v.media is not None and v.media.is_file() else None


def published_ids(db: Session) -> set[str]:
    """Techniques that have a published lesson."""
    return set(db.scalars(select(Lesson.technique_id).where(Lesson.published_at.is_not(None))))


def delete_lesson(db: Session, data_dir: Path, lesson: Lesson) -> None:
    """Remove the lesson's row and its folder (the caller commits)."""
    shutil.rmtree(folder_of(data_dir, lesson), ignore_errors=True)
    db.delete(lesson)
