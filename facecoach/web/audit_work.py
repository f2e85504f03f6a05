"""The background work of a video audit: the coaching engine's audit over the file, its timeline
returned as JSON-able data for the ``audit_jobs`` row."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run_audit(video: Path, technique_id: str, progress: Callable[[float], None]) -> dict[str, Any]:
    audit = importlib.import_module("facecoach.coaching.audit")
    result: dict[str, Any] = audit.audit_for_web(video, technique_id, progress)
    return result
