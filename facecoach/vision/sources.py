"""Frame sources: image files, video files and a camera, as RGB uint8 numpy arrays.

Input is untrusted: every limit comes from the caller's :class:`facecoach.config.InputLimits` (bytes,
pixels, seconds, the decoded size), the file type is decided by its content (magic bytes), not its
name, and anything unreadable becomes a :class:`SourceError` with a ``code`` and a sentence a person
understands — never a traceback.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from facecoach.config import InputLimits

if TYPE_CHECKING:
    from PIL import Image

# FFmpeg (inside OpenCV) prints decoder complaints about damaged files straight to file descriptor 2;
# a damaged file is reported by us, once, as a refusal or a note. Read when OpenCV's FFmpeg backend
# starts, so it is set at import; an explicit setting in the environment wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

Kind = Literal["image", "video"]
IMAGE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}  # MPO: the JPEG variant many phones write


class SourceError(Exception):
    """A frame source that cannot be used; ``code`` is ``unreadable`` or ``too_large``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sniff_kind(head: bytes) -> Kind | None:
    """``"image"``/``"video"`` from a file's first bytes (≥ 16), or ``None`` for anything else."""
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):  # MP4 / QuickTime
        return "video"
    return None


def file_kind(path: Path) -> Kind:
    """The kind of a file by content; :class:`SourceError` if it is missing, empty or neither."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(32)
    except OSError as exc:
        raise SourceError("unreadable", f"cannot open {Path(path).name}: {exc.strerror or exc}") from None
    if not head:
        raise SourceError("unreadable", f"{Path(path).name} is empty")
    kind = sniff_kind(head)
    if kind is None:
        raise SourceError(
            "unreadable",
            f"{Path(path).name} is not a JPEG, PNG or WebP image nor an MP4, WebM, AVI or MOV video",
        )
    return kind


def _check_file_size(path: Path, limit_bytes: int, size_digits: int) -> None:
    """Refuse a file that cannot be opened or is over the byte limit, before any decoding starts
    (sizes in the message in MB, the file's with ``size_digits`` decimals)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError("unreadable", f"cannot open {path.name}: {exc.strerror or exc}") from None
    if size > limit_bytes:
        raise SourceError(
            "too_large",
            f"{path.name} is {size / 1e6:.{size_digits}f} MB, more than the limit of "
            f"{limit_bytes / 1e6:.0f} MB",
        )


def _check_pixels(width: int, height: int, what: str, limit: int) -> None:
    if width <= 0 or height <= 0:
        raise SourceError("unreadable", f"{what} has no pixels")
    if width * height > limit:
        raise SourceError(
            "too_large", f"{what} is {width}×{height} pixels, more than the limit of {limit:,} pixels"
        )


def _to_rgb8(im: Image.Image) -> NDArray[np.uint8]:
    """Any decoded mode as 8-bit RGB. 16-bit greyscale is scaled down (Pillow's own conversion would
    clip it to white, which reads as "no face")."""
    if im.mode.startswith("I"):
        grey = np.asarray(im, dtype=np.float32)
        grey = grey / 257.0 if grey.max(initial=0) > 255 else grey
        g8 = np.clip(np.round(grey), 0, 255).astype(np.uint8)
        return np.repeat(g8[:, :, None], 3, axis=2)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _reduced(im: Image.Image, side: int) -> Image.Image:
    """The decoded picture shrunk to a longest side of ``side`` px (the same picture if it is not larger).

    Done before any other conversion, so a large picture is copied at full size at most once: palette
    and 1-bit pictures cannot be resampled as they are, and resampling with alpha would first make a
    premultiplied copy, so those are converted to grey or RGB first (alpha is dropped, as before).
    """
    from PIL import Image

    k = side / max(im.size)
    if k >= 1:
        return im
    if im.mode in ("1", "P", "PA", "LA", "RGBA"):  # alpha dropped now, as the RGB conversion would
        im = im.convert("L" if im.mode in ("1", "LA") else "RGB")
    size = (max(1, round(im.width * k)), max(1, round(im.height * k)))
    return im.resize(size, Image.Resampling.BOX, reducing_gap=2.0)


@dataclass(frozen=True)
class Picture:
    """A decoded picture: RGB uint8 (H, W, 3), EXIF orientation applied, and its size relative to the
    file's (``scale`` ≤ 1: below 1 when it was reduced while decoding, so pixel figures can refer to
    the picture as given)."""

    rgb: NDArray[np.uint8]
    scale: float


def decode_image(path: Path, limits: InputLimits) -> Picture:
    """An image file decoded at a bounded size (see :class:`facecoach.config.InputLimits`).

    Size is checked before decoding: file bytes first, then the dimensions declared in the header
    (so a decompression bomb is refused without allocating it). A JPEG is then decoded straight at a
    reduced size (libjpeg's DCT scaling, 1/2 … 1/8, never below ``decode_side_px``); other formats are
    decoded whole and shrunk at once, before any conversion. Truncated files are refused rather than
    padded with grey, since a half-grey face would be measured wrongly. Messages name the file, never
    a directory, and never carry a decoder's own text (it may hold the server's path).
    """
    from PIL import Image, ImageFile, ImageOps

    path = Path(path)
    _check_file_size(path, limits.max_image_bytes, size_digits=1)
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.format not in IMAGE_FORMATS:
                    raise SourceError(
                        "unreadable", f"{path.name} is a {im.format} file, not JPEG, PNG or WebP"
                    )
                jpeg = im.format in ("JPEG", "MPO")
                _check_pixels(im.width, im.height, path.name, limits.max_image_pixels)
                if not jpeg:
                    _check_pixels(im.width, im.height, f"{path.name} (PNG/WebP)", limits.max_png_webp_pixels)
                original = max(im.size)
                side = limits.decode_side_px
                if jpeg and original > side:
                    k = side / original
                    im.draft(None, (math.ceil(im.width * k), math.ceil(im.height * k)))
                im.load()
                upright = ImageOps.exif_transpose(_reduced(im, side))
                rgb = _to_rgb8(upright)
    except SourceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise SourceError("too_large", f"{path.name} declares too many pixels to decode safely") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = "it is truncated or corrupt" if "truncat" in str(exc).lower() else "it cannot be decoded"
        raise SourceError("unreadable", f"{path.name} is not a readable image: {reason}") from None
    return Picture(np.ascontiguousarray(rgb), max(rgb.shape[:2]) / original)


def read_image(path: Path, limits: InputLimits) -> NDArray[np.uint8]:
    """An image file as RGB uint8 (H, W, 3), decoded at a bounded size (see :func:`decode_image`)."""
    return decode_image(path, limits).rgb


@dataclass(frozen=True)
class VideoInfo:
    """What a video declares: frames per second, frame count, duration (s), frame size (px)."""

    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int


class VideoSource:
    """Frames of a video file as ``(timestamp_s, rgb)``, decoded with OpenCV (MP4, WebM, AVI, MOV).

    Use as a context manager. Limits (``limits``): file bytes, frame pixels, and ``max_video_seconds``
    (longer videos are refused, not silently cut, so the person knows what was scanned).
    """

    def __init__(self, path: Path, limits: InputLimits) -> None:
        import cv2

        self.path = Path(path)
        _check_file_size(self.path, limits.max_video_bytes, size_digits=0)
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError("unreadable", f"{self.path.name} is not a readable video")
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        try:
            _check_pixels(width, height, f"{self.path.name}'s frame", limits.max_image_pixels)
        except SourceError:
            self._cap.release()
            raise
        self.info = VideoInfo(fps, max(count, 0), max(count, 0) / fps, width, height)
        limit = limits.max_video_seconds
        if self.info.duration_s > limit:
            self._cap.release()
            raise SourceError(
                "too_large",
                f"{self.path.name} lasts {self.info.duration_s:.0f} s, more than the limit of {limit:.0f} s",
            )
        self._limit_s = limit
        self.frames_read = 0
        self.hit_limit = False

    def frames(self, step: int = 1, rate: float | None = None) -> Iterator[tuple[float, NDArray[np.uint8]]]:
        """Every ``step``-th frame as ``(timestamp_s, rgb)``, or with ``rate`` (frames a second) the first
        frame at or after each multiple of ``1 / rate`` s (within half a frame), so the rate is ``rate``
        for any frame rate (24 fps at 10/s: steps of 2 and 3 frames); every frame when the video's rate
        is lower. Skipped frames are grabbed (decoded), not converted."""
        import cv2

        step = max(1, int(step))
        fps = self.info.fps
        half = 0.5 / fps
        next_s = 0.0
        index = 0
        while True:
            t = index / fps
            take = t + half >= next_s if rate else index % step == 0
            if not take:
                if not self._cap.grab():
                    return
                index += 1
                self.frames_read = index
                continue
            ok, bgr = self._cap.read()
            if not ok or bgr is None:
                return
            if t > self._limit_s:  # a container that did not declare its length
                self.hit_limit = True
                return
            if rate:
                next_s = max(next_s + 1.0 / rate, t + half - 1.0 / rate + 1e-9)
            index += 1
            self.frames_read = index
            yield t, np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    @property
    def ended_early(self) -> bool:
        """Decoding stopped well before the declared frame count (a truncated or damaged file)."""
        return self.info.frame_count > 0 and self.frames_read < 0.95 * self.info.frame_count

    def close(self) -> None:
        self._cap.release()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def camera_frames(index: int, limits: InputLimits) -> Iterator[tuple[float, NDArray[np.uint8]]]:
    """Live frames from camera ``index`` as ``(seconds since start, rgb)``, up to ``max_video_seconds``."""
    import time

    import cv2

    cap = cv2.VideoCapture(index)
    if not cap.isOpened():
        cap.release()
        raise SourceError("unreadable", f"camera {index} could not be opened")
    limit = limits.max_video_seconds
    start = time.monotonic()
    try:
        while (t := time.monotonic() - start) <= limit:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                return
            yield t, np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
