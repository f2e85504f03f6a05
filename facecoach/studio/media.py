"""Lesson videos for the web: what a file holds, whether browsers play it as it is, a poster frame, and
an H.264/AAC MP4 copy when they do not.

Browsers play H.264 in MP4 and VP8/VP9/AV1 in WebM (checked in Debian's Chromium, which plays both; an
MPEG-4 Part 2 file written by OpenCV's ``mp4v`` does not play anywhere). A file that plays is served
as uploaded, sound and all; anything else gets a copy encoded with PyAV (its wheel bundles FFmpeg with
x264): H.264 ``veryfast``/CRF 23 in yuv420p, at most :data:`MAX_WEB_WIDTH` px wide, AAC 128 kbit/s
stereo, the index at the front (``+faststart``) so playback starts before the whole file arrived.
Measured here: a 20 s 640×360 clip takes about 4 s to copy (bench/bench_lessons.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

MAX_WEB_WIDTH = 1280
WEB_VIDEO = {"mp4": {"h264"}, "webm": {"vp8", "vp9", "av1"}}
WEB_AUDIO = {"mp4": {"aac", "mp3"}, "webm": {"opus", "vorbis"}}
MIME = {"mp4": "video/mp4", "webm": "video/webm"}
POSTER_MAX_WIDTH = 1280


class MediaError(ValueError):
    """The file cannot be read or written as a video (the message is one sentence)."""


@dataclass(frozen=True)
class Probe:
    """The container family (``mp4``, ``webm``, ``quicktime``, ``other``) and the stream codecs."""

    container: str
    video_codec: str | None
    audio_codec: str | None
    pix_fmt: str | None


def _container(path: Path) -> str:
    """``mp4``/``quicktime`` from the ISO-BMFF major brand, ``webm``/``other`` from the EBML doctype."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if head[4:8] == b"ftyp":
        return "quicktime" if head[8:12] == b"qt  " else "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head else "other"
    return "other"


def probe(path: Path) -> Probe:
    import av

    try:
        with av.open(str(path)) as box:
            video = box.streams.video[0] if box.streams.video else None
            audio = box.streams.audio[0] if box.streams.audio else None
            return Probe(
                container=_container(path),
                video_codec=video.codec_context.name if video is not None else None,
                audio_codec=audio.codec_context.name if audio is not None else None,
                pix_fmt=video.codec_context.pix_fmt if video is not None else None,
            )
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"{path.name} cannot be read as a video ({exc.__class__.__name__})") from None


def web_type(p: Probe) -> str | None:
    """The MIME type to serve the file with as it is, or None when browsers cannot play it."""
    if p.container not in WEB_VIDEO or p.video_codec not in WEB_VIDEO[p.container]:
        return None
    if p.audio_codec is not None and p.audio_codec not in WEB_AUDIO[p.container]:
        return None
    if p.video_codec == "h264" and p.pix_fmt not in ("yuv420p", "yuvj420p"):
        return None  # 4:2:2 / 10-bit H.264 (some cameras) plays in few browsers
    return MIME[p.container]


def _even_size(width: int, height: int) -> tuple[int, int]:
    """The output size: at most MAX_WEB_WIDTH wide, aspect kept, both even (yuv420p needs it)."""
    if width > MAX_WEB_WIDTH:
        height = round(height * MAX_WEB_WIDTH / width)
        width = MAX_WEB_WIDTH
    return max(2, width - width % 2), max(2, height - height % 2)


def web_copy(src: Path, dst: Path, progress: Callable[[float], None] | None = None) -> None:
    """Write an H.264/AAC MP4 of ``src`` to ``dst`` (removed again if anything fails)."""
    import av

    try:
        _encode(src, dst, progress)
    except (av.FFmpegError, OSError, ValueError) as exc:
        dst.unlink(missing_ok=True)
        why = exc.__class__.__name__
        raise MediaError(f"{src.name} could not be converted for the web ({why})") from None


def _encode(src: Path, dst: Path, progress: Callable[[float], None] | None) -> None:
    import av

    with av.open(str(src)) as box, av.open(str(dst), "w", options={"movflags": "+faststart"}) as out:
        vin = box.streams.video[0]
        ain = box.streams.audio[0] if box.streams.audio else None
        rate = vin.average_rate or Fraction(30)
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height = _even_size(vin.codec_context.width, vin.codec_context.height)
        vout.pix_fmt = "yuv420p"
        vout.options = {"preset": "veryfast", "crf": "23"}
        aout = resampler = None
        if ain is not None:
            aout = out.add_stream("aac", rate=48000)
            aout.bit_rate = 128_000
            aout.layout = "stereo"
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        total = float(vin.duration * vin.time_base) if vin.duration and vin.time_base else 0.0
        streams = [s for s in (vin, ain) if s is not None]
        for packet in box.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    image = frame.reformat(width=vout.width, height=vout.height, format="yuv420p")
                    image.pts, image.time_base = frame.pts, frame.time_base
                    out.mux(vout.encode(image))
                    if progress is not None and total > 0 and frame.time is not None:
                        progress(min(1.0, frame.time / total))
                elif isinstance(frame, av.AudioFrame) and aout is not None and resampler is not None:
                    for chunk in resampler.resample(frame):
                        out.mux(aout.encode(chunk))
        out.mux(vout.encode(None))
        if aout is not None:
            out.mux(aout.encode(None))


def poster(src: Path, dst: Path, at_s: float) -> None:
    """A JPEG of the frame at ``at_s`` seconds (the first frame if the video is shorter), at most
    POSTER_MAX_WIDTH px wide, written with OpenCV."""
    import cv2

    cap = cv2.VideoCapture(str(src))
    try:
        cap.set(cv2.CAP_PROP_POS_MSEC, max(0.0, at_s) * 1000.0)
        ok, bgr = cap.read()
        if not ok or bgr is None:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, bgr = cap.read()
    finally:
        cap.release()
    if not ok or bgr is None:
        raise MediaError(f"{src.name}: no frame to make a poster from")
    height, width = bgr.shape[:2]
    if width > POSTER_MAX_WIDTH:
        bgr = cv2.resize(bgr, (POSTER_MAX_WIDTH, round(height * POSTER_MAX_WIDTH / width)))
    if not cv2.imwrite(str(dst), bgr, [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise MediaError("the poster frame could not be written")
