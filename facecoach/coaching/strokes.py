"""Massage strokes from the track of a working point in the face frame: cut out, then checked. Pure.

Input, frame by frame: the timestamp (s) and the working point of each visible hand (the mean of the
index and middle fingertips, or the hand's centre when it holds a tool; see
:func:`facecoach.vision.hands.working_point`) in the pose-free face frame, in mm (x towards the
person's left, y down; iris-scaled, so a turned or tilted head does not move it), plus that frame's
:class:`FaceBox`. Output: :class:`Stroke` and :class:`StrokeFault` events, as soon as each stroke is over.

**Cutting strokes** (settings in ``coaching/data/strokes.yaml``). Each hand is a track (nearest point,
gated). A running median over three frames drops one-frame glitches; the speed is the least-squares slope
over a 0.25 s window, so a still hand's jitter (≈1 mm) reads as a few mm/s, far below the start speed.
A stroke starts when the speed rises above ``start_mm_s`` and ends when it stays under ``stop_mm_s``
(hysteresis), when the hand turns back, or when the hand is gone longer than ``max_gap_s``. It counts
only if it is long enough, lasts long enough and goes somewhere (straight-line length / path length).

**A hand found (again) settles first.** When the Hand Landmarker finds a hand — it comes into view, or the
tracker lost it and its palm detector finds it anew — its first fit is often wrong and then snaps into
place. Measured on the pasted real hand of the live tests (face mm): the working point sat 20–25 mm off
for 0.3 s until the hand moved (Python, 24 frames/s), flipped between two fits 14–16 mm apart for 0.2 s
(Python, 15 frames/s), or dropped 23 mm as the stroke set off 0.38 s after the hand was found again
(the page in Chromium, 11.5 frames/s). At 18.6 frames/s the browser test had cut such a step as a
23 mm stroke "down" 0.4 s after the hand came back, a ``stroke_direction`` fault on a clip whose strokes
all go outwards (tests/live/test_hands_browser.py). The snap is a frame-to-frame step of 11–31 mm at
200–700 mm/s; a stroke goes at most ~150 mm/s. So for ``settle_s`` after a track's first frame, a step
of at least ``settle_jump_mm`` and faster than ``settle_jump_mm_s`` (step over frame interval) means what
the track held was a wrong fit: it is dropped unjudged and the track starts again from that frame,
settling anew. (The length floor keeps a still hand's jitter out: at 60 frames/s a 1.5 mm jitter alone
makes frame steps faster than 200 mm/s.) A hand found in mid-stroke makes no such step and keeps its
stroke from its first frame (the audit finds the hand so on its first stroke), which a blanket "no
stroke in a track's first 0.4 s" would lose.

**A return too quick for the frame rate.** A 0.12 s return falls between two or three frames at 11–15
frames/s (the page's frames are irregular: 0.05–0.3 s apart under load); timed by interpolating between
those frames it read 190 mm/s, under the massage's ``return_mm_s``, and was counted as a stroke the wrong
way. The crossings of 10 % and 90 % of the chord lie somewhere between frames, so a movement is a return
when the *fastest* timing its frames allow (:attr:`Movement.fastest_mm_s`) is above ``return_mm_s``; a
well-sampled stroke loses at most one frame interval of its rise by that (+9 % for a 1 s stroke at 15
frames/s). Its pace is still judged on the interpolated speed.

**Checking** (per massage, data: ``massage.camera`` in the knowledge base). Positions become the
knowledge base's stroke coordinates (0…1 from the right to the left ear, 0…1 from the top of the
forehead to the chin, 1.6 at the collarbones) by the face's own box, so a technique's stroke paths
apply to any face. A movement faster than ``return_mm_s`` is the hand travelling back between strokes
(lifted: the camera cannot see the skin contact), neither a stroke nor a fault (judged on the fastest
speed its frames allow, see above). Otherwise:

* ``stroke_direction`` — against the nearest directed path of the massage (cosine below ``against_cos``;
  for drainage these run from the centre of the face to the nodes in front of the ears and down the neck);
* ``stroke_region`` — most of the stroke lies in a region the massage does not work on;
* ``stroke_pace`` — mean speed outside ``pace_mm_s``;
* ``side_skipped`` — at the end, a side with fewer than ``strokes_per_side`` good strokes.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from facecoach.coaching.stroke_specs import (
    SegmentSettings,
    StrokeFaultKind,
    StrokeSide,
    StrokeSpec,
)
from facecoach.knowledge.models import Region
from facecoach.vision import landmark_ids as ids

Direction = Literal["outwards", "inwards", "up", "down"]
Point = tuple[float, float]
Sample = tuple[float, float, float, float]  # t_s, x_mm, y_mm, speed_mm_s (smoothed)

# Face landmarks that span the stroke coordinates: the outline at the ears, the top of the forehead, the chin.
_RIGHT_EAR = 234
_LEFT_EAR = 454
_SHORTEST_S = 0.03  # a movement's 10–90 % rise time is never taken as shorter (one frame at 30 fps)
_MIN_FACE_MM = 20.0  # a face box narrower or shorter than this is a broken fit, not a face


@dataclass(frozen=True)
class FaceBox:
    """The face's extent in the face frame (mm): what stroke coordinates 0 and 1 are on each axis."""

    right_x_mm: float  # the face outline at the person's right ear (negative x)
    left_x_mm: float
    top_y_mm: float  # the top of the forehead (negative y: above the eyes)
    chin_y_mm: float

    def to_stroke(self, x_mm: float, y_mm: float) -> Point:
        return (
            (x_mm - self.right_x_mm) / (self.left_x_mm - self.right_x_mm),
            (y_mm - self.top_y_mm) / (self.chin_y_mm - self.top_y_mm),
        )

    def to_mm(self, x: float, y: float) -> Point:
        return (
            self.right_x_mm + x * (self.left_x_mm - self.right_x_mm),
            self.top_y_mm + y * (self.chin_y_mm - self.top_y_mm),
        )


def face_box(face_mm: NDArray[np.float64]) -> FaceBox | None:
    """The box of a face's (478, 3) face-frame landmarks in mm; None when it is degenerate."""
    pts = np.asarray(face_mm, dtype=np.float64)
    box = FaceBox(
        float(pts[_RIGHT_EAR, 0]),
        float(pts[_LEFT_EAR, 0]),
        float(pts[ids.FOREHEAD, 1]),
        float(pts[ids.CHIN, 1]),
    )
    values = np.array([box.right_x_mm, box.left_x_mm, box.top_y_mm, box.chin_y_mm])
    too_small = box.left_x_mm - box.right_x_mm < _MIN_FACE_MM or box.chin_y_mm - box.top_y_mm < _MIN_FACE_MM
    if not np.all(np.isfinite(values)) or too_small:
        return None
    return box


@dataclass(frozen=True)
class Movement:
    """A movement cut out of one track, before it is checked: smoothed (t_s, x_mm, y_mm, speed_mm_s)."""

    track: int
    samples: tuple[Sample, ...]
    raw: tuple[tuple[float, float, float], ...] = ()  # the median-filtered (t_s, x_mm, y_mm) it spans

    @property
    def speed_mm_s(self) -> float:
        """Speed from the 10 %–90 % rise time along the chord of the unsmoothed track.

        A constant-speed movement covers 80 % of its length in 80 % of its time, so this is its true speed
        whatever the smoothing window or frame rate; rests at either end do not dilute it.
        """
        return self._speeds()[0]

    @property
    def fastest_mm_s(self) -> float:
        """The fastest speed the frames allow: the 10 %–90 % rise timed between the frames inside it.

        The crossings lie somewhere between two frames; :attr:`speed_mm_s` interpolates them, this takes
        the shortest rise they allow (from the first frame past 10 % to the last one short of 90 %). A
        well-sampled stroke loses one frame interval of its rise (a 1 s stroke at 15 frames/s: +9 %); a
        quick return seen in one or two frame intervals has no rise left, and reads as fast as it may be.
        """
        return self._speeds()[1]

    def _speeds(self) -> tuple[float, float]:
        raw = np.array(self.raw) if len(self.raw) >= 2 else np.array([s[:3] for s in self.samples])
        chord = np.array(self.samples[-1][1:3]) - np.array(self.samples[0][1:3])
        length = float(np.hypot(*chord))
        if length <= 0:
            return 0.0, 0.0
        progress = (raw[:, 1:] - raw[0, 1:]) @ (chord / length)
        progress = np.maximum.accumulate(progress)  # monotone, so the crossing times are well defined
        progress -= progress[0]
        span = float(progress[-1])
        if span <= 0:
            return 0.0, 0.0
        t10, t90 = np.interp([0.1 * span, 0.9 * span], progress, raw[:, 0])
        past_10 = float(raw[np.argmax(progress >= 0.1 * span), 0])
        short_of_90 = float(raw[progress < 0.9 * span, 0].max())
        speed = 0.8 * span / max(float(t90 - t10), _SHORTEST_S)
        return speed, max(speed, 0.8 * span / max(short_of_90 - past_10, _SHORTEST_S))

    @property
    def start_s(self) -> float:
        return self.samples[0][0]

    @property
    def end_s(self) -> float:
        return self.samples[-1][0]

    @property
    def chord_mm(self) -> float:
        (_, x0, y0, _), (_, x1, y1, _) = self.samples[0], self.samples[-1]
        return math.hypot(x1 - x0, y1 - y0)

    @property
    def path_mm(self) -> float:
        xy = np.array([(x, y) for _, x, y, _ in self.samples])
        return float(np.sum(np.linalg.norm(np.diff(xy, axis=0), axis=1)))


@dataclass(frozen=True)
class StrokeEvent:
    type: ClassVar[str] = "stroke_event"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 3)
            elif isinstance(value, tuple):
                data[key] = [round(v, 3) if isinstance(v, float) else v for v in value]
        return {"type": self.type, **data}


@dataclass(frozen=True)
class Stroke(StrokeEvent):
    """One stroke (``kind="stroke"``) or a quick return between strokes (``kind="return"``, not checked).

    ``start``/``end`` in stroke coordinates; ``length_mm`` is the straight-line length, ``speed_mm_s``
    its speed (see :attr:`Movement.speed_mm_s`). ``path`` is the label of the directed path it was
    checked against (None: it ran near none of them).
    """

    type: ClassVar[str] = "stroke"
    start_s: float
    end_s: float
    side: StrokeSide
    region: str
    direction: Direction
    length_mm: float
    speed_mm_s: float
    start: Point
    end: Point
    kind: Literal["stroke", "return"] = "stroke"
    path: str | None = None
    faults: tuple[StrokeFaultKind, ...] = ()


@dataclass(frozen=True)
class StrokeFault(StrokeEvent):
    type: ClassVar[str] = "stroke_fault"
    kind: StrokeFaultKind
    start_s: float
    end_s: float
    side: StrokeSide
    cue: str


class _Track:
    """One hand's working point over time → movements (see the module docstring)."""

    def __init__(self, track_id: int, settings: SegmentSettings) -> None:
        self.id = track_id
        self.s = settings
        self.last_t = -math.inf
        self.last_raw: Point = (math.nan, math.nan)
        self._raw: deque[tuple[float, float, float]] = deque(maxlen=settings.median_frames)
        self._window: deque[tuple[float, float, float]] = deque()  # median-filtered (t_s, x_mm, y_mm)
        self._rest: Sample | None = None
        self._stroke: list[Sample] = []
        self._history: deque[tuple[float, float, float]] = deque()  # median-filtered samples of late
        self._still_since: int | None = None  # index in _stroke where the speed fell under stop_mm_s
        self._settled_at = -math.inf  # the track's fit is trusted from this time on (see _settling_jump)

    def update(self, t_s: float, point: Point) -> list[Movement]:
        out = self.close() if t_s - self.last_t > self.s.max_gap_s else []
        if not self._raw:  # a hand found (again): its fit is settling
            self._settled_at = t_s + self.s.settle_s
        elif self._settling_jump(t_s, point):
            self._restart(t_s)
        self.last_t, self.last_raw = t_s, point
        self._raw.append((t_s, *point))
        raw = np.array(self._raw)
        median = np.median(raw[:, 1:], axis=0)
        filtered = (float(raw[len(raw) // 2, 0]), float(median[0]), float(median[1]))
        self._window.append(filtered)
        self._history.append(filtered)
        keep_from = (self._stroke[0][0] if self._stroke else filtered[0]) - 2 * self.s.smooth_s
        while self._history[0][0] < keep_from:
            self._history.popleft()
        while self._window[-1][0] - self._window[0][0] > self.s.smooth_s:
            self._window.popleft()
        if len(self._window) >= 3 and self._window[-1][0] - self._window[0][0] >= 0.6 * self.s.smooth_s:
            out += self._step()
        return out

    def _step(self) -> list[Movement]:
        w = np.array(self._window)
        t = w[:, 0] - w[:, 0].mean()
        velocity = (t @ (w[:, 1:] - w[:, 1:].mean(axis=0))) / float(t @ t)
        speed = float(np.hypot(*velocity))
        mean_xy = w[:, 1:].mean(axis=0)
        centre: Sample = (float(w[:, 0].mean()), float(mean_xy[0]), float(mean_xy[1]), speed)
        if not self._stroke:
            if speed >= self.s.start_mm_s:
                rest = self._rest
                recent = rest is not None and centre[0] - rest[0] <= 2 * self.s.smooth_s
                self._stroke = [rest, centre] if rest is not None and recent else [centre]
            elif speed < self.s.stop_mm_s:
                self._rest = centre
            return []
        self._stroke.append(centre)
        if self._turned_back(velocity):
            return self._split_at_turn()
        if speed >= self.s.stop_mm_s:
            self._still_since = None
            return []
        if self._still_since is None:
            self._still_since = len(self._stroke) - 1
        if centre[0] - self._stroke[self._still_since][0] >= self.s.stop_s:
            ended = self._stroke[: self._still_since + 1]
            self._rest, self._stroke, self._still_since = self._stroke[-1], [], None
            return self._accept(ended)
        return []

    def _turned_back(self, velocity: NDArray[np.float64]) -> bool:
        start, now = np.array(self._stroke[0][1:3]), np.array(self._stroke[-1][1:3])
        displacement = now - start
        if np.hypot(*displacement) < self.s.min_length_mm / 2 or np.hypot(*velocity) < self.s.start_mm_s:
            return False
        cos = float(displacement @ velocity) / (np.hypot(*displacement) * np.hypot(*velocity))
        return cos < math.cos(math.radians(self.s.reverse_deg))

    def _split_at_turn(self) -> list[Movement]:
        """End the stroke at its point farthest from the start; the new one starts there."""
        xy = np.array([p[1:3] for p in self._stroke])
        turn = int(np.argmax(np.linalg.norm(xy - xy[0], axis=1)))
        ended, self._stroke, self._still_since = self._stroke[: turn + 1], self._stroke[turn:], None
        return self._accept(ended)

    def _settling_jump(self, t_s: float, point: Point) -> bool:
        """While the track settles, a step from the last frame of ``settle_jump_mm`` or more (mm) at more
        than ``settle_jump_mm_s`` (mm/s over the frame interval): the fit snapping into place."""
        if t_s >= self._settled_at:
            return False
        step_mm = math.dist(point, self.last_raw)
        step_s = max(t_s - self.last_t, _SHORTEST_S)
        return step_mm >= self.s.settle_jump_mm and step_mm / step_s > self.s.settle_jump_mm_s

    def _restart(self, t_s: float) -> None:
        """The fit snapped into place: what the track saw before was a wrong fit, dropped unjudged."""
        self._clear()
        self._history.clear()
        self._settled_at = t_s + self.s.settle_s

    def _clear(self) -> None:
        self._raw.clear()
        self._window.clear()
        self._rest, self._stroke, self._still_since = None, [], None

    def close(self) -> list[Movement]:
        """The track was lost: a stroke in progress ends at its last point."""
        ended = self._stroke
        self._clear()
        accepted = self._accept(ended)
        self._history.clear()
        return accepted

    def _accept(self, samples: Sequence[Sample]) -> list[Movement]:
        if len(samples) < 2:
            return []
        half = self.s.smooth_s / 2
        raw = tuple(h for h in self._history if samples[0][0] - half <= h[0] <= samples[-1][0] + half)
        movement = Movement(self.id, tuple(samples), raw)
        s = self.s
        long_enough = movement.chord_mm >= s.min_length_mm
        lasts = movement.end_s - movement.start_s >= s.min_duration_s
        straight = movement.path_mm > 0 and movement.chord_mm / movement.path_mm >= s.min_straightness
        return [movement] if long_enough and lasts and straight else []


class StrokeSegmenter:
    """Frames of working points (0, 1 or 2 hands) → :class:`Movement` s, streaming; no checks."""

    def __init__(self, settings: SegmentSettings, max_tracks: int = 2) -> None:
        self.settings = settings
        self.max_tracks = max_tracks
        self._tracks: list[_Track] = []
        self._next_id = 0

    def update(self, t_s: float, points_mm: Sequence[Point]) -> list[Movement]:
        out: list[Movement] = []
        for track in [tr for tr in self._tracks if t_s - tr.last_t > self.settings.max_gap_s]:
            out += track.close()
            self._tracks.remove(track)
        free = list(self._tracks)
        for point in sorted(points_mm, key=lambda p: self._nearest(p, free)[1]):
            if not all(math.isfinite(v) for v in point):
                continue
            near, distance = self._nearest(point, free)
            if near is not None and distance <= self.settings.track_gate_mm:
                free.remove(near)
                out += near.update(t_s, point)
            elif len(self._tracks) < self.max_tracks:
                track = _Track(self._next_id, self.settings)
                self._next_id += 1
                self._tracks.append(track)
                out += track.update(t_s, point)
        return out

    @staticmethod
    def _nearest(point: Point, tracks: Iterable[_Track]) -> tuple[_Track | None, float]:
        best: tuple[_Track | None, float] = (None, math.inf)
        for track in tracks:
            d = math.dist(point, track.last_raw)
            if d < best[1]:
                best = (track, d)
        return best

    def finish(self) -> list[Movement]:
        out = [m for track in self._tracks for m in track.close()]
        self._tracks.clear()
        return out


def region_at(x: float, y: float, boxes: Mapping[Region, list[tuple[float, float, float, float]]]) -> str:
    """The face region at a point in stroke coordinates (first matching box; the left half mirrored)."""
    x = min(x, 1.0 - x)
    for name, region_boxes in boxes.items():
        if any(x0 <= x <= x1 and y0 <= y <= y1 for x0, x1, y0, y1 in region_boxes):
            return name
    return "neck" if y > 1.0 else "cheeks"


def _side(xs: NDArray[np.float64], band: float) -> StrokeSide:
    mean = float(xs.mean())
    if abs(mean - 0.5) < band:
        return "midline"
    return "right" if mean < 0.5 else "left"


def _direction_word(d_mm: NDArray[np.float64], side: StrokeSide, start_x: float) -> Direction:
    """The main way a stroke goes: up, down, or outwards/inwards (away from/towards the midline)."""
    dx, dy = float(d_mm[0]), float(d_mm[1])
    if abs(dy) >= abs(dx):
        return "down" if dy > 0 else "up"
    on_right = side == "right" or (side == "midline" and start_x < 0.5)
    return "outwards" if (dx < 0) == on_right else "inwards"


def _path_fit(xy_mm: NDArray[np.float64], path_mm: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
    """Mean distance (mm) of points to a polyline, and the polyline's mean unit direction near them."""
    a, b = path_mm[:-1], path_mm[1:]
    seg = b - a
    lengths = np.maximum(np.linalg.norm(seg, axis=1), 1e-9)
    rel = xy_mm[:, None, :] - a[None, :, :]
    u = np.clip(np.einsum("nsk,sk->ns", rel, seg) / lengths**2, 0.0, 1.0)
    nearest = a[None] + u[..., None] * seg[None]
    dist = np.linalg.norm(xy_mm[:, None, :] - nearest, axis=2)
    which = np.argmin(dist, axis=1)
    tangent = (seg / lengths[:, None])[which].sum(axis=0)
    return float(dist[np.arange(len(xy_mm)), which].mean()), tangent / max(float(np.hypot(*tangent)), 1e-9)


def check_movement(movement: Movement, box: FaceBox, spec: StrokeSpec) -> Stroke:
    """A movement judged against a massage's camera check (see the module docstring)."""
    s = spec.settings
    xy_mm = np.array([(x, y) for _, x, y, _ in movement.samples])
    norm = np.array([box.to_stroke(x, y) for x, y in xy_mm])
    speed = movement.speed_mm_s
    side = _side(norm[:, 0], s.midline_band)
    region = Counter(region_at(x, y, spec.region_boxes) for x, y in norm).most_common(1)[0][0]
    displacement = xy_mm[-1] - xy_mm[0]
    stroke = Stroke(
        start_s=movement.start_s,
        end_s=movement.end_s,
        side=side,
        region=region,
        direction=_direction_word(displacement, side, float(norm[0, 0])),
        length_mm=movement.chord_mm,
        speed_mm_s=speed,
        start=(float(norm[0, 0]), float(norm[0, 1])),
        end=(float(norm[-1, 0]), float(norm[-1, 1])),
    )
    if movement.fastest_mm_s > spec.return_mm_s:
        return replace(stroke, kind="return")
    path, cos = _nearest_path(xy_mm, displacement, box, spec)
    faults: list[StrokeFaultKind] = []
    if path is not None and cos < s.against_cos:
        faults.append("stroke_direction")
    if region not in spec.regions:
        faults.append("stroke_region")
    if not spec.pace_mm_s[0] <= speed <= spec.pace_mm_s[1]:
        faults.append("stroke_pace")
    return replace(stroke, path=path, faults=tuple(faults))


def _nearest_path(
    xy_mm: NDArray[np.float64], displacement: NDArray[np.float64], box: FaceBox, spec: StrokeSpec
) -> tuple[str | None, float]:
    """The directed path the stroke runs along (within the corridor) and the cosine to its direction."""
    best_distance, nearest, direction = math.inf, None, np.zeros(2)
    for path in spec.paths:
        path_mm = np.array([box.to_mm(x, y) for x, y in path.points])
        distance, tangent = _path_fit(xy_mm, path_mm)
        if distance < best_distance:
            best_distance, nearest, direction = distance, path, tangent
    if nearest is None or best_distance > spec.settings.path_corridor_mm:
        return None, 0.0
    norm = max(float(np.hypot(*displacement)), 1e-9)
    return nearest.label, float(displacement @ direction) / norm


@dataclass
class StrokeSummary:
    """The whole session: every stroke (returns included), every fault, good strokes per side."""

    strokes: list[Stroke] = field(default_factory=list)
    faults: list[StrokeFault] = field(default_factory=list)
    per_side: dict[str, int] = field(default_factory=lambda: {"right": 0, "left": 0, "midline": 0})

    def to_dict(self) -> dict[str, Any]:
        return {
            "strokes": [s.to_dict() for s in self.strokes],
            "faults": [f.to_dict() for f in self.faults],
            "per_side": dict(self.per_side),
        }


class StrokeAnalyser:
    """The streaming massage checker: call :meth:`update` per frame, :meth:`finish` once at the end.

    Both return the events completed by that call, in time order: each :class:`Stroke` followed by its
    :class:`StrokeFault` s. :attr:`summary` holds everything so far.
    """

    def __init__(self, spec: StrokeSpec) -> None:
        self.spec = spec
        self.summary = StrokeSummary()
        self._segmenter = StrokeSegmenter(spec.settings)
        self._boxes: deque[FaceBox] = deque(maxlen=spec.settings.box_frames)
        self._first_s: float | None = None
        self._last_s: float | None = None

    @property
    def box(self) -> FaceBox | None:
        """The running median of the face boxes seen (a hand over the face moves the outline under it)."""
        if not self._boxes:
            return None
        values = np.median(np.array([astuple_box(b) for b in self._boxes]), axis=0)
        return FaceBox(*(float(v) for v in values))

    def update(self, t_s: float, points_mm: Sequence[Point], box: FaceBox | None) -> list[StrokeEvent]:
        """One frame: its time (s), the working points in face mm (empty: no hand), its face box."""
        if not math.isfinite(t_s) or (self._last_s is not None and t_s <= self._last_s):
            return []  # out-of-order or broken timestamps are dropped, never fatal
        self._first_s = t_s if self._first_s is None else self._first_s
        self._last_s = t_s
        if box is not None:
            self._boxes.append(box)
        return self._judge(self._segmenter.update(t_s, points_mm))

    def finish(self) -> list[StrokeEvent]:
        """End of the massage: strokes still open end now, then each skipped side is reported."""
        events = self._judge(self._segmenter.finish())
        wanted = self.spec.strokes_per_side
        if wanted > 0 and self._first_s is not None and self._last_s is not None:
            for side in ("right", "left"):
                if self.summary.per_side[side] < wanted:
                    fault = StrokeFault(
                        kind="side_skipped",
                        start_s=self._first_s,
                        end_s=self._last_s,
                        side=side,  # type: ignore[arg-type]
                        cue=self.spec.cues["side_skipped"],
                    )
                    self.summary.faults.append(fault)
                    events.append(fault)
        return events

    def _judge(self, movements: list[Movement]) -> list[StrokeEvent]:
        events: list[StrokeEvent] = []
        box = self.box if movements else None
        if box is None:
            return events
        for movement in sorted(movements, key=lambda m: m.start_s):
            stroke = check_movement(movement, box, self.spec)
            self.summary.strokes.append(stroke)
            events.append(stroke)
            if stroke.kind == "stroke" and "stroke_direction" not in stroke.faults:
                self.summary.per_side[stroke.side] += 1
            for kind in stroke.faults:
                fault = StrokeFault(kind, stroke.start_s, stroke.end_s, stroke.side, self.spec.cues[kind])
                self.summary.faults.append(fault)
                events.append(fault)
        return events


def astuple_box(box: FaceBox) -> tuple[float, float, float, float]:
    return (box.right_x_mm, box.left_x_mm, box.top_y_mm, box.chin_y_mm)


def analyse_strokes(
    frames: Iterable[tuple[float, Sequence[Point], FaceBox | None]], spec: StrokeSpec
) -> StrokeSummary:
    """A whole clip at once: the same analyser, fed every frame, then finished."""
    analyser = StrokeAnalyser(spec)
    for t_s, points, box in frames:
        analyser.update(t_s, points, box)
    analyser.finish()
    return analyser.summary
