"""The ``facecoach`` command line: a thin layer over the library (web and CLI call the same code)."""

from __future__ import annotations

from facecoach.cli import audit, checkin, guard, library, ops, planning, scan, server  # noqa: F401  (they register commands)
from facecoach.cli import reminders as _reminders  # noqa: F401  (registers `facecoach reminders`)
from facecoach.cli.app import app


def main() -> None:
    app()
