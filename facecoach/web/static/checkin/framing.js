// The check-in's framing rules in the page: the same figures and the same order as
// facecoach/progress/framing.py (see its docstring for the definitions), on the rules and pose basis the
// server serves at /checkin/framing.json. Pure functions, no DOM: tests run them in Chromium against the
// Python implementation on the same frames (tests/progress/test_framing_parity.py).

// ---- pose: weighted Procrustes rotation (Horn's quaternion method = the SVD solution of geometry.py) ----

function jacobiEigen4(a) {
  // Symmetric 4×4 eigen-decomposition by cyclic Jacobi rotations: returns {values, vectors (columns)}.
  const m = a.map((r) => r.slice());
  const v = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += m[p][q] * m[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < 4; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: [0, 1, 2, 3].map((i) => m[i][i]), vectors: v };
}

export function fitRotation(points, basis) {
  // Rotation R (rows = image axes, columns = face-frame axes) with points ≈ s·R·vertex + t (weighted).
  const ids = basis.ids;
  const wsum = basis.weights.reduce((x, y) => x + y, 0);
  const w = basis.weights.map((x) => x / wsum);
  const sm = [0, 0, 0];
  const dm = [0, 0, 0];
  ids.forEach((id, k) => {
    for (let i = 0; i < 3; i++) {
      sm[i] += w[k] * basis.vertices[k][i];
      dm[i] += w[k] * points[id][i];
    }
  });
  const S = [0, 1, 2].map(() => [0, 0, 0]); // S[i][j] = Σ w a_i b_j
  ids.forEach((id, k) => {
    const a = [0, 1, 2].map((i) => basis.vertices[k][i] - sm[i]);
    const b = [0, 1, 2].map((i) => points[id][i] - dm[i]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) S[i][j] += w[k] * a[i] * b[j];
  });
  const [[xx, xy, xz], [yx, yy, yz], [zx, zy, zz]] = S;
  const N = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const { values, vectors } = jacobiEigen4(N);
  let best = 0;
  for (let i = 1; i < 4; i++) if (values[i] > values[best]) best = i;
  const [q0, qx, qy, qz] = [0, 1, 2, 3].map((i) => vectors[i][best]);
  return [
    [q0 * q0 + qx * qx - qy * qy - qz * qz, 2 * (qx * qy - q0 * qz), 2 * (qx * qz + q0 * qy)],
    [2 * (qy * qx + q0 * qz), q0 * q0 - qx * qx + qy * qy - qz * qz, 2 * (qy * qz - q0 * qx)],
    [2 * (qz * qx - q0 * qy), 2 * (qz * qy + q0 * qx), q0 * q0 - qx * qx - qy * qy + qz * qz],
  ];
}

export function poseFromRotation(r) {
  const deg = 180 / Math.PI;
  return {
    yaw: Math.atan2(r[2][0], r[2][2]) * deg,
    pitch: -Math.asin(Math.max(-1, Math.min(1, r[2][1]))) * deg,
    roll: Math.atan2(-r[0][1], r[1][1]) * deg,
  };
}

function dist2(p, q) {
  return Math.hypot(p[0] - q[0], p[1] - q[1]);
}

export function irisPx(points, r, lm) {
  const shortening = Math.max(Math.hypot(r[0][0], r[1][0]), 0.5);
  const right = dist2(points[lm.right_iris[0]], points[lm.right_iris[1]]);
  const left = dist2(points[lm.left_iris[0]], points[lm.left_iris[1]]);
  return (right / shortening + left / shortening) / 2;
}

// ---- light ------------------------------------------------------------------------------------------------

export function lightStats(pixels, width, height, box, region) {
  // pixels: RGBA bytes of the whole frame (row-major), as ImageData gives them.
  const [x0, y0, x1, y1] = box;
  const [lo, hi] = region;
  const cx0 = Math.max(0, Math.floor(x0 + lo * (x1 - x0)));
  const cx1 = Math.min(width, Math.floor(x0 + hi * (x1 - x0)));
  const cy0 = Math.max(0, Math.floor(y0 + lo * (y1 - y0)));
  const cy1 = Math.min(height, Math.floor(y0 + hi * (y1 - y0)));
  if (cx1 - cx0 < 2 || cy1 - cy0 < 1) return { luma: 0, clipped: 0, evenness: 1 };
  const mid = Math.floor((cx1 - cx0) / 2);
  let sum = 0;
  let left = 0;
  let right = 0;
  let clipped = 0;
  for (let y = cy0; y < cy1; y++) {
    for (let x = cx0; x < cx1; x++) {
      const i = (y * width + x) * 4;
      const l = 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
      sum += l;
      if (l >= 250) clipped++;
      if (x - cx0 < mid) left += l;
      else right += l;
    }
  }
  const rows = cy1 - cy0;
  const n = rows * (cx1 - cx0);
  const lm = left / (rows * mid);
  const rm = right / (rows * (cx1 - cx0 - mid));
  const top = Math.max(lm, rm);
  return { luma: sum / n, clipped: clipped / n, evenness: top > 0 ? Math.min(lm, rm) / top : 1 };
}

// ---- the facts of a frame and the verdict -------------------------------------------------------------------

export function expressionScores(shapes, rules) {
  const out = {};
  for (const [name, rule] of Object.entries(rules.neutral)) {
    out[name] = Math.max(...rule.categories.map((c) => shapes[c] || 0));
  }
  return out;
}

export function frameFacts(frame, doc) {
  // frame: {faces, width, height, points (478×[x,y,z] px) | null, blendshapes {name: score}, pixels}
  const { width, height } = frame;
  const facts = {
    faces: frame.faces, width, height, iris_px: 0, nose: [0.5, 0.5], box: [0, 0, 0, 0],
    pose: [0, 0, 0], luma: 0, clipped: 0, evenness: 1, expressions: {},
  };
  if (frame.faces !== 1) return facts;
  const p = frame.points;
  const lm = doc.landmarks;
  const xs = lm.oval.map((i) => p[i][0]);
  const ys = lm.oval.map((i) => p[i][1]);
  facts.box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const r = fitRotation(p, doc.basis);
  const pose = poseFromRotation(r);
  facts.pose = [pose.yaw, pose.pitch, pose.roll];
  facts.iris_px = irisPx(p, r, lm);
  facts.nose = [p[lm.nose_tip][0] / width, p[lm.nose_tip][1] / height];
  if (frame.pixels) Object.assign(facts, lightStats(frame.pixels, width, height, facts.box, doc.light_region));
  facts.expressions = expressionScores(frame.blendshapes || {}, doc.rules);
  return facts;
}

function fmt0(x) {
  return x.toFixed(0);
}

function say(rules, code, values = {}) {
  const message = rules.messages[code].replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  return { code, message };
}

function distance(f, r, ref) {
  const d = r.distance;
  if (f.iris_px < d.min_iris_px) return say(r, "too_far", { iris_px: fmt0(f.iris_px), min_px: fmt0(d.min_iris_px) });
  if (f.iris_px > d.max_iris_frac * f.width) return say(r, "too_close");
  if (ref) {
    if (f.iris_px > ref * (1 + d.reference_tolerance)) return say(r, "closer_than_before");
    if (f.iris_px < ref * (1 - d.reference_tolerance)) return say(r, "further_than_before");
  }
  return null;
}

function centre(f, r) {
  const c = r.centre;
  const [x0, y0, x1, y1] = f.box;
  const mx = c.margin * f.width;
  const my = c.margin * f.height;
  if (x0 < mx || y0 < my || x1 > f.width - mx || y1 > f.height - my) return say(r, "cut_off");
  if (Math.abs(f.nose[0] - 0.5) > c.max_offset_x || Math.abs(f.nose[1] - 0.5) > c.max_offset_y) {
    return say(r, "off_centre");
  }
  return null;
}

function pose(f, r) {
  const lim = r.pose;
  const checks = [
    [f.pose[0], lim.max_yaw_deg, "turned_left", "turned_right"],
    [f.pose[1], lim.max_pitch_deg, "tipped_up", "tipped_down"],
    [f.pose[2], lim.max_roll_deg, "tilted_left", "tilted_right"],
  ];
  for (const [angle, limit, positive, negative] of checks) {
    if (Math.abs(angle) > limit) return say(r, angle > 0 ? positive : negative, { deg: fmt0(Math.abs(angle)) });
  }
  return null;
}

function light(f, r) {
  const lim = r.light;
  if (f.luma < lim.min_luma) return say(r, "too_dark");
  if (f.luma > lim.max_luma || f.clipped > lim.max_clipped) return say(r, "too_bright");
  if (f.evenness < lim.min_evenness) return say(r, "uneven_light");
  return null;
}

function neutral(f, r) {
  let worst = null;
  let ratio = 0;
  for (const [name, score] of Object.entries(f.expressions)) {
    const max = r.neutral[name].max;
    if (score > max && score / max > ratio) {
      ratio = score / max;
      worst = name;
    }
  }
  return worst === null ? null : say(r, "not_neutral", { expression: worst.replace(/_/g, " ") });
}

export const RULE_OF = {
  too_far: "distance", too_close: "distance", closer_than_before: "distance", further_than_before: "distance",
  off_centre: "centre", cut_off: "centre", turned_left: "pose", turned_right: "pose", tipped_up: "pose",
  tipped_down: "pose", tilted_left: "pose", tilted_right: "pose", too_dark: "light", too_bright: "light",
  uneven_light: "light", not_neutral: "neutral", no_face: "face", several_faces: "face",
};

export function checkFraming(facts, rules, referenceIrisPx = null, checkLight = true) {
  if (facts.faces === 0) return say(rules, "no_face");
  if (facts.faces > 1) return say(rules, "several_faces", { count: facts.faces });
  return (
    distance(facts, rules, referenceIrisPx) ||
    centre(facts, rules) ||
    pose(facts, rules) ||
    (checkLight ? light(facts, rules) : null) ||
    neutral(facts, rules)
  );
}

// ---- the guide: hold, then capture (the same state machine as checkin.Guide) ---------------------------------

export class Guide {
  constructor(rules, referenceIrisPx = null) {
    this.rules = rules;
    this.ref = referenceIrisPx;
    this.okSince = null;
    this.captureStart = null;
    this.nextCapture = 0;
    this.captured = [];
  }

  get done() {
    const r = this.rules;
    return (
      this.captureStart !== null &&
      this.captured.length >= r.min_frames &&
      this.captured[this.captured.length - 1] - this.captureStart >= r.capture_s - 0.5 / r.capture_fps
    );
  }

  step(t, facts) {
    if (this.done) return { t, problem: null, captured: false, done: true };
    const problem = checkFraming(facts, this.rules, this.ref);
    if (problem) {
      this.okSince = null;
      this.captureStart = null;
      this.captured = [];
      return { t, problem, captured: false, done: false };
    }
    if (this.okSince === null) this.okSince = t;
    if (this.captureStart === null && t - this.okSince >= this.rules.hold_s) {
      this.captureStart = t;
      this.nextCapture = t;
    }
    const take = this.captureStart !== null && t >= this.nextCapture - 1e-9;
    if (take) {
      this.captured.push(t);
      this.nextCapture = t + 1 / this.rules.capture_fps;
    }
    return { t, problem: null, captured: take, done: this.done };
  }

  get progress() {
    if (this.captureStart === null || !this.captured.length) return 0;
    const r = this.rules;
    const timed = (this.captured[this.captured.length - 1] - this.captureStart) / r.capture_s;
    return Math.min(1, timed, this.captured.length / r.min_frames);
  }
}
