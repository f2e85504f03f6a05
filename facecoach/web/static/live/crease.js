// Forehead crease energy, computed in the page so that video never has to leave the device.
// A step-by-step port of facecoach/coaching/wrinkle.py (read its docstring: the steps and constants are
// the same, in the same order, in double precision). tests/live/test_page_scripts.py runs both on the same
// photos and landmarks and checks they agree.

export const GRID_COLS = 64;
export const GRID_ROWS = 24;
export const EYE_OUTER_RIGHT = 33;
export const EYE_OUTER_LEFT = 263;
export const FOREHEAD_TOP = 10;
export const BROW_UPPER = Object.freeze([70, 63, 105, 66, 107, 336, 296, 334, 293, 300]);
export const HALF_WIDTH = 0.42;
export const BROW_GAP = 0.06;
export const TOP_FRACTION = 0.8;
const SUB = [-0.25, 0.25];

// Step 1 (grey) is done per pixel on demand: only the pixels the grid touches are read.
function grey(rgba, w, x, y) {
  const k = (y * w + x) * 4;
  return 0.299 * rgba[k] + 0.587 * rgba[k + 1] + 0.114 * rgba[k + 2];
}

function bilinear(rgba, w, h, x, y) {
  const xs = x - 0.5;
  const ys = y - 0.5;
  const x0f = Math.floor(xs);
  const y0f = Math.floor(ys);
  const fx = xs - x0f;
  const fy = ys - y0f;
  const clampX = (v) => Math.min(Math.max(v, 0), w - 1);
  const clampY = (v) => Math.min(Math.max(v, 0), h - 1);
  const x0 = clampX(x0f);
  const x1 = clampX(x0f + 1);
  const y0 = clampY(y0f);
  const y1 = clampY(y0f + 1);
  const top = (1 - fx) * grey(rgba, w, x0, y0) + fx * grey(rgba, w, x1, y0);
  const bottom = (1 - fx) * grey(rgba, w, x0, y1) + fx * grey(rgba, w, x1, y1);
  return (1 - fy) * top + fy * bottom;
}

/**
 * Steps 2–4: the forehead patch as a Float64Array of GRID_ROWS*GRID_COLS grey values (row-major, row 0
 * at the top). `rgba` is ImageData.data (Uint8ClampedArray, 4 bytes a pixel), `pts` is indexable as
 * pts[3*i], pts[3*i+1] (pixels). Throws when the eye corners are too close to place a patch.
 */
export function foreheadGrid(rgba, w, h, pts) {
  const ax = pts[3 * EYE_OUTER_RIGHT], ay = pts[3 * EYE_OUTER_RIGHT + 1];
  const bx = pts[3 * EYE_OUTER_LEFT], by = pts[3 * EYE_OUTER_LEFT + 1];
  const d = Math.hypot(bx - ax, by - ay);
  if (!Number.isFinite(d) || d < 4.0) throw new Error("eye corners too close to place a forehead patch");
  const ux = (bx - ax) / d, uy = (by - ay) / d;
  const vx = -uy, vy = ux;
  const cx = (ax + bx) / 2, cy = (ay + by) / 2;
  let sBrow = Infinity;
  for (const id of BROW_UPPER) {
    const s = (pts[3 * id] - cx) * vx + (pts[3 * id + 1] - cy) * vy;
    if (s < sBrow) sBrow = s;
  }
  const sTop = (pts[3 * FOREHEAD_TOP] - cx) * vx + (pts[3 * FOREHEAD_TOP + 1] - cy) * vy;
  const bottom = sBrow - BROW_GAP * d;
  const top = bottom + TOP_FRACTION * (sTop - bottom);
  const cellH = (2 * HALF_WIDTH * d) / GRID_COLS;
  const cellV = (bottom - top) / GRID_ROWS;
  const grid = new Float64Array(GRID_ROWS * GRID_COLS);
  for (const dv of SUB) {
    for (const dh of SUB) {
      for (let j = 0; j < GRID_ROWS; j++) {
        const sv = top + ((j + 0.5) / GRID_ROWS) * (bottom - top) + dv * cellV;
        for (let i = 0; i < GRID_COLS; i++) {
          const hh = ((i + 0.5) / GRID_COLS - 0.5) * 2 * HALF_WIDTH * d + dh * cellH;
          const x = cx + hh * ux + sv * vx;
          const y = cy + hh * uy + sv * vy;
          grid[j * GRID_COLS + i] += bilinear(rgba, w, h, x, y);
        }
      }
    }
  }
  for (let k = 0; k < grid.length; k++) grid[k] /= 4.0;
  return grid;
}

/** Step 5 on a resampled patch. */
export function creaseEnergyOfGrid(grid) {
  let sumSq = 0;
  let n = 0;
  for (let j = 1; j < GRID_ROWS - 1; j++) {
    for (let i = 0; i < GRID_COLS; i++) {
      const dd = grid[(j - 1) * GRID_COLS + i] - 2 * grid[j * GRID_COLS + i] + grid[(j + 1) * GRID_COLS + i];
      sumSq += dd * dd;
      n++;
    }
  }
  let mean = 0;
  for (let k = 0; k < grid.length; k++) mean += grid[k];
  mean /= grid.length;
  return (100.0 * Math.sqrt(sumSq / n)) / Math.max(mean, 1.0);
}

/** Horizontal-crease energy of the forehead (dimensionless); null when no patch can be placed. */
export function foreheadCreaseEnergy(rgba, w, h, pts) {
  try {
    return creaseEnergyOfGrid(foreheadGrid(rgba, w, h, pts));
  } catch (e) {
    return null;
  }
}
