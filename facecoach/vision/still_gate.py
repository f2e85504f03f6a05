"""The still-face gate: is a frame's face region unchanged from an earlier frame, so its landmarks can be
taken from that frame instead of running the Face Landmarker (≈ 7–12 ms) again?

Each frame is turned into a small grey picture once (:func:`grey_frame`: area-averaged by a whole factor,
so its shorter side stays ≥ ``SMALL_SIDE`` px; ≈ 0.15 ms for 640×360), and every check on it — the face
gate and the hands' probe gate, against the previous frame and the last frame the model ran on — reads
that: both frames' face box (from the latest landmarks known, grown by ``margin`` × the face's width, its
edges on the small picture's pixels) as a ``grid`` × ``grid`` grey thumbnail (area-averaged), and the
largest difference of one cell. Camera noise averages out over a cell; a brow, a mouth corner, a crease or
a hand moving changes the cells it crosses. The gate only ever says "the same" for pixels that did not
change, so its errors are landmarks a still face would have jittered by (measured: 0.01–0.07 % of the
face's width on average). Thumbnails taken from the full frame instead cost ≈ 0.5–0.9 ms a check (a crop,
a grey conversion and a resize of up to the whole frame each time): on real footage, where the face never
keeps still, that was ≈ 1.3 ms of the main thread's time an analysed frame for nothing.
Pure: no state, the caller keeps the grey frames and decides how often it may answer yes in a row.
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
#: The small grey picture's shorter side is at least this (px), so a face of a fifth of the frame's height
#: still spans several small pixels per thumbnail cell.
SMALL_SIDE = 128


@dataclass(frozen=True)
class GreyFrame:
    """A frame as the gates see it: grey, area-averaged by ``scale`` (``small``), and its full ``size``
    (width, height in px)."""

    small: NDArray[np.uint8]
    scale: int
    size: tuple[int, int]


def grey_frame(rgb: NDArray[np.uint8]) -> GreyFrame:
    """The frame's grey picture, shrunk by the largest whole factor that keeps ``SMALL_SIDE``."""
    height, width = rgb.shape[:2]
    scale = max(1, min(height, width) // SMALL_SIDE)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if scale > 1:
        grey = cv2.resize(grey, (width // scale, height // scale), interpolation=cv2.INTER_AREA)
    return GreyFrame(np.asarray(grey, dtype=np.uint8), scale, (width, height))


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


def thumbnail(frame: GreyFrame, box: Box, grid: int) -> NDArray[np.float32]:
    """The box (full-frame px) of a grey frame as a ``grid`` × ``grid`` picture, each cell the mean of
    its pixels."""
    k = frame.scale
    x0, y0, x1, y1 = box[0] // k, box[1] // k, -(-box[2] // k), -(-box[3] // k)
    crop = frame.small[y0:y1, x0:x1]
    return np.asarray(cv2.resize(crop, (grid, grid), interpolation=cv2.INTER_AREA), dtype=np.float32)


def unchanged(
    now: GreyFrame, earlier: GreyFrame, points_px: NDArray[np.float64], settings: GateSettings
) -> bool:
    """True when the face region (placed by ``points_px``, the latest landmarks known) of ``now`` is the
    same as in ``earlier`` within the threshold; False for frames of different sizes or no usable box."""
    if now.size != earlier.size:  # the same size makes the same small picture
        return False
    box = face_box(points_px, now.size, settings.margin)
    if box is None:
        return False
    diff = np.abs(thumbnail(now, box, settings.grid) - thumbnail(earlier, box, settings.grid))
    return float(diff.max()) <= settings.threshold
