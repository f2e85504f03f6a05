"""The still-face gate: is a frame's face region unchanged from an earlier frame, so its landmarks can be
taken from that frame instead of running the Face Landmarker (≈ 7–12 ms) again?

The check costs ≈ 0.1 ms: both frames' face box (from the latest landmarks known, grown by ``margin`` × the
face's width) as a ``grid`` × ``grid`` grey thumbnail (area-averaged), and the largest difference of one
cell. Camera noise averages out over a cell; a brow, a mouth corner, a crease or a hand moving changes the
cells it crosses. The gate only ever says "the same" for pixels that did not change, so its errors are
landmarks a still face would have jittered by (measured: 0.01–0.07 % of the face's width on average).
Pure: no state, the caller keeps the frames and decides how often it may answer yes in a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class GateSettings:
    """``grid``: cells per side of the thumbnail; ``threshold``: the largest cell difference still "the
    same" (grey levels 0–255); ``margin``: the box grown by this × the face's width on each side;
    ``max_reuse``: how many frames in a row may take an earlier frame's landmarks (the caller's rule)."""

    grid: int = 16
    threshold: float = 2.0
    margin: float = 0.1
    max_reuse: int = 1


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive


def face_box(points_px: NDArray[np.float64], size: tuple[int, int], margin: float) -> Box | None:
    """The landmarks' box grown by ``margin`` × its width, within an image of ``size`` (width, height);
    None when it is empty (a face off the frame)."""
    xy = np.asarray(points_px, dtype=np.float64)[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    grow = margin * float(hi[0] - lo[0])
    width, height = size
    x0, y0 = max(0, int(lo[0] - grow)), max(0, int(lo[1] - grow))
    x1, y1 = min(width, int(np.ceil(hi[0] + grow))), min(height, int(np.ceil(hi[1] + grow)))
    return (x0, y0, x1, y1) if x1 - x0 >= 4 and y1 - y0 >= 4 else None


def thumbnail(rgb: NDArray[np.uint8], box: Box, grid: int) -> NDArray[np.float32]:
    """The box of an RGB frame as a ``grid`` × ``grid`` grey picture, each cell the mean of its pixels."""
    x0, y0, x1, y1 = box
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, (grid, grid), interpolation=cv2.INTER_AREA), dtype=np.float32)


def unchanged(
    rgb: NDArray[np.uint8], earlier: NDArray[np.uint8], points_px: NDArray[np.float64], settings: GateSettings
) -> bool:
    """True when the face region (placed by ``points_px``, the latest landmarks known) of ``rgb`` is the
    same as in ``earlier`` within the threshold; False for frames of different sizes or no usable box."""
    if rgb.shape != earlier.shape:
        return False
    height, width = rgb.shape[:2]
    box = face_box(points_px, (width, height), settings.margin)
    if box is None:
        return False
    diff = np.abs(thumbnail(rgb, box, settings.grid) - thumbnail(earlier, box, settings.grid))
    return float(diff.max()) <= settings.threshold
