"""Work registered for the queue tests (imported by ``facecoach worker --import``): a job that the
first worker to run it never finishes (it is killed), and a second run completes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facecoach.config import Settings
from facecoach.jobs.queue import register_work


def slow(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    """Logs each run beside the upload; the first run hangs (the test kills its worker)."""
    log = video.with_suffix(".runs")
    with log.open("a") as fh:
        fh.write(f"{os.getpid()}\n")
    runs = log.read_text().split()
    progress(0.25)
    if len(runs) == 1:
        time.sleep(120)
    progress(1.0)
    return {"runs": len(runs), "pids": runs, "technique": technique_id, "bytes": video.stat().st_size}


def broken(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    raise ValueError("this video has no face in it\nsecond line")


register_work("test-slow", slow)
register_work("test-broken", broken)
