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


#: The technique id of an audit of any tutorial (the engine finds the segments and techniques).
ANY_TUTORIAL = ""
#: The result key under which the work hands the thumbnails to the runner (which stores them in their
#: table and never in the result): a list of ``{"t_s", "kind", "jpeg"}``.
THUMBNAILS_KEY = "_thumbnails"


def run_audit(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    """The audit of one upload within the settings' input limits (and their model asset): of one
    exercise, or with ``technique_id`` :data:`ANY_TUTORIAL` of any tutorial (segments, techniques,
    faults, verdict, measure series). The frames of the faults' worst moments come back as thumbnails,
    and a kept video browsers cannot play gets a web copy (:mod:`facecoach.jobs.audit_media`)."""
    from facecoach.coaching.audit import audit_any, audit_video
    from facecoach.jobs import audit_media

    # The analysis is most of the time; thumbnails and a web copy (when needed) take the last 10 %.
    def on_frames(done: int, total: int) -> None:
        progress(0.9 * done / total if total > 0 else 0.0)

    limits, model = settings.input_limits, settings.model_path
    if technique_id == ANY_TUTORIAL:
        result = audit_any(video, limits=limits, model=model, progress=on_frames).model_dump(mode="json")
    else:
        result = audit_video(video, technique_id, limits=limits, model=model, progress=on_frames).model_dump(
            mode="json"
        )
        result["events"] = timeline_events(result)
    shots = audit_media.thumbnails(video, audit_media.fault_moments(result), limits)
    result[THUMBNAILS_KEY] = [{"t_s": m.t_s, "kind": m.kind, "jpeg": jpeg} for m, jpeg in shots]
    progress(0.95)
    audit_media.make_playable(video)  # only when the video is kept with its audit (keep_upload)
    return result
