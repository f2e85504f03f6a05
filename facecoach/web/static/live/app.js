// Live coaching page: the camera, the in-page Face Landmarker (private mode) or JPEG frames (server mode),
// the WebSocket to the coaching engine, and the step-by-step session UI. Plain ES module, no build step.
import { keepRequestsOnThisSite, noteRefused } from "./same-origin.js";
import { encodeJpeg, encodeLandmarks, encodeNoFace, N_POINTS } from "./protocol.js";
import { foreheadCreaseEnergy } from "./crease.js";
import { CueList, lineText, tally } from "./cues.js";
import { drawHandOverlay, handsFromResult, workingPoint } from "./hands.js";
import { drawStrokeMap, markStroke } from "./massage.js";
import { Prompter } from "./prompt.js";
import { REGION_OUTLINES } from "./regions.js";

keepRequestsOnThisSite(); // before the face model's library is loaded: it has a usage logger of its own

const cfg = JSON.parse(document.getElementById("live-config").textContent);
const $ = (id) => document.getElementById(id);
const root = $("live");
// Frames go out as fast as the camera and the two models allow, up to this rate (frames/s): each new camera
// frame once. The server's own limit (max_fps) is the ceiling.
const TARGET_FPS = Math.min(30, cfg.max_fps || 30);
const DRAW_FPS = 30; // the mirrored view is redrawn at most this often, and only when something changed
const MAX_IN_FLIGHT = 3; // frames sent and not yet answered by the server
// Landmark frames being made at once: the next frame's face runs on this thread while the worker still
// finishes the previous frame's hands (each frame's face and hands from the same picture; sent in order).
const PIPELINE = 2;
const SLACK_MS = 4; // a frame due in less than this is due now (requestAnimationFrame ticks are ~16.7 ms)
const RING = 2 * Math.PI * 42;
const FLASH_MS = 1500; // how long "Back in view." and the like stay before the instruction is back
const REST_MS = 2500; // "Good. Release and rest." before the next rep is asked for
const LOST_MS = 400; // a face gone for less than this (a frame or two) is not announced
const TRAIL_MS = 2500; // how much of the hand's path is drawn over the stroke paths
// Faults known once a stroke is over (end_s set): their cue is shown at once.
const STROKE_FAULTS = new Set(["stroke_direction", "stroke_region", "stroke_pace", "side_skipped"]);

const state = {
  mode: null, // "landmarks" | "jpeg"
  landmarker: null,
  handLandmarker: null, // the Hand Landmarker beside the face one (null: hands are not sent)
  handWorker: null, // the same in a worker (hands-worker.js), on the other core: the usual case
  handReplies: [], // resolvers of the worker's replies, in order
  making: 0, // landmark frames being made (at most PIPELINE)
  grabbing: false, // the grab canvas holds a picture still being read (the next frame waits)
  sending: Promise.resolve(), // the last frame's turn to be sent: frames leave in the order they were taken
  videoFrames: 0, // camera frames presented so far (requestVideoFrameCallback), 0: not counted here
  grabbedFrame: -1, // videoFrames at the last grab: the same camera frame is not sent twice
  lastVideoFrameAt: 0, // performance.now() of the last camera frame callback
  dirty: true, // the view has something new to draw (a camera frame, landmarks, hands)
  lastDraw: 0,
  handFrames: 0,
  lastHands: null, // {hands: [{score, label, points}], w, h} of the latest frame that looked
  trail: [], // [x, y, ms] of the working point, image px
  strokes: { right: 0, left: 0, midline: 0 },
  ws: null,
  stream: null,
  index: -1,
  step: null,
  paused: false,
  seq: 0,
  inFlight: 0,
  lastSent: 0,
  lastTs: 0,
  reps: 0,
  target: 0, // reps the current exercise asks for (0: not given)
  calibrated: false,
  lastPoints: null,
  massage: null, // {remaining, timer}
  spoken: new Map(),
  finished: false,
  generation: 0, // bumped whenever a step (re)starts: a late timer of an older one does nothing
  encoding: false,
  grab: null, // offscreen canvas for pixels
};

function setState(s) {
  root.dataset.state = s;
}

function showError(msg) {
  const el = $("live-error");
  el.textContent = msg;
  el.hidden = false;
}

function speak(text) {
  if (!$("voice").checked || !("speechSynthesis" in window)) return;
  const now = performance.now();
  if ((state.spoken.get(text) || 0) > now - 4000) return;
  state.spoken.set(text, now);
  try {
    window.speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  } catch (e) {
    /* voice is a nicety */
  }
}

const prompter = new Prompter($("prompt"));
const exerciseCues = new CueList($("cues"));
const massageCues = new CueList($("m-cues"));
const cues = {
  // The cue list of the panel on screen: the exercise's, or the massage's beside the stroke map.
  add: (...args) => (state.step && state.step.kind === "massage" ? massageCues : exerciseCues).add(...args),
  clear: () => {
    exerciseCues.clear();
    massageCues.clear();
  },
};

/** What to do for the next rep of the current exercise (the standing instruction between reps). */
function nextRepInstruction() {
  const step = state.step;
  const cue = (step && step.cues && step.cues[0]) || "start the movement";
  const target = state.target;
  if (state.reps === 0) return step && step.hold_s ? `Go: ${cue}` : "Go!";
  if (target && state.reps >= target) return "Release and relax.";
  return `Rep ${state.reps + 1}${target ? ` of ${target}` : ""}: ${cue}`;
}

// ---- mode: in-page landmarks when possible, JPEG frames otherwise --------------------------------------

async function pickMode() {
  const note = $("live-mode");
  const wanted = cfg.mode || new URLSearchParams(location.search).get("mode");
  if (wanted === "jpeg") return useJpeg("server mode was asked for");
  if (typeof WebAssembly !== "object") return useJpeg("this browser cannot run WebAssembly");
  note.textContent = "Loading the face model in your browser…";
  try {
    const vision = await import(cfg.vision_module);
    const fileset = await vision.FilesetResolver.forVisionTasks(cfg.wasm_url);
    state.landmarker = await vision.FaceLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: cfg.model_url, delegate: "CPU" },
      runningMode: "VIDEO",
      numFaces: 1,
      outputFaceBlendshapes: true,
      outputFacialTransformationMatrixes: false,
    });
    // One detection on a blank picture proves the whole pipeline runs here (WebAssembly, and the WebGL
    // context MediaPipe uses to convert images), before the mode is announced to the server.
    const probe = document.createElement("canvas");
    probe.width = 64;
    probe.height = 64;
    probe.getContext("2d").fillRect(0, 0, 64, 64);
    state.landmarker.detectForVideo(probe, performance.now());
    await loadHands(vision, fileset, probe);
  } catch (e) {
    console.warn("in-page landmarker failed", e);
    state.landmarker = null;
    return useJpeg("the face model could not run in this browser");
  }
  state.mode = "landmarks";
  note.dataset.mode = "landmarks";
  note.textContent = "Private mode: your face is analysed on this device; only landmark points are sent.";
  $("privacy-note").textContent = "Video never leaves this device in private mode.";
}

/** The Hand Landmarker (same bundle as the server's, CPU): in a worker when it can run there (both cores
 * work: the face here, the hands there, on the same frame), else here; without it the page still coaches
 * the face. */
async function loadHands(vision, fileset, probe) {
  if (await startHandWorker()) {
    root.dataset.hands = "on";
    root.dataset.handsIn = "worker";
    return;
  }
  try {
    state.handLandmarker = await vision.HandLandmarker.createFromOptions(fileset, {
      baseOptions: { modelAssetPath: cfg.hand_model_url, delegate: "CPU" },
      runningMode: "VIDEO",
      numHands: 2,
      minHandDetectionConfidence: 0.5,
      minHandPresenceConfidence: 0.5,
      minTrackingConfidence: 0.5,
    });
    state.handLandmarker.detectForVideo(probe, performance.now() + 1);
    root.dataset.hands = "on";
    root.dataset.handsIn = "page";
  } catch (e) {
    console.warn("in-page hand landmarker failed", e);
    state.handLandmarker = null;
    root.dataset.hands = "off";
  }
}

/** The hand worker, loaded (true) or not (false: it could not start or load the model in time). */
function startHandWorker() {
  return new Promise((resolve) => {
    let worker;
    try {
      worker = new Worker(cfg.hands_worker_url, { type: "module" });
    } catch (e) {
      console.warn("no hand worker", e);
      resolve(false);
      return;
    }
    const fail = (why) => {
      console.warn("hand worker failed", why);
      worker.terminate();
      state.handWorker = null;
      resolve(false);
    };
    const timer = setTimeout(() => fail("timeout"), 120000);
    worker.onerror = (ev) => {
      clearTimeout(timer);
      fail(ev.message || "error");
    };
    worker.onmessage = (ev) => {
      const msg = ev.data;
      if (msg.type === "refused") noteRefused(msg.origin);
      else if (msg.type === "hands") (state.handReplies.shift() || (() => {}))(msg);
      else if (msg.type === "failed") {
        clearTimeout(timer);
        fail(msg.error);
      } else if (msg.type === "ready") {
        clearTimeout(timer);
        state.handWorker = worker;
        resolve(true);
      }
    };
    worker.postMessage({
      type: "init",
      visionModule: new URL(cfg.vision_module, location.href).href,
      wasmUrl: new URL(cfg.wasm_url, location.href).href,
      modelUrl: new URL(cfg.hand_model_url, location.href).href,
    });
  });
}

/** How many hands this step follows: two in a massage or a hand-resisted exercise; one to see that a hand
 * is on the face in an exercise done without hands. */
function handsWanted() {
  const step = state.step;
  return step && (step.kind === "massage" || (step.exercise && step.exercise.resistance)) ? 2 : 1;
}

/** Post the frame's picture (an ImageBitmap, transferred) to the hand worker; returns the promise of its
 * hands. The bitmap is made before the face runs here, so the worker works while this thread does. */
function handsInWorker(bitmap, w, h, ts) {
  const reply = new Promise((resolve) => state.handReplies.push(resolve));
  state.handWorker.postMessage({ type: "detect", bitmap, ts, w, h, numHands: handsWanted() }, [bitmap]);
  return reply;
}

/** Does this frame look for hands? Every frame in a massage or a hand-resisted exercise; every few
 * frames otherwise (so "hands down" can be said); the server decides what they mean. */
function handsDue() {
  const step = state.step;
  if (!step || !(state.handLandmarker || state.handWorker)) return false;
  if (step.kind === "massage" || (step.exercise && step.exercise.resistance)) return true;
  state.handFrames++;
  return state.handFrames % (cfg.hands_low_every || 4) === 0;
}

function useJpeg(why) {
  state.mode = "jpeg";
  const note = $("live-mode");
  note.dataset.mode = "jpeg";
  note.textContent = `Server mode (${why}): camera frames are sent to facecoach to be analysed, and not stored.`;
  $("privacy-note").textContent = "In server mode the frames are analysed on the server and discarded.";
}

// ---- socket -------------------------------------------------------------------------------------------

function openSocket() {
  return new Promise((resolve, reject) => {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}${cfg.ws_path}`);
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "hello") {
        // Massages and pauses send no frames: a ping keeps the connection from timing out as idle.
        setInterval(() => send({ type: "ping" }), 20000);
        resolve(ws);
      }
      onMessage(msg);
    };
    ws.onerror = () => reject(new Error("the coaching connection failed"));
    ws.onclose = (ev) => {
      if (!state.finished) {
        showError(`The coaching connection closed: ${ev.reason || "code " + ev.code}.`);
        setState("closed");
      }
      reject(new Error(ev.reason || "closed"));
    };
    state.ws = ws;
  });
}

function send(obj) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(obj));
}

function onMessage(msg) {
  switch (msg.type) {
    case "frame":
      state.inFlight = Math.max(0, state.inFlight - 1);
      if (state.mode === "jpeg") {
        // Server mode: the server's landmarks (x, y pairs) outline the working region.
        const v = $("cam");
        state.lastPoints = msg.points ? { pts: xyToPoints(msg.points), w: v.videoWidth, h: v.videoHeight } : null;
        if (msg.hands) {
          const hands = msg.hands.map((xy) => ({ points: xyToPoints(xy, 21) }));
          noteHands(hands, v.videoWidth, v.videoHeight);
        }
      }
      for (const ev of msg.events) onEvent(ev);
      break;
    case "step":
      break;
    case "summary":
      showSummary(msg);
      break;
    default:
      break;
  }
}

function onEvent(ev) {
  const step = state.step;
  switch (ev.type) {
    case "calibrated":
      state.calibrated = true;
      prompter.instruction(nextRepInstruction());
      speak("Go");
      break;
    case "rep_started":
      prompter.instruction(step && step.hold_s ? `Hold it… ${Math.round(step.hold_s)} s` : "Hold it…");
      break;
    case "hold_progress": {
      const frac = ev.fraction ?? (ev.target_s ? ev.held_s / ev.target_s : 0);
      setRing(frac, ev.held_s);
      break;
    }
    case "rep_done":
      state.reps = ev.rep ?? state.reps + 1;
      $("rep-count").textContent = String(state.reps);
      setRing(1, ev.held_s);
      prompter.instruction(nextRepInstruction());
      prompter.flash("Good. Release and rest.", REST_MS);
      break;
    case "rep_failed":
      setRing(0, null);
      cues.add(ev.cue || "Released too early: hold until the ring is full", "warn");
      prompter.instruction(nextRepInstruction());
      break;
    case "fault":
      if (ev.end_s === null || ev.end_s === undefined || STROKE_FAULTS.has(ev.kind)) {
        cues.add(ev.cue || ev.kind, "bad", ev.kind);
        speak(ev.cue || ev.kind);
      }
      break;
    case "face_lost":
      // The face is there but turned or tilted too far: the reason says what to change.
      prompter.alert(ev.reason || "I can't see your face — come back into view.", LOST_MS);
      break;
    case "face_found":
      // "Back in view." only after "I can't see your face" was on screen; then the instruction again.
      if (prompter.clearAlert() && state.calibrated) prompter.flash("Back in view.", FLASH_MS);
      break;
    case "stroke":
      if (ev.kind === "stroke") markStroke($("stroke-map"), ev);
      break;
    case "stroke_count":
      state.strokes = { right: ev.right, left: ev.left, midline: ev.midline };
      showStrokeCount(ev.per_side);
      break;
    case "hands_lost":
      prompter.alert(ev.cue || "Keep your hand in view.", LOST_MS);
      break;
    case "hands_found":
      prompter.clearAlert();
      break;
    case "finished": {
      if (state.massage) stopMassageTimer();
      prompter.reset(step && step.kind === "massage" ? "Massage complete." : "Exercise complete.");
      speak("Well done");
      const generation = state.generation;
      setTimeout(() => {
        // unless skipped, repeated or ended meanwhile
        if (state.generation === generation && !state.finished) nextStep();
      }, 1200);
      break;
    }
    default:
      break;
  }
}

function xyToPoints(xy, n = N_POINTS) {
  const pts = new Float32Array(n * 3);
  for (let i = 0; i < n && 2 * i + 1 < xy.length; i++) {
    pts[3 * i] = xy[2 * i];
    pts[3 * i + 1] = xy[2 * i + 1];
  }
  return pts;
}

function setRing(frac, seconds) {
  const f = Math.max(0, Math.min(1, frac || 0));
  $("hold-ring").setAttribute("stroke-dashoffset", String(RING * (1 - f)));
  $("hold-text").textContent = seconds ? `${Number(seconds).toFixed(1)} s` : "";
}

// ---- camera and frames --------------------------------------------------------------------------------

async function startCamera() {
  const video = $("cam");
  state.stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
    audio: false,
  });
  video.srcObject = state.stream;
  await video.play();
  state.grab = document.createElement("canvas");
  watchVideoFrames(video);
  requestAnimationFrame(loop);
}

/** Count the camera's frames (requestVideoFrameCallback), so each is drawn and sent once; without it (or
 * while it does not fire) the page goes by time at TARGET_FPS. */
function watchVideoFrames(video) {
  if (typeof video.requestVideoFrameCallback !== "function") return;
  const onFrame = () => {
    if (state.finished) return;
    state.videoFrames++;
    state.lastVideoFrameAt = performance.now();
    cameraTimes.push(state.lastVideoFrameAt);
    while (cameraTimes[0] < state.lastVideoFrameAt - 2000) cameraTimes.shift();
    state.dirty = true;
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

/** A camera frame not yet sent is there (or, without frame callbacks, the time for one has come). */
function newCameraFrame(now) {
  if (now - state.lastVideoFrameAt > 250) return true; // no frame callbacks: TARGET_FPS alone paces
  return state.videoFrames !== state.grabbedFrame;
}

function loop() {
  if (state.finished) return;
  requestAnimationFrame(loop);
  const video = $("cam");
  const now = performance.now();
  if (video.readyState < 2 || !video.videoWidth) return;
  if (now - state.lastDraw >= 1000 / DRAW_FPS - SLACK_MS && (state.dirty || now - state.lastVideoFrameAt > 250)) {
    state.lastDraw = now;
    state.dirty = false;
    draw(video); // the mirror view: on a new camera frame or result, DRAW_FPS at most
  }
  if (now - state.lastSent < 1000 / TARGET_FPS - SLACK_MS || !newCameraFrame(now)) return;
  // Massages stream frames too: the server times a massage by the frames it receives (its own clock),
  // not by this page's timer.
  if (!state.step || state.paused) return;
  if (state.inFlight >= MAX_IN_FLIGHT || !state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  if (state.mode === "landmarks" && (state.making >= PIPELINE || state.grabbing)) return;
  if (state.mode !== "landmarks" && state.encoding) return;
  state.lastSent = now;
  state.grabbedFrame = state.videoFrames;
  const ts = Math.max(now, state.lastTs + 1);
  state.lastTs = ts;
  if (state.mode === "landmarks") makeLandmarkFrame(video, ts);
  else sendJpeg(video, ts);
}

/** Frames sent per second over the last 2 s, on the page root (data-fps) for tests and the bench; beside
 * it the camera's own frames per second (data-camera-fps, when the browser counts them) and where a frame's
 * time went (data-frame-ms: medians over the last 30 frames, ms, of the face on this thread, the hands in
 * the worker, the wait for the worker's hands after the face, and grab to send). */
const sentTimes = [];
const cameraTimes = [];
const frameTimes = [];
function countFrame(now, timing) {
  sentTimes.push(now);
  while (sentTimes.length && sentTimes[0] < now - 2000) sentTimes.shift();
  if (sentTimes.length > 1) root.dataset.fps = ((sentTimes.length - 1) / ((now - sentTimes[0]) / 1000)).toFixed(1);
  if (cameraTimes.length > 1) {
    const span = (cameraTimes[cameraTimes.length - 1] - cameraTimes[0]) / 1000;
    root.dataset.cameraFps = ((cameraTimes.length - 1) / span).toFixed(1);
  }
  if (!timing) return;
  frameTimes.push(timing);
  if (frameTimes.length > 30) frameTimes.shift();
  const med = (k) => {
    const v = frameTimes.map((t) => t[k]).sort((a, b) => a - b);
    return v[v.length >> 1].toFixed(0);
  };
  root.dataset.frameMs =
    `face ${med("face")} hands ${med("hands")} hands-wait ${med("wait")} total ${med("total")}` +
    ` (${state.grab.width}×${state.grab.height})`;
}

function pixels(video) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  const c = state.grab;
  if (c.width !== w || c.height !== h) {
    c.width = w;
    c.height = h;
  }
  const g = c.getContext("2d", { willReadFrequently: true });
  g.drawImage(video, 0, 0, w, h);
  return { ctx: g, w, h };
}

/** Make one landmark frame and queue it to be sent after the frames taken before it. The frame's picture is
 * read here (face now; hands in the worker, or here) and nothing of the grab canvas is read after the first
 * await, so the next frame may be grabbed meanwhile. */
function makeLandmarkFrame(video, ts) {
  state.making++;
  const made = landmarkFrame(video, ts).catch((e) => {
    console.warn("frame failed", e);
    return null;
  });
  const before = state.sending;
  state.sending = (async () => {
    const frame = await made;
    await before;
    if (frame) transmit(frame);
  })().finally(() => {
    state.making--;
  });
}

/** The face (this thread) and hands (worker) of one picture: {w, h, face, hands, cats, crease}. */
async function landmarkFrame(video, ts) {
  state.grabbing = true;
  // Released once, by this frame: when its picture is read, or when it fails. A later release (the worker's
  // reply comes after the next frame has begun grabbing) must not free the next frame's picture.
  let held = true;
  const release = () => {
    if (held) state.grabbing = held = false;
  };
  try {
    return await readPicture(video, ts, release);
  } finally {
    release();
  }
}

/** landmarkFrame's reading of the grab canvas: the hands' bitmap, the face, the crease; then the hands. */
async function readPicture(video, ts, release) {
  const t0 = performance.now();
  const { ctx, w, h } = pixels(video);
  const due = handsDue();
  // The bitmap first (awaited: its promise cannot settle while the face runs), then the hands start in the
  // worker and the face runs here meanwhile: both cores work on this frame.
  const bitmap = due && state.handWorker ? await createImageBitmap(state.grab) : null;
  const inWorker = bitmap ? handsInWorker(bitmap, w, h, ts) : null;
  const t1 = performance.now();
  const result = state.landmarker.detectForVideo(state.grab, ts);
  const t2 = performance.now();
  let hands = null; // not looked for in this frame
  if (due && !inWorker) hands = handsFromResult(state.handLandmarker.detectForVideo(state.grab, ts), w, h);
  const face = facePoints(result, w, h);
  // The crease energy from the float32 points the server receives, so both sides place the same patch;
  // only an exercise watches the forehead (a massage's hands are on the face: no pixels read back).
  const crease =
    face && state.step && state.step.kind === "exercise"
      ? foreheadCreaseEnergy(ctx.getImageData(0, 0, w, h).data, w, h, face)
      : null;
  const cats = result.faceBlendshapes && result.faceBlendshapes[0] ? result.faceBlendshapes[0].categories : [];
  release(); // the picture is read: the next frame may be grabbed while the worker works
  const t3 = performance.now();
  const reply = inWorker ? await inWorker : null;
  if (reply) hands = reply.hands;
  const timing = { face: t2 - t1, wait: performance.now() - t3, hands: reply ? reply.ms : 0 };
  return { w, h, ts, face, hands, cats, crease, t0, timing };
}

/** The face's points in pixels as on the Python side (x·width, y·height, z·width), float32; null: no face. */
function facePoints(result, w, h) {
  const face = result.faceLandmarks && result.faceLandmarks[0];
  if (!face || face.length < N_POINTS) return null;
  const pts = new Float32Array(N_POINTS * 3);
  for (let i = 0; i < N_POINTS; i++) {
    pts[3 * i] = face[i].x * w;
    pts[3 * i + 1] = face[i].y * h;
    pts[3 * i + 2] = face[i].z * w;
  }
  return pts;
}

/** Send a made frame (in order: seq increases with the frames' times), and show its landmarks and hands. */
function transmit(frame) {
  const { w, h, ts, face, hands, cats, crease, t0, timing } = frame;
  if (hands) noteHands(hands, w, h);
  state.lastPoints = face ? { pts: face, w, h } : null;
  state.dirty = true;
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const seq = ++state.seq;
  state.inFlight++;
  state.ws.send(face ? encodeLandmarks(seq, ts, w, h, face, cats, crease, hands) : encodeNoFace(seq, ts, w, h));
  const now = performance.now();
  countFrame(now, { ...timing, total: now - t0 });
}

/** The hands of the latest frame that looked, and the working point's trail for the massage view. */
function noteHands(hands, w, h) {
  state.lastHands = { hands, w, h };
  const now = performance.now();
  const kind = state.step && state.step.massage && state.step.massage.working_point;
  for (const hand of hands.slice(0, 1)) state.trail.push([...workingPoint(hand.points, kind), now]);
  while (state.trail.length && state.trail[0][2] < now - TRAIL_MS) state.trail.shift();
}

function sendJpeg(video, ts) {
  // One encoding at a time, so frames leave in capture order (seq and time must increase).
  if (state.encoding) return;
  const { w, h } = pixels(video);
  state.encoding = true;
  state.inFlight++;
  state.grab.toBlob(
    async (blob) => {
      try {
        const bytes = blob ? await blob.arrayBuffer() : null;
        if (!bytes || !state.ws || state.ws.readyState !== WebSocket.OPEN) {
          state.inFlight--;
          return;
        }
        state.ws.send(encodeJpeg(++state.seq, ts, w, h, bytes));
        countFrame(performance.now());
      } finally {
        state.encoding = false;
      }
    },
    "image/jpeg",
    0.8,
  );
}

function draw(video) {
  const canvas = $("view");
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const g = canvas.getContext("2d");
  g.save();
  g.translate(w, 0);
  g.scale(-1, 1); // a mirror: the person's left appears on their left
  g.drawImage(video, 0, 0, w, h);
  const lp = state.lastPoints;
  if (lp && state.step && state.step.kind === "exercise") {
    const outlines = (state.step.regions || [state.step.region]).flatMap((r) => REGION_OUTLINES[r] || []);
    g.lineWidth = 3;
    g.strokeStyle = "rgba(47,111,106,0.95)";
    g.fillStyle = "rgba(47,111,106,0.18)";
    for (const ids of outlines) {
      g.beginPath();
      ids.forEach((id, k) => {
        const x = (lp.pts[3 * id] * w) / lp.w;
        const y = (lp.pts[3 * id + 1] * h) / lp.h;
        if (k === 0) g.moveTo(x, y);
        else g.lineTo(x, y);
      });
      g.closePath();
      g.fill();
      g.stroke();
    }
  }
  if (state.step && state.step.kind === "massage") {
    // The hand's path over the massage's stroke paths, laid on the face (mirrored with the picture).
    const m = state.step.massage || { strokes: [] };
    const face = lp ? lp.pts : null;
    const sx = lp ? w / lp.w : 1;
    const sy = lp ? h / lp.h : 1;
    drawHandOverlay(g, face, m.strokes, state.trail.map(([x, y]) => [x, y]), sx, sy);
  }
  g.restore();
}

function showStrokeCount(perSide) {
  const sides = (state.step && state.step.massage && state.step.massage.stroke_sides) || ["right", "left"];
  const n = perSide || (state.step && state.step.massage && state.step.massage.strokes_per_side) || 0;
  $("m-count").textContent = sides.map((s) => `your ${s}: ${Math.min(state.strokes[s] || 0, n)} of ${n}`).join(" · ");
}

// ---- steps ----------------------------------------------------------------------------------------------

function fillList(el, items) {
  el.replaceChildren(...items.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
}

function nextStep() {
  if (state.massage) stopMassageTimer();
  if (state.index >= 0) markStep(state.index, "done");
  state.index++;
  if (state.index >= cfg.steps.length) return finish();
  beginStep();
}

function beginStep() {
  state.generation++;
  const step = cfg.steps[state.index];
  state.step = step;
  state.reps = 0;
  state.calibrated = false;
  state.paused = false;
  state.trail = [];
  state.handFrames = 0;
  state.strokes = { right: 0, left: 0, midline: 0 };
  // One camera view for both kinds of step: it moves to the step's own panel.
  (step.kind === "exercise" ? $("exercise-view") : $("massage-main")).prepend($("video-box"));
  $("btn-pause").textContent = "Pause";
  markStep(state.index, "current");
  $("step-counter").textContent = `Step ${state.index + 1} of ${cfg.steps.length} · ${step.kind}`;
  $("step-name").textContent = step.name;
  $("step-reason").textContent = step.reason;
  cues.clear();
  // A shorter practice (?reps=N) is already applied to step.reps by the server; the socket is told too.
  const reps = step.kind === "exercise" && step.reps ? step.reps : null;
  state.target = reps || 0;
  send({ type: "start", technique: step.id, mode: state.mode, ...(reps ? { reps } : {}) });
  if (step.kind === "exercise") {
    $("exercise-view").hidden = false;
    $("massage-view").hidden = true;
    $("rep-count").textContent = "0";
    $("rep-target").textContent = String(reps || step.reps || "–");
    $("rep-unit").textContent = (reps || step.reps) === 1 ? "rep" : "reps";
    setRing(0, null);
    fillList($("ex-steps"), step.steps);
    fillList($("ex-cues"), step.cues);
    prompter.reset("Relax your face and look at the camera: measuring your neutral face…");
    speak("Relax your face and look at the camera");
  } else {
    $("exercise-view").hidden = true;
    $("massage-view").hidden = false;
    const m = step.massage || { strokes: [], pressure: "light", direction: "" };
    drawStrokeMap($("stroke-map"), m.strokes);
    $("stroke-sides").textContent = cfg.sides_note || "";
    $("m-pressure").textContent = m.pressure;
    $("m-pressure-note").textContent = `The camera cannot see pressure: keep it ${m.pressure}.`;
    if (m.strokes_per_side) showStrokeCount(m.strokes_per_side);
    else $("m-count").textContent = "";
    $("m-hands").textContent = state.mode === "jpeg" || state.handLandmarker || state.handWorker
      ? "The camera follows your hand: each stroke the right way counts."
      : "Your hands cannot be followed in this browser, so this massage cannot be checked or completed here.";
    prompter.reset(`Place your ${step.tool === "hands" || step.tool === "none" ? "fingertips" : "tool"} where stroke 1 starts, then stroke the way the arrows go.`);
    $("m-tool").textContent =
      step.tool === "hands" || step.tool === "none"
        ? "your hands"
        : `${step.tool.replace("_", " ")}${m.tool_angle_deg != null ? `, held at about ${m.tool_angle_deg}° to the skin` : ""}`;
    $("m-direction").textContent = m.direction;
    fillList(
      $("m-strokes"),
      m.strokes.map((s) => `${s.label}${s.repeat > 1 ? ` × ${s.repeat}` : ""}${s.sides !== "midline" ? ` (${s.sides === "both" ? "both sides" : `your ${s.sides} side`})` : ""}`),
    );
    fillList($("m-steps"), step.steps);
    startMassageTimer(step.duration_s);
  }
  $("live-stage").scrollIntoView({ block: "start" }); // the camera view and the prompt in sight
}

function markStep(i, how) {
  const li = document.querySelector(`#live-steps li[data-index="${i}"]`);
  if (li) li.dataset.status = how;
}

function startMassageTimer(seconds) {
  state.massage = { remaining: seconds, timer: null };
  const tick = () => {
    const m = state.massage;
    if (!m) return;
    const s = Math.max(0, Math.ceil(m.remaining));
    $("timer").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    if (m.remaining <= 0) {
      send({ type: "done" });
      stopMassageTimer();
      nextStep();
    }
  };
  tick();
  state.massage.timer = setInterval(() => {
    if (!state.paused && state.massage) state.massage.remaining -= 0.25;
    tick();
  }, 250);
}

function stopMassageTimer() {
  if (state.massage && state.massage.timer) clearInterval(state.massage.timer);
  state.massage = null;
}

function finish() {
  if (state.finished) return;
  send({ type: "finish" });
  setState("finishing");
}

/** A step's faults in the summary: one line per kind with its count, or a dash. */
function faultCell(faults) {
  const lines = tally(faults);
  if (!lines.length) return "—";
  const ul = document.createElement("ul");
  ul.className = "live-fault-lines";
  ul.replaceChildren(...lines.map((l) => Object.assign(document.createElement("li"), { textContent: lineText(l) })));
  return ul;
}

function showSummary(msg) {
  state.finished = true;
  stopMassageTimer();
  if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
  $("live-stage").hidden = true;
  $("live-summary").hidden = false;
  const sum = msg.summary;
  $("summary-saved").textContent = msg.saved
    ? `Saved to your progress: ${sum.reps} ${sum.reps === 1 ? "rep" : "reps"} in ${Math.round(sum.duration_s)} s.`
    : "Nothing was completed, so nothing was saved.";
  const rows = sum.steps.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.technique = s.technique_id;
    const known = cfg.steps.find((c) => c.id === s.technique_id);
    const cells = [
      (known ? known.name : s.technique_id) + (s.skipped ? " (skipped)" : ""),
      s.kind === "exercise" ? `${s.reps}${s.reps_target ? " / " + s.reps_target : ""}` : "—",
      faultCell(s.faults),
      `${Math.round(s.duration_s)} s`,
    ];
    for (const c of cells) {
      const td = document.createElement("td");
      if (typeof c === "string") td.textContent = c;
      else td.append(c);
      tr.append(td);
    }
    return tr;
  });
  $("summary-rows").replaceChildren(...rows);
  root.dataset.summary = JSON.stringify({ saved: msg.saved, reps: sum.reps, faults: sum.faults });
  setState("finished");
}

// ---- controls -----------------------------------------------------------------------------------------

function wireControls() {
  $("btn-pause").addEventListener("click", () => {
    state.paused = !state.paused;
    send({ type: state.paused ? "pause" : "resume" });
    $("btn-pause").textContent = state.paused ? "Resume" : "Pause";
    if (state.paused) prompter.alert("Paused: press Resume to go on.");
    else prompter.clearAlert();
  });
  $("btn-skip").addEventListener("click", () => {
    send({ type: "skip" });
    markStep(state.index, "skipped");
    if (state.massage) stopMassageTimer();
    state.index++;
    if (state.index >= cfg.steps.length) finish();
    else beginStep();
  });
  $("btn-repeat").addEventListener("click", () => {
    if (state.massage) stopMassageTimer();
    send({ type: "repeat" });
    state.generation++;
    // The server restarts the step; the page restarts its view (a fresh calibration for exercises).
    const step = state.step;
    state.reps = 0;
    state.calibrated = false;
    if (step.kind === "exercise") {
      $("rep-count").textContent = "0";
      setRing(0, null);
      prompter.reset("Again: relax your face and look at the camera…");
    } else startMassageTimer(step.duration_s);
  });
  $("btn-end").addEventListener("click", () => finish());
}

async function main() {
  wireControls();
  await pickMode();
  setState("ready");
  $("btn-start").disabled = false;
  $("btn-start").addEventListener("click", async () => {
    $("btn-start").disabled = true;
    try {
      await startCamera();
      await openSocket();
    } catch (e) {
      showError(`Could not start: ${e.message || e}`);
      setState("error");
      return;
    }
    $("live-intro").hidden = true;
    $("live-stage").hidden = false;
    setState("running");
    nextStep();
  });
}

main();
