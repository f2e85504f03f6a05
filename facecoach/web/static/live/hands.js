// Hands in the live page (issue 13): the Hand Landmarker's result as the hands block of a landmark frame,
// and the hand's path drawn over the massage's stroke paths in the mirrored camera view.
// The result is read exactly as facecoach/vision/hands.py reads it (x·width, y·height, z·width; the raw
// handedness label), so the server sees the same hand either way (tests/live/test_page_scripts.py).

export const N_HAND_POINTS = 21;
export const HAND_SLOTS = 2;
export const FINGERTIPS = Object.freeze([8, 12]); // index and middle fingertips: the pads that stroke
export const PALM = Object.freeze([0, 5, 9, 13, 17]); // wrist and knuckles: a tool held in the hand
// Face landmarks that span the stroke coordinates (as facecoach/coaching/strokes.py): the outline at the
// person's right and left ear, the top of the forehead, the chin.
export const RIGHT_EAR = 234;
export const LEFT_EAR = 454;
export const FOREHEAD_TOP = 10;
export const CHIN = 152;

/** The hands of a HandLandmarker result: [{score, label, points: Float32Array(63) in px}], at most 2. */
export function handsFromResult(result, width, height) {
  const hands = [];
  const lms = (result && result.landmarks) || [];
  for (let i = 0; i < lms.length && hands.length < HAND_SLOTS; i++) {
    const lm = lms[i];
    if (!lm || lm.length < N_HAND_POINTS) continue;
    const cat = result.handedness && result.handedness[i] && result.handedness[i][0];
    const label = cat && cat.categoryName === "Left" ? "Left" : "Right";
    const score = cat ? Math.min(1, Math.max(1e-6, cat.score)) : 0.5;
    const points = new Float32Array(N_HAND_POINTS * 3);
    for (let k = 0; k < N_HAND_POINTS; k++) {
      points[3 * k] = lm[k].x * width;
      points[3 * k + 1] = lm[k].y * height;
      points[3 * k + 2] = lm[k].z * width;
    }
    hands.push({ score, label, points });
  }
  return hands;
}

/** The point that strokes (px): the fingertips' mean, or the palm's centre for a tool ("hand"). */
export function workingPoint(points, kind) {
  const ids = kind === "hand" ? PALM : FINGERTIPS;
  let x = 0;
  let y = 0;
  for (const id of ids) {
    x += points[3 * id];
    y += points[3 * id + 1];
  }
  return [x / ids.length, y / ids.length];
}

/** Stroke coordinates (0…1 right ear → left ear, 0…1 forehead top → chin) to image px on this face. */
export function strokeToPx(facePts, x, y) {
  const rx = facePts[3 * RIGHT_EAR];
  const ry = facePts[3 * RIGHT_EAR + 1];
  const lx = facePts[3 * LEFT_EAR];
  const ly = facePts[3 * LEFT_EAR + 1];
  const tx = facePts[3 * FOREHEAD_TOP];
  const ty = facePts[3 * FOREHEAD_TOP + 1];
  const cx = facePts[3 * CHIN];
  const cy = facePts[3 * CHIN + 1];
  // Across along the ear-to-ear line, down along the forehead-to-chin line (a tilted head tilts both).
  const ox = rx + (tx - (rx + lx) / 2);
  const oy = ry + (ty - (ry + ly) / 2);
  return [ox + x * (lx - rx) + y * (cx - tx), oy + x * (ly - ry) + y * (cy - ty)];
}

/**
 * Over the (already mirrored) camera view: the massage's stroke paths laid on the face, and the trail of
 * the working point (px, newest last). `strokes` are the step's strokes ({path, sides}).
 */
export function drawHandOverlay(g, facePts, strokes, trail, scaleX, scaleY) {
  if (facePts) {
    g.lineWidth = 2;
    g.setLineDash([6, 6]);
    g.strokeStyle = "rgba(255,255,255,0.8)";
    for (const s of strokes || []) {
      const paths = s.sides === "both" ? [s.path, s.path.map(([x, y]) => [1 - x, y])] : [s.path];
      for (const p of paths) {
        g.beginPath();
        p.forEach(([x, y], k) => {
          const [px, py] = strokeToPx(facePts, x, y);
          if (k === 0) g.moveTo(px * scaleX, py * scaleY);
          else g.lineTo(px * scaleX, py * scaleY);
        });
        g.stroke();
      }
    }
    g.setLineDash([]);
  }
  if (trail.length > 1) {
    g.lineWidth = 4;
    g.strokeStyle = "rgba(240,170,60,0.95)";
    g.beginPath();
    trail.forEach(([x, y], k) => {
      if (k === 0) g.moveTo(x * scaleX, y * scaleY);
      else g.lineTo(x * scaleX, y * scaleY);
    });
    g.stroke();
  }
  if (trail.length) {
    const [x, y] = trail[trail.length - 1];
    g.fillStyle = "rgba(240,170,60,1)";
    g.beginPath();
    g.arc(x * scaleX, y * scaleY, 7, 0, 2 * Math.PI);
    g.fill();
  }
}
