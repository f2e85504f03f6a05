"""Decoding a JPEG from untrusted bytes (live coaching's server mode): only the announced picture."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecoach.vision.jpeg import JpegError, decode_jpeg


def _jpeg(rgb: np.ndarray, ext: str = ".jpg") -> bytes:
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def test_a_jpeg_of_the_announced_size_decodes_to_rgb(astronaut: np.ndarray) -> None:
    face = np.ascontiguousarray(astronaut[:240, :320])
    rgb = decode_jpeg(_jpeg(face), (320, 240))
    assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
    # RGB order, not OpenCV's BGR (swapped channels would differ by far more than JPEG's losses).
    assert np.abs(rgb.astype(int) - face.astype(int)).mean() < 6


def test_other_pictures_and_bombs_are_refused(astronaut: np.ndarray) -> None:
    face = np.ascontiguousarray(astronaut[:240, :320])
    with pytest.raises(JpegError, match="320×240, not the JPEG") as wrong:
        decode_jpeg(_jpeg(face), (640, 480))
    assert not wrong.value.too_big
    with pytest.raises(JpegError, match="PNG") as png:
        decode_jpeg(_jpeg(face, ".png"), (320, 240))
    assert not png.value.too_big
    with pytest.raises(JpegError, match="could not be read"):
        decode_jpeg(b"\xff\xd8 not really", (320, 240))
    data = bytearray(_jpeg(face))
    sof = data.index(b"\xff\xc0")  # the frame header: declare 65500×65500
    data[sof + 5 : sof + 9] = (65500).to_bytes(2, "big") * 2
    with pytest.raises(JpegError, match="too big") as bomb:
        decode_jpeg(bytes(data), (320, 240))
    assert bomb.value.too_big
