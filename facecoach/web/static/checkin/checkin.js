// The guided check-in page: the camera, the Face Landmarker in this page (CPU, the same asset and
// tasks-vision bundle as the live page), the framing rules from /checkin/framing.json applied by
// framing.js, and the capture: landmark points (and, only when the box is ticked, one JPEG) sent to
// /checkin. The video never leaves the device.
import { frameFacts, Guide, RULE_OF } from "./framing.js";

const cfg = JSON.parse(document.getElementById("checkin-config").textContent);
const $ = (id) => document.getElementById(id);
const root = $("checkin");
const FPS = 15;

const state = { doc: null, lm: null, mirrorLm: null, stream: null, guide: null, frames: [], pictures: [],
  lights: [], grab: null, flip: null, lastTs: 0, sending: false };

function setState(s) {
  root.dataset.state = s;
}

function fail(msg) {
  const el = $("checkin-error");
  el.textContent = msg;
  el.hidden = false;
  setState("error");
}

function say(text, code = "") {
  const el = $("fix");
  el.textContent = text;
  el.dataset.code = code;
}

async function landmarker(vision, fileset, numFaces) {
  return vision.FaceLandmarker.createFromOptions(fileset, {
    baseOptions: { modelAssetPath: cfg.model_url, delegate: "CPU" },
    runningMode: "VIDEO",
    numFaces,
    outputFaceBlendshapes: true,
    outputFacialTransformationMatrixes: false,
  });
}

async function load() {
  try {
    state.doc = await (await fetch(cfg.framing_url, { credentials: "same-origin" })).json();
    const vision = await import(cfg.vision_module);
    const fileset = await vision.FilesetResolver.forVisionTasks(cfg.wasm_url);
    state.lm = await landmarker(vision, fileset, 2); // two: a second person must be seen to be refused
    state.mirrorLm = await landmarker(vision, fileset, 1);
  } catch (e) {
    console.warn("check-in model failed", e);
    fail("The face model could not run in this browser, so the check-in cannot be guided here.");
    return;
  }
  say("Ready: press Start and look at the camera.");
  $("btn-start").disabled = false;
  setState("ready");
}

function points(landmarks, w, h) {
  return landmarks.map((p) => [p.x * w, p.y * h, p.z * w]);
}

function shapes(result, i) {
  const out = {};
  const cats = result.faceBlendshapes && result.faceBlendshapes[i] ? result.faceBlendshapes[i].categories : [];
  for (const c of cats) out[c.categoryName] = c.score;
  return out;
}

function markRules(problem) {
  const failed = problem ? RULE_OF[problem.code] : null;
  const order = ["distance", "centre", "pose", "light", "neutral"];
  const reached = failed ? order.indexOf(failed) : order.length;
  for (const li of $("rules").querySelectorAll("li")) {
    const i = order.indexOf(li.dataset.rule);
    li.dataset.ok = failed === "face" ? "unknown" : i < reached ? "yes" : i === reached ? "no" : "unknown";
  }
}

function drawView(video, w, h) {
  const view = $("view");
  view.width = w;
  view.height = h;
  const ctx = view.getContext("2d");
  ctx.save();
  ctx.translate(w, 0);
  ctx.scale(-1, 1); // a mirror, as people expect to see themselves
  ctx.drawImage(video, 0, 0, w, h);
  ctx.restore();
}

function captureFrame(step, frame, grab, w, h, ts) {
  const flip = state.flip;
  flip.width = w;
  flip.height = h;
  const fctx = flip.getContext("2d");
  fctx.save();
  fctx.translate(w, 0);
  fctx.scale(-1, 1);
  fctx.drawImage(grab, 0, 0);
  fctx.restore();
  const mirrored = state.mirrorLm.detectForVideo(flip, ts);
  state.frames.push({
    t: step.t, width: w, height: h, points: frame.points,
    mirrored: mirrored.faceLandmarks.length ? points(mirrored.faceLandmarks[0], w, h) : null,
    blendshapes: frame.blendshapes,
  });
  state.lights.push(frame.facts);
  if ($("keep-picture").checked) state.pictures.push(grab.toDataURL("image/jpeg", 0.9));
}

function tick() {
  if (state.sending || !state.stream) return;
  const video = $("cam");
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) return setTimeout(tick, 100);
  const grab = state.grab;
  grab.width = w;
  grab.height = h;
  const gctx = grab.getContext("2d", { willReadFrequently: true });
  gctx.drawImage(video, 0, 0, w, h);
  drawView(video, w, h);
  const ts = Math.max(performance.now(), state.lastTs + 1);
  state.lastTs = ts;
  const t = ts / 1000;
  const result = state.lm.detectForVideo(grab, ts);
  const n = result.faceLandmarks.length;
  const frame = { faces: n, width: w, height: h, points: n ? points(result.faceLandmarks[0], w, h) : null,
    blendshapes: n ? shapes(result, 0) : {}, pixels: n === 1 ? gctx.getImageData(0, 0, w, h).data : null };
  frame.facts = frameFacts(frame, state.doc);
  const step = state.guide.step(t, frame.facts);
  markRules(step.problem);
  if (step.problem) {
    state.frames = [];
    state.lights = [];
    state.pictures = [];
    say(step.problem.message, step.problem.code);
    setState("guiding");
  } else if (state.guide.captureStart === null) {
    say("Hold still…", "hold");
  } else {
    say("Capturing — hold still.", "capturing");
    setState("capturing");
  }
  if (step.captured) captureFrame(step, frame, grab, w, h, ts);
  $("capture-progress").value = state.guide.progress;
  if (step.done) return send();
  setTimeout(tick, 1000 / FPS);
}

function worstLight() {
  const l = state.lights;
  return {
    luma: l.reduce((s, f) => s + f.luma, 0) / l.length,
    clipped: Math.max(...l.map((f) => f.clipped)),
    evenness: Math.min(...l.map((f) => f.evenness)),
  };
}

async function send() {
  state.sending = true;
  setState("sending");
  say("Measuring…", "sending");
  const keep = $("keep-picture").checked && state.pictures.length > 0;
  const middle = Math.floor(state.frames.length / 2);
  const body = { frames: state.frames, light: worstLight(), keep_picture: keep,
    picture: keep ? state.pictures[middle] : null, picture_frame: keep ? middle : 0 };
  const token = document.querySelector('meta[name="csrf-token"]').content;
  let reply;
  try {
    const r = await fetch(cfg.post_url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token }, body: JSON.stringify(body),
    });
    reply = await r.json();
    if (!r.ok) throw new Error(reply.detail || `HTTP ${r.status}`);
  } catch (e) {
    return fail(`The check-in was not stored: ${e.message}`);
  }
  for (const t of state.stream.getTracks()) t.stop();
  const res = $("result");
  res.textContent = `Check-in stored (${state.frames.length} frames${reply.picture_kept ? ", picture kept" : ""}).`;
  res.hidden = false;
  res.dataset.checkinId = reply.id;
  $("to-progress").hidden = false;
  say("Done.", "done");
  setState("done");
}

async function start() {
  $("btn-start").disabled = true;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (e) {
    return fail("The camera could not be opened: allow it for this site, or use `facecoach checkin VIDEO`.");
  }
  const video = $("cam");
  video.srcObject = state.stream;
  await video.play();
  state.guide = new Guide(state.doc.rules, cfg.reference_iris_px);
  state.grab = document.createElement("canvas");
  state.flip = document.createElement("canvas");
  setState("guiding");
  tick();
}

$("btn-start").addEventListener("click", start);
load();
