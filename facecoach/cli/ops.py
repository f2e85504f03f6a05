"""Operations: ``facecoach db backup|restore`` (on the ``db`` group) and ``facecoach worker`` (the queue)."""

from __future__ import annotations

import importlib
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from facecoach.cli.app import app, console, err_console, fail, print_json
from facecoach.cli.server import db_app, open_database, safe_url


def _summary_json(db: Any, path: Path, summary: Any, **extra: Any) -> dict[str, Any]:
    """The ``--json`` document of a backup or a restore (``extra`` goes before the table list)."""
    return {
        "database": safe_url(db.url),
        "path": str(path),
        "revision": summary.revision,
        "rows": summary.total_rows,
        **extra,
        "tables": [{"table": t.name, "rows": t.rows, "sha256": t.sha256} for t in summary.tables],
    }


def _unreachable(verb: str, db: Any, exc: Any) -> str:
    """One line for a database that cannot be read or written (the driver's first line, no password)."""
    return f"cannot {verb} the database {safe_url(db.url)}: {str(exc.orig).strip().splitlines()[0]}"


@db_app.command("backup")
def db_backup(
    path: Path = typer.Argument(..., help="File to write (gzip JSON; written whole or not at all)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Save every table of the database (SQLite or PostgreSQL) to one portable file."""
    from sqlalchemy.exc import OperationalError

    from facecoach.members.backup import BackupError, backup

    db = open_database()
    try:
        summary = backup(db, path)
    except BackupError as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(_unreachable("read", db, exc))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    if json_out:
        print_json(_summary_json(db, path, summary))
    else:
        console.print(
            f"saved {summary.total_rows} rows in {len(summary.tables)} tables of {safe_url(db.url)} to {path}"
        )


@db_app.command("restore")
def db_restore(
    path: Path = typer.Argument(..., help="A file written by `facecoach db backup`."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: every row in the database is replaced."),
    keep_sessions: bool = typer.Option(
        False,
        "--keep-sessions",
        help="Also restore login sessions and reset links (default: log everyone out).",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Replace the database's contents with a backup (one transaction), then check every table."""
    from sqlalchemy.exc import OperationalError

    from facecoach.members.backup import BackupError, digests, read_backup, restore

    if not yes:
        fail("restore replaces every row in the database: add --yes to confirm")
    try:
        read_backup(path)
    except BackupError as exc:
        fail(str(exc))
    db = open_database()
    try:
        summary = restore(db, path, keep_sessions=keep_sessions)
    except BackupError as exc:
        fail(str(exc))
    except OperationalError as exc:
        fail(_unreachable("write", db, exc))
    now = digests(db)
    wrong = [t.name for t in summary.tables if now.get(t.name) != (t.rows, t.sha256)]
    if wrong:
        fail(f"restored, but these tables differ from the backup: {', '.join(wrong)}")
    if json_out:
        print_json(_summary_json(db, path, summary, verified=True, sessions_restored=keep_sessions))
    else:
        console.print(
            f"restored {summary.total_rows} rows in {len(summary.tables)} tables into {safe_url(db.url)}"
            " (every table checked against the backup"
            + (")" if keep_sessions else "; login sessions not restored: members log in again)")
        )


@app.command()
def worker(
    threads: int = typer.Option(1, min=1, max=16, help="Audits run at once in this process."),
    imports: list[str] = typer.Option(
        [], "--import", help="Extra module to import first (it may register more work)."
    ),
) -> None:
    """Run video audits from the Redis queue (FACECOACH_JOB_QUEUE=redis, REDIS_URL) until stopped."""
    from facecoach.config import get_settings
    from facecoach.jobs.queue import QueueError, run_worker

    settings = get_settings()
    if not settings.redis_url:
        fail("the worker needs REDIS_URL (the queue lives in Redis)")
    for name in imports:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            fail(f"cannot import {name}: {exc}")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def ready() -> None:
        err_console.print(
            f"facecoach worker: {threads} thread(s) on the audits queue; ready", highlight=False
        )

    try:
        run_worker(settings, threads=threads, stop=stop, ready=ready)
    except QueueError as exc:
        fail(str(exc))
