"""``facecoach reminders``: send the practice reminders and weekly summaries that are due now (each in
the member's own time zone). Run it from cron every few minutes, or keep it running with ``--loop``."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Annotated, Any

import typer

from facecoach.cli.app import app, fail, print_json


def _run(settings: Any) -> dict[str, int]:
    from facecoach.members.db import Database
    from facecoach.members.mail import mailer_for
    from facecoach.studio.reminders import run_once

    mailer = mailer_for(
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_from,
        settings.data_dir,
        starttls=settings.smtp_starttls,
        user=settings.smtp_user,
        password=settings.smtp_password,
    )
    db = Database.connect(settings.database_url)
    try:
        result = run_once(db, mailer, settings.base_url, settings.secret_key, dt.datetime.now(dt.UTC))
    finally:
        db.dispose()
    return {"reminders": result.reminders, "summaries": result.summaries, "failed": result.failed}


@app.command()
def reminders(
    loop: Annotated[
        float, typer.Option(help="Keep running: check again every this many seconds (0: once)", min=0)
    ] = 0.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
) -> None:
    """Send the practice reminders and weekly summaries due now (SMTP, or files without a server)."""
    from facecoach.config import get_settings

    try:
        settings = get_settings()
    except ValueError as exc:
        fail(str(exc))
    stop = threading.Event()
    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    while True:
        try:
            counts = _run(settings)
        except Exception as exc:  # the database is unreachable: said in one line
            fail(f"reminders: {exc}")
        if json_out:
            print_json(counts)
        else:
            typer.echo(
                f"{counts['reminders']} reminders, {counts['summaries']} summaries, {counts['failed']} failed"
            )
        if not loop or stop.wait(loop):
            return
