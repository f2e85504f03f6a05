// Habit guard page: the camera, the in-page Face Landmarker (CPU, as the live page loads it), the detector
// (./detector.js, on the rules from /guard/rules.json) at 1 frame/s or less, the gentle nudges and the
// member's controls. Nothing of the face leaves the page: the only requests it makes are the settings the
// member changes and, when they opted in, hourly counts (see docs/guard.md). Plain ES module, no build step.
import { HabitDetector, calibrate, isPaused, inQuietHours } from "./detector.js";

const cfg = JSON.parse(document.getElementById("guard-config").textContent);
const $ = (id) => document.getElementById(id);
const root = $("guard");
const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
const CAL_KEY = `facecoach.guard.calibration.${cfg.member}`;
const HISTORY_KEY = `facecoach.guard.history.${cfg.member}`;
const UPLOAD_EVERY_MS = 5 * 60 * 1000;
const NUDGE_SHOWN_MS = 60 * 1000;
const MAX_BUCKETS = 48;

const STATUS = {
  loading: "Loading the face model in your browser…",
  ready: "Ready. The camera starts when you press Start.",
  starting: "Starting the camera…",
  calibrating: "Relax your face and look at the screen: measuring your neutral face…",
  watching: "Watching quietly. Work as usual.",
  no_face: "No one at the desk: nothing is measured.",
  two_faces: "Two faces in view: the guard waits until it is only you.",
  dark: "Too dark to see your face: nothing is measured. More light, and it carries on.",
  turned_away: "You are looking away: nothing is measured.",
  paused: "Paused.",
  off: "The guard is off. The camera is not in use.",
  denied: "The camera was not allowed. Allow it for this site (the camera icon in the address bar), then press Start.",
  no_camera: "No camera was found. Plug one in, then press Start.",
  camera_lost: "The camera stopped (a closed lid, or another app took it). Press Start to go on.",
  model_failed: "The face model could not run in this browser, so the guard cannot watch here.",
};

const state = {
  model: null,
  landmarker: null,
  stream: null,
  detector: null,
  calibration: null,
  calFrames: [],
  phase: "loading",
  timer: null,
  resumeTimer: null,
  lastTs: 0,
  lowBattery: false,
  settings: { ...cfg.settings },
  lastUpload: 0,
  clientId: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(""),
  small: null,
  reader: null,
  pixels: null,
  busy: false,
  nudgeTimer: null,
  frames: 0,
  frameTimes: [],
  tickAt: 0, // Date.now() when the running tick started
  landmarked: 0, // frames the landmarker ran on (a dark frame is not landmarked)
};

function setPhase(phase, detail) {
  state.phase = phase;
  root.dataset.state = phase;
  setStatus(detail || STATUS[phase] || phase);
  const running = phase === "calibrating" || phase === "watching";
  $("guard-start").hidden = running || phase === "loading" || phase === "paused";
  $("guard-start").textContent = phase === "off" ? "Turn the guard on" : "Start the guard";
  $("guard-calibrate").hidden = phase !== "watching";
  $("guard-pause").hidden = !running;
  $("guard-resume").hidden = phase !== "paused";
  $("guard-off").hidden = phase === "off" || phase === "loading" || phase === "model_failed";
}

// The page writes the DOM only when what it shows changes: the same text or attribute written again still
// makes Chromium recompute style and lay out and paint the page, once a second for hours.
function setStatus(text) {
  const el = $("guard-status");
  if (el.textContent !== text) el.textContent = text;
}

function setData(el, key, value) {
  if (el.dataset[key] !== value) el.dataset[key] = value;
}

function showError(text) {
  const el = $("guard-error");
  el.textContent = text;
  el.hidden = !text;
}

// ---- requests: settings and (opt-in) counts, nothing else -------------------------------------------

async function postJson(url, body, keepalive = false) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
    keepalive,
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || `HTTP ${r.status}`);
  return data;
}

async function changeSettings(change) {
  try {
    state.settings = await postJson(cfg.settings_url, change);
    if (state.detector) state.detector.settings = state.settings;
    showError("");
  } catch (e) {
    showError(`Could not save the setting: ${e.message}`);
  }
  fillSettings();
}

function countsPayload() {
  const hours = [...state.detector.counts.values()].slice(-MAX_BUCKETS).map((b) => ({
    day: b.day,
    hour: b.hour,
    measured_s: Math.round(b.measured_s * 1000) / 1000,
    habit_s: Object.fromEntries(Object.entries(b.habit_s).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    nudges: { ...b.nudges },
  }));
  return { client_id: state.clientId, hours };
}

async function uploadCounts(keepalive = false) {
  if (!state.settings.save_counts || !state.detector || !state.detector.counts.size) return;
  state.lastUpload = Date.now();
  try {
    await postJson(cfg.counts_url, countsPayload(), keepalive);
    $("guard-saved-note").textContent = `Counts saved at ${new Date().toLocaleTimeString()}.`;
    root.dataset.uploads = String(Number(root.dataset.uploads || 0) + 1);
  } catch (e) {
    $("guard-saved-note").textContent = `Counts not saved: ${e.message}`;
  }
  while (state.detector.counts.size > MAX_BUCKETS) state.detector.counts.delete(state.detector.counts.keys().next().value);
}

// ---- the model, the camera -----------------------------------------------------------------------------

async function loadModel() {
  const r = await fetch(cfg.rules_url, { credentials: "same-origin" });
  state.model = await r.json();
  const vision = await import(cfg.vision_module);
  const fileset = await vision.FilesetResolver.forVisionTasks(cfg.wasm_url);
  // Two faces allowed, so a second person is seen. With one face in view this runs the face detector on
  // every frame (the landmarker looks for the second face), so every frame's landmarks come from a fresh
  // detection, as in image mode and on the Python side. One face in video mode would be ~4 ms a frame
  // cheaper, but then the landmarks of one frame place the next, and measured on the tests' warped frown
  // (tests/guard/clips.py) that path reads 0.0–0.1 mm where fresh detections read 0.9–1.1 mm: the frown
  // is lost (docs/guard.md, Cost). A separate face detector (to count faces) costs as much as the one
  // inside. Blendshapes and matrices are not computed: the detector uses neither.
  state.landmarker = await vision.FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: cfg.model_url, delegate: "CPU" },
    runningMode: "VIDEO",
    numFaces: 2,
    outputFaceBlendshapes: false,
    outputFacialTransformationMatrixes: false,
  });
}

async function startCamera() {
  const video = $("guard-cam");
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      // 5 frames/s are plenty for one read a second (the newest frame is at most 0.2 s old), and every
      // frame the camera delivers costs the browser something even when nobody reads it
      video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 5, max: 10 }, facingMode: "user" },
      audio: false,
    });
  } catch (e) {
    const name = e && e.name;
    setPhase(name === "NotAllowedError" || name === "SecurityError" ? "denied" : "no_camera");
    return false;
  }
  const track = state.stream.getVideoTracks()[0];
  if (track) track.addEventListener("ended", () => {
    if (state.phase === "watching" || state.phase === "calibrating") {
      stopCamera();
      setPhase("camera_lost");
    }
  });
  state.reader = frameReader(track);
  await showPreview();
  return true;
}

// The <video> gets the camera only when it is read (no track reader in this browser) or shown (the member
// ticked "show the camera"): a playing <video> costs the renderer ~0.3 % of a core for nothing.
async function showPreview() {
  const video = $("guard-cam");
  const want = state.stream && (!state.reader || $("guard-show-cam").checked) ? state.stream : null;
  if (video.srcObject === want) return;
  video.srcObject = want;
  if (want) await video.play().catch(() => {});
}

// Frames are read from the camera track itself where the browser can (MediaStreamTrackProcessor,
// WebCodecs VideoFrame): one frame copied as RGBA into one reused buffer, then closed. Drawing the <video>
// into a canvas (or handing it to the landmarker, which does the same) makes Chromium keep a converted copy
// of every frame in its discardable image cache: ~0.9 MB a frame at 640×360, up to its 512 MiB cap, in the
// page's renderer (measured in bench/bench_guard.py). Elsewhere the <video> is read as before.
function frameReader(track) {
  if (!track || typeof MediaStreamTrackProcessor !== "function" || typeof VideoFrame !== "function") return null;
  try {
    return new MediaStreamTrackProcessor({ track, maxBufferSize: 1 }).readable.getReader();
  } catch (e) {
    return null;
  }
}

function stopCamera() {
  clearTimeout(state.timer);
  if (state.reader) state.reader.cancel().catch(() => {});
  state.reader = null;
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  state.stream = null;
  $("guard-cam").srcObject = null;
}

// The sampling rate: the lowest that applies (a hidden tab on a low battery backs off the most).
function fps() {
  const s = state.model.rules.sampling;
  let rate = s.fps;
  if (document.visibilityState === "hidden") rate = Math.min(rate, s.hidden_fps);
  if (state.lowBattery) rate = Math.min(rate, s.low_battery_fps);
  return rate;
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(tick, 1000 / fps());
}

// Mean luma (BT.601) of every pixel: the mean of the Python side's 32 × 24 area-averaged thumbnail
// (frames.brightness) whenever the size divides evenly, as 640×480 and 640×360 do.
function meanLuma(rgba) {
  let sum = 0;
  for (let k = 0; k < rgba.length; k += 4) sum += 0.299 * rgba[k] + 0.587 * rgba[k + 1] + 0.114 * rgba[k + 2];
  return sum / (rgba.length / 4);
}

// The newest camera frame as RGBA pixels (ImageData over one reused buffer), or null when the camera
// gave none (the track ended).
async function readFrame() {
  const { value: frame, done } = await state.reader.read();
  if (done || !frame) return null;
  try {
    const w = frame.displayWidth;
    const h = frame.displayHeight;
    const rgba = { format: "RGBA", colorSpace: "srgb" };
    if (frame.allocationSize(rgba) !== w * h * 4) throw new Error("this browser cannot copy a frame as RGBA");
    if (!state.pixels || state.pixels.width !== w || state.pixels.height !== h) state.pixels = new ImageData(w, h);
    await frame.copyTo(state.pixels.data, rgba);
    return state.pixels;
  } finally {
    frame.close();
  }
}

function brightness(video) {
  if (!state.small) {
    state.small = document.createElement("canvas");
    state.small.width = 32;
    state.small.height = 24;
  }
  const g = state.small.getContext("2d", { willReadFrequently: true });
  g.drawImage(video, 0, 0, 32, 24);
  const d = g.getImageData(0, 0, 32, 24).data;
  let sum = 0;
  for (let k = 0; k < d.length; k += 4) sum += 0.299 * d[k] + 0.587 * d[k + 1] + 0.114 * d[k + 2];
  return sum / (d.length / 4);
}

// The faces the landmarker finds (pixels), on an image `w` × `h`.
function landmarks(image, w, h) {
  const ts = Math.max(performance.now(), state.lastTs + 1);
  state.lastTs = ts;
  state.landmarked++;
  const result = state.landmarker.detectForVideo(image, ts);
  return (result.faceLandmarks || []).filter((f) => f.length >= 478).map((f) => facePoints(f, w, h));
}

function facePoints(face, w, h) {
  const pts = new Float64Array(face.length * 3);
  for (let i = 0; i < face.length; i++) {
    pts[3 * i] = face[i].x * w; // pixels as on the Python side: x·width, y·height, z·width
    pts[3 * i + 1] = face[i].y * h;
    pts[3 * i + 2] = face[i].z * w;
  }
  return pts;
}

async function tick() {
  if (state.phase !== "calibrating" && state.phase !== "watching") return;
  state.tickAt = Date.now(); // when this sample was due: the rate is the timer's, not the model's latency
  schedule();
  if (state.busy) return; // the previous frame is still being read (a camera that stalls): no pile-up
  state.busy = true;
  try {
    await measureFrame();
  } catch (e) {
    console.warn("guard: a frame could not be read", e);
  } finally {
    state.busy = false;
  }
}

async function measureFrame() {
  const video = $("guard-cam");
  const track = state.stream && state.stream.getVideoTracks()[0];
  if (!track || track.muted) return;
  let image = video;
  let w = video.videoWidth;
  let h = video.videoHeight;
  let luma;
  if (state.reader) {
    try {
      image = await readFrame();
    } catch (e) {
      console.warn("guard: reading the camera track failed, reading the video instead", e);
      state.reader.cancel().catch(() => {});
      state.reader = null;
      return;
    }
    if (!image || (state.phase !== "calibrating" && state.phase !== "watching")) return;
    w = image.width;
    h = image.height;
    luma = meanLuma(image.data);
  } else if (video.readyState < 2 || !w) return;
  else luma = brightness(video);
  // too dark to measure (the detector says "dark" whatever the faces): the model does not run
  const faces = luma >= state.model.rules.presence.min_brightness ? landmarks(image, w, h) : [];
  state.frames++;
  state.frameTimes.push(state.tickAt);
  if (state.frameTimes.length > 32) state.frameTimes.shift();
  const frame = { t_s: Date.now() / 1000, faces, brightness: luma, utc_offset_s: -new Date().getTimezoneOffset() * 60 };
  if (state.phase === "calibrating") calibrationStep(frame);
  else watchStep(frame);
}

// ---- calibration ---------------------------------------------------------------------------------------

function storedCalibration() {
  try {
    const c = JSON.parse(localStorage.getItem(CAL_KEY) || "null");
    const keys = Object.values(state.model.measures).map((m) => m.key);
    if (c && c.neutral && keys.every((k) => Number.isFinite(c.neutral[k])) && c.mm_per_unit > 0) return c;
  } catch (e) {
    /* a damaged entry: calibrate again */
  }
  return null;
}

function calibrationStep(frame) {
  const need = state.model.rules.calibration.frames;
  const p = state.model.rules.presence;
  if (frame.brightness < p.min_brightness) return setStatus(STATUS.dark);
  if (frame.faces.length !== 1) return setStatus(frame.faces.length ? STATUS.two_faces : "Sit in front of the camera so your face is in view…");
  state.calFrames.push(frame.faces[0]);
  setStatus(`${STATUS.calibrating} ${state.calFrames.length} / ${need}`);
  if (state.calFrames.length < need) return;
  try {
    state.calibration = calibrate(state.model, state.calFrames);
  } catch (e) {
    state.calFrames = [];
    return setStatus(`The calibration did not work (${e.message}): keep your eyes open and face the screen…`);
  }
  state.calFrames = [];
  localStorage.setItem(CAL_KEY, JSON.stringify(state.calibration));
  beginWatching();
}

function history() {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) || "{}") || {};
  } catch (e) {
    return {};
  }
}

function beginWatching() {
  state.detector = new HabitDetector(state.model, state.calibration, state.settings, history());
  root.dataset.calibrated = "true";
  setPhase("watching");
}

// ---- watching and nudging ------------------------------------------------------------------------------

function watchStep(frame) {
  if (isPaused(state.settings, frame.t_s)) return pause(false);
  const out = state.detector.push(frame);
  setData(root, "state", out.state);
  let text = STATUS[out.state] || out.state;
  const hour = new Date().getHours();
  if (out.state === "watching" && inQuietHours(state.settings, hour)) text += ` Quiet hours: no nudges until ${String(state.settings.quiet_end_h).padStart(2, "0")}:00.`;
  setStatus(text);
  for (const li of document.querySelectorAll("#guard-habits li")) setData(li, "active", String(out.active.includes(li.dataset.habit)));
  if (out.nudge) nudge(out.nudge);
  setData(root, "counts", JSON.stringify([...state.detector.counts.values()]));
  if (out.held_back) setData(root, "heldBack", out.held_back);
  if (Date.now() - state.lastUpload > UPLOAD_EVERY_MS) uploadCounts();
}

function softTone() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 523.25;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.05, ctx.currentTime + 0.3);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 1.4);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 1.5);
    osc.onended = () => ctx.close();
  } catch (e) {
    /* sound is a nicety */
  }
}

function nudge(n) {
  const box = $("guard-nudge");
  $("guard-nudge-text").textContent = n.cue;
  box.dataset.habit = n.habit;
  box.hidden = false;
  root.dataset.nudges = String(Number(root.dataset.nudges || 0) + 1);
  root.dataset.lastNudge = n.habit;
  localStorage.setItem(HISTORY_KEY, JSON.stringify(state.detector.history()));
  clearTimeout(state.nudgeTimer);
  state.nudgeTimer = setTimeout(() => (box.hidden = true), NUDGE_SHOWN_MS);
  if (state.settings.sound) softTone();
  if (state.settings.notify && "Notification" in window && Notification.permission === "granted") {
    try {
      new Notification("facecoach", { body: n.cue, tag: "facecoach-guard", silent: !state.settings.sound });
    } catch (e) {
      /* notifications are a nicety */
    }
  }
}

// ---- controls ------------------------------------------------------------------------------------------

async function start() {
  showError("");
  setPhase("starting");
  if (!(await startCamera())) return;
  state.calibration = storedCalibration();
  if (state.calibration) beginWatching();
  else {
    state.calFrames = [];
    setPhase("calibrating");
  }
  schedule();
}

function pause(tell = true) {
  stopCamera();
  if (tell) changeSettings({ pause: true }).then(showPause);
  else showPause();
}

function showPause() {
  const until = state.settings.paused_until_s;
  if (!until) return;
  setPhase("paused", `Paused until ${new Date(until * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}. The camera is not in use.`);
  clearTimeout(state.resumeTimer);
  state.resumeTimer = setTimeout(() => {
    if (state.phase === "paused") start();
  }, Math.max(until * 1000 - Date.now(), 1000));
}

function fillSettings() {
  const s = state.settings;
  $("set-interval").value = String(s.interval_min);
  const quiet = s.quiet_start_h !== null && s.quiet_end_h !== null && s.quiet_start_h !== s.quiet_end_h;
  $("set-quiet").checked = quiet;
  $("set-quiet-start").value = String(quiet ? s.quiet_start_h : 22);
  $("set-quiet-end").value = String(quiet ? s.quiet_end_h : 7);
  $("set-sound").checked = s.sound;
  $("set-notify").checked = s.notify;
  $("set-save").checked = s.save_counts;
}

function wireControls() {
  $("guard-start").addEventListener("click", async () => {
    if (!state.settings.enabled) await changeSettings({ enabled: true });
    if (isPaused(state.settings, Date.now() / 1000)) await changeSettings({ resume: true });
    start();
  });
  $("guard-calibrate").addEventListener("click", () => {
    localStorage.removeItem(CAL_KEY);
    state.calFrames = [];
    setPhase("calibrating");
  });
  $("guard-pause").addEventListener("click", () => pause(true));
  $("guard-resume").addEventListener("click", async () => {
    clearTimeout(state.resumeTimer);
    await changeSettings({ resume: true });
    start();
  });
  $("guard-off").addEventListener("click", () => {
    stopCamera(); // at once; the setting follows
    setPhase("off");
    changeSettings({ enabled: false });
  });
  $("guard-nudge-close").addEventListener("click", () => ($("guard-nudge").hidden = true));
  $("guard-show-cam").addEventListener("change", (e) => {
    document.querySelector(".guard-preview").classList.toggle("shown", e.target.checked);
    showPreview();
  });
  $("set-interval").addEventListener("change", (e) => changeSettings({ interval_min: Number(e.target.value) }));
  const quiet = () =>
    changeSettings(
      $("set-quiet").checked
        ? { quiet_start_h: Number($("set-quiet-start").value), quiet_end_h: Number($("set-quiet-end").value) }
        : { quiet_hours: false },
    );
  for (const id of ["set-quiet", "set-quiet-start", "set-quiet-end"]) $(id).addEventListener("change", quiet);
  $("set-sound").addEventListener("change", (e) => changeSettings({ sound: e.target.checked }));
  $("set-notify").addEventListener("change", async (e) => {
    let on = e.target.checked;
    if (on && "Notification" in window && Notification.permission !== "granted") on = (await Notification.requestPermission()) === "granted";
    changeSettings({ notify: on });
  });
  $("set-save").addEventListener("change", async (e) => {
    await changeSettings({ save_counts: e.target.checked });
    if (e.target.checked) uploadCounts();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") uploadCounts(true);
    if (state.phase === "watching" || state.phase === "calibrating") schedule(); // the new rate at once
  });
  window.addEventListener("pagehide", () => uploadCounts(true));
}

// On a battery under sampling.low_battery_level and not charging, the page samples at low_battery_fps
// (after the rules are loaded: the level comes from them).
function watchBattery() {
  if (!navigator.getBattery) return;
  navigator.getBattery().then((b) => {
    const update = () => {
      const low = !b.charging && b.level < state.model.rules.sampling.low_battery_level;
      if (low === state.lowBattery) return;
      state.lowBattery = low;
      if (state.phase === "watching" || state.phase === "calibrating") schedule(); // the new rate at once
    };
    b.addEventListener("levelchange", update);
    b.addEventListener("chargingchange", update);
    update();
  }).catch(() => {});
}

// for the tests and the bench: send the counts now, read the phase (nothing here reaches the network
// that the member's own page would not send)
window.facecoachGuard = {
  upload: () => uploadCounts(),
  phase: () => state.phase,
  fps: () => fps(),
  frames: () => state.frames,
  frameTimes: () => [...state.frameTimes], // the last 32 frames' times (ms), to see the rate
  framePath: () => (state.reader ? "track" : "video"),
  lowBattery: () => state.lowBattery,
  landmarked: () => state.landmarked, // frames the landmarker ran on
  wasmBytes: () => wasmHeapBytes(state.landmarker), // the landmarker's WebAssembly memory (bytes), for the bench
};

// The size of a landmarker's WebAssembly memory (bytes; null if not found). tasks-vision keeps its
// Emscripten module under minified property names, so it is looked for (an object with HEAPU8), not named.
function wasmHeapBytes(obj, depth = 3, seen = new Set()) {
  if (!obj || typeof obj !== "object" || seen.has(obj) || depth < 0) return null;
  seen.add(obj);
  if (obj.HEAPU8 instanceof Uint8Array) return obj.HEAPU8.buffer.byteLength;
  for (const key of Object.keys(obj)) {
    let v;
    try {
      v = obj[key];
    } catch (e) {
      continue;
    }
    const n = wasmHeapBytes(v, depth - 1, seen);
    if (n !== null) return n;
  }
  return null;
}

async function main() {
  wireControls();
  fillSettings();
  try {
    await loadModel();
  } catch (e) {
    console.warn("guard: the face model failed", e);
    return setPhase("model_failed");
  }
  watchBattery();
  $("guard-start").disabled = false;
  if (!state.settings.enabled) return setPhase("off");
  if (isPaused(state.settings, Date.now() / 1000)) return showPause();
  setPhase("ready");
  $("guard-start").disabled = false;
}

main();
