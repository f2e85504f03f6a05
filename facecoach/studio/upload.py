"""What a lesson upload must be before anything is kept: a video by its content (not its name), within
the video input limits (bytes, frame pixels, seconds — :class:`facecoach.vision.sources.VideoSource`),
with frames that decode, and a face in at least one of a few frames spread over it (a demonstration of a
face technique shows the face). Each refusal is one sentence the instructor can act on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facecoach.config import InputLimits
from facecoach.vision.sources import SourceError, VideoSource, file_kind

#: Frames looked at for a face, spread evenly over the video.
FACE_SAMPLES = 6
#: The shortest demonstration worth publishing (seconds).
MIN_SECONDS = 1.0


class UploadRefused(ValueError):
    """The upload is not a usable lesson video; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CheckedVideo:
    duration_s: float
    width: int
    height: int
    fps: float


FaceFinder = Callable[[NDArray[np.uint8]], bool]


def _samples(source: VideoSource) -> list[NDArray[np.uint8]]:
    """Up to FACE_SAMPLES frames spread over the video (every other second when its length is unknown)."""
    count = source.info.frame_count
    step = max(1, count // FACE_SAMPLES) if count > 0 else max(1, round(source.info.fps * 2))
    frames = []
    for _t, rgb in source.frames(step):
        frames.append(rgb)
        if len(frames) >= FACE_SAMPLES:
            break
    return frames


def check_video(path: Path, limits: InputLimits, has_face: FaceFinder) -> CheckedVideo:
    """Check an uploaded file (see the module docstring) or raise :class:`UploadRefused`."""
    try:
        kind = file_kind(path)
    except SourceError:
        raise UploadRefused("That file is not a video: upload an MP4, WebM, MOV or AVI file.") from None
    if kind != "video":
        raise UploadRefused("That is a picture, not a video: upload the demonstration as a video file.")
    try:
        with VideoSource(path, limits) as source:
            info = source.info
            frames = _samples(source)
    except SourceError as exc:
        status = 413 if exc.code == "too_large" else 400
        raise UploadRefused(f"The video was refused: {exc.message}.", status) from None
    if not frames:
        raise UploadRefused("The video's frames cannot be decoded (a damaged or unfinished file).")
    duration = info.duration_s if info.frame_count > 0 else len(frames) * 2.0
    if info.frame_count > 0 and duration < MIN_SECONDS:
        raise UploadRefused(
            f"The video lasts {duration:.1f} s: a demonstration needs at least {MIN_SECONDS:g} s."
        )
    if not any(has_face(rgb) for rgb in frames):
        raise UploadRefused(
            "No face was found in the video: film the demonstration facing the camera, "
            "the whole face in view."
        )
    return CheckedVideo(duration_s=duration, width=info.width, height=info.height, fps=info.fps)


@contextlib.contextmanager
def landmarker_face_finder(model: Path | None) -> Iterator[FaceFinder]:
    """A face finder on the Face Landmarker (image mode), open for the ``with`` block."""
    from facecoach.vision.landmarks import FaceLandmarker

    with FaceLandmarker(mode="image", max_faces=1, model=model) as landmarker:
        yield lambda rgb: bool(landmarker.detect(rgb).faces)
