"""The one place the studio hands work to the audit job runner: a new lesson's processing (web copy,
poster, audit — :func:`facecoach.studio.lesson_work.process_lesson`) runs as an audit job, in the web
worker's thread or on the Redis queue (``facecoach worker`` must then know the work by its name)."""

from __future__ import annotations

from pathlib import Path

from facecoach.studio.lesson_work import process_lesson
from facecoach.web.context import AppContext
from facecoach.web.queue import register_work

register_work("lesson", f"{process_lesson.__module__}:{process_lesson.__qualname__}")


def submit_lesson(ctx: AppContext, job_id: int, video: Path, technique_id: str) -> None:
    ctx.jobs.submit(job_id, video, technique_id, process_lesson)
