"""Benchmark of live coaching with hands (issue 13): the browser's cost per frame with the Face and Hand
Landmarkers together, and the server's cost per frame with hands.

Run: ``.venv/bin/python bench/bench_live_hands.py [--frames 120]``

Frames are real: a real hand (cut out of ``woman_expressions_24fps.mp4`` with GrabCut) stroking over a real
face photo (``tests/live/hand_clips.py``, 512×512, the clip of the end-to-end test). It prints, with the
load average at the time (this 2-core machine is shared: the figures are pessimistic):

* browser (headless Chromium, ``@mediapipe/tasks-vision``, WebAssembly, CPU delegate, VIDEO mode, the
  page's own ``hands.js``): ms per frame for the face model alone, for the hand model, for both one
  after the other on the page's thread (as before the worker), and — as the live page runs them now —
  the face on the page's thread with the hands in the page's worker (``hands-worker.js``, two one-hand
  lanes) on the same frame: each model's ms and the frame's wall time, p50/p90, and the frame rate that
  allows (goal ≥ 15 frames/s). The load average is printed before and after each part.
* server, landmarks mode: decoding a landmark frame with the hands block plus the live session (the
  evaluator, hands in the face frame, the stroke analyser), ms per frame (p50/p99);
* server, JPEG mode: JPEG decoding, the Python Face and Hand Landmarkers, crease energy, ms per frame.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from facecoach.coaching.evaluator import evaluator_for  # noqa: E402
from facecoach.config import LiveSettings  # noqa: E402
from facecoach.knowledge.library import load_library  # noqa: E402
from facecoach.live.protocol import (  # noqa: E402
    Control,
    JpegFrame,
    LandmarkFrame,
    decode_frame,
    encode_jpeg,
    encode_landmarks,
)
from facecoach.live.server_mode import ServerLandmarker  # noqa: E402
from facecoach.live.session import LiveSession, library_specs, library_strokes  # noqa: E402
from facecoach.vision.hands import HandTracker  # noqa: E402
from facecoach.vision.landmarks import FaceLandmarker  # noqa: E402
from tests.live.hand_clips import MASSAGE, load_scene, massage_clip  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def browser(frames: list[np.ndarray]) -> None:
    from playwright.sync_api import sync_playwright

    from tests.live.vision_page import vision_page

    with sync_playwright() as pw, vision_page(pw, frames) as page:
        page.evaluate("n => window.runFrames(n, 2, 24)", min(24, len(frames)))  # warm-up
        page.evaluate("n => window.runWorker(n, 2, 24)", min(24, len(frames)))
        print(f"  load before the worker runs: {load()}")
        worker = {k: page.evaluate(f"n => window.runWorker(n, {k}, 24)", len(frames)) for k in (2, 1)}
        print(f"  load before the one-thread runs: {load()}")
        face_only = page.evaluate("n => window.runFrames(n, 0, 24)", len(frames))
        both = page.evaluate("n => window.runFrames(n, 2, 24)", len(frames))
        one = page.evaluate("n => window.runFrames(n, 1, 24)", len(frames))
        print(f"  load after: {load()}")
    face_ms = [f["face_ms"] for f in face_only]
    hand_ms = [f["hand_ms"] for f in both]
    total = [f["face_ms"] + f["hand_ms"] for f in both]
    print(f"browser, {len(frames)} frames {frames[0].shape[1]}×{frames[0].shape[0]}:")
    for k, rows in worker.items():
        lanes = sum(r["lanes"] == "AB" for r in rows)
        face = pct([r["face_ms"] for r in rows], 50)
        hand = pct([r["hand_ms"] for r in rows], 50)
        frame50, frame90 = pct([r["frame_ms"] for r in rows], 50), pct([r["frame_ms"] for r in rows], 90)
        print(
            f"  worker, numHands {k} (face here, hands there): face p50 {face:5.1f} ms,"
            f" hands p50 {hand:5.1f} ms (lane B on {lanes} of {len(rows)} frames),"
            f" frame p50 {frame50:5.1f} ms p90 {frame90:5.1f} ms → {1000 / frame50:5.1f} frames/s at p50"
            f" (goal ≥ 15); hands found in {sum(bool(r['hands']) for r in rows)} of {len(rows)} frames"
        )
    print("  one after the other on the page's thread (before the worker):")
    print(f"  face alone      p50 {pct(face_ms, 50):6.1f} ms  p90 {pct(face_ms, 90):6.1f} ms")
    print(f"  hands           p50 {pct(hand_ms, 50):6.1f} ms  p90 {pct(hand_ms, 90):6.1f} ms")
    print(
        f"  face + hands    p50 {pct(total, 50):6.1f} ms  p90 {pct(total, 90):6.1f} ms"
        f"  → {1000 / pct(total, 50):5.1f} frames/s at p50 (goal ≥ 15)"
    )
    print(f"  hands found in {sum(bool(f['hands']) for f in both)} of {len(both)} frames")
    one_ms = [f["hand_ms"] for f in one]
    print(
        f"  hands, numHands 1 p50 {pct(one_ms, 50):6.1f} ms  p90 {pct(one_ms, 90):6.1f} ms"
        " (with 2 the palm detector runs on every frame that shows fewer than 2 hands)"
    )


def server(frames: list[np.ndarray], fps: float) -> None:
    library = load_library()
    limits = LiveSettings()
    messages: list[bytes] = []
    with FaceLandmarker(mode="video", max_faces=1) as fl, HandTracker(mode="video") as ht:
        for i, rgb in enumerate(frames):
            t = i / fps
            faces = fl.detect(rgb, t).faces
            hands = ht.detect(rgb, t).hands
            if not faces:
                continue
            f = faces[0]
            block = [(h.score, h.label, h.points_px) for h in hands]
            size = (rgb.shape[1], rgb.shape[0])
            messages.append(encode_landmarks(i + 1, t * 1000, size, f.points_px, f.blendshapes, None, block))
    session = LiveSession(library_specs(library), evaluator_for, 60, strokes=library_strokes(library))
    session.control(Control(type="start", technique=MASSAGE))
    cost: list[float] = []
    for data in messages:
        t0 = time.perf_counter()
        frame = decode_frame(data, limits)
        assert isinstance(frame, LandmarkFrame)
        session.frame(frame.face, frame.header.timestamp_ms / 1000, frame.hands)
        cost.append((time.perf_counter() - t0) * 1000)
    print(
        f"server, landmarks mode with hands ({len(cost)} frames): decode + session"
        f" p50 {pct(cost, 50):.2f} ms  p99 {pct(cost, 99):.2f} ms"
    )
    lm = ServerLandmarker()
    jpeg_cost: list[float] = []
    cpu0 = time.process_time()
    try:
        for i, rgb in enumerate(frames):
            _ok, buf = cv2.imencode(
                ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
            )
            frame = decode_frame(
                encode_jpeg(i + 1, i * 1000 / fps, (rgb.shape[1], rgb.shape[0]), buf.tobytes()), limits
            )
            assert isinstance(frame, JpegFrame)
            t0 = time.perf_counter()
            lm.process(frame, hands=True)
            jpeg_cost.append((time.perf_counter() - t0) * 1000)
    finally:
        lm.close()
    cpu = (time.process_time() - cpu0) * 1000 / len(frames)
    print(
        f"server, JPEG mode, face + hands + crease ({len(frames)} frames):"
        f" wall p50 {pct(jpeg_cost, 50):.1f} ms"
        f"  p90 {pct(jpeg_cost, 90):.1f} ms, CPU {cpu:.1f} ms a frame (all threads)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--skip-browser", action="store_true")
    args = ap.parse_args()
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores")
    scene = load_scene(SHARED)
    clip = massage_clip(*scene)
    frames = clip.frames[: args.frames]
    if not args.skip_browser:
        browser(frames)
    server(frames, clip.fps)
    print(f"load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
