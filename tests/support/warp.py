"""Warped real photos with known movement (see ../shared/TESTING-VISION.md, §2).

A thin-plate-spline field moves chosen control points to chosen targets while anchors (other landmarks
and the image border) stay put. The field is fitted on the *output* positions and evaluated as a
backward map, so ``cv2.remap`` pulls every output pixel from where it came from. Shifts larger than the
gap between neighbouring features fold the picture: keep them modest and look at the result.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import RBFInterpolator

Points = NDArray[np.float64]


def border_anchors(width: int, height: int, per_side: int = 6) -> Points:
    """Fixed points along the image border so the warp fades out before the edges."""
    xs = np.linspace(0, width - 1, per_side)
    ys = np.linspace(0, height - 1, per_side)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, height - 1)], 1)
    left = np.stack([np.zeros_like(ys), ys], 1)
    right = np.stack([np.full_like(ys, width - 1), ys], 1)
    return np.unique(np.concatenate([top, bottom, left, right]), axis=0)


def warp_image(
    image: NDArray[np.uint8],
    moving: Points,
    shift: Points,
    anchors: Points,
    grid_step: int = 4,
) -> NDArray[np.uint8]:
    """Move the points ``moving`` (N, 2; x, y px) by ``shift`` (N, 2 or 2,) keeping ``anchors`` still.

    The field is evaluated on a grid every ``grid_step`` px and interpolated (it is smooth), which keeps
    a 640×480 warp at a few milliseconds.
    """
    height, width = image.shape[:2]
    moving = np.asarray(moving, dtype=np.float64).reshape(-1, 2)
    shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), moving.shape)
    anchors = np.asarray(anchors, dtype=np.float64).reshape(-1, 2)
    dst = np.concatenate([moving + shift, anchors])
    back = np.concatenate([-shift, np.zeros_like(anchors)])  # output position → source offset
    field = RBFInterpolator(dst, back, kernel="thin_plate_spline", smoothing=0.0)
    gx = np.arange(0, width + grid_step, grid_step, dtype=np.float64)
    gy = np.arange(0, height + grid_step, grid_step, dtype=np.float64)
    mesh = np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2)
    offsets = field(mesh).reshape(len(gy), len(gx), 2).astype(np.float32)
    dense = cv2.resize(offsets, (len(gx) * grid_step, len(gy) * grid_step), interpolation=cv2.INTER_LINEAR)
    dense = dense[:height, :width]
    map_x = (np.arange(width, dtype=np.float32)[None, :] + dense[..., 0]).astype(np.float32)
    map_y = (np.arange(height, dtype=np.float32)[:, None] + dense[..., 1]).astype(np.float32)
    warped = cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(warped)
