"""What an audit keeps besides its result, for its report: the uploaded video (in a folder of its own,
so the report can play it) and thumbnails of each fault's worst frame (made by the job, stored in the
``audit_thumbnails`` table). Both exist only with their audit: deleting the audit or the account
removes them.

The folder is ``data_dir/audit-media/<random name>`` (the name in ``audit_jobs.media_dir``): the video
as uploaded is ``video<ext>``, and the job's input is a hard link ``input<ext>`` beside it, which the
job runner removes when the job ends (as it removes every upload). A video browsers cannot play as it
is (MPEG-4 Part 2, AVI, 4:2:2 H.264) is replaced by an H.264 copy ``web.mp4`` made by the job
(:func:`facecoach.studio.media.web_copy`, the lessons' converter).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facecoach.config import InputLimits
from facecoach.members.models import AUDIT_MEDIA

#: A thumbnail's longest side (px) and JPEG quality: enough to see a crease, small enough to export.
THUMB_MAX_PX = 360
THUMB_QUALITY = 80
#: At most this many thumbnails per audit (the worst first when there are more faults).
MAX_THUMBNAILS = 24
_NAME = re.compile(r"^[0-9a-f]{8,64}$")


def media_root(data_dir: Path) -> Path:
    return data_dir / AUDIT_MEDIA


def new_media(data_dir: Path) -> tuple[str, Path]:
    """A new, empty folder for one audit's video: (its name, its path)."""
    name = secrets.token_hex(12)
    folder = media_root(data_dir) / name
    folder.mkdir(parents=True, exist_ok=False)
    return name, folder


def media_folder(data_dir: Path, name: str | None) -> Path | None:
    """The folder of an audit's media, or None when it has none (or the name is not one of ours)."""
    if not name or not _NAME.match(name):
        return None
    return media_root(data_dir) / name


def keep_upload(upload: Path, folder: Path, suffix: str) -> Path:
    """Move the upload into the audit's folder as its kept video; return the job's input (a hard link
    to it, or a copy on a filesystem without links), which the runner deletes when the job ends."""
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".video"
    kept = folder / f"video{suffix}"
    shutil.move(str(upload), kept)
    work = folder / f"input{suffix}"
    try:
        os.link(kept, work)
    except OSError:
        shutil.copyfile(kept, work)
    return work


def kept_video(folder: Path | None) -> Path | None:
    """The video the report plays: the web copy if one was made, else the upload as it is."""
    if folder is None or not folder.is_dir():
        return None
    web = folder / "web.mp4"
    if web.is_file():
        return web
    return next((p for p in sorted(folder.glob("video.*")) if p.is_file()), None)


def video_type(path: Path) -> str | None:
    """The MIME type to serve ``path`` with, or None when browsers cannot play it."""
    from facecoach.studio.media import MediaError, probe, web_type

    try:
        return web_type(probe(path))
    except MediaError:
        return None


def make_playable(work: Path) -> None:
    """After the audit: if browsers cannot play the kept video, replace it by an H.264 copy (a failed
    conversion leaves the upload: the report then says the video cannot play in the browser)."""
    from facecoach.studio.media import MediaError, web_copy

    kept = next((p for p in sorted(work.parent.glob("video.*")) if p.is_file()), None)
    if kept is None or video_type(kept) is not None:
        return
    try:
        web_copy(work, work.parent / "web.mp4")
    except MediaError:
        return
    kept.unlink(missing_ok=True)


def remove_media(data_dir: Path, name: str | None) -> None:
    """Delete an audit's folder (nothing when it has none)."""
    folder = media_folder(data_dir, name)
    if folder is not None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(folder)


# --- the worst frames ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """Where a fault is worst: ``t_s`` in the video, the fault's ``kind``, its ``severity`` (value ÷
    tolerance when the engine measured it, else 0: the middle of the fault is shown)."""

    t_s: float
    kind: str
    severity: float


def fault_moment(segment: dict[str, Any], fault: dict[str, Any]) -> Moment:
    """The worst moment of one fault of a segment: the engine's worst moment of the same kind inside the
    fault (wrinkling faults have them), else the middle of the fault."""
    start, end = float(fault["start_s"]), float(fault["end_s"])
    inside = [
        m
        for m in segment.get("worst_moments") or []
        if m.get("kind") == fault["kind"] and start - 1e-6 <= float(m["t_s"]) <= end + 1e-6
    ]
    if inside:
        worst = max(inside, key=lambda m: float(m.get("severity") or 0.0))
        return Moment(round(float(worst["t_s"]), 2), fault["kind"], float(worst.get("severity") or 0.0))
    return Moment(round((start + end) / 2, 2), fault["kind"], 0.0)


def fault_moments(result: dict[str, Any]) -> list[Moment]:
    """One moment per fault of an any-tutorial result (``segments``) or of a one-technique result
    (``faults``), without repeats, the worst first, at most :data:`MAX_THUMBNAILS`."""
    found: dict[tuple[float, str], Moment] = {}
    segments = result.get("segments")
    if isinstance(segments, list):
        pairs = [(s, f) for s in segments for f in s.get("faults") or []]
    else:
        pairs = [({}, f) for f in result.get("faults") or []]
    for seg, fault in pairs:
        m = fault_moment(seg, fault)
        found.setdefault((m.t_s, m.kind), m)
    ranked = sorted(found.values(), key=lambda m: (-m.severity, m.t_s))
    return ranked[:MAX_THUMBNAILS]


def thumbnails(video: Path, moments: list[Moment], limits: InputLimits) -> list[tuple[Moment, bytes]]:
    """A JPEG of the frame nearest each moment (one pass over the video)."""
    import cv2

    from facecoach.vision.sources import VideoSource

    if not moments:
        return []
    wanted = sorted(moments, key=lambda m: m.t_s)
    out: list[tuple[Moment, bytes]] = []
    i = 0
    with VideoSource(video, limits) as source:
        half = 0.5 / (source.info.fps or 25.0)
        for t, rgb in source.frames(1):
            while i < len(wanted) and t + half >= wanted[i].t_s:
                out.append((wanted[i], _jpeg(cv2, rgb)))
                i += 1
            if i >= len(wanted):
                break
    return out


def _jpeg(cv2: Any, rgb: Any) -> bytes:
    h, w = rgb.shape[:2]
    scale = min(1.0, THUMB_MAX_PX / max(h, w))
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    if scale < 1.0:
        img = cv2.resize(
            img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, THUMB_QUALITY])
    if not ok:
        raise ValueError("cannot encode a thumbnail")
    return bytes(buf)
