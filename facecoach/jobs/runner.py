"""Video audits as background jobs in this process: one worker thread (the landmarker is CPU-bound),
progress written to the ``audit_jobs`` row so any page or worker can poll it. The default for one box;
:mod:`facecoach.jobs.queue` runs the same jobs on Redis (``FACECOACH_JOB_QUEUE=redis``) behind the same
:class:`Jobs` contract.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from facecoach.config import Settings
from facecoach.errors import without_paths
from facecoach.members.db import Database
from facecoach.members.models import AuditJob, AuditThumbnail, utcnow

log = logging.getLogger(__name__)

#: ``work(video_path, technique_id, progress, settings)`` → the timeline as a JSON-able dict;
#: ``progress(f)`` takes 0…1; ``settings`` are the running app's or worker's (input limits, model path).
AuditWork = Callable[[Path, str, Callable[[float], None], Settings], dict[str, Any]]


class Jobs(Protocol):
    """What the web app needs of a job runner (in-process or the queue's web side)."""

    def submit(self, job_id: int, video: Path, technique_id: str, work: AuditWork) -> None:
        """Run ``work`` on the uploaded ``video`` for the ``audit_jobs`` row ``job_id`` (which it updates)."""

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        """Block until the job has finished (tests; pages poll the row)."""

    def shutdown(self) -> None: ...


def set_job(db: Database, job_id: int, **values: Any) -> None:
    """Write fields of one audit job row in their own transaction (a job deleted meanwhile: nothing)."""
    with db.session() as s:
        job = s.get(AuditJob, job_id)
        if job is not None:
            for key, value in values.items():
                setattr(job, key, value)


def record_done(db: Database, job_id: int, result: dict[str, Any]) -> None:
    """Mark a job done with its result, and store the thumbnails the work made (handed over under
    :data:`facecoach.jobs.audit_work.THUMBNAILS_KEY`, never kept in the result) in the same
    transaction; a job deleted meanwhile gets nothing."""
    from facecoach.jobs.audit_work import THUMBNAILS_KEY

    shots = result.pop(THUMBNAILS_KEY, None) or []
    with db.session() as s:
        job = s.get(AuditJob, job_id)
        if job is None:
            return
        job.status, job.progress, job.result, job.finished_at = "done", 1.0, result, utcnow()
        for shot in shots:
            s.add(
                AuditThumbnail(
                    user_id=job.user_id, job_id=job.id, t_s=shot["t_s"], kind=shot["kind"], jpeg=shot["jpeg"]
                )
            )


def progress_writer(db: Database, job_id: int) -> Callable[[float], None]:
    """The ``progress(fraction)`` a job's work calls: clamped to 0…1, written at most every 0.3 s
    (and always at 1.0) so a fast audit does not turn into a stream of database writes."""
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.3 or fraction >= 1.0:  # seconds between progress writes
            last[0] = now
            set_job(db, job_id, progress=max(0.0, min(1.0, float(fraction))))

    return progress


def failure_message(exc: Exception) -> str:
    """A failed job's ``error``: the exception's first line (at most 500 characters), else its class;
    the member sees it, so any server path in it is cut to its file name."""
    text = str(exc).strip()
    return without_paths(text.splitlines()[0] if text else exc.__class__.__name__)[:500]


class JobRunner:
    def __init__(self, db: Database, settings: Settings, workers: int = 1) -> None:
        self._db = db
        self._settings = settings
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="facecoach-audit")
        self._lock = threading.Lock()
        self._futures: dict[int, Future[None]] = {}

    def submit(self, job_id: int, video: Path, technique_id: str, work: AuditWork) -> None:
        future = self._pool.submit(self._run, job_id, video, technique_id, work)
        with self._lock:
            self._futures[job_id] = future

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def _run(self, job_id: int, video: Path, technique_id: str, work: AuditWork) -> None:
        try:
            set_job(self._db, job_id, status="running", progress=0.0)
            result = work(video, technique_id, progress_writer(self._db, job_id), self._settings)
            record_done(self._db, job_id, result)
        except Exception as exc:  # the job fails, the server does not
            log.warning("audit job %s failed: %s", job_id, exc)
            set_job(self._db, job_id, status="failed", error=failure_message(exc), finished_at=utcnow())
        finally:
            video.unlink(missing_ok=True)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
