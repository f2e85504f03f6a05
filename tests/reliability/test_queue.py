"""Video audits on the Dramatiq/Redis queue: a job survives its worker being killed (-9), a redelivered
job is not run twice, failures are recorded, and the in-process runner stays the default."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from facecoach.config import Settings
from facecoach.jobs.queue import AuditQueue, QueueError, QueueJobRunner, job_runner, run_job
from facecoach.jobs.runner import JobRunner
from facecoach.members import auth, migrate
from facecoach.members.db import Database
from facecoach.members.models import AuditJob
from tests.reliability import queue_work
from tests.reliability.support import child_env, kill9, spawn, stop, unique, wait_until


def _setup(tmp_path: Path, redis_url: str) -> tuple[Database, Settings, int, Path]:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    db = Database.connect(url)
    migrate.upgrade(db)
    settings = Settings(
        database_url=url,
        redis_url=redis_url,
        job_queue="redis",
        queue_namespace=unique("fctest-q"),
        queue_heartbeat_timeout_ms=1500,
        data_dir=tmp_path,
    )
    with db.session() as s:
        user = auth.create_user(s, "worker@example.org", "a good long password", plan="member")
        job = AuditJob(user_id=user.id, technique_id="cheek-lift", filename="clip.mp4")
        s.add(job)
        s.flush()
        job_id = job.id
    video = tmp_path / "uploads" / f"audit-{job_id}"
    video.parent.mkdir()
    video.write_bytes(b"not really a video, the test work only counts its bytes")
    return db, settings, job_id, video


def _job(db: Database, job_id: int) -> AuditJob:
    with db.session() as s:
        job = s.get(AuditJob, job_id)
        assert job is not None
        return job


def _worker(settings: Settings, log: Path):  # type: ignore[no-untyped-def]
    env = child_env(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        FACECOACH_JOB_QUEUE="redis",
        FACECOACH_QUEUE_NAMESPACE=settings.queue_namespace,
        FACECOACH_QUEUE_HEARTBEAT_TIMEOUT_MS=str(settings.queue_heartbeat_timeout_ms),
    )
    args = [
        str(Path(sys.executable).parent / "facecoach"),
        "worker",
        "--import",
        "tests.reliability.queue_work",
    ]
    return spawn(args, env, log)


def test_a_job_survives_its_worker_being_killed(tmp_path: Path, redis_url: str) -> None:
    db, settings, job_id, video = _setup(tmp_path, redis_url)
    runner = QueueJobRunner(db, settings)
    runner.submit(job_id, video, "cheek-lift", queue_work.slow)
    assert _job(db, job_id).status == "queued"
    log = tmp_path / "worker.log"
    first = _worker(settings, log)
    try:
        wait_until(
            lambda: _job(db, job_id).status == "running" and _job(db, job_id).progress > 0, 30, "run 1"
        )
        kill9(first)
    finally:
        kill9(first)
    # The dead worker held the message unacknowledged: it is neither done nor lost.
    assert _job(db, job_id).status == "running"
    assert video.is_file()
    started = time.monotonic()
    second = _worker(settings, log)
    try:
        wait_until(
            lambda: _job(db, job_id).status == "done", 40, f"the job to finish: {log.read_text()[-800:]}"
        )
    finally:
        stop(second)
    job = _job(db, job_id)
    assert job.result is not None and job.result["runs"] == 2, job.result
    assert job.result["pids"] == [str(first.pid), str(second.pid)]  # killed in run 1, finished by run 2
    assert job.progress == 1.0 and job.finished_at is not None
    assert not video.exists(), "the upload is removed once the job has finished"
    assert time.monotonic() - started < 40
    runner.shutdown()
    db.dispose()


def test_failures_are_recorded_and_finished_jobs_are_not_rerun(tmp_path: Path, redis_url: str) -> None:
    db, settings, job_id, video = _setup(tmp_path, redis_url)
    status = run_job(db, job_id, video, "cheek-lift", queue_work.broken, settings)
    assert status == "failed"
    job = _job(db, job_id)
    assert job.status == "failed" and job.error == "this video has no face in it"
    # A redelivered message for a finished job changes nothing.
    assert run_job(db, job_id, video, "cheek-lift", queue_work.slow, settings) == "skipped"
    assert _job(db, job_id).error == "this video has no face in it"
    # A job whose member was deleted meanwhile is skipped and its upload removed.
    video.write_bytes(b"x")
    assert (
        run_job(db, 10_000, video, "cheek-lift", queue_work.slow, settings) == "skipped"
        and not video.exists()
    )
    db.dispose()


def test_queue_refuses_unregistered_work_and_in_process_is_the_default(
    tmp_path: Path, redis_url: str
) -> None:
    db, settings, job_id, video = _setup(tmp_path, redis_url)
    assert isinstance(job_runner(db, Settings(database_url=settings.database_url)), JobRunner)
    with pytest.raises(QueueError, match="must be 'inprocess' or 'redis'"):
        job_runner(db, Settings(database_url=settings.database_url, job_queue="celery"))

    def not_registered(v: Path, t: str, p: object) -> dict[str, object]:
        return {}

    runner = job_runner(db, settings)
    assert isinstance(runner, QueueJobRunner)
    with pytest.raises(QueueError, match="not registered work"):
        runner.submit(job_id, video, "cheek-lift", not_registered)  # type: ignore[arg-type]
    queue = AuditQueue(settings, db)
    with pytest.raises(QueueError, match="unknown work"):
        queue.send(job_id, video, "cheek-lift", work="os.system")
    assert queue.pending() == 0
    queue.close()
    runner.shutdown()
    db.dispose()


def test_an_unreachable_queue_fails_the_job_instead_of_losing_it(tmp_path: Path, redis_url: str) -> None:
    db, settings, job_id, video = _setup(tmp_path, redis_url)
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})  # nothing listens on port 1
    runner = QueueJobRunner(db, down)
    runner.submit(job_id, video, "cheek-lift", queue_work.slow)
    job = _job(db, job_id)
    assert job.status == "failed" and "queue is not available" in job.error
    assert not video.exists()
    runner.shutdown()
    db.dispose()


def test_worker_command_needs_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from facecoach.cli import app
    from facecoach.config import get_settings

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("FACECOACH_REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["worker"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and result.stdout == "" and "needs REDIS_URL" in result.output


def test_the_audit_page_sends_uploads_to_the_queue(tmp_path: Path, redis_url: str) -> None:
    """Wiring: with FACECOACH_JOB_QUEUE=redis the web app stores the upload, records the job and puts
    one message on the Redis queue (a queue worker, not the web worker, will run it)."""
    from fastapi.testclient import TestClient

    from facecoach.knowledge import load_library
    from facecoach.web.app import create_app
    from tests.web.fixtures import csrf_of

    db, settings, _job_id, _video = _setup(tmp_path, redis_url)
    exercise = next(t.id for t in load_library().techniques.values() if t.kind == "exercise")
    with TestClient(create_app(settings, database=db)) as client:
        token = csrf_of(client.get("/login").text)
        client.post("/login", data={"email": "worker@example.org", "password": "a good long password",
                                    "csrf_token": token})  # fmt: skip
        token = csrf_of(client.get("/audit").text)
        r = client.post(
            "/audit",
            data={"technique": exercise, "csrf_token": token},
            files={"video": ("clip.mp4", b"\0\0\0\x18ftypmp42" + bytes(5000), "video/mp4")},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:300]
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
    job = _job(db, job_id)
    assert job.status == "queued" and job.technique_id == exercise
    queue = AuditQueue(settings, db)
    assert queue.pending() == 1
    # The upload is kept in the audit's own folder (its report plays it), the job's input linked to it.
    folder = tmp_path / "audit-media" / str(job.media_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["input.mp4", "video.mp4"]
    assert all(p.stat().st_size == 5012 for p in folder.iterdir())
    queue.close()
    db.dispose()


def test_a_real_video_audit_runs_on_a_queue_worker(tmp_path: Path, redis_url: str, shared_data: Path) -> None:
    """End to end: the real audit (the coaching engine over a real face video) runs in a separate
    ``facecoach worker`` process and its timeline lands in the job's row."""
    import cv2

    from facecoach.jobs.audit_work import run_audit

    db, settings, job_id, video = _setup(tmp_path, redis_url)
    source = cv2.VideoCapture(str(shared_data / "woman_expressions_24fps.mp4"))
    fps = source.get(cv2.CAP_PROP_FPS)
    writer = None
    for _ in range(72):  # the first 3 s: a short upload keeps the test quick
        ok, frame = source.read()
        assert ok
        if writer is None:
            size = (frame.shape[1], frame.shape[0])
            writer = cv2.VideoWriter(str(video) + ".avi", cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
        writer.write(frame)
    assert writer is not None
    writer.release()
    source.release()
    Path(str(video) + ".avi").replace(video)
    runner = QueueJobRunner(db, settings)
    runner.submit(job_id, video, "smile-lift", run_audit)
    worker = _worker(settings, tmp_path / "worker.log")
    try:
        runner.wait(job_id, timeout=90)
    finally:
        stop(worker)
    job = _job(db, job_id)
    assert job.status == "done", (job.error, (tmp_path / "worker.log").read_text()[-800:])
    assert job.result is not None and job.result["technique"] == "smile-lift"
    assert job.result["duration_s"] == pytest.approx(3.0, abs=0.2) and isinstance(job.result["events"], list)
    assert not video.exists()
    runner.shutdown()
    db.dispose()
