"""Between-capture (test–retest) noise of every scan measure on real faces, and its minimal detectable change.

Run: ``.venv/bin/python bench/bench_retest.py [--copies 12] [--seed 0] [--yaml]``

The in-clip figure of docs/scan.md (MDC95 0.01–0.04 mm) is the jitter of one still clip; two check-ins on
different days differ by pose, light, distance, encoding and a not-quite-identical "neutral" face. Two
real sources of such repeated captures, each scanned exactly as a photo check-in is (``analyse_image``,
six landmark passes):

A. **The real video** (``woman_expressions_24fps.mp4``): the frames in which her face is near neutral and
   near frontal and no hand touches it. There is no neutral check on main yet, so the frames are picked
   by blendshape and pose limits in :func:`_near_neutral_frontal` (private to this script, limits below),
   the Hand Landmarker (no hand on the face) and her frown labelled by eye (the blendshapes miss it).
   They fall in separate stretches of the clip (different head pose, gaze and
   mouth): every frame is one capture, and the stretches' means are the between-session figure.
B. **Re-captured photos**: every real single-face photo (the shared photos and the astronaut), copied
   ``--copies`` times with a random re-framing (roll ±6°, scale ×0.75–1.3, shift ±8 % of the side),
   re-lighting (exposure ×0.75–1.25, gamma 0.8–1.25, a left-right light gradient ±20 %, a colour cast)
   and re-encoding (JPEG quality 60–95 or WebP 70–95). SD per photo, pooled over photos.

Printed: per measure, the SD of each source and MDC95 = 1.96 · √2 · SD (the smallest change between two
captures that is real with 95 % confidence), the combined prior SD = √(SD_A² + SD_B²) (the two kinds
of variation both happen between real check-ins; the landmark model's own jitter is in both, so the sum
errs on the safe side) and, with ``--yaml``, the prior as ``facecoach/progress/noise_prior.yaml`` holds it.
"""

from __future__ import annotations

import argparse
import io
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from facecoach.config import InputLimits
from facecoach.vision.asymmetry import KEYS
from facecoach.vision.geometry import head_pose
from facecoach.vision.hands import HandTracker
from facecoach.vision.landmarks import FaceLandmarker, FaceObservation
from facecoach.vision.scan import MAX_FACES, ScanRefused
from facecoach.vision.scan_photo import analyse_image
from facecoach.vision.sources import VideoSource

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
VIDEO = SHARED / "woman_expressions_24fps.mp4"
PHOTOS = ("happy_f15.jpg", "surprise_f1.jpg", "smile_man.jpg")
Z95 = 1.96

#: Blendshape limits of a near-neutral face for this measurement only (the largest score of each group).
#: Her resting, closed-lipped mouth reads mouthSmile 0.5–0.74 (the model over-reads smiles, as the
#: resting astronaut's 0.90 shows), so the smile is judged by the teeth (mouthUpperUp) and the
#: mouth opening, which are ~0 at rest and 0.4–0.9 in her smiles.
_NEUTRAL_LIMITS = {
    "smile": (("mouthSmileLeft", "mouthSmileRight"), 0.8),
    "teeth": (("mouthUpperUpLeft", "mouthUpperUpRight"), 0.1),
    "mouth_open": (("jawOpen",), 0.2),
    "frown": (("browDownLeft", "browDownRight"), 0.2),
    "brows_raised": (("browInnerUp", "browOuterUpLeft", "browOuterUpRight"), 0.5),
    "nose_wrinkle": (("noseSneerLeft", "noseSneerRight"), 0.2),
}
_MAX_TURN_DEG = 15.0  # |yaw|, |pitch|; |roll| under 10°
_MAX_ROLL_DEG = 10.0
#: Her frown, labelled by eye (TESTING-VISION.md: brows down from about 0.8 s to 5.6 s). The blendshapes
#: do not see it (browDown stays under 0.1 while her brows are knit), so it is excluded by time as well.
_FROWN_S = (0.75, 5.6)
#: Selected frames further apart than this (s) belong to different stretches ("sessions").
_GAP_S = 0.5


def _near_neutral_frontal(face: FaceObservation) -> bool:
    """Near neutral by the blendshape limits above and near frontal by the pose fit."""
    shapes = face.blendshapes
    for names, limit in _NEUTRAL_LIMITS.values():
        if max(shapes.get(n, 0.0) for n in names) > limit:
            return False
    pose = head_pose(face)
    return (
        abs(pose.yaw_deg) <= _MAX_TURN_DEG
        and abs(pose.pitch_deg) <= _MAX_TURN_DEG
        and abs(pose.roll_deg) <= _MAX_ROLL_DEG
    )


@dataclass(frozen=True)
class Capture:
    group: str  # stretch of the video, or the photo
    t: float
    values: NDArray[np.float64]  # in KEYS order


def video_captures(landmarker: FaceLandmarker) -> list[Capture]:
    """Every near-neutral, frontal, hand-free frame of the real video, scanned as a photo."""
    picked: list[tuple[float, NDArray[np.uint8]]] = []
    with (
        VideoSource(VIDEO, InputLimits()) as video,
        FaceLandmarker(mode="image", max_faces=1) as probe,
        HandTracker(mode="video", max_hands=2) as hands,
    ):
        for t, rgb in video.frames():
            # Every frame goes through the hand tracker (VIDEO mode: a hand over the face is tracked from
            # the frames where it is plain to see; single images miss it there).
            touched = bool(hands.detect(rgb, t).hands)
            faces = probe.detect(rgb).faces
            frowning = _FROWN_S[0] <= t <= _FROWN_S[1]
            if len(faces) == 1 and not touched and not frowning and _near_neutral_frontal(faces[0]):
                picked.append((t, rgb))
    captures: list[Capture] = []
    stretch, last_t = 0, -math.inf
    for t, rgb in picked:
        if t - last_t > _GAP_S:
            stretch += 1
        last_t = t
        try:
            scan = analyse_image(rgb, landmarker)
        except ScanRefused:
            continue
        values = np.array([scan.result.asymmetry.model_dump()[k] for k in KEYS])
        captures.append(Capture(f"stretch {stretch}", t, values))
    return captures


def recapture(rgb: NDArray[np.uint8], rng: np.random.Generator) -> NDArray[np.uint8]:
    """One random re-framed, re-lit, re-encoded copy of a photo (ranges in the module docstring)."""
    h, w = rgb.shape[:2]
    angle = rng.uniform(-6, 6)
    scale = rng.uniform(0.75, 1.3)
    dx, dy = rng.uniform(-0.08, 0.08) * w, rng.uniform(-0.08, 0.08) * h
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += (dx, dy)
    framed = cv2.warpAffine(rgb, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    light = framed.astype(np.float32) / 255.0
    light = light ** rng.uniform(0.8, 1.25) * rng.uniform(0.75, 1.25)
    ramp = 1.0 + rng.uniform(-0.2, 0.2) * np.linspace(-1, 1, w, dtype=np.float32)
    light = light * ramp[None, :, None] * rng.uniform(0.92, 1.08, size=3).astype(np.float32)
    lit = Image.fromarray(np.clip(light * 255.0, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    if rng.random() < 0.5:
        lit.save(buf, format="JPEG", quality=int(rng.integers(60, 96)))
    else:
        lit.save(buf, format="WEBP", quality=int(rng.integers(70, 96)))
    buf.seek(0)
    return np.ascontiguousarray(np.asarray(Image.open(buf).convert("RGB")), dtype=np.uint8)


def photo_set() -> dict[str, NDArray[np.uint8]]:
    from skimage import data

    photos = {"astronaut": np.ascontiguousarray(data.astronaut())}
    for name in PHOTOS:
        photos[name] = np.ascontiguousarray(np.asarray(Image.open(SHARED / name).convert("RGB")))
    return photos


def photo_captures(landmarker: FaceLandmarker, copies: int, seed: int) -> list[Capture]:
    rng = np.random.default_rng(seed)
    captures: list[Capture] = []
    for name, rgb in photo_set().items():
        for i in range(copies):
            try:
                scan = analyse_image(recapture(rgb, rng), landmarker)
            except ScanRefused:
                continue
            values = np.array([scan.result.asymmetry.model_dump()[k] for k in KEYS])
            captures.append(Capture(name, float(i), values))
    return captures


def pooled_sd(captures: list[Capture]) -> NDArray[np.float64]:
    """Within-group SD pooled over groups (√ of the df-weighted mean variance), per measure."""
    groups: dict[str, list[NDArray[np.float64]]] = {}
    for c in captures:
        groups.setdefault(c.group, []).append(c.values)
    ss = np.zeros(len(KEYS))
    df = 0
    for rows in groups.values():
        if len(rows) < 2:
            continue
        a = np.array(rows)
        ss += ((a - a.mean(axis=0)) ** 2).sum(axis=0)
        df += len(rows) - 1
    return np.sqrt(ss / max(df, 1))


def stretch_means(captures: list[Capture]) -> dict[str, NDArray[np.float64]]:
    groups: dict[str, list[NDArray[np.float64]]] = {}
    for c in captures:
        groups.setdefault(c.group, []).append(c.values)
    return {g: np.mean(rows, axis=0) for g, rows in groups.items()}


def _row(name: str, values: NDArray[np.float64]) -> str:
    return f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--copies", type=int, default=12, help="re-captured copies of every photo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--yaml", action="store_true", help="also print the prior as noise_prior.yaml")
    args = parser.parse_args()

    with FaceLandmarker(mode="image", max_faces=MAX_FACES) as landmarker:
        video = video_captures(landmarker)
        photos = photo_captures(landmarker, args.copies, args.seed)

    stretches = stretch_means(video)
    print(f"A. real video: {len(video)} near-neutral frontal frames in {len(stretches)} stretches")
    for g in stretches:
        ts = [c.t for c in video if c.group == g]
        print(f"   {g}: {len(ts)} frames, {min(ts):.2f}–{max(ts):.2f} s")
    all_frames = np.array([c.values for c in video])
    sd_frames = all_frames.std(axis=0, ddof=1)
    sd_within = pooled_sd(video)
    means = np.array(list(stretches.values()))
    sd_between = means.std(axis=0, ddof=1) if len(means) > 1 else np.full(len(KEYS), np.nan)
    sd_a = np.maximum(sd_frames, sd_between)
    n_photos = len({c.group for c in photos})
    print(f"B. re-captured photos: {len(photos)} captures of {n_photos} photos")
    sd_b = pooled_sd(photos)
    prior = np.sqrt(sd_a**2 + sd_b**2)
    mdc = Z95 * math.sqrt(2)

    header = "| figure | " + " | ".join(KEYS) + " |"
    print()
    print(header)
    print("|" + "---|" * (len(KEYS) + 1))
    print(_row("A: SD over all selected frames", sd_frames))
    print(_row("A: SD within a stretch (pooled)", sd_within))
    print(_row("A: SD of the stretch means", sd_between))
    print(_row("A: MDC95 (larger SD)", mdc * sd_a))
    print(_row("B: SD, pooled over photos", sd_b))
    print(_row("B: MDC95", mdc * sd_b))
    print(_row("prior SD = √(A² + B²)", prior))
    print(_row("prior MDC95", mdc * prior))
    if args.yaml:
        print()
        for key, sd in zip(KEYS, prior, strict=True):
            print(f"  {key}: {sd:.3f}")


if __name__ == "__main__":
    main()
