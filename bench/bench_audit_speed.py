"""Benchmark of audit speed, the three kinds of audit: a massage with hands, any video, one exercise.

Run: ``.venv/bin/python bench/bench_audit_speed.py [--thorough] [--repeat 2]``
(on a shared machine, also ``taskset -c 0,1`` and note what else runs: the load average is printed).

Prints, as × real time (the video's duration over the wall time of the call; goal ≥ 10× for each, one
process, this 2-core machine) and per CPU second, after a warm-up audit (MediaPipe's import and first
graph set-up, ≈ 1–2 s once per process, are not counted):

* **massage with hands** — ``audit_video(…, "lymph-drainage")`` on ../shared/data/woman_expressions_24fps.mp4
  (640×360, 24 fps, 19.7 s, her hand on her face 2.4–9.5 s), and ``audit_video(…, "cheek-release")`` on a
  real hand cut out of that clip and stroked over happy_f15.jpg (the test massage of
  tests/coaching/test_audit_hands.py, 24 fps), the hand on the face most of the time;
* **without --technique** — ``audit_any`` on the real clip, and on a 640×480, 30 fps warped-face tutorial
  (three exercises with rests, happy_f15.jpg);
* **exercise with --technique** — ``audit_video(…, "smile-lift")`` on the real clip and on that tutorial.

The *bound on 2 cores* is the most that audit could reach on this machine: the CPU of decoding, the face and
the hands spread perfectly over both cores, plus the review (which runs after them), per video frame.

Each row also gives the CPU milliseconds per video frame (all frames, analysed or not) by stage —
decoding, the face (Face Landmarker and crease measures), the hands, and the review (calibration,
segments or evaluator, strokes) — the stages run again one after the other on the same frames, timed by
the process's CPU time (MediaPipe's own threads included), so they hold on a loaded machine; how many
analysed frames ran the face model and how many took the previous frame's landmarks (the still-face
gate, ``coaching/data/audit.yaml``); and how many frames let the hands put a probe off.

With ``--before`` each is also run without the gates (the frame loop as before); with ``--thorough`` with
``thorough_hands=True`` (a two-hand tracker on every analysed frame, the way before
:mod:`facecoach.vision.sparse_hands`), for the comparison.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # for tests/ (the composited and warped videos)

from facecoach.coaching.audit import (  # noqa: E402
    AnalysedVideo,
    AnalysisStats,
    _hand_lane,
    _still_near_face,
    _tracked_presence,
    analyse,
    audit_any,
    audit_frames,
    audit_massage,
    audit_video,
    evaluate,
    resolve_spec,
)
from facecoach.coaching.audit_settings import load_audit_settings  # noqa: E402
from facecoach.coaching.stroke_specs import StrokeSpec  # noqa: E402
from facecoach.config import InputLimits  # noqa: E402
from facecoach.vision.landmarks import FaceLandmarker  # noqa: E402
from facecoach.vision.sources import VideoSource  # noqa: E402
from facecoach.vision.sparse_hands import SparseHandTracker  # noqa: E402
from facecoach.vision.still_gate import grey_frame  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
CLIP = SHARED / "woman_expressions_24fps.mp4"
LIMITS = InputLimits()


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def _uptime() -> str:
    import subprocess

    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return _load()


def _duration(path: Path) -> float:
    cap = cv2.VideoCapture(str(path))
    frames, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return float(frames / fps)


def massage_video(folder: Path) -> Path:
    from tests.coaching.test_audit_hands import strokes_video
    from tests.coaching.test_strokes import CLIP as HAND_CLIP
    from tests.coaching.test_strokes import EAR, HAND_FRAME, NOSE_SIDE, Scene
    from tests.support.hand_paste import cut_hand, hand_points_in_clip

    rgb, points = hand_points_in_clip(SHARED / HAND_CLIP, HAND_FRAME)
    face = np.ascontiguousarray(np.asarray(Image.open(SHARED / "happy_f15.jpg").convert("RGB")))
    return strokes_video(Scene(face, cut_hand(rgb, points)), folder / "massage.mp4", NOSE_SIDE, EAR, "right")


def tutorial_video(folder: Path, seconds: float = 60.0) -> Path:
    from tests.coaching.synth import FaceWarper, Script, Segment, render
    from tests.coaching.test_tutorial import TUTORIALS, tutorial

    canvas = np.full((480, 640, 3), 90, np.uint8)
    face = np.asarray(Image.open(SHARED / "happy_f15.jpg").convert("RGB"))
    canvas[:, 80:560] = cv2.resize(face, (480, 480), interpolation=cv2.INTER_AREA)
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        warper = FaceWarper(canvas, lm.detect(canvas).faces[0].points_px)
    script, _known = tutorial(TUTORIALS["clean"])
    script.segments.append(Segment(max(0.0, seconds - script.duration_s)))
    path = folder / "tutorial_640x480.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
    for _t, rgb in render(warper, Script(script.segments), 30.0):
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def stages(path: Path, technique: str | None, gate: bool) -> dict[str, float]:
    """CPU ms per video frame of each stage of one audit, run one after the other on the same frames
    (process CPU time, MediaPipe's own threads included, so the figures hold under load): decoding and
    colour conversion; the face (Face Landmarker, crease measures, the still-face gate); the hands (the
    sparse tracker with the probe gate); the review (calibration, segments or evaluator, strokes)."""
    settings = load_audit_settings()
    still = settings.still_gate.gate() if gate else None
    hand_gate = settings.hand_gate() if gate else None
    with VideoSource(path, LIMITS) as source:
        fps = source.info.fps
        step = max(1, round(fps / settings.analysis_fps))
        c0 = time.process_time()
        frames = list(source.frames(step))
        decode = time.process_time() - c0
        read = source.frames_read
    face_stats = AnalysisStats()
    with FaceLandmarker(mode="video", max_faces=1) as lm:
        c0 = time.process_time()
        faces = list(analyse(frames, lm, gate=still, stats=face_stats))
        face = time.process_time() - c0
    # The hands alone, told what the audit tells them (nothing changed near the face of the frame before).
    greys = [grey_frame(rgb) for _t, rgb in frames]
    flags = [False]
    for i in range(1, len(frames)):
        flags.append(_still_near_face(greys[i], greys[i - 1], faces[i - 1][1], hand_gate))
    with _hand_lane(False) as tracker:
        assert isinstance(tracker, SparseHandTracker)
        c0 = time.process_time()
        for (t, rgb), flag in zip(frames, flags, strict=True):
            tracker.push(rgb, t, flag)
        hand_frames = tracker.finish()
        hands = time.process_time() - c0
    duration = read / fps
    video = AnalysedVideo(faces, fps, duration, frames[0][1].shape[1], frames[0][1].shape[0], [], hand_frames)
    c0 = time.process_time()
    if technique is None:
        audit_frames(faces, fps, duration, [], _tracked_presence(video), hand_frames)
    else:
        spec = resolve_spec(technique)
        if isinstance(spec, StrokeSpec):
            audit_massage(video, spec)
        else:
            evaluate(faces, spec, fps)
    review = time.process_time() - c0
    per = 1000.0 / max(1, read)
    return {"decode": decode * per, "face": face * per, "hands": hands * per, "review": review * per}


def timed(label: str, path: Path, technique: str | None, thorough: bool, gate: bool, repeat: int) -> None:
    """The best of ``repeat`` runs of the audit (× real time by wall and by process CPU time), then its
    stages one after the other (CPU ms per video frame, see :func:`stages`)."""
    run = _audit(path, technique, thorough, gate)
    duration = _duration(path)
    best: tuple[float, float, AnalysisStats] | None = None
    load = _load()
    for _ in range(repeat):
        stats = AnalysisStats()
        w0, c0 = time.perf_counter(), time.process_time()
        run(stats)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if best is None or cpu < best[1]:
            best = (wall, cpu, stats)
    assert best is not None
    wall, cpu, st = best
    per = stages(path, technique, gate)
    # The most this audit could reach here: its stages' CPU spread over both cores, the review after them.
    frame_ms = 1000.0 * duration / max(1, st.frames_read)
    bound = frame_ms / ((per["decode"] + per["face"] + per["hands"]) / 2 + per["review"])
    print(
        f"| {label} | {path.name} ({duration:.1f} s) | {duration / wall:.1f}× | {duration / cpu:.1f}× | "
        f"{cpu / max(1, st.frames_read) * 1000:.1f} | {per['decode']:.1f} | {per['face']:.1f} | "
        f"{per['hands']:.1f} | {per['review']:.1f} | {bound:.1f}× | {st.analysed}+{st.reused} | "
        f"{st.hand_still} | {load} |",
        flush=True,
    )


Run = Callable[[AnalysisStats], object]


def _audit(path: Path, technique: str | None, thorough: bool, gate: bool) -> Run:
    kw = {"limits": LIMITS, "thorough_hands": thorough, "gate": gate}
    if technique is None:
        return lambda st: audit_any(path, stats=st, **kw)  # type: ignore[arg-type]
    return lambda st: audit_video(path, technique, stats=st, **kw)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--thorough", action="store_true", help="also the thorough hands, for comparison")
    parser.add_argument("--before", action="store_true", help="also without audit.yaml's gates")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the least CPU is printed")
    args = parser.parse_args()
    ways = [(False, True)]
    ways += [(False, False)] if args.before else []
    ways += [(True, True)] if args.thorough else []
    with tempfile.TemporaryDirectory() as tmp:
        massage, tut = massage_video(Path(tmp)), tutorial_video(Path(tmp))
        audit_video(massage, "cheek-release", limits=LIMITS)  # warm-up: imports, first graphs
        affinity = sorted(os.sched_getaffinity(0))
        print(f"## Audit speed (goal ≥ 10× real time), {os.cpu_count()} cores, this process on {affinity}")
        print(f"uptime: {_uptime()}")
        print(
            "| audit | video | × real time (wall) | × per CPU second | CPU ms / video frame | decode | face "
            "| hands | review | bound on 2 cores | face model + reused | hand probes put off | load before |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        cases: list[tuple[str, Path, str | None]] = [
            ("massage --technique lymph-drainage", CLIP, "lymph-drainage"),
            ("massage --technique cheek-release", massage, "cheek-release"),
            ("no --technique", CLIP, None),
            ("no --technique", tut, None),
            ("exercise --technique smile-lift", CLIP, "smile-lift"),
            ("exercise --technique smile-lift", tut, "smile-lift"),
        ]
        for thorough, gate in ways:
            tag = (" (thorough hands)" if thorough else "") + ("" if gate else " (no gates, as before)")
            for label, path, technique in cases:
                timed(label + tag, path, technique, thorough, gate, args.repeat)
        print(f"uptime: {_uptime()}")
    print()


if __name__ == "__main__":
    main()
