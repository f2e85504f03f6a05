"""Massage clips for live coaching: a real hand (cut out of ``woman_expressions_24fps.mp4`` with GrabCut,
:mod:`tests.support.hand_paste`) stroking over a real face photo (``happy_f15.jpg``, 512×512) along the
cheek-release path, the same journeys as ``tests/coaching/test_strokes.py``: the right hand does three
strokes from beside the nose to in front of the ear, is lifted away, then the left hand (the same hand
mirrored) does three on the left. ``inwards=True``: the same strokes towards the nose (the wrong way).

Only the pictures are made here (with per-frame camera noise); the trackers run wherever the test runs
them: in Chromium behind the fake camera, or in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tests.coaching.test_strokes import EAR, HAND_FRAME, NOSE_SIDE, strokes_between
from tests.support.hand_paste import (
    HandCutout,
    Leg,
    cut_hand,
    face_pixels,
    hand_points_in_clip,
    journey,
    mirrored,
    paste,
)

FPS = 24
MASSAGE = "cheek-release"  # 3 good strokes a side, directed: outwards towards the ear
AWAY_S = 0.6  # between the sides: no hand in view


@dataclass(frozen=True)
class HandClip:
    frames: list[NDArray[np.uint8]]  # RGB, 512×512
    fps: int
    hand: list[bool]  # whether a hand is pasted in each frame

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps


def _mirror(p: tuple[float, float]) -> tuple[float, float]:
    return (1.0 - p[0], p[1])


def load_scene(shared_data: Path) -> tuple[NDArray[np.uint8], NDArray[np.float64], HandCutout]:
    """The face photo, its landmarks (IMAGE mode) and the real right hand cut out of the clip."""
    from facecoach.vision.landmarks import FaceLandmarker

    rgb, points = hand_points_in_clip(shared_data / "woman_expressions_24fps.mp4", HAND_FRAME)
    face = np.ascontiguousarray(np.asarray(Image.open(shared_data / "happy_f15.jpg").convert("RGB")))
    with FaceLandmarker(mode="image", max_faces=1) as lm:
        face_points = lm.detect(face).faces[0].points_px
    return face, face_points, cut_hand(rgb, points)


def massage_clip(
    face: NDArray[np.uint8],
    face_points: NDArray[np.float64],
    right_hand: HandCutout,
    inwards: bool = False,
    n: int = 3,
    seed: int = 0,
    sides: tuple[str, ...] = ("right", "left"),
) -> HandClip:
    fp = face_pixels(face_points)
    rng = np.random.default_rng(seed)
    frames: list[NDArray[np.uint8]] = []
    hand: list[bool] = []

    def add(image: NDArray[np.uint8], pasted: bool) -> None:
        noisy = image.astype(np.float32) + rng.normal(0.0, 3.0, image.shape).astype(np.float32)
        frames.append(np.ascontiguousarray(np.clip(noisy, 0, 255).astype(np.uint8)))
        hand.append(pasted)

    for k, side in enumerate(sides):
        cutout = right_hand if side == "right" else mirrored(right_hand)
        a, b, settle = (
            (NOSE_SIDE, EAR, EAR) if side == "right" else (_mirror(NOSE_SIDE), _mirror(EAR), _mirror(EAR))
        )
        if inwards:
            a, b = b, a
        if k:
            for _ in range(round(AWAY_S * FPS)):
                add(face, False)
        legs: list[Leg] = strokes_between(fp, a, b, settle, n)
        start = fp.px(settle[0], settle[1] + 0.3)
        for _t, at in journey(start, legs, FPS):
            add(paste(face, cutout, at) if at is not None else face, at is not None)
    for _ in range(FPS):  # a second of the face alone at the end (the fake camera loops the clip)
        add(face, False)
    return HandClip(frames, FPS, hand)
