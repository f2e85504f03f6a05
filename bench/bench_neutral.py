"""The neutral check on the real data: per-stretch refusal rates on woman_expressions_24fps.mp4 (every
frame, VIDEO-mode face and hand landmarkers) and the false refusals on faces at rest (photos and
re-framed, re-lit, re-encoded copies of them). Prints the figures docs/scan.md quotes.

    .venv/bin/python bench/bench_neutral.py [--copies 12] [--seed 0]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import cv2
import matplotlib
import numpy as np
import skimage.data

from facecoach.config import InputLimits
from facecoach.vision.hands import HandTracker
from facecoach.vision.landmarks import FaceLandmarker
from facecoach.vision.neutral import check_neutral
from facecoach.vision.sources import VideoSource

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: Stretches labelled by eye (MANIFEST.md, TESTING-VISION.md and the frames themselves), seconds.
STRETCHES = {
    "frown, no hand (0.8-2.4 s)": (0.8, 2.4),
    "frown with hand (2.4-5.6 s)": (2.4, 5.6),
    "brows up, hand (6.2-8.4 s)": (6.2, 8.4),
    "hand on face (2.4-9.5 s)": (2.4, 9.5),
    "near neutral, lips parted (9.6-10.3 s)": (9.6, 10.3),
    "broad smile, teeth (12.3-18.3 s)": (12.3, 18.3),
}


def clip_checks(every: int = 1) -> list[tuple[float, list[str], dict[str, float]]]:
    out = []
    with (
        VideoSource(DATA / "woman_expressions_24fps.mp4", InputLimits()) as src,
        FaceLandmarker(mode="video", max_faces=1) as lm,
        HandTracker(mode="video") as hands,
    ):
        for t, rgb in src.frames(every):
            faces = lm.detect(rgb, t).faces
            found = hands.detect(rgb, t).hands
            if not faces:
                out.append((t, ["no_face"], {}))
                continue
            c = check_neutral(faces[0], hands=found)
            out.append((t, list(c.reasons), {**c.expressions, "lines": faces[0].frown_lines or 0.0}))
    return out


def rest_photos() -> dict[str, np.ndarray]:
    grace = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    return {
        "astronaut": skimage.data.astronaut(),
        "grace_hopper": np.ascontiguousarray(cv2.imread(str(grace))[..., ::-1]),
    }


def recapture(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A re-framed (roll ±6°, ×0.8-1.3, shift ±6 %), re-lit (×0.75-1.25, gamma 0.8-1.25) and
    re-encoded (JPEG 60-95) copy."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-6, 6), rng.uniform(0.8, 1.3))
    m[:, 2] += rng.uniform(-0.06, 0.06, 2) * (w, h)
    out = cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REFLECT).astype(np.float64) / 255
    out = np.clip(out ** rng.uniform(0.8, 1.25) * rng.uniform(0.75, 1.25), 0, 1)
    ok, buf = cv2.imencode(
        ".jpg", (out * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 96))]
    )
    assert ok
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_UNCHANGED))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    checks = clip_checks()
    print(f"clip: {len(checks)} frames")
    for name, (a, b) in STRETCHES.items():
        rows = [c for c in checks if a <= c[0] < b]
        codes: Counter[str] = Counter(r for c in rows for r in c[1])
        refused = sum(1 for c in rows if c[1])
        lines = [c[2].get("lines", 0.0) for c in rows]
        print(
            f"  {name}: {refused}/{len(rows)} refused; reasons {dict(codes)}; "
            f"frown lines {min(lines):.1f}-{max(lines):.1f}"
        )
    rng = np.random.default_rng(args.seed)
    total = refused = 0
    with FaceLandmarker(mode="image", max_faces=1) as lm, HandTracker(mode="image") as ht:
        for name, rgb in rest_photos().items():
            for k in range(args.copies + 1):
                img = rgb if k == 0 else recapture(rgb, rng)
                faces = lm.detect(img).faces
                if not faces:
                    continue
                c = check_neutral(faces[0], hands=ht.detect(img).hands)
                total += 1
                refused += not c.neutral
                if k == 0 or not c.neutral:
                    print(
                        f"  {name}{'' if k == 0 else f' copy {k}'}: {c.reasons} "
                        f"lines {faces[0].frown_lines:.1f} traces {c.traces} over {c.expressions}"
                    )
    print(f"faces at rest: {refused}/{total} refused")


if __name__ == "__main__":
    main()
