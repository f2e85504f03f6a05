"""The background work of a new lesson, run by the audit job runner (the ``AuditWork`` signature): the
web copy when browsers cannot play the upload, the poster frame, and the coaching engine's audit of the
demonstration. ``video`` is a link to the upload inside the lesson's own folder (the runner removes the
link when the work ends; the upload stays), so everything the work writes goes beside it.

The result (stored in the job's row) says which file members get and what the audit found. Every form
fault the audit finds is a *flag*: wrinkling (forehead creases, a frown, a scrunched face, a squint) is
the one the method cares most about, and the instructor sees each flag before she publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from facecoach.config import Settings
from facecoach.studio.media import poster, probe, web_copy, web_type

WEB_COPY = "web.mp4"
POSTER = "poster.jpg"
#: Fault kinds that are the face wrinkling (facecoach.knowledge.models.FaceKind).
WRINKLING = ("forehead_wrinkle", "frown", "scrunch", "squint")


def flags_of(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit's faults as flags: kind, when (s), the cue, and whether it is wrinkling."""
    return [
        {
            "kind": f["kind"],
            "start_s": f["start_s"],
            "end_s": f["end_s"],
            "cue": f["cue"],
            "wrinkling": f["kind"] in WRINKLING,
        }
        for f in audit.get("faults", [])
    ]


def _audit(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    from facecoach.coaching.audit import AuditError, audit_video

    def on_frames(done: int, total: int) -> None:
        progress(0.5 + 0.5 * (done / total if total > 0 else 0.0))

    try:
        result = audit_video(
            video, technique_id, limits=settings.input_limits, model=settings.model_path, progress=on_frames
        )
    except AuditError as exc:  # a massage, a technique the engine has no spec for, no usable face
        return {"audited": False, "reason": str(exc), "flags": []}
    data = result.model_dump(mode="json")
    return {"audited": True, "result": data, "flags": flags_of(data)}


def process_lesson(
    video: Path, technique_id: str, progress: Callable[[float], None], settings: Settings
) -> dict[str, Any]:
    """Web copy (0–45 %), poster (50 %), audit (50–100 %); returns what the lesson page shows."""
    folder = video.parent
    mime = web_type(probe(video))
    media = {"file": None, "type": mime, "transcoded": False}
    if mime is None:
        web_copy(video, folder / WEB_COPY, lambda f: progress(0.45 * f))
        media = {"file": WEB_COPY, "type": "video/mp4", "transcoded": True}
    progress(0.45)
    poster(video, folder / POSTER, at_s=1.0)
    progress(0.5)
    audit = _audit(video, technique_id, progress, settings)
    return {"media": media, "poster": POSTER, "audit": audit}
