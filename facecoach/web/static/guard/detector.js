// The habit detector, in the page: the same steps as facecoach/guard/detector.py (read its docstring), on
// the same rules (habits.yaml, served as JSON by /guard/rules.json together with the coaching measures'
// geometry and the canonical face's Procrustes basis), in double precision. Nothing here sends anything:
// frames in, states, nudges and hourly counts out. tests/guard/test_js_agreement.py feeds this file and the
// Python detector the same landmark frames and checks every value, state and nudge agree.

const MAD_TO_SD = 1.4826;
const IRIS_DIAMETER_MM = 11.7;
const CANONICAL_MM_PER_UNIT = 10.0;
export const WATCHING = "watching";

// ---- small linear algebra (3×3, row-major arrays of rows) ----------------------------------------------

function cross(a, b) {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function det3(m) {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

// Eigenvalues and eigenvectors (columns of v) of a symmetric 3×3 matrix by cyclic Jacobi rotations.
function symmetricEigen(s) {
  const a = s.map((r) => r.slice());
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[0][1]) + Math.abs(a[0][2]) + Math.abs(a[1][2]);
    if (off < 1e-300 || off <= 1e-17 * (Math.abs(a[0][0]) + Math.abs(a[1][1]) + Math.abs(a[2][2]))) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      if (a[p][q] === 0) continue;
      const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const sn = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k][p];
        const akq = a[k][q];
        a[k][p] = c * akp - sn * akq;
        a[k][q] = sn * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p][k];
        const aqk = a[q][k];
        a[p][k] = c * apk - sn * aqk;
        a[q][k] = sn * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k][p];
        const vkq = v[k][q];
        v[k][p] = c * vkp - sn * vkq;
        v[k][q] = sn * vkp + c * vkq;
      }
    }
  }
  return { values: [a[0][0], a[1][1], a[2][2]], vectors: v };
}

// ---- vision.geometry.fit_pose, pose_from_rotation, iris scale -----------------------------------------

/** Weighted similarity Procrustes fit of the canonical basis to the points: {rotation, scale}. */
export function fitPose(model, pts) {
  const { ids, weights, vertices } = model.basis;
  let wsum = 0;
  for (const w of weights) wsum += w;
  const w = weights.map((x) => x / wsum);
  const srcMean = [0, 0, 0];
  const dstMean = [0, 0, 0];
  for (let n = 0; n < ids.length; n++) {
    for (let k = 0; k < 3; k++) {
      srcMean[k] += w[n] * vertices[n][k];
      dstMean[k] += w[n] * pts[3 * ids[n] + k];
    }
  }
  const cov = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  let varSrc = 0;
  for (let n = 0; n < ids.length; n++) {
    const a = [0, 1, 2].map((k) => vertices[n][k] - srcMean[k]);
    const b = [0, 1, 2].map((k) => pts[3 * ids[n] + k] - dstMean[k]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) cov[i][j] += w[n] * b[i] * a[j];
    varSrc += w[n] * (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
  }
  // cov = U S Vᵀ from the eigen-decomposition of covᵀcov; the proper rotation closest to it is
  // u1v1ᵀ + u2v2ᵀ + (u1×u2)(v1×v2)ᵀ, whatever signs the eigenvectors came with.
  const ctc = [0, 1, 2].map((i) => [0, 1, 2].map((j) => cov[0][i] * cov[0][j] + cov[1][i] * cov[1][j] + cov[2][i] * cov[2][j]));
  const eig = symmetricEigen(ctc);
  const order = [0, 1, 2].sort((p, q) => eig.values[q] - eig.values[p]);
  const s = order.map((k) => Math.sqrt(Math.max(eig.values[k], 0)));
  const vcols = order.map((k) => [eig.vectors[0][k], eig.vectors[1][k], eig.vectors[2][k]]);
  const ucols = [0, 1].map((c) => {
    const v = vcols[c];
    return [0, 1, 2].map((i) => (cov[i][0] * v[0] + cov[i][1] * v[1] + cov[i][2] * v[2]) / s[c]);
  });
  ucols.push(cross(ucols[0], ucols[1]));
  const v3 = cross(vcols[0], vcols[1]);
  const vs = [vcols[0], vcols[1], v3];
  const rotation = [0, 1, 2].map((i) => [0, 1, 2].map((j) => ucols[0][i] * vs[0][j] + ucols[1][i] * vs[1][j] + ucols[2][i] * vs[2][j]));
  const d = Math.sign(det3(cov)) || 1;
  const scale = (s[0] + s[1] + d * s[2]) / varSrc;
  return { rotation, scale };
}

const deg = (r) => (r * 180) / Math.PI;

export function poseFromRotation(r) {
  return {
    yaw: deg(Math.atan2(r[2][0], r[2][2])),
    pitch: -deg(Math.asin(Math.min(Math.max(r[2][1], -1), 1))),
    roll: deg(Math.atan2(-r[0][1], r[1][1])),
  };
}

function mmPerUnit(model, pts, fit) {
  const r = fit.rotation;
  const shortening = Math.max(Math.hypot(r[0][0], r[1][0]), 0.5);
  const d = model.iris_horizontal.map(([a, b]) => Math.hypot(pts[3 * a] - pts[3 * b], pts[3 * a + 1] - pts[3 * b + 1]) / shortening);
  const hi = Math.max(d[0], d[1]);
  const lo = Math.min(d[0], d[1]);
  if (!Number.isFinite(d[0]) || !Number.isFinite(d[1]) || hi <= 0) return NaN;
  const diameter = lo < 0.75 * hi ? hi : (d[0] + d[1]) / 2;
  return (IRIS_DIAMETER_MM / diameter) * fit.scale;
}

// ---- coaching.measures.raw_measures (the geometry keys the habits use) and calibration ---------------

/** Raw values (canonical units, degrees) of one face: {key: value}, plus its fit. */
export function rawMeasures(model, pts) {
  const fit = fitPose(model, pts);
  const o = [0, 0, 0];
  for (const id of model.eye_corners) for (let k = 0; k < 3; k++) o[k] += pts[3 * id + k] / model.eye_corners.length;
  const r = fit.rotation;
  const out = {};
  for (const m of Object.values(model.measures)) {
    if (m.key in out) continue;
    let sum = 0;
    for (const [id, axis, weight] of m.terms) {
      let c = 0;
      for (let k = 0; k < 3; k++) c += (pts[3 * id + k] - o[k]) * r[k][axis];
      sum += weight * c;
    }
    out[m.key] = sum / fit.scale;
  }
  const pose = poseFromRotation(r);
  out["pose:yaw"] = pose.yaw;
  out["pose:pitch"] = pose.pitch;
  out["pose:roll"] = pose.roll;
  return { raw: out, fit };
}

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

function robustSd(values) {
  const v = values.filter(Number.isFinite);
  if (v.length < 2) return 0;
  const m = median(v);
  return MAD_TO_SD * median(v.map((x) => Math.abs(x - m)));
}

/** coaching.calibration.calibrate on frames (flat 478·3 point arrays): {neutral, noise, mm_per_unit, size_factor}. */
export function calibrate(model, frames) {
  if (!frames.length) throw new Error("no usable frames to calibrate on");
  const rows = frames.map((pts) => rawMeasures(model, pts));
  const neutral = {};
  for (const key of Object.keys(rows[0].raw)) neutral[key] = median(rows.map((r) => r.raw[key]));
  const scales = frames.map((pts, i) => mmPerUnit(model, pts, rows[i].fit)).filter((s) => Number.isFinite(s) && s > 0);
  const scale = median(scales);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error("could not derive a scale from the irises");
  const noise = {};
  for (const [name, m] of Object.entries(model.measures)) noise[name] = robustSd(rows.map((r) => r.raw[m.key])) * scale;
  const sd = (k) => robustSd(rows.map((r) => r.raw[k]));
  noise.head_motion = Math.sqrt(sd("pose:yaw") ** 2 + sd("pose:pitch") ** 2 + sd("pose:roll") ** 2);
  const sizeFactor = Math.min(Math.max(scale / CANONICAL_MM_PER_UNIT, 0.7), 1.3);
  return { neutral, noise, mm_per_unit: scale, size_factor: sizeFactor, frames: frames.length };
}

function angleBetween(a, b) {
  const d = a.map((p, i) => ((((p - b[i] + 180) % 360) + 360) % 360) - 180);
  return Math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2);
}

/** coaching.measures.measures_from_raw for the measures the habits use, and head_motion. */
export function measure(model, calibration, pts) {
  const { raw } = rawMeasures(model, pts);
  const n = calibration.neutral;
  const out = {};
  for (const [name, m] of Object.entries(model.measures)) out[name] = m.sign * (raw[m.key] - n[m.key]) * calibration.mm_per_unit;
  out.head_motion = angleBetween(
    [raw["pose:yaw"], raw["pose:pitch"], raw["pose:roll"]],
    [n["pose:yaw"], n["pose:pitch"], n["pose:roll"]],
  );
  return out;
}

// ---- guard.policy -------------------------------------------------------------------------------------

export function inQuietHours(settings, hour) {
  const a = settings.quiet_start_h;
  const b = settings.quiet_end_h;
  if (a === null || a === undefined || b === null || b === undefined || a === b) return false;
  return a < b ? a <= hour && hour < b : hour >= a || hour < b;
}

export function isPaused(settings, t) {
  return settings.paused_until_s !== null && settings.paused_until_s !== undefined && t < settings.paused_until_s;
}

export function refusal(settings, rules, habitId, t, hour, lastAny, lastHabit) {
  if (!settings.enabled) return "off";
  if (isPaused(settings, t)) return "paused";
  if (inQuietHours(settings, hour)) return "quiet_hours";
  const interval = settings.interval_min * 60;
  if (lastAny !== undefined && lastAny !== null && t - lastAny < interval) return "interval";
  if (lastHabit !== undefined && lastHabit !== null && t - lastHabit < interval * rules.nudges.same_habit_factor) return "same_habit";
  return null;
}

// ---- guard.detector -------------------------------------------------------------------------------------

export function localDayHour(t, offset) {
  const local = t + offset;
  const days = Math.floor(local / 86400);
  const hour = Math.min(Math.floor((local - days * 86400) / 3600), 23);
  return [new Date(days * 86400000).toISOString().slice(0, 10), hour];
}

export function thresholds(habit, calibration) {
  const noises = habit.measures.map((m) => {
    const n = calibration.noise[m];
    return Number.isFinite(n) ? n : 0;
  });
  const noise = habit.combine === "one_sided" ? Math.max(...noises) : noises.reduce((a, b) => a + b, 0) / noises.length;
  const on = Math.max(habit.on_mm * calibration.size_factor, habit.noise_multiple * noise);
  return [on, (on * habit.off_mm) / habit.on_mm];
}

export function habitValue(habit, m, sizeFactor) {
  const values = habit.measures.map((name) => m[name]);
  if (habit.combine === "single") return [values[0], null];
  if (habit.combine === "mean") return [(values[0] + values[1]) / 2, null];
  const [left, right] = values;
  const [hi, lo, side] = left >= right ? [left, right, "left"] : [right, left, "right"];
  if (!(Number.isFinite(hi) && Number.isFinite(lo))) return [NaN, null];
  const otherMax = (habit.other_side_max_mm || 0) * sizeFactor;
  return [lo <= otherMax ? hi : 0, side];
}

function smiling(habit, m, sizeFactor) {
  if (habit.unless_smiling_mm === null || habit.unless_smiling_mm === undefined) return false;
  const lift = habit.unless_smiling_mm * sizeFactor;
  return m.mouth_corners_up_left >= lift && m.mouth_corners_up_right >= lift;
}

export class HabitDetector {
  /** `model` from /guard/rules.json, `calibration` from calibrate(), `settings` the member's, `history`
   * {habit: epoch s of its last nudge, "*": of any}. */
  constructor(model, calibration, settings, history) {
    this.model = model;
    this.rules = model.rules;
    this.calibration = calibration;
    this.settings = settings;
    this.lastNudge = { ...(history || {}) };
    this.episodes = new Map();
    this.limits = {};
    for (const h of this.rules.habits) this.limits[h.id] = thresholds(h, calibration);
    this.habitIds = this.rules.habits.map((h) => h.id);
    this.prevT = null;
    this.prevWatching = false;
    this.counts = new Map();
  }

  history() {
    return { ...this.lastNudge };
  }

  state(frame) {
    const p = this.rules.presence;
    if (frame.brightness !== null && frame.brightness !== undefined && frame.brightness < p.min_brightness) return ["dark", null];
    if (!frame.faces.length) return ["no_face", null];
    if (frame.faces.length > 1) return ["two_faces", null];
    const m = measure(this.model, this.calibration, frame.faces[0]);
    if (!(m.head_motion <= p.max_head_motion_deg)) return ["turned_away", null];
    return [WATCHING, m];
  }

  bucket(frame) {
    const [day, hour] = localDayHour(frame.t_s, frame.utc_offset_s || 0);
    const key = `${day}|${hour}`;
    if (!this.counts.has(key)) this.counts.set(key, { day, hour, measured_s: 0, habit_s: {}, nudges: {} });
    return this.counts.get(key);
  }

  push(frame) {
    const t = frame.t_s;
    const gap = this.prevT === null ? null : t - this.prevT;
    if (gap !== null && gap > this.rules.presence.max_gap_s) {
      this.episodes.clear();
      this.prevWatching = false;
    }
    const [state, m] = this.state(frame);
    if (m === null) {
      this.episodes.clear();
      this.prevT = t;
      this.prevWatching = false;
      return { t_s: t, state, values: {}, active: [], sustained: [], nudge: null, held_back: null };
    }
    const dt = gap !== null && this.prevWatching ? gap : 0;
    const bucket = this.bucket(frame);
    bucket.measured_s += dt;
    const values = this.updateEpisodes(m, t, dt, bucket);
    const [nudge, heldBack] = this.maybeNudge(frame, bucket);
    this.prevT = t;
    this.prevWatching = true;
    return {
      t_s: t,
      state: WATCHING,
      values,
      active: this.habitIds.filter((h) => this.episodes.has(h)),
      sustained: this.habitIds.filter((h) => this.episodes.has(h) && this.episodes.get(h).sustained),
      nudge,
      held_back: heldBack,
    };
  }

  updateEpisodes(m, t, dt, bucket) {
    const size = this.calibration.size_factor;
    const values = {};
    for (const habit of this.rules.habits) {
      const [value, side] = habitValue(habit, m, size);
      values[habit.id] = value;
      const [on, off] = this.limits[habit.id];
      let episode = this.episodes.get(habit.id);
      const level = episode !== undefined ? off : on;
      if (!(value >= level) || smiling(habit, m, size)) {
        this.episodes.delete(habit.id);
        continue;
      }
      if (episode === undefined) {
        episode = { start_s: t, side, sustained: false, nudged: false };
        this.episodes.set(habit.id, episode);
      }
      if (episode.sustained) bucket.habit_s[habit.id] = (bucket.habit_s[habit.id] || 0) + dt;
      else if (t - episode.start_s >= habit.hold_s) {
        episode.sustained = true;
        bucket.habit_s[habit.id] = (bucket.habit_s[habit.id] || 0) + (t - episode.start_s);
      }
    }
    return values;
  }

  maybeNudge(frame, bucket) {
    const due = [...this.episodes.entries()]
      .filter(([, e]) => e.sustained && !e.nudged)
      .map(([h, e]) => [e.start_s, h])
      .sort((p, q) => p[0] - q[0] || this.habitIds.indexOf(p[1]) - this.habitIds.indexOf(q[1]));
    let heldBack = null;
    for (const [, habitId] of due) {
      const why = refusal(this.settings, this.rules, habitId, frame.t_s, bucket.hour, this.lastNudge["*"], this.lastNudge[habitId]);
      if (why !== null) {
        heldBack = heldBack || why;
        continue;
      }
      const episode = this.episodes.get(habitId);
      episode.nudged = true;
      this.lastNudge["*"] = this.lastNudge[habitId] = frame.t_s;
      bucket.nudges[habitId] = (bucket.nudges[habitId] || 0) + 1;
      const habit = this.rules.habits.find((h) => h.id === habitId);
      return [{ habit: habitId, t_s: frame.t_s, held_s: frame.t_s - episode.start_s, side: episode.side, cue: habit.cue }, null];
    }
    return [null, heldBack];
  }
}
