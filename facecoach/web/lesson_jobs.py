"""The one place the studio hands work to the audit job runner: a new lesson's processing (web copy,
poster, audit — :func:`facecoach.studio.lesson_work.process_lesson`) runs as an audit job, in the web
worker's thread or on the Redis queue (``facecoach worker`` knows it as ``lesson`` in
facecoach.jobs.queue.WORK)."""

from __future__ import annotations

from pathlib import Path

from facecoach.studio.lesson_work import process_lesson
from facecoach.web.context import AppContext


def submit_lesson(ctx: AppContext, job_id: int, video: Path, technique_id: str) -> None:
    ctx.jobs.submit(job_id, video, technique_id, process_lesson)
