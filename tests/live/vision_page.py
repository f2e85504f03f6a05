"""A headless Chromium page with ``@mediapipe/tasks-vision``, both verified model bundles and the live
page's own scripts, on a fake origin: for the parity test (the page's hand points vs Python's on the same
frames) and ``bench/bench_live_hands.py`` (the cost of both models in the browser).

``window.runFrames(n, hands, fps)`` runs the Face and (``hands`` 1 or 2: ``numHands``; 0: none) the Hand
Landmarker in VIDEO mode over
frames ``/frames/0.png`` … ``n-1``, drawn on a canvas as the live page draws the camera, and returns per
frame the hands as ``static/live/hands.js`` reads them and the time each model took (ms), one model after
the other on the page's thread.

``window.runWorker(n, hands, fps)`` does what the live page does: the Hand Landmarker in the page's own
worker (``static/live/hands-worker.js``: two one-hand lanes, ``hands`` = the step's ``numHands``) on a
transferred ImageBitmap of the frame while the Face Landmarker runs on the page's thread; per frame the
hands, each model's time and the frame's wall time (ms).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tests.support.browser import STATIC_DIR, launch

REPO = Path(__file__).resolve().parents[2]
TASKS_VISION = REPO / "node_modules" / "@mediapipe" / "tasks-vision"
ORIGIN = "http://facecoach.test/"

PAGE = """<!doctype html><html><body><canvas id="c"></canvas><script type="module">
import { FilesetResolver, FaceLandmarker, HandLandmarker } from "/tv/vision_bundle.mjs";
import { handsFromResult } from "/live/hands.js";
const files = await FilesetResolver.forVisionTasks("/tv/wasm");
const face = await FaceLandmarker.createFromOptions(files, {
  baseOptions: { modelAssetPath: "/models/face_landmarker.task", delegate: "CPU" }, runningMode: "VIDEO",
  numFaces: 1, outputFaceBlendshapes: true, outputFacialTransformationMatrixes: false });
const handOptions = (numHands) => ({
  baseOptions: { modelAssetPath: "/models/hand_landmarker.task", delegate: "CPU" }, runningMode: "VIDEO",
  numHands, minHandDetectionConfidence: 0.5, minHandPresenceConfidence: 0.5, minTrackingConfidence: 0.5 });
const hands = { 1: await HandLandmarker.createFromOptions(files, handOptions(1)),
  2: await HandLandmarker.createFromOptions(files, handOptions(2)) };
const worker = new Worker("/live/hands-worker.js", { type: "module" });
const replies = [];
const workerReady = new Promise((resolve, reject) => {
  worker.onmessage = (ev) => {
    const m = ev.data;
    if (m.type === "ready") resolve();
    else if (m.type === "failed") reject(new Error(m.error));
    else if (m.type === "hands") replies.shift()(m);
  };
});
worker.postMessage({ type: "init", visionModule: new URL("/tv/vision_bundle.mjs", location.href).href,
  wasmUrl: new URL("/tv/wasm", location.href).href,
  modelUrl: new URL("/models/hand_landmarker.task", location.href).href });
await workerReady;
let clock = 0;
window.runWorker = async (n, numHands, fps) => {
  const out = [];
  const c = document.getElementById("c");
  const g = c.getContext("2d", { willReadFrequently: true });
  for (let i = 0; i < n; i++) {
    const im = new Image(); im.src = `/frames/${i}.png`; await im.decode();
    c.width = im.naturalWidth; c.height = im.naturalHeight; g.drawImage(im, 0, 0);
    clock += 1000 / fps;
    const t0 = performance.now();
    const bitmap = await createImageBitmap(c);
    const reply = new Promise((resolve) => replies.push(resolve));
    worker.postMessage({ type: "detect", bitmap, ts: clock, w: c.width, h: c.height, numHands }, [bitmap]);
    const f = face.detectForVideo(c, clock);
    const t1 = performance.now();
    const h = await reply;
    const t2 = performance.now();
    out.push({ face: !!(f.faceLandmarks && f.faceLandmarks.length), face_ms: t1 - t0, hand_ms: h.ms,
      frame_ms: t2 - t0, lanes: h.lanes, hands: (h.hands || []).map((x) => ({ score: x.score, label: x.label,
        points: Array.from(x.points) })) });
  }
  return out;
};
window.runFrames = async (n, withHands, fps) => {
  const hand = hands[withHands === 1 ? 1 : 2];
  const out = [];
  const c = document.getElementById("c");
  const g = c.getContext("2d", { willReadFrequently: true });
  for (let i = 0; i < n; i++) {
    const im = new Image(); im.src = `/frames/${i}.png`; await im.decode();
    c.width = im.naturalWidth; c.height = im.naturalHeight; g.drawImage(im, 0, 0);
    clock += 1000 / fps;
    const t0 = performance.now();
    const f = face.detectForVideo(c, clock);
    const t1 = performance.now();
    const h = withHands ? hand.detectForVideo(c, clock) : null;
    const t2 = performance.now();
    out.push({ face: !!(f.faceLandmarks && f.faceLandmarks.length), face_ms: t1 - t0, hand_ms: t2 - t1,
      hands: h ? handsFromResult(h, c.width, c.height).map((x) => ({ score: x.score, label: x.label,
        points: Array.from(x.points) })) : null });
  }
  return out;
};
window.ready = true;
</script></body></html>"""


@contextlib.contextmanager
def vision_page(playwright: Any, frames: Sequence[np.ndarray]) -> Iterator[Any]:
    """The page, ready (both models loaded), with ``frames`` (RGB) served as PNGs."""
    from facecoach.vision.hand_model import hand_model_bytes
    from facecoach.vision.model import model_path

    pngs = [cv2.imencode(".png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))[1].tobytes() for f in frames]
    models = {"face_landmarker.task": model_path().read_bytes(), "hand_landmarker.task": hand_model_bytes()}
    browser = launch(playwright)

    def serve(route: Any) -> None:
        name = route.request.url.split(ORIGIN, 1)[-1].split("?")[0]
        kind, _, rest = name.partition("/")
        if name == "index.html":
            route.fulfill(status=200, content_type="text/html", body=PAGE)
        elif kind == "tv" and (TASKS_VISION / rest).is_file():
            ctype = "application/wasm" if rest.endswith(".wasm") else "text/javascript"
            route.fulfill(status=200, content_type=ctype, body=(TASKS_VISION / rest).read_bytes())
        elif kind == "live" and (STATIC_DIR / "live" / rest).is_file():
            route.fulfill(
                status=200, content_type="text/javascript", body=(STATIC_DIR / "live" / rest).read_text()
            )
        elif kind == "models" and rest in models:
            route.fulfill(status=200, content_type="application/octet-stream", body=models[rest])
        elif kind == "frames" and rest.removesuffix(".png").isdigit() and int(rest[:-4]) < len(pngs):
            route.fulfill(status=200, content_type="image/png", body=pngs[int(rest[:-4])])
        else:
            route.fulfill(status=404, body="")

    try:
        page = browser.new_page()
        page.route(ORIGIN + "**", serve)
        page.goto(ORIGIN + "index.html")
        page.wait_for_function("window.ready === true", timeout=180_000)
        yield page
    finally:
        browser.close()
