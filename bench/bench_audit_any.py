"""Benchmark of the audit of any video (``facecoach audit VIDEO`` without ``--technique``).

Run: ``.venv/bin/python bench/bench_audit_any.py [--seconds 60]``

Prints:

* **speed** (goal ≥ 10× real time, one process): ``audit_any`` on a 640×480, 30 fps mp4 of a warped real
  face doing three exercises with rests, as a multiple of the video's duration (wall and CPU), next to
  ``audit_video`` of the same file for one technique; and on ../shared/data/woman_expressions_24fps.mp4;
* **accuracy** on the test tutorials of tests/coaching/test_tutorial.py (happy_f15.jpg warped, 10 fps):
  per known segment the error of its start and end (s), the technique recognised and its confidence.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests/coaching (the warped-face videos)

from facecoach.coaching.audit import (  # noqa: E402
    AnalysisStats,
    analyse,
    audit_any,
    audit_frames,
    audit_video,
)
from facecoach.config import InputLimits  # noqa: E402
from facecoach.vision.landmarks import FaceLandmarker  # noqa: E402
from tests.coaching.synth import FaceWarper, Script, Segment, render  # noqa: E402
from tests.coaching.test_tutorial import FPS, TECHNIQUE_OF, TUTORIALS, moving, tutorial  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
LIMITS = InputLimits()


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores"


def _rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path))
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(bgr[..., ::-1])


def _timed(fn: object, *args: object, **kw: object) -> tuple[object, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)  # type: ignore[operator]
    return out, time.perf_counter() - w0, time.process_time() - c0


def bench_speed(seconds: float) -> None:
    canvas = np.full((480, 640, 3), 90, np.uint8)
    canvas[:, 80:560] = cv2.resize(_rgb(SHARED / "happy_f15.jpg"), (480, 480), interpolation=cv2.INTER_AREA)
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        warper = FaceWarper(canvas, lm.detect(canvas).faces[0].points_px)
    script, _known = tutorial(TUTORIALS["clean"])
    script.segments.append(Segment(max(0.0, seconds - script.duration_s)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tutorial_640x480.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
        for _t, rgb in render(warper, Script(script.segments), 30.0):
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        writer.release()
        stats = AnalysisStats()
        found, wall, cpu = _timed(audit_any, path, limits=LIMITS, stats=stats)
        _plain, wall_plain, cpu_plain = _timed(audit_any, path, limits=LIMITS, gate=False)
        one, wall_one, _cpu_one = _timed(audit_video, path, "smile-lift", limits=LIMITS)
    duration = found.duration_s  # type: ignore[attr-defined]
    techniques = [s.technique for s in moving(found)]  # type: ignore[arg-type]
    print("## Speed without --technique (goal ≥ 10× real time, one process)")
    print(f"video: 640×480, 30 fps, {duration:.1f} s; techniques found {techniques}")
    print(
        f"audit_any: {wall:.2f} s wall ({duration / wall:.1f}× real time), "
        f"{cpu:.2f} s CPU ({duration / cpu:.1f}× real time on one busy core)"
    )
    print(
        f"  analysed frames: {stats.analysed} through the Face Landmarker, {stats.reused} took the previous "
        f"landmarks (still-face gate), {stats.hand_still} let the hands put a probe off"
    )
    print(
        f"audit_any without the gates (as before): {duration / wall_plain:.1f}× real time wall, "
        f"{duration / cpu_plain:.1f}× per CPU second"
    )
    print(f"audit_video (--technique smile-lift), same file: {duration / wall_one:.1f}× real time")
    clip_stats = AnalysisStats()
    clip = SHARED / "woman_expressions_24fps.mp4"
    _r, wall_clip, cpu_clip = _timed(audit_any, clip, limits=LIMITS, stats=clip_stats)
    print(
        f"woman_expressions_24fps.mp4 (640×360, 19.7 s): {19.69 / wall_clip:.1f}× real time wall, "
        f"{19.69 / cpu_clip:.1f}× per CPU second ({clip_stats.analysed} + {clip_stats.reused} reused); "
        "stages per frame: bench/bench_audit_speed.py"
    )
    del one
    print(_load())
    print()


def bench_accuracy() -> None:
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        image = _rgb(SHARED / "happy_f15.jpg")
        warper = FaceWarper(image, lm.detect(image).faces[0].points_px)
    print("## Accuracy on the test tutorials (happy_f15.jpg warped, 10 fps)")
    print("| tutorial | known segment | start error (s) | end error (s) | found as | confidence |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for name, parts in TUTORIALS.items():
        script, known = tutorial(parts)
        with FaceLandmarker(mode="video", max_faces=1) as lm:
            frames = list(analyse(render(warper, script, FPS), lm))
        result = audit_frames(frames, FPS, script.duration_s)
        found = moving(result)
        for k, seg in zip(known, found, strict=False):
            d0, d1 = seg.start_s - k.start_s, seg.end_s - k.end_s
            worst = max(worst, abs(d0), abs(d1))
            what = seg.technique or f"unrecognised ({seg.action})"
            want = TECHNIQUE_OF.get(k.move, "—")
            print(
                f"| {name} | {k.move} {k.start_s:.1f}–{k.end_s:.1f} s (want {want}) | {d0:+.2f} | {d1:+.2f} "
                f"| {what} | {seg.confidence:.2f} |"
            )
        print(f"| {name} | verdict | | | {result.verdict.level} | |")
    print(f"largest boundary error: {worst:.2f} s")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the speed test video")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    bench_speed(args.seconds)
    if not args.skip_accuracy:
        bench_accuracy()


if __name__ == "__main__":
    main()
