"""Forehead crease energy: the one measure that needs the picture, because landmarks cannot see wrinkles.

The browser computes the very same number from the video frame in JavaScript, so this module uses only
simple arithmetic that is easy to reproduce exactly (no OpenCV, no filters with library-specific edge
rules). The steps, in order (all coordinates in pixels of the frame, x to the right, y down; a landmark's
pixel position is MediaPipe's normalised coordinate × the frame width/height, the ``points_px`` of
:class:`facecoach.vision.landmarks.FaceObservation`):

1. **Grey**: ``g = 0.299·R + 0.587·G + 0.114·B`` per pixel (float). A 2-D input is taken as grey already.
2. **Face axes**: ``a = p[RIGHT_EYE_OUTER]`` (33), ``b = p[LEFT_EYE_OUTER]`` (263), ``d = |b − a|``
   (the eye-corner span, the unit of length); ``u = (b − a)/d`` (along the eyes, towards the person's
   left), ``v = (−u_y, u_x)`` (down the face). ``c = (a + b)/2``. Using these axes makes the patch follow
   head roll and scale.
3. **Patch rows**: for every id in ``BROW_UPPER`` compute ``s = (p − c)·v`` and take the smallest (the
   highest brow point) ``s_brow``; ``s_top = (p[FOREHEAD] − c)·v`` (landmark 10, the top of the mesh,
   just below the hairline). The patch runs from ``bottom = s_brow − BROW_GAP·d`` up to
   ``top = bottom + TOP_FRACTION·(s_top − bottom)``; columns span ``±HALF_WIDTH·d`` around ``c``.
   The bottom follows the brows, so lifting them never drags the brow edge into the patch.
4. **Resample** to a fixed grid of ``GRID_ROWS × GRID_COLS`` cells (row 0 at the top): cell (j, i) has
   centre ``h = ((i + 0.5)/GRID_COLS − 0.5)·2·HALF_WIDTH·d`` and
   ``s = top + ((j + 0.5)/GRID_ROWS)·(bottom − top)``;
   its value is the mean of the four bilinear samples at ``(h ± ¼ cell width, s ± ¼ cell height)``,
   each at the image point ``c + h·u + s·v``. Bilinear sampling at image point (x, y): ``x' = x − 0.5``,
   ``y' = y − 0.5`` (pixel centres at integer + ½), ``x0 = floor(x')``, ``fx = x' − x0`` (same for y),
   neighbour indices clamped to ``[0, W−1]`` and ``[0, H−1]``,
   ``value = (1−fy)·((1−fx)·g[y0,x0] + fx·g[y0,x1]) + fy·((1−fx)·g[y1,x0] + fx·g[y1,x1])``.
5. **Energy**: the vertical second difference ``D[j,i] = G[j−1,i] − 2·G[j,i] + G[j+1,i]`` for
   ``j = 1 … GRID_ROWS−2`` (a horizontal crease is a thin dark line, i.e. a strong second derivative
   across it; a smooth shading gradient has almost none).
   ``energy = 100 · sqrt(mean(D²)) / max(mean(G), 1)`` — dividing by the mean brightness makes it
   independent of exposure (a brighter frame scales G and D alike).

The number is dimensionless and only meaningful relative to the same person's neutral forehead (the
coaching measure ``forehead_wrinkle`` is the ratio to the calibrated value).

Landmark ids come from :mod:`facecoach.vision.landmark_ids` (the page's ``crease.js`` calls them
``EYE_OUTER_RIGHT``, ``EYE_OUTER_LEFT`` and ``FOREHEAD_TOP``; a test checks its numbers equal these).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from facecoach.vision.landmark_ids import (
    FOREHEAD,
    LEFT_BROW_UPPER,
    LEFT_EYE_OUTER,
    RIGHT_BROW_UPPER,
    RIGHT_EYE_OUTER,
)

GRID_COLS = 64
GRID_ROWS = 24
#: The upper edge of both brows, the person's right tail → inner ends → left tail (static/live/crease.js
#: has the same list; tests/live/test_page_scripts.py checks its constants equal these).
BROW_UPPER: tuple[int, ...] = RIGHT_BROW_UPPER[::-1] + LEFT_BROW_UPPER
HALF_WIDTH = 0.42  # × eye-corner span, each side of the centre
BROW_GAP = 0.06  # × eye-corner span between the highest brow point and the patch bottom
TOP_FRACTION = 0.8  # of the way from the patch bottom to landmark 10

_SUB = np.array([-0.25, 0.25])


def _sampler(image: NDArray[np.generic]) -> NDArray[np.float64]:
    """The image as (H, W, C) floats without converting every pixel: grey is taken per sample (step 1)."""
    if image.ndim == 2:
        return np.asarray(image)[..., None]
    if image.ndim == 3 and image.shape[2] >= 3:
        return np.asarray(image)
    raise ValueError(f"expected a grey (H, W) or RGB (H, W, 3) image, got shape {image.shape}")


def _grey_at(img: NDArray[np.generic], y: NDArray[np.int64], x: NDArray[np.int64]) -> NDArray[np.float64]:
    px = img[y, x].astype(np.float64)
    if img.shape[2] == 1:
        return np.asarray(px[..., 0], dtype=np.float64)
    return np.asarray(0.299 * px[..., 0] + 0.587 * px[..., 1] + 0.114 * px[..., 2], dtype=np.float64)


def _bilinear(g: NDArray[np.generic], x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    h, w = g.shape[:2]
    xs = x - 0.5
    ys = y - 0.5
    x0f = np.floor(xs)
    y0f = np.floor(ys)
    fx = xs - x0f
    fy = ys - y0f
    x0 = np.clip(x0f.astype(np.int64), 0, w - 1)
    x1 = np.clip(x0f.astype(np.int64) + 1, 0, w - 1)
    y0 = np.clip(y0f.astype(np.int64), 0, h - 1)
    y1 = np.clip(y0f.astype(np.int64) + 1, 0, h - 1)
    top = (1 - fx) * _grey_at(g, y0, x0) + fx * _grey_at(g, y0, x1)
    bottom = (1 - fx) * _grey_at(g, y1, x0) + fx * _grey_at(g, y1, x1)
    return np.asarray((1 - fy) * top + fy * bottom, dtype=np.float64)


def forehead_grid(image: NDArray[np.generic], points_px: NDArray[np.float64]) -> NDArray[np.float64]:
    """The forehead patch resampled to ``GRID_ROWS × GRID_COLS`` grey values (steps 1–4)."""
    pts = np.asarray(points_px, dtype=np.float64)[:, :2]
    g = _sampler(image)
    a = pts[RIGHT_EYE_OUTER]
    b = pts[LEFT_EYE_OUTER]
    d = float(np.hypot(*(b - a)))
    if not np.isfinite(d) or d < 4.0:
        raise ValueError("the eye corners are too close together to place a forehead patch")
    u = (b - a) / d
    v = np.array([-u[1], u[0]])
    c = (a + b) / 2
    s_brow = float(np.min((pts[list(BROW_UPPER)] - c) @ v))
    s_top = float((pts[FOREHEAD] - c) @ v)
    bottom = s_brow - BROW_GAP * d
    top = bottom + TOP_FRACTION * (s_top - bottom)
    cell_h = 2 * HALF_WIDTH * d / GRID_COLS
    cell_v = (bottom - top) / GRID_ROWS
    hs = ((np.arange(GRID_COLS) + 0.5) / GRID_COLS - 0.5) * 2 * HALF_WIDTH * d
    ss = top + ((np.arange(GRID_ROWS) + 0.5) / GRID_ROWS) * (bottom - top)
    acc = np.zeros((GRID_ROWS, GRID_COLS))
    for dv in _SUB:
        for dh in _SUB:
            hh = hs[None, :] + dh * cell_h
            sv = ss[:, None] + dv * cell_v
            x = c[0] + hh * u[0] + sv * v[0]
            y = c[1] + hh * u[1] + sv * v[1]
            acc += _bilinear(g, x, y)
    return acc / 4.0


def crease_energy_of_grid(grid: NDArray[np.float64]) -> float:
    """Step 5 on a resampled patch."""
    second = grid[:-2, :] - 2 * grid[1:-1, :] + grid[2:, :]
    return float(100.0 * np.sqrt(np.mean(second**2)) / max(float(np.mean(grid)), 1.0))


def forehead_crease_energy(image: NDArray[np.generic], points_px: NDArray[np.float64]) -> float:
    """Horizontal-crease energy of the forehead (dimensionless, see the module docstring for every step).

    ``image``: grey (H, W) or RGB (H, W, 3), any numeric dtype on a 0–255 scale; ``points_px``: the
    (478, 2|3) landmarks of that very frame in pixels.
    """
    return crease_energy_of_grid(forehead_grid(image, points_px))
