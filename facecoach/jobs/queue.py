"""Video audits on a real queue: Dramatiq on Redis (``FACECOACH_JOB_QUEUE=redis`` and ``REDIS_URL``).

The web worker only records the ``audit_jobs`` row and sends a message naming the job; ``facecoach
worker`` processes (any number, on any machine that reaches Redis, the database and the uploads) run it
and write status and progress to the row, which every page polls. The in-process
:class:`facecoach.jobs.runner.JobRunner` stays the default for one box.

Nothing is lost when a worker dies: Dramatiq acknowledges a message only after the actor returns, and a
worker that stops heart-beating for ``queue_heartbeat_timeout_ms`` has its unacknowledged messages put
back on the queue by the next live worker. Running a job twice is harmless: a job already ``done`` or
``failed`` is skipped, and the upload is removed only once the job has finished.

Messages carry a work *name* from :data:`WORK`, never a code path, so whoever can write to Redis can at
most start registered work on jobs that exist.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facecoach.config import Settings
from facecoach.jobs.audit_work import run_audit
from facecoach.jobs.runner import (
    AuditWork,
    JobRunner,
    Jobs,
    failure_message,
    progress_writer,
    record_done,
    set_job,
)
from facecoach.members.db import Database
from facecoach.members.models import AuditJob, utcnow
from facecoach.studio.lesson_work import process_lesson

log = logging.getLogger(__name__)

QUEUE_NAME = "audits"
#: Work a message may name → the function that does it (``register_work`` adds more).
WORK: dict[str, AuditWork] = {"audit": run_audit, "lesson": process_lesson}
#: Fraction (per million fetches) of queue polls that look for dead workers' jobs (~every 10 polls).
MAINTENANCE_PER_MILLION = 100_000


class QueueError(RuntimeError):
    """The queue cannot take or run a job (Redis unreachable, unknown work)."""


def register_work(name: str, work: AuditWork) -> None:
    """Make ``work`` runnable by workers under ``name`` (a module given to ``facecoach worker --import``
    registers its work when imported, in the worker and on the web side alike)."""
    WORK[name] = work


def _resolve(name: str) -> AuditWork:
    work = WORK.get(name)
    if work is None:
        raise QueueError(f"unknown work {name!r}")
    return work


def work_name(work: AuditWork) -> str:
    """The registered name of a work function (what the web side sends)."""
    for name, registered in WORK.items():
        if registered is work:
            return name
    raise QueueError(f"{work.__module__}:{work.__qualname__} is not registered work (see WORK)")


def make_broker(settings: Settings) -> Any:
    """A Redis broker in the settings' namespace (one per Redis database and site)."""
    from dramatiq.brokers.redis import RedisBroker

    if not settings.redis_url:
        raise QueueError("the Redis job queue needs REDIS_URL")
    return RedisBroker(
        url=settings.redis_url,
        namespace=settings.queue_namespace,
        heartbeat_timeout=settings.queue_heartbeat_timeout_ms,
        maintenance_chance=MAINTENANCE_PER_MILLION,
    )


def run_job(
    db: Database, job_id: int, video: Path, technique_id: str, work: AuditWork, settings: Settings
) -> str:
    """Run one audit job to its end and record it; returns the job's final status (or ``skipped``).

    A job already finished (a redelivered message) or deleted (the member left) is skipped. The work's
    own errors mark the job ``failed``; they are never raised to the queue (no blind retries of a video
    that cannot be read).
    """
    with db.session() as s:
        job = s.get(AuditJob, job_id)
        if job is None or job.status in ("done", "failed"):
            if job is None:
                video.unlink(missing_ok=True)
            return "skipped"
        job.status, job.progress = "running", 0.0

    if not video.is_file():
        set_job(db, job_id, status="failed", error="the uploaded video is gone", finished_at=utcnow())
        return "failed"
    try:
        result = work(video, technique_id, progress_writer(db, job_id), settings)
    except Exception as exc:  # the job fails, the worker does not
        log.warning("audit job %s failed: %s", job_id, exc)
        set_job(db, job_id, status="failed", error=failure_message(exc), finished_at=utcnow())
        status = "failed"
    else:
        record_done(db, job_id, result)
        status = "done"
    video.unlink(missing_ok=True)
    return status


class AuditQueue:
    """The broker and its one actor; used by the web side (send) and by ``facecoach worker`` (run)."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        import dramatiq

        self.settings = settings
        self.broker = make_broker(settings)
        self._db = db
        self._db_lock = threading.Lock()
        # Longest audit: the longest allowed video, analysed at worst at real time, plus margin (ms).
        time_limit_ms = int((settings.max_video_seconds * 2 + 300) * 1000)
        decorate = dramatiq.actor(
            actor_name="facecoach_audit",
            queue_name=QUEUE_NAME,
            broker=self.broker,
            max_retries=0,
            time_limit=time_limit_ms,
        )
        self.actor = decorate(self._perform)

    def db(self) -> Database:
        with self._db_lock:
            if self._db is None:
                self._db = Database.connect(self.settings.database_url)
            return self._db

    def _perform(self, job_id: int, video: str, technique_id: str, work: str) -> None:
        status = run_job(self.db(), job_id, Path(video), technique_id, _resolve(work), self.settings)
        log.info("audit job %s: %s", job_id, status)

    def send(self, job_id: int, video: Path, technique_id: str, work: str = "audit") -> None:
        if work not in WORK:
            raise QueueError(f"unknown work {work!r}")
        self.actor.send(job_id, str(video), technique_id, work)

    def pending(self) -> int:
        """Messages waiting on the queue (not those a worker holds)."""
        return int(self.broker.client.llen(f"{self.settings.queue_namespace}:{QUEUE_NAME}"))

    def close(self) -> None:
        self.broker.close()


class QueueJobRunner:
    """The web side of the queue with :class:`facecoach.jobs.runner.JobRunner`'s contract (:class:`Jobs`)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._queue = AuditQueue(settings, db)

    def submit(self, job_id: int, video: Path, technique_id: str, work: AuditWork) -> None:
        """Queue the job; if the queue cannot take it, the job is marked failed (the member sees why)
        rather than left "queued" for ever."""
        name = work_name(work)
        try:
            self._queue.send(job_id, video, technique_id, name)
        except Exception as exc:  # Redis down or unreachable: the request still answers
            log.error("cannot queue audit job %s: %s", job_id, exc)
            with self._db.session() as s:
                job = s.get(AuditJob, job_id)
                if job is not None:
                    job.status, job.finished_at = "failed", utcnow()
                    job.error = "the audit queue is not available right now — try again in a few minutes"
            video.unlink(missing_ok=True)

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        """Poll the row until a worker finished the job (tests; pages poll the row themselves)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._db.session() as s:
                job = s.get(AuditJob, job_id)
                if job is None or job.status in ("done", "failed"):
                    return
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"audit job {job_id} still {job.status}")
            time.sleep(0.1)

    def shutdown(self) -> None:
        self._queue.close()


def job_runner(db: Database, settings: Settings) -> Jobs:
    """The runner the settings ask for: the in-process thread by default, the Redis queue when asked."""
    if settings.job_queue == "redis":
        return QueueJobRunner(db, settings)
    if settings.job_queue not in ("", "inprocess"):
        raise QueueError(f"FACECOACH_JOB_QUEUE must be 'inprocess' or 'redis', not {settings.job_queue!r}")
    return JobRunner(db, settings)


def run_worker(
    settings: Settings,
    threads: int = 1,
    stop: threading.Event | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Consume audits until ``stop`` is set (``facecoach worker`` sets it on SIGTERM/SIGINT)."""
    from dramatiq import Worker

    queue = AuditQueue(settings)
    worker = Worker(queue.broker, worker_threads=threads, worker_timeout=500)
    worker.start()
    if ready is not None:
        ready()
    try:
        (stop or threading.Event()).wait()
    finally:
        worker.stop(timeout=10_000)
        queue.close()
