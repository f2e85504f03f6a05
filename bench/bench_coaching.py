"""Benchmark of the coaching engine: evaluator cost per frame, audit speed, and which source per measure.

Run: ``.venv/bin/python bench/bench_coaching.py [--skip-sources] [--seconds 20]``

Prints:

* **evaluator cost per frame** (goal < 0.2 ms): ``Evaluator.push`` over the real landmarks of
  ../shared/data/woman_expressions_24fps.mp4, after calibration, wall and CPU time (the machine may be
  shared: the load average is printed too);
* **audit speed** (goal ≥ 10× real time): ``audit_video`` on a 640×480, 30 fps mp4 of a warped real
  face doing smile-lift reps, as a multiple of the video's duration (wall and CPU);
* **sources** (``--skip-sources`` to leave out): for each movement warped onto four real photos, the
  change seen by the landmark geometry (mm) and by the blendshape score, and each one's noise over eight
  re-encoded copies of the still photo — the figures behind ``facecoach.coaching.measures.SOURCES``.
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
sys.path.insert(0, str(REPO))  # for tests/coaching/synth.py (the warped-face videos)

from facecoach.coaching.audit import analyse, audit_video  # noqa: E402
from facecoach.coaching.evaluator import Evaluator  # noqa: E402
from facecoach.coaching.measures import mm_per_unit, raw_measures  # noqa: E402
from facecoach.coaching.specs import spec_by_id  # noqa: E402
from facecoach.coaching.wrinkle import forehead_crease_energy  # noqa: E402
from facecoach.config import InputLimits  # noqa: E402
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation  # noqa: E402
from facecoach.vision.sources import VideoSource  # noqa: E402
from tests.coaching.synth import FaceWarper, Script, Segment, render, rep_script  # noqa: E402

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


def bench_evaluator() -> None:
    with (
        VideoSource(SHARED / "woman_expressions_24fps.mp4", LIMITS) as src,
        FaceLandmarker(mode="video", max_faces=1) as lm,
    ):
        fps = src.info.fps
        inputs = list(analyse(src.frames(), lm))
    spec = spec_by_id("smile-lift")
    calib_frames = int(spec.settings.calibration_s * fps) + 2
    pushed = 0
    wall = cpu = 0.0
    for _ in range(5):
        ev = Evaluator(spec, stop_after_reps=False)
        for t, f in inputs[:calib_frames]:
            ev.push(f, t)
        rest = inputs[calib_frames:]
        w0, c0 = time.perf_counter(), time.process_time()
        for t, f in rest:
            ev.push(f, t)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        pushed += len(rest)
    raw_t0 = time.perf_counter()
    for _t, f in inputs:
        if f is not None:
            raw_measures(f)
    raw_ms = (time.perf_counter() - raw_t0) * 1000 / sum(f is not None for _t, f in inputs)
    first = next(f for _t, f in inputs if f is not None)
    rgb = _rgb(SHARED / "happy_f15.jpg")
    tex_t0 = time.perf_counter()
    for _ in range(200):
        forehead_crease_energy(rgb, first.points_px)
    tex_ms = (time.perf_counter() - tex_t0) * 1000 / 200
    print("## Evaluator cost per frame (goal < 0.2 ms)")
    print(f"frames pushed: {pushed} (real landmarks of the woman_expressions clip, smile-lift spec)")
    print(f"Evaluator.push: {wall * 1000 / pushed:.3f} ms wall, {cpu * 1000 / pushed:.3f} ms CPU per frame")
    print(f"  of which raw_measures (pose fit + geometry + blendshapes): {raw_ms:.3f} ms")
    print(f"forehead_crease_energy (not part of push; the browser computes it): {tex_ms:.3f} ms")
    print(_load())
    print()


def bench_audit(seconds: float) -> None:
    astronaut = _rgb_astronaut()
    canvas = np.full((480, 640, 3), 90, np.uint8)
    face = cv2.resize(astronaut, (480, 480), interpolation=cv2.INTER_AREA)
    canvas[:, 80:560] = face
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        warper = FaceWarper(canvas, lm.detect(canvas).faces[0].points_px)
    reps = max(1, int((seconds - 2.0) // 7.2))
    script: Script = rep_script("smile", reps, 5.4, rest_s=1.0)
    script.segments.append(Segment(max(0.0, seconds - script.duration_s)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "smile_640x480.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
        for _t, rgb in render(warper, script, 30.0):
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        writer.release()
        w0, c0 = time.perf_counter(), time.process_time()
        result = audit_video(path, "smile-lift", limits=LIMITS)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        w1 = time.perf_counter()
        audit_video(path, "smile-lift", limits=LIMITS, annotate=Path(tmp) / "annotated.mp4")
        wall_annotated = time.perf_counter() - w1
    print("## Audit speed (goal ≥ 10× real time)")
    print(f"video: 640×480, 30 fps, {result.duration_s:.1f} s; reps found {result.reps} of {reps}")
    print(
        f"audit: {wall:.2f} s wall ({result.duration_s / wall:.1f}× real time), "
        f"{cpu:.2f} s CPU ({result.duration_s / cpu:.1f}× real time on one busy core)"
    )
    print(f"audit with --annotate (every frame drawn and encoded): {result.duration_s / wall_annotated:.1f}×")
    print(_load())
    print()


def _rgb_astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


SOURCE_PAIRS: dict[str, list[str]] = {
    "brows_up": ["geo:brow_height_left", "bs:brow_height_left"],
    "smile": ["geo:mouth_corner_lift_left", "bs:smile_left"],
    "pucker": ["geo:mouth_width", "bs:pucker"],
    "jaw_open": ["geo:chin_drop", "bs:jaw_open"],
    "cheeks_puff": ["geo:cheek_width_left", "bs:cheek_puff"],
    "eyes_squeeze": ["geo:eye_opening_left", "bs:eye_closure_left"],
    "frown": ["geo:brow_gap", "bs:brow_down"],
}


def bench_sources() -> None:
    photos = {"astronaut": _rgb_astronaut()}
    for name in ("happy_f15.jpg", "smile_man.jpg", "surprise_f1.jpg"):
        photos[name] = _rgb(SHARED / name)
    print("## Sources: change seen for a warped movement (noise SD over 8 re-encoded copies)")
    print("| movement | photo | geometry Δ (mm) | geometry SD | blendshape Δ | blendshape SD |")
    print("|---|---|---|---|---|---|")
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        for photo_name, img in photos.items():
            face = lm.detect(img).faces[0]

            def inputs(image: np.ndarray) -> FaceObservation:
                return lm.detect(image).faces[0]

            rng = np.random.default_rng(0)
            noisy = []
            for _ in range(8):
                im = img.astype(np.float32) * rng.uniform(0.9, 1.1) + rng.normal(0, 2, img.shape)
                _ok, enc = cv2.imencode(
                    ".jpg", np.clip(im, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80]
                )
                noisy.append(raw_measures(inputs(np.ascontiguousarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)))))
            scale = mm_per_unit(face)
            base = {k: float(np.median([r[k] for r in noisy])) for k in noisy[0]}
            sd = {k: float(np.std([r[k] for r in noisy])) for k in noisy[0]}
            warper = FaceWarper(img, face.points_px)
            for move, (geo, bs) in SOURCE_PAIRS.items():
                r = raw_measures(inputs(warper.render_state(Segment(0.0, {move: (1.0, 1.0)}))))
                print(
                    f"| {move} | {photo_name} | {(r[geo] - base[geo]) * scale:+.2f} | {sd[geo] * scale:.2f} "
                    f"| {r[bs] - base[bs]:+.3f} | {sd[bs]:.3f} |"
                )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the audit test video")
    parser.add_argument("--skip-sources", action="store_true")
    args = parser.parse_args()
    bench_evaluator()
    bench_audit(args.seconds)
    if not args.skip_sources:
        bench_sources()


if __name__ == "__main__":
    main()
