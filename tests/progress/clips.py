"""Real-face clips for the check-in tests, from ``woman_expressions_24fps.mp4`` (640×360).

* :func:`still_frames`: her near-neutral, near-frontal face at 9.83 s (frame 236: eyes open on the
  camera, lips relaxed, yaw ≈ 4°), moved to the middle of the picture (she sits at the right edge in the
  clip), repeated as a still clip with sensor noise σ = 2 and exposure ±5 % per frame — a member holding
  still in front of the camera.
* :func:`turned_frames`: the first frames (0–0.5 s): her head turned ≈ 11° to her right.
* :func:`smile_frames`: 16.0 s (frame 384): a broad smile with teeth, moved to the middle as well.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.progress.framing import FrameFacts

VIDEO = Path(__file__).resolve().parents[3] / "shared" / "data" / "woman_expressions_24fps.mp4"
FPS = 24.0
STILL_FRAME = 236
SMILE_FRAME = 384
#: Horizontal shift (px) that puts her nose tip near the middle of the 640 px wide picture.
CENTRE_SHIFT_PX = -135


@lru_cache(maxsize=1)
def video_frames() -> tuple[NDArray[np.uint8], ...]:
    cap = cv2.VideoCapture(str(VIDEO))
    out = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        out.append(np.ascontiguousarray(bgr[:, :, ::-1]))
    cap.release()
    return tuple(out)


def shifted(rgb: NDArray[np.uint8], dx: int) -> NDArray[np.uint8]:
    """The picture moved sideways by ``dx`` px, the uncovered border filled with its edge colours."""
    matrix = np.float32([[1, 0, dx], [0, 1, 0]])
    h, w = rgb.shape[:2]
    return np.ascontiguousarray(cv2.warpAffine(rgb, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE))


def jittered(rgb: NDArray[np.uint8], n: int, seed: int = 0) -> list[NDArray[np.uint8]]:
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        f = rgb.astype(np.float32) * rng.uniform(0.95, 1.05) + rng.normal(0, 2.0, rgb.shape)
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


def still_frames(seconds: float, seed: int = 0) -> list[NDArray[np.uint8]]:
    return jittered(shifted(video_frames()[STILL_FRAME], CENTRE_SHIFT_PX), round(seconds * FPS), seed)


def turned_frames() -> list[NDArray[np.uint8]]:
    return list(video_frames()[:12])


def smile_frames(seconds: float) -> list[NDArray[np.uint8]]:
    return jittered(shifted(video_frames()[SMILE_FRAME], CENTRE_SHIFT_PX), round(seconds * FPS), 1)


def timed(frames: list[NDArray[np.uint8]], fps: float = FPS) -> list[tuple[float, NDArray[np.uint8]]]:
    return [(i / fps, f) for i, f in enumerate(frames)]


#: the facts of a frame that passes every framing rule (a well-placed, still, evenly lit face)
GOOD_FACTS = FrameFacts(
    faces=1,
    width=640,
    height=360,
    iris_px=17.0,
    nose=(0.5, 0.5),
    box=(200, 60, 440, 300),
    luma=140.0,
    evenness=0.95,
    expressions={"smile": 0.3},
)
