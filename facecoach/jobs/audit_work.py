"""The background work of a video audit: the coaching engine's :func:`audit_video` over the file; its
result (the ``facecoach audit --json`` contract) is stored as is, with a flat, time-ordered list of
events for the timeline table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from facecoach.config import Settings


def timeline_events(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Calibration, holds and faults as one list ordered by start time (seconds)."""
    events: list[dict[str, Any]] = []
    cal = result.get("calibration") or {}
    if cal:
        events.append(
            {
                "t": cal.get("start_s", 0.0),
                "end": cal.get("end_s"),
                "kind": "calibration",
                "message": "neutral face measured",
            }
        )
    for hold in result.get("holds", []):
        state = "held to the end" if hold.get("completed") else "released early"
        events.append(
            {
                "t": hold["start_s"],
                "end": hold["end_s"],
                "kind": "hold",
                "message": f"hold of {hold['seconds']:.1f} s, {state}",
            }
        )
    for fault in result.get("faults", []):
        side = f" ({fault['side']})" if fault.get("side") and fault["side"] != "both" else ""
        events.append(
            {
                "t": fault["start_s"],
                "end": fault["end_s"],
                "kind": "fault",
                "message": f"{fault['cue']}{side}",
                "fault": fault["kind"],
            }
        )
    return sorted(events, key=lambda e: (float(e["t"]), e["kind"]))


def run_audit(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    """The audit of one upload within the settings' input limits (and their model asset)."""
    from facecoach.coaching.audit import audit_video

    def on_frames(done: int, total: int) -> None:
        progress(done / total if total > 0 else 0.0)

    result = audit_video(
        video, technique_id, limits=settings.input_limits, model=settings.model_path, progress=on_frames
    ).model_dump(mode="json")
    result["events"] = timeline_events(result)
    return result
