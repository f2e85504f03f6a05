"""A scan of a file: a photo or a video, told apart by content (not by the file name)."""

from __future__ import annotations

from pathlib import Path

from facecoach.config import InputLimits
from facecoach.vision.scan import Progress, Scan, ScanRefused, ScanResult
from facecoach.vision.scan_photo import analyse_image
from facecoach.vision.scan_video import analyse_video
from facecoach.vision.sources import SourceError, decode_image, file_kind


def analyse_file(
    path: Path | str,
    limits: InputLimits,
    progress: Progress | None = None,
    *,
    model: Path | None = None,
    require_neutral: bool = True,
) -> Scan:
    """Scan a photo or a video file, told apart by content (not by the file name), within ``limits``."""
    path = Path(path)
    try:
        kind = file_kind(path)
        if kind == "image":
            picture = decode_image(path, limits)
            return analyse_image(
                picture.rgb, picture_scale=picture.scale, model=model, require_neutral=require_neutral
            )
    except SourceError as exc:
        raise ScanRefused(exc.code, exc.message) from None
    return analyse_video(path, limits, progress=progress, model=model, require_neutral=require_neutral)


def scan_file(path: Path | str, limits: InputLimits) -> ScanResult:
    """Scan a photo or video file; raises :class:`ScanRefused` (``unreadable``, ``too_large``, gate codes)."""
    return analyse_file(path, limits).result
