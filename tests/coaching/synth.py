"""Synthetic exercise videos from real faces: thin-plate-spline warps with known movement over time.

A :class:`Script` is a list of timed segments (rest, ramp, hold, release); :func:`render` turns it into
frames at any frame rate. Every movement is a warp of a real photo (tests/support/warp.py), so the
landmarker sees a real face doing a known thing. Sides are the person's own: the person's right is the
image's left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from tests.support.warp import border_anchors, warp_image

Image = NDArray[np.uint8]
Points = NDArray[np.float64]

# Landmark groups (person's side). The shift per group is (dx, dy) in image pixels per unit amplitude,
# already signed for the person's sides (right = image left = −x).
R_BROW = [107, 66, 105, 63, 70, 55, 65, 52, 53, 46]
L_BROW = [336, 296, 334, 293, 300, 285, 295, 282, 283, 276]
R_CORNER = [61, 76, 62, 78]
L_CORNER = [291, 306, 292, 308]
R_CHEEK = [132, 58, 172, 136, 93]
L_CHEEK = [361, 288, 397, 365, 323]
R_LID_UP = [158, 159, 160, 157, 161]
R_LID_LO = [153, 145, 144, 154, 163]
L_LID_UP = [385, 386, 387, 384, 388]
L_LID_LO = [380, 374, 373, 381, 390]
CHIN = [152, 148, 176, 149, 377, 400, 378, 17, 84, 314, 200, 199, 175, 18]
# Points that stay put unless they move: eye corners, nose, forehead top, face outline at the eyes.
STILL = [33, 133, 263, 362, 1, 4, 168, 6, 10, 109, 338, 234, 454, 127, 356, 2, 98, 327]
MOUTH_STILL = [0, 13, 14, 17]


@dataclass(frozen=True)
class Move:
    """One warp: groups of landmark ids with their shift (dx, dy) px at amplitude 1."""

    groups: list[tuple[list[int], tuple[float, float]]]
    still: list[int] = field(default_factory=list)


def _move(*groups: tuple[list[int], tuple[float, float]], still: list[int] | None = None) -> Move:
    return Move(list(groups), still or [])


# Movement sizes in pixels for a ~60 px eye-corner span (the astronaut): scaled per face by span/60.
MOVES: dict[str, Move] = {
    "brows_up": _move((R_BROW, (0, -7)), (L_BROW, (0, -7)), still=[*R_LID_UP, *L_LID_UP]),
    "brows_up_left": _move((L_BROW, (0, -7)), still=[*R_BROW, *R_LID_UP, *L_LID_UP]),
    "smile": _move((R_CORNER, (-3, -7)), (L_CORNER, (3, -7)), still=[*MOUTH_STILL, 152]),
    # the person's left corner lifts, the right one stays: "your right side is lagging"
    "smile_left_only": _move((L_CORNER, (3, -7)), still=[*R_CORNER, *MOUTH_STILL, 152]),
    "pucker": _move((R_CORNER, (7, 0)), (L_CORNER, (-7, 0)), still=[*MOUTH_STILL, 152]),
    "jaw_open": _move((CHIN, (0, 14)), still=[0, 13, 61, 291]),
    "cheeks_puff": _move((R_CHEEK, (-6, 0)), (L_CHEEK, (6, 0)), still=[61, 291, 152, 13, 14]),
    "eyes_squeeze": _move(
        (R_LID_UP, (0, 1.5)),
        (L_LID_UP, (0, 1.5)),
        (R_LID_LO, (0, -0.7)),
        (L_LID_LO, (0, -0.7)),
        still=R_BROW + L_BROW,
    ),
    # lips pressed thin: the outer edges of both lips roll in toward the mouth line (habit guard)
    "lips_press": _move(([0, 37, 267], (0, 2.5)), ([17, 84, 314], (0, -2.5)), still=[13, 14, 61, 291, 152]),
    "frown": _move(
        ([107, 55, 66, 65], (4, 3)), ([336, 285, 296, 295], (-4, 3)), still=[70, 46, 300, 276, 159, 386]
    ),
}


@dataclass(frozen=True)
class Segment:
    """``seconds`` long; the amplitude of each named move goes linearly from ``start`` to ``end``.

    ``creases``: forehead creases painted at this strength (0…1) during the segment;
    ``roll_deg``/``shift_px``: the whole picture rotated/shifted (a head moving), reached linearly."""

    seconds: float
    moves: dict[str, tuple[float, float]] = field(default_factory=dict)
    creases: tuple[float, float] = (0.0, 0.0)
    roll_deg: tuple[float, float] = (0.0, 0.0)
    shift_px: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Script:
    segments: list[Segment]

    @property
    def duration_s(self) -> float:
        return sum(s.seconds for s in self.segments)

    def state(self, t: float) -> Segment:
        """The instantaneous state at t as a zero-length segment (start = end)."""
        t0 = 0.0
        for s in self.segments:
            if t < t0 + s.seconds or s is self.segments[-1]:
                f = min(max((t - t0) / s.seconds, 0.0), 1.0) if s.seconds > 0 else 1.0

                def lerp(ab: tuple[float, float], f: float = f) -> float:
                    return ab[0] + (ab[1] - ab[0]) * f

                moves = {k: lerp(v) for k, v in s.moves.items()}
                return Segment(
                    0.0,
                    {k: (v, v) for k, v in moves.items()},
                    (lerp(s.creases),) * 2,  # type: ignore[arg-type]
                    (lerp(s.roll_deg),) * 2,
                    (lerp(s.shift_px),) * 2,  # type: ignore[arg-type]
                )
            t0 += s.seconds
        raise AssertionError("unreachable")


def rep_script(
    move: str,
    reps: int,
    hold_s: float,
    *,
    rest_first_s: float = 2.0,
    ramp_s: float = 0.4,
    rest_s: float = 1.5,
    creases_in_hold: float = 0.0,
    amplitude: float = 1.0,
) -> Script:
    """rest → (ramp up → hold → ramp down → rest) × reps, with optional creases painted in each hold."""
    segs = [Segment(rest_first_s)]
    for _ in range(reps):
        segs.append(Segment(ramp_s, {move: (0.0, amplitude)}))
        segs.append(Segment(hold_s, {move: (amplitude, amplitude)}, creases=(creases_in_hold,) * 2))  # type: ignore[arg-type]
        segs.append(Segment(ramp_s, {move: (amplitude, 0.0)}))
        segs.append(Segment(rest_s))
    return Script(segs)


class FaceWarper:
    """Renders states of a :class:`Script` on one real photo with its reference landmarks."""

    def __init__(self, image: Image, points_px: Points) -> None:
        self.image = image
        self.points = np.asarray(points_px, dtype=np.float64)[:, :2]
        h, w = image.shape[:2]
        self.border = border_anchors(w, h)
        self.unit = float(np.linalg.norm(self.points[263] - self.points[33])) / 60.0
        self._cache: dict[tuple[object, ...], Image] = {}
        self._masks: dict[tuple[int, int], NDArray[np.float32]] = {}

    def warp(self, moves: dict[str, float]) -> Image:
        key = tuple(sorted((k, round(v, 2)) for k, v in moves.items() if abs(v) > 1e-3))
        if not key:
            return self.image
        if key in self._cache:
            return self._cache[key]
        moving: list[int] = []
        shifts: list[tuple[float, float]] = []
        still: set[int] = set(STILL)
        for name, amp in key:
            mv = MOVES[str(name)]
            for group, (dx, dy) in mv.groups:
                for i in group:
                    if i not in moving:
                        moving.append(i)
                        shifts.append((dx * float(amp) * self.unit, dy * float(amp) * self.unit))  # type: ignore[arg-type]
            still.update(mv.still)
        still -= set(moving)
        anchors = np.concatenate([self.points[sorted(still)], self.border])
        out = warp_image(self.image, self.points[moving], np.array(shifts), anchors)
        self._cache[key] = out
        return out

    def paint_creases(self, image: Image, strength: float) -> Image:
        """Darken thin horizontal lines across the forehead (between the brows and landmark 10)."""
        if strength <= 0:
            return image
        shade = 1.0 - strength * self._crease_mask(image.shape[0], image.shape[1])
        return np.clip(image.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8)

    def _crease_mask(self, h: int, w: int) -> NDArray[np.float32]:
        if (h, w) not in self._masks:
            p = self.points
            brow_top = min(p[R_BROW + L_BROW][:, 1])
            top = p[10][1]
            x0, x1 = p[70][0] - 5 * self.unit, p[300][0] + 5 * self.unit
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            mask = np.zeros((h, w), np.float32)
            for k in range(4):
                yc = brow_top - (brow_top - top) * (0.22 + 0.15 * k)
                bow = 2.0 * self.unit * ((xx - (x0 + x1) / 2) / max(x1 - x0, 1)) ** 2 * 4
                mask += np.exp(-(((yy - yc + bow) / (0.9 * self.unit + 0.6)) ** 2))
            inside = ((xx > x0) & (xx < x1)).astype(np.float32)
            edge = cv2.GaussianBlur(inside, (0, 0), 3 * self.unit + 1)
            self._masks[(h, w)] = (0.3 * np.clip(mask, 0, 1) * edge).astype(np.float32)
        return self._masks[(h, w)]

    def render_state(self, state: Segment, noise_seed: int | None = None) -> Image:
        img = self.warp({k: v[0] for k, v in state.moves.items()})
        img = self.paint_creases(img, state.creases[0])
        roll, shift = state.roll_deg[0], state.shift_px[0]
        if abs(roll) > 1e-3 or abs(shift) > 1e-3:
            h, w = img.shape[:2]
            c = self.points[[33, 263]].mean(axis=0)
            m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), roll, 1.0)
            m[0, 2] += shift
            img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if noise_seed is not None:  # sensor noise: one of a few fixed patterns, cheap per frame
            img = cv2.add(img, self._noise(img.shape, noise_seed % 5))
        return img

    def _noise(self, shape: tuple[int, ...], k: int) -> Image:
        key = ("noise", k, shape)
        if key not in self._cache:
            rng = np.random.default_rng(k)
            self._cache[key] = rng.integers(0, 4, shape, dtype=np.uint8)
        return self._cache[key]


def render(
    warper: FaceWarper, script: Script, fps: float, noise: bool = True
) -> Iterator[tuple[float, Image]]:
    """(timestamp_s, RGB frame) pairs at ``fps``."""
    n = round(script.duration_s * fps)
    for i in range(n):
        t = i / fps
        yield t, warper.render_state(script.state(t), noise_seed=i if noise else None)


Renderer = Callable[[float], Image]
