"""Benchmark of the hands: Hand Landmarker cost per frame, face + hands together, and the stroke analyser.

Run: ``.venv/bin/python bench/bench_hands.py [--frames N]``

Prints, over the real frames of ../shared/data/woman_expressions_24fps.mp4 (640×360; her hand is on her
face from ~2.4 s to ~9.5 s), VIDEO running mode, CPU, one thread each, after a warm-up frame:

* **hands**: ``HandTracker.detect`` ms/frame, wall and CPU, over frames with and without a hand;
* **face + hands**: the Face Landmarker and the Hand Landmarker on the same frame, plus putting the hand in
  face mm (``hand_in_face_mm``) — what a massage step costs per frame on this machine;
* **stroke analyser**: ``StrokeAnalyser.update`` µs/frame over those working points;
* **audit speed** (``--audit``): ``audit_video(CLIP, "lymph-drainage")`` (face + hands on the analysed
  frames, 10/s, two face landmarkers and the sparse hand tracker on their own threads), the same with
  ``thorough_hands`` (a two-hand tracker on every analysed frame), and the analysis without hands, as ×
  real time (goal: ≥ 10×); ``bench/bench_audit_speed.py`` measures every kind of audit.

The machine may be shared: the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from facecoach.coaching.stroke_specs import stroke_spec
from facecoach.coaching.strokes import StrokeAnalyser, face_box
from facecoach.knowledge import load_library
from facecoach.vision.geometry import face_aligned_mm
from facecoach.vision.hands import HandTracker, hand_in_face_mm, working_point
from facecoach.vision.landmarks import FaceLandmarker

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "woman_expressions_24fps.mp4"


def read_frames(limit: int) -> tuple[list[np.ndarray], float]:
    cap = cv2.VideoCapture(str(CLIP))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while len(frames) < limit:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    cap.release()
    return frames, fps


def timed(label: str, frames: list[np.ndarray], fps: float, step: object) -> None:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i, rgb in enumerate(frames, start=1):
        step(rgb, i / fps)  # type: ignore[operator]
    wall = (time.perf_counter() - wall0) / len(frames) * 1000
    cpu = (time.process_time() - cpu0) / len(frames) * 1000
    print(f"{label:<34} {wall:6.1f} ms/frame wall  {cpu:6.1f} ms/frame CPU  ({len(frames)} frames)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=472)
    parser.add_argument("--audit", action="store_true", help="only the audit speed with and without hands")
    args = parser.parse_args()
    if args.audit:
        audit_speed()
        return
    frames, fps = read_frames(args.frames)
    size = f"{frames[0].shape[1]}×{frames[0].shape[0]}"
    print(f"{CLIP.name}: {len(frames)} frames {size}, load average {os.getloadavg()}")

    with HandTracker(mode="video") as hands:
        hands.detect(frames[0], 0.0)
        found = [0]

        def hand_step(rgb: np.ndarray, t: float) -> None:
            found[0] += bool(hands.detect(rgb, t).hands)

        timed("hands", frames, fps, hand_step)
        print(f"{'':<34} a hand in {found[0]} of {len(frames)} frames")

    points: list[tuple[float, list[tuple[float, float]], object]] = []
    with HandTracker(mode="video") as hands, FaceLandmarker(mode="video", max_faces=1) as faces:
        hands.detect(frames[0], 0.0)
        faces.detect(frames[0], 0.0)

        def both_step(rgb: np.ndarray, t: float) -> None:
            seen = hands.detect(rgb, t).hands
            result = faces.detect(rgb, t)
            if not result.faces:
                points.append((t, [], None))
                return
            face = result.faces[0]
            wps = [working_point(hand_in_face_mm(h, face)) for h in seen]
            points.append((t, wps, face_box(face_aligned_mm(face))))

        timed("face + hands (+ hand in face mm)", frames, fps, both_step)

    analyser = StrokeAnalyser(stroke_spec(load_library().technique("lymph-drainage")))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for t, wps, box in points:
        analyser.update(t, wps, box)  # type: ignore[arg-type]
    analyser.finish()
    wall_us = (time.perf_counter() - wall0) / len(points) * 1e6
    cpu_us = (time.process_time() - cpu0) / len(points) * 1e6
    moves = len(analyser.summary.strokes)
    label = "stroke analyser (µs, not ms)"
    print(f"{label:<34} {wall_us:6.0f} µs/frame wall  {cpu_us:6.0f} µs/frame CPU  ({moves} movements)")


def audit_speed() -> None:
    from facecoach.coaching.audit import analyse_video, audit_video
    from facecoach.config import InputLimits

    print(f"{CLIP.name}: load average {os.getloadavg()}")
    analyse_video(CLIP, limits=InputLimits())  # warm-up: MediaPipe's import and first graphs
    for label, run in (
        (
            "audit --technique lymph-drainage",
            lambda: audit_video(CLIP, "lymph-drainage", limits=InputLimits()),
        ),
        (
            "the same, thorough hands",
            lambda: audit_video(CLIP, "lymph-drainage", limits=InputLimits(), thorough_hands=True),
        ),
        ("analysis without hands", lambda: analyse_video(CLIP, limits=InputLimits(), hands=False)),
    ):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        result = run()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        duration = float(getattr(result, "duration_s", 0.0))
        print(
            f"{label:<34} {wall:6.2f} s wall, {cpu:6.2f} s CPU for {duration:.1f} s of video: "
            f"{duration / wall:5.1f}× real time (wall), {duration / cpu:5.1f}× per CPU second"
        )


if __name__ == "__main__":
    main()
