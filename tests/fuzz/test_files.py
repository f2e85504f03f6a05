"""Hostile photo and video files at the frame sources (the layer every upload and CLI path goes through):
each is refused with a :class:`SourceError` naming the reason — never another exception, never a
decode of a bomb."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facecoach.config import InputLimits
from facecoach.vision.sources import SourceError, VideoSource, file_kind, read_image
from tests.fuzz.hostile import jpeg_bytes, jpeg_with_size, png_bomb, write_video

LIMITS = InputLimits()


@pytest.fixture(scope="module")
def face_jpeg(astronaut: np.ndarray) -> bytes:
    return jpeg_bytes(astronaut[::2, ::2].copy())


def _refused(path: Path, code: str | None = None) -> SourceError:
    with pytest.raises(SourceError) as info:
        read_image(path, LIMITS)
    assert info.value.message and "\n" not in info.value.message
    if code is not None:
        assert info.value.code == code, info.value.message
    return info.value


def test_decompression_bombs_are_refused_before_decoding(tmp_path: Path, face_jpeg: bytes) -> None:
    png = tmp_path / "bomb.png"
    png.write_bytes(png_bomb(100_000, 100_000))
    assert png.stat().st_size < 2_000
    assert "pixels" in _refused(png, "too_large").message
    huge_jpeg = tmp_path / "bomb.jpg"
    huge_jpeg.write_bytes(jpeg_with_size(face_jpeg, 60_000, 60_000))
    _refused(huge_jpeg, "too_large")
    # Just over the configured limit is refused too; the limit is an argument.
    side = int(LIMITS.max_image_pixels**0.5) + 1
    edge = tmp_path / "edge.png"
    edge.write_bytes(png_bomb(side, side))
    _refused(edge, "too_large")


def test_files_that_lie_about_their_type(tmp_path: Path, face_jpeg: bytes) -> None:
    cases = {
        "photo.jpg": b"GIF89a" + b"\0" * 100,  # a GIF named .jpg
        "photo.png": b"BM" + b"\0" * 100,  # a BMP named .png
        "notes.jpg": b"just some text pretending to be a photo",
        "script.jpeg": b"#!/bin/sh\nrm -rf /\n",
        "clip.jpg": b"\0\0\0\x18ftypmp42" + b"\0" * 100,  # an MP4 header named .jpg
        "empty.jpg": b"",
        "magic-only.jpg": b"\xff\xd8\xff",
        "png-magic-jpeg-body.png": b"\x89PNG\r\n\x1a\n" + face_jpeg[8:],
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        _refused(path)
    mislabeled = tmp_path / "really-a-jpeg.png"  # the content decides, not the name: this one is fine
    mislabeled.write_bytes(face_jpeg)
    assert file_kind(mislabeled) == "image" and read_image(mislabeled, LIMITS).ndim == 3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_and_corrupted_photos(tmp_path: Path, face_jpeg: bytes, data: st.DataObject) -> None:
    blob = bytearray(face_jpeg)
    cut = data.draw(st.integers(0, len(blob)), label="cut")
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 255)), max_size=12))
    for at, value in flips:
        blob[at] = value
    path = tmp_path / "fuzzed.jpg"
    path.write_bytes(bytes(blob[:cut]))
    try:
        rgb = read_image(path, LIMITS)
    except SourceError as exc:
        assert exc.code in ("unreadable", "too_large") and exc.message
    else:  # a corruption JPEG tolerates: a real picture, not garbage sizes
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3


def test_videos_too_long_too_fast_or_broken(tmp_path: Path) -> None:
    # The length limit is an argument (the app's FACECOACH_MAX_VIDEO_SECONDS); a longer video is
    # refused, not cut.
    long_clip = write_video(tmp_path / "long.avi", 6, fps=1)
    with pytest.raises(SourceError) as info:
        VideoSource(long_clip, InputLimits(max_video_seconds=4))
    assert (
        info.value.code == "too_large" and "lasts 6 s" in info.value.message and "4 s" in info.value.message
    )
    # 240 fps is a real camera mode: accepted, timestamps follow the declared rate.
    fast = write_video(tmp_path / "fast.avi", 24, fps=240)
    with VideoSource(fast, LIMITS) as video:
        stamps = [t for t, _ in video.frames()]
    assert len(stamps) == 24 and stamps[1] == pytest.approx(1 / 240)
    # Truncated in the middle, and garbage after a video header.
    whole = write_video(tmp_path / "whole.avi", 30, fps=30).read_bytes()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(whole[: len(whole) // 3])
    try:
        with VideoSource(broken, LIMITS) as video:
            assert len(list(video.frames())) < 30
    except SourceError as exc:
        assert exc.code == "unreadable"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\0\0\0\x18ftypisom" + bytes(range(256)) * 40)
    with pytest.raises(SourceError):
        VideoSource(garbage, LIMITS)
    huge_frame = write_video(tmp_path / "huge.avi", 1, fps=30, size=(8000, 6000))
    with pytest.raises(SourceError) as info:
        VideoSource(huge_frame, LIMITS)
    assert info.value.code == "too_large"
