"""Camera or video frames → :class:`facecoach.guard.detector.GuardFrame` (the CLI's, the tests' and the
bench's one way; the page does the same in ``static/guard/app.js``). The picture is dropped here: only the
landmarks and one brightness number go on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.guard.detector import GuardFrame
from facecoach.vision.landmarks import FaceLandmarker

#: the picture is shrunk to this size to read its brightness (area averaging: for 640×480 or 640×360 the
#: mean of every pixel, which is what the page computes)
BRIGHTNESS_SIZE = (32, 24)


def brightness(rgb: NDArray[np.uint8]) -> float:
    """Mean luma (BT.601, 0–255) of a frame, read from a 32 × 24 thumbnail."""
    small = cv2.resize(rgb, BRIGHTNESS_SIZE, interpolation=cv2.INTER_AREA).astype(np.float64)
    return float((0.299 * small[..., 0] + 0.587 * small[..., 1] + 0.114 * small[..., 2]).mean())


def guard_frames(
    frames: Iterable[tuple[float, NDArray[np.uint8]]],
    landmarker: FaceLandmarker,
    start_s: float,
    utc_offset_s: int = 0,
) -> Iterator[tuple[float, GuardFrame]]:
    """(source time s, frame) for each ``(t, rgb)``: every face the landmarker finds (it must be in
    video mode, max_faces ≥ 2 so a second person is seen), stamped ``start_s + t`` (epoch s)."""
    for t, rgb in frames:
        found = landmarker.detect(rgb, t).faces
        yield (
            t,
            GuardFrame(t_s=start_s + t, faces=found, brightness=brightness(rgb), utc_offset_s=utc_offset_s),
        )
