"""Warped real faces holding a habit, for the habit guard's tests: rest (the calibration) → the habit held
→ rest, at any frame rate, as RGB frames, landmarked GuardFrames, or a YUV4MPEG2 file for Chromium's fake
camera. The movements are the coaching engine's test warps (tests/coaching/synth.py), looked at by eye."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from facecoach.guard.detector import GuardFrame
from facecoach.guard.frames import guard_frames
from facecoach.vision.landmarks import FaceLandmarker
from tests.coaching.synth import FaceWarper, Script, Segment
from tests.live.clips import canvas

#: habit → (base face, synth move, amplitude). The astronaut smiles with her teeth showing, so pressed lips
#: and squinting are warped on the woman of the real clip at rest (frame 238, mouth and eyes at rest).
HABIT_WARPS: dict[str, tuple[str, str, float]] = {
    "frown": ("astronaut", "frown", 1.5),
    "brow_raise": ("astronaut", "brows_up", 0.6),
    "squint": ("woman", "eyes_squeeze", 1.0),
    "lip_press": ("woman", "lips_press", 1.0),
    "smirk": ("astronaut", "smile_left_only", 0.75),
}
WOMAN_FRAME = 238  # woman_expressions_24fps.mp4: mouth at rest, eyes open, hand away


def woman_at_rest(video_path: str) -> NDArray[np.uint8]:
    cap = cv2.VideoCapture(video_path)
    cap.set(cv2.CAP_PROP_POS_FRAMES, WOMAN_FRAME)
    ok, bgr = cap.read()
    cap.release()
    assert ok, "cannot read the woman's frame"
    return canvas(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def hold_script(
    move: str | None, amplitude: float, rest_s: float, hold_s: float, after_s: float, repeats: int = 1
) -> Script:
    """rest → (ramp 0.5 s → hold → ramp 0.5 s → rest ``after_s``) × repeats; ``move`` None: all rest."""
    segs = [Segment(rest_s)]
    for _ in range(repeats if move else 0):
        segs.append(Segment(0.5, {move: (0.0, amplitude)}))  # type: ignore[dict-item]
        segs.append(Segment(hold_s, {move: (amplitude, amplitude)}))  # type: ignore[dict-item]
        segs.append(Segment(0.5, {move: (amplitude, 0.0)}))  # type: ignore[dict-item]
        segs.append(Segment(after_s))
    if not move:
        segs.append(Segment(hold_s + after_s + 1.0))
    return Script(segs)


@dataclass(frozen=True)
class HeldClip:
    habit: str | None
    script: Script
    fps: float
    frames: list[NDArray[np.uint8]]

    @property
    def hold_starts_s(self) -> float:
        return self.script.segments[0].seconds


def render_hold(
    face: NDArray[np.uint8],
    points_px: NDArray[np.float64],
    habit: str | None,
    fps: float,
    *,
    rest_s: float = 8.0,
    hold_s: float = 14.0,
    after_s: float = 4.0,
    repeats: int = 1,
) -> HeldClip:
    move, amplitude = (HABIT_WARPS[habit][1], HABIT_WARPS[habit][2]) if habit else (None, 0.0)
    script = hold_script(move, amplitude, rest_s, hold_s, after_s, repeats)
    warper = FaceWarper(face, points_px)
    n = round(script.duration_s * fps)
    frames = [warper.render_state(script.state(i / fps), noise_seed=i) for i in range(n)]
    return HeldClip(habit, script, fps, frames)


def landmark_clip(clip: HeldClip, start_s: float) -> list[GuardFrame]:
    """The clip through the guard's own frame path (video-mode landmarker, two faces allowed)."""
    with FaceLandmarker(mode="video", max_faces=2) as lm:
        timed = ((i / clip.fps, rgb) for i, rgb in enumerate(clip.frames))
        return [f for _t, f in guard_frames(timed, lm, start_s)]
