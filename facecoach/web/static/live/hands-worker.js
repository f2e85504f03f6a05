// The Hand Landmarker in a dedicated module worker (issue 13): it runs on the second core while the page's
// main thread runs the Face Landmarker on the same frame, so a frame costs the slower of the two models
// instead of their sum (docs/live-protocol.md, "Figures with hands"). Same library, same served bundle,
// same CPU delegate and VIDEO mode as before; results are read by hands.js's handsFromResult, exactly as
// on the main thread, so the server sees the same points (tests/live/test_hands_parity.py).
//
// Two one-hand lanes, as facecoach/vision/sparse_hands.py does for the audit (a two-hand Hand Landmarker
// runs its palm detector on every frame with fewer than two hands: about twice the cost of following one):
// lane A, a one-hand tracker, sees every frame (landmarks only while it follows a hand); lane B looks for
// a second hand on the same frame with A's hand painted grey — on every frame while it follows one, else
// on one frame every PROBE_MS (the palm detector alone). A second hand can so be found up to PROBE_MS late.
// `numHands: 1` (a step that needs one hand) runs lane A only.
//
// Messages in:  {type: "init", visionModule, wasmUrl, modelUrl}
//               {type: "detect", bitmap (ImageBitmap, transferred; closed here), ts, w, h, numHands}
// Messages out: {type: "ready"} | {type: "failed", error}
//               {type: "hands", ts, hands: [{score, label, points: Float32Array(63)}] or null (could not
//                look: no hands block), ms, lanes ("A" or "AB")}
//               {type: "refused", origin}: the library's usage logger tried to leave the site (kept in)
import { keepRequestsOnThisSite } from "./same-origin.js";
import { handsFromResult } from "./hands.js";

// Before the library is loaded: its usage logger runs in this worker too. Each refusal is told to the
// page, which counts it with its own (html[data-refused-requests]).
keepRequestsOnThisSite(self, (origin) => self.postMessage({ type: "refused", origin }));

export const PROBE_MS = 300; // as the audit's probe_s (facecoach/coaching/data/hands.yaml)
export const MASK_MARGIN = 0.25; // as sparse_hands.MASK_MARGIN: A's box grown by this × its size
const MASK_GREY = "rgb(128,128,128)";

const lanes = { a: null, b: null };
let lastTs = -1;
let bTracking = false;
let bLastProbe = -Infinity;
let mask = null; // OffscreenCanvas: the frame with A's hand painted over

async function init(msg) {
  const vision = await import(msg.visionModule);
  // `true`: the ES-module build of the WASM loader (a module worker has no importScripts).
  const fileset = await vision.FilesetResolver.forVisionTasks(msg.wasmUrl, true);
  const options = {
    baseOptions: { modelAssetPath: msg.modelUrl, delegate: "CPU" },
    runningMode: "VIDEO",
    numHands: 1,
    minHandDetectionConfidence: 0.5,
    minHandPresenceConfidence: 0.5,
    minTrackingConfidence: 0.5,
  };
  // The library loads the WASM loader by import() and clears self.ModuleFactory once a task has used it; a
  // module is imported once, so the second lane would find no factory: both get it from here.
  const factory = (await import(fileset.wasmLoaderPath)).default;
  self.ModuleFactory = factory;
  lanes.a = await vision.HandLandmarker.createFromOptions(fileset, options);
  self.ModuleFactory = factory;
  lanes.b = await vision.HandLandmarker.createFromOptions(fileset, options);
  // One detection on a blank picture proves the pipeline runs here (WASM and the worker's WebGL context).
  const probe = new OffscreenCanvas(64, 64);
  probe.getContext("2d").fillRect(0, 0, 64, 64);
  lanes.a.detectForVideo(probe, 0);
  lanes.b.detectForVideo(probe, 0);
  lastTs = 0;
}

/** The frame with each hand's grown image box painted grey (as sparse_hands.painted_over). */
function paintedOver(bitmap, hands, w, h) {
  if (!mask || mask.width !== w || mask.height !== h) mask = new OffscreenCanvas(w, h);
  const g = mask.getContext("2d");
  g.drawImage(bitmap, 0, 0, w, h);
  g.fillStyle = MASK_GREY;
  for (const hand of hands) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let k = 0; k < hand.points.length; k += 3) {
      x0 = Math.min(x0, hand.points[k]);
      x1 = Math.max(x1, hand.points[k]);
      y0 = Math.min(y0, hand.points[k + 1]);
      y1 = Math.max(y1, hand.points[k + 1]);
    }
    const gx = MASK_MARGIN * (x1 - x0);
    const gy = MASK_MARGIN * (y1 - y0);
    const left = Math.floor(x0 - gx);
    const top = Math.floor(y0 - gy);
    g.fillRect(left, top, Math.ceil(x1 + gx) + 1 - left, Math.ceil(y1 + gy) + 1 - top);
  }
  return mask;
}

/** Lane B's look beside A's hands: every frame while it follows a hand, else every PROBE_MS. */
function laneB(bitmap, aHands, ts, w, h) {
  if (!bTracking && ts - bLastProbe < PROBE_MS) return null;
  if (!bTracking) bLastProbe = ts;
  const image = aHands.length ? paintedOver(bitmap, aHands, w, h) : bitmap;
  const found = handsFromResult(lanes.b.detectForVideo(image, ts), w, h);
  bTracking = found.length > 0;
  return found;
}

function onDetect(msg) {
  const { bitmap, w, h } = msg;
  // VIDEO mode needs strictly increasing timestamps (ms).
  const ts = Math.max(msg.ts, lastTs + 1);
  lastTs = ts;
  const t0 = performance.now();
  const hands = handsFromResult(lanes.a.detectForVideo(bitmap, ts), w, h);
  let used = "A";
  if (msg.numHands !== 1) {
    const second = laneB(bitmap, hands, ts, w, h);
    if (second) {
      used = "AB";
      hands.push(...second.slice(0, 2 - hands.length));
    }
  } else bTracking = false;
  const ms = performance.now() - t0;
  self.postMessage(
    { type: "hands", ts: msg.ts, hands, ms, lanes: used },
    hands.map((hand) => hand.points.buffer),
  );
}

// One message at a time, in order.
let queue = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data;
  queue = queue.then(async () => {
    if (msg.type === "init") {
      try {
        await init(msg);
        self.postMessage({ type: "ready" });
      } catch (e) {
        lanes.a = lanes.b = null;
        self.postMessage({ type: "failed", error: String((e && e.message) || e) });
      }
    } else if (msg.type === "detect") {
      try {
        if (!lanes.a) throw new Error("the hand model is not loaded");
        onDetect(msg);
      } catch (e) {
        self.postMessage({ type: "hands", ts: msg.ts, hands: null, ms: 0, error: String(e) }); // not looked
      } finally {
        msg.bitmap.close();
      }
    }
  });
};
