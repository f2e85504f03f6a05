"""Test clips for live coaching: a real face (the astronaut photo on a 640×480 canvas) doing smile lifts
with known reps, one of them with forehead creases, as frames, landmark frames and YUV4MPEG2 files.

The movement comes from the coaching engine's test warps (tests/coaching/synth.py), so the clip means
the same thing to both test suites.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tests.coaching.synth import FaceWarper, Script, Segment

WIDTH, HEIGHT = 640, 480
HOLD_S = 5.0  # smile-lift's hold in the knowledge base
CREASES = 3.0  # painted crease strength: clearly above the forehead_wrinkle tolerance on this small forehead


def canvas(photo: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """The photo centred on a 640×480 canvas (edge colours padded out, no black bars); a photo taller
    than 480 px keeps its top 480 rows (where the face is in a portrait)."""
    photo = photo[:HEIGHT]
    h, w = photo.shape[:2]
    top = (HEIGHT - h) // 2
    left = (WIDTH - w) // 2
    if top < 0 or left < 0:
        raise ValueError("the photo must fit in 640×480")
    return np.pad(photo, ((top, HEIGHT - h - top), (left, WIDTH - w - left), (0, 0)), mode="edge")


def smile_script(
    reps: int, creased_rep: int | None, rest_first_s: float = 2.5, rest_s: float = 1.6
) -> Script:
    """rest → (lift 0.4 s → hold → release 0.4 s → rest) × reps; forehead creases in one rep's hold."""
    segs = [Segment(rest_first_s)]
    for i in range(reps):
        creases = (CREASES, CREASES) if i == creased_rep else (0.0, 0.0)
        segs.append(Segment(0.4, {"smile": (0.0, 1.0)}))
        segs.append(Segment(HOLD_S + 0.6, {"smile": (1.0, 1.0)}, creases=creases))
        segs.append(Segment(0.4, {"smile": (1.0, 0.0)}))
        segs.append(Segment(rest_s))
    return Script(segs)


@dataclass(frozen=True)
class Clip:
    fps: float
    frames: list[NDArray[np.uint8]]  # RGB
    reps: int
    creased_rep: int | None

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


def render_clip(
    face: NDArray[np.uint8],
    points_px: NDArray[np.float64],
    reps: int,
    creased_rep: int | None,
    fps: float = 15.0,
    script: Script | None = None,
    away: tuple[tuple[float, float], ...] = (),
) -> Clip:
    """The frames of ``script`` (default: :func:`smile_script`); during each ``away`` window (start_s,
    end_s) the face is gone: the frame is the canvas's plain background colour."""
    warper = FaceWarper(face, points_px)
    script = script or smile_script(reps, creased_rep)
    n = round(script.duration_s * fps)
    empty = np.empty_like(face)
    empty[:] = face[0, 0]
    frames = [
        empty.copy() if any(a <= i / fps < b for a, b in away) else warper.render_state(script.state(i / fps))
        for i in range(n)
    ]
    return Clip(fps, frames, reps, creased_rep)


# A restless practice of one smile lift (issue 15): after calibrating, the head jumps sideways
# RESTLESS_JUMPS times (each a head_motion fault), the face leaves the picture for AWAY_S, comes back
# and rests in view for REST_AFTER_AWAY_S before the rep: a long time with no event to change the prompt.
# The forehead creases in the hold (a forehead_wrinkle fault): a second kind of cue in the list.
RESTLESS_JUMPS = 5
JUMP_PX = 50.0
AWAY_START_S = 12.0
AWAY_S = 1.5
REST_AFTER_AWAY_S = 5.5


def restless_script() -> Script:
    segs = [Segment(3.5)]
    for _ in range(RESTLESS_JUMPS):
        segs.append(Segment(0.8, shift_px=(JUMP_PX, JUMP_PX)))
        segs.append(Segment(0.8))
    done = sum(s.seconds for s in segs)
    segs.append(Segment(AWAY_START_S + AWAY_S + REST_AFTER_AWAY_S - done))
    segs.append(Segment(0.4, {"smile": (0.0, 1.0)}))
    segs.append(Segment(HOLD_S + 0.6, {"smile": (1.0, 1.0)}, creases=(CREASES, CREASES)))
    segs.append(Segment(0.4, {"smile": (1.0, 0.0)}))
    segs.append(Segment(2.0))
    return Script(segs)


def write_y4m(
    path: Path, frames: Iterable[NDArray[np.uint8]], fps: int, width: int = WIDTH, height: int = HEIGHT
) -> Path:
    """YUV4MPEG2, 4:2:0 (I420), BT.601 limited range: the format Chromium's fake camera plays."""
    with path.open("wb") as fh:
        fh.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n".encode())
        for rgb in frames:
            if rgb.shape != (height, width, 3):
                raise ValueError(f"frame is {rgb.shape}, expected {(height, width, 3)}")
            f = rgb.astype(np.float32)
            r, g, b = f[..., 0], f[..., 1], f[..., 2]
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            # 2×2 averages for the chroma planes
            u2 = u.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
            v2 = v.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
            fh.write(b"FRAME\n")
            for plane in (y, u2, v2):
                fh.write(np.clip(np.rint(plane), 0, 255).astype(np.uint8).tobytes())
    return path
