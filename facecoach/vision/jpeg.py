"""One JPEG from untrusted bytes, decoded only when it is the picture it was announced as.

Live coaching's server mode receives JPEG frames whose size the frame header already states (and the
protocol already limited). A small file can declare a huge picture (a decompression bomb), so the JPEG's
own size is read from its header first, before anything is decoded, and must be the announced one.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray


class JpegError(ValueError):
    """The bytes are not the announced JPEG; ``too_big``: it declares a picture too big to decode."""

    def __init__(self, reason: str, too_big: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_big = too_big


def _declared(data: bytes) -> tuple[str | None, tuple[int, int]]:
    """The format and (width, height) in pixels the file's own header declares; nothing is decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as probe:
            return probe.format, probe.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise JpegError("the JPEG declares a picture too big to decode", too_big=True) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise JpegError("the JPEG could not be read") from None


def decode_jpeg(data: bytes, size: tuple[int, int]) -> NDArray[np.uint8]:
    """The picture as RGB, (height, width, 3) uint8, if ``data`` is a JPEG of ``size`` (width, height)
    pixels; :class:`JpegError` otherwise."""
    import cv2

    fmt, declared = _declared(data)
    if fmt != "JPEG" or declared != size:
        shown = f"{declared[0]}×{declared[1]}"
        raise JpegError(f"the picture is a {fmt} of {shown}, not the JPEG the header says")
    bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise JpegError("the JPEG could not be decoded")
    h, w = bgr.shape[:2]
    if (w, h) != size:
        raise JpegError(f"the JPEG is {w}×{h}, the header says {size[0]}×{size[1]}")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
