"""Benchmark of the face scan: speed, memory and the noise of each measure on a still face.

Run: ``.venv/bin/python bench/bench_scan.py [--photo PATH] [--seconds 10] [--fps 30]``

It builds a 640×480 still-face clip from a real photo (per frame: sensor noise σ=2, brightness ±10 %,
JPEG re-encoding at quality 70–95 — the "repeat" method of ../shared/TESTING-VISION.md), then prints:

* landmarks/s: the bare Face Landmarker (VIDEO mode) over the decoded frames;
* scan frames/s and the time of a whole scan of the file (wall and CPU, with the load average: the
  machine may be shared), for every frame and for the default subsampling (about 6 frames/s, one
  landmark pass a frame, alternating plain and mirrored trackers);
* peak memory: Python allocations (tracemalloc) and the process's maximum resident set (ru_maxrss);
* per measure: the frame-to-frame SD (1.4826 × MAD), the standard error of the clip's median
  (1.2533 × SD / √n) and the minimal detectable change between two such scans (1.96 × √2 × SE).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from facecoach.config import InputLimits
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.scan import ScanResult
from facecoach.vision.scan_file import analyse_file
from facecoach.vision.scan_video import analyse_video, video_step

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
LIMITS = InputLimits()


def still_clip(photo: Path, out: Path, seconds: float, fps: float, seed: int = 0) -> int:
    rgb = np.asarray(Image.open(photo).convert("RGB"))
    h, w = rgb.shape[:2]
    k = min(640 / w, 480 / h)
    face = cv2.resize(rgb, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 90, np.uint8)
    y0, x0 = (480 - face.shape[0]) // 2, (640 - face.shape[1]) // 2
    canvas[y0 : y0 + face.shape[0], x0 : x0 + face.shape[1]] = face
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    n = round(seconds * fps)
    for _ in range(n):
        frame = canvas.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 2.0, canvas.shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        _, jpg = cv2.imencode(
            ".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 96))]
        )
        writer.write(cv2.imdecode(jpg, cv2.IMREAD_COLOR))
    writer.release()
    return n


def decode_all(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
    cap.release()
    return frames


def noise_table(result: ScanResult) -> dict[str, tuple[float, float, float]]:
    """Per measure: frame-to-frame robust SD, SE of the clip's robust average, MDC95 between two scans."""
    assert result.noise_mm is not None
    n = result.frames_used
    out = {}
    for key, sd in result.noise_mm.model_dump().items():
        se = 1.2533 * sd / math.sqrt(n)
        out[key] = (sd, se, 1.96 * math.sqrt(2) * se)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photo", type=Path, default=SHARED / "surprise_f1.jpg")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=30.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "still.mp4"
        n = still_clip(args.photo, clip, args.seconds, args.fps)
        print(
            f"still-face clip: {n} frames, 640×480, {args.fps:g} fps, {args.seconds:g} s, "
            f"from {args.photo.name}"
        )
        frames = decode_all(clip)

        with FaceLandmarker(mode="video", max_faces=4) as lm:
            lm.detect(frames[0], 0.0)
            t0 = time.perf_counter()
            for i, rgb in enumerate(frames):
                lm.detect(rgb, (i + 1) / args.fps)
            dt = time.perf_counter() - t0
        print(
            f"landmarks: {len(frames) / dt:.0f} frames/s "
            f"({1000 * dt / len(frames):.1f} ms a frame, VIDEO mode)"
        )

        t0 = time.perf_counter()
        full = analyse_video(clip, LIMITS, step=1).result
        dt_full = time.perf_counter() - t0
        print(
            f"scan, every frame: {full.frames_used} frames in {dt_full:.2f} s = "
            f"{full.frames_used / dt_full:.0f} frames/s (decode + 1 landmark pass + gate + measures)"
        )

        c0, t0 = time.process_time(), time.perf_counter()
        analyse_file(clip, LIMITS)
        dt_plain, cpu = time.perf_counter() - t0, time.process_time() - c0
        tracemalloc.start()
        t0 = time.perf_counter()
        scan = analyse_file(clip, LIMITS)
        dt = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result: ScanResult = scan.result
        print(
            f"scan, default: whole {args.seconds:g} s file in {dt_plain:.2f} s wall, {cpu:.2f} s CPU, "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (goal < 2 s: "
            f"{'met' if dt_plain < 2 else 'NOT met'}); {result.frames_used} frames used; "
            f"notes: {result.notes}"
        )
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"memory: peak Python allocations {peak / 1e6:.1f} MB (tracemalloc), max RSS {rss_mb:.0f} MB")

        step = video_step(args.fps)
        for label, res in (("every frame", full), (f"every {step}. frame (default)", result)):
            print(f"\nnoise on the still face, {label} ({res.frames_used} frames):")
            print(f"  {'measure':24s} {'SD/frame':>9s} {'SE median':>10s} {'MDC95':>7s}")
            for key, (sd, se, mdc) in noise_table(res).items():
                unit = "°" if key.endswith("_deg") else "mm"
                print(f"  {key:24s} {sd:8.3f}{unit:2s} {se:8.3f}{unit:2s} {mdc:6.3f}{unit}")
            print(
                "  robust average: "
                + ", ".join(f"{k} {v:+.2f}" for k, v in res.asymmetry.model_dump().items())
            )

        with FaceLandmarker(mode="image", max_faces=4) as lm:
            from facecoach.vision.scan_photo import scan_image

            photo = np.asarray(Image.open(args.photo).convert("RGB"))
            scan_image(photo, lm)
            t0 = time.perf_counter()
            for _ in range(5):
                scan_image(photo, lm)
            print(f"\nphoto scan (6 landmark passes): {1000 * (time.perf_counter() - t0) / 5:.0f} ms")


if __name__ == "__main__":
    main()
