"""A live massage step judged from the hands (issue 13): strokes in, completion from the dose seen.

The page (or, in server mode, the server) sends the hands of each frame beside the face; each hand goes
into the pose-free face frame (:func:`facecoach.vision.hands.hand_in_face_mm`), its working point into
the coaching engine's :class:`facecoach.coaching.strokes.StrokeAnalyser`, and what comes out goes back
to the page at once: every stroke (``stroke`` events, returns included) and every stroke fault as a
``fault`` event with its cue (``end_s`` set: a stroke fault is known once the stroke is over).

The step is **finished** when every side the massage works on has its ``strokes_per_side`` good strokes
(on a directed path, the right way) — never by a timer. When the step ends earlier, the analyser's
``finish()`` reports each side short of its dose (``side_skipped``). No hand for ``hands_lost_s`` while
the face is in view gives a ``hands_lost`` event (the page says "keep your hand in view"), and
``hands_found`` when one is back. Pressure cannot be seen: the page keeps it in words.

Pure: no I/O, times are the frames' (client capture time re-based to the step, as for an exercise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from facecoach.coaching.evaluator import Event, Fault, Finished, Side
from facecoach.coaching.specs import CoachingSpec
from facecoach.coaching.stroke_specs import StrokeSpec
from facecoach.coaching.strokes import (
    FaceBox,
    Point,
    Stroke,
    StrokeAnalyser,
    StrokeEvent,
    StrokeFault,
    face_box,
)
from facecoach.vision.geometry import face_aligned_mm
from facecoach.vision.hands import HandObservation, hand_in_face_mm, working_point
from facecoach.vision.landmarks import FaceObservation

#: What a live step's evaluator may say: the coaching engine's events and the stroke analyser's strokes.
LiveEvent = Event | StrokeEvent
HANDS_LOST_S = 1.5
HANDS_LOST_CUE = "Keep your hand in view: I can't see it on your face."


@dataclass(frozen=True)
class HandsLost(Event):
    """The face is in view but no hand has been seen for a while during a massage."""

    type: ClassVar[str] = "hands_lost"
    cue: str


@dataclass(frozen=True)
class HandsFound(Event):
    type: ClassVar[str] = "hands_found"


@dataclass(frozen=True)
class StrokeCount(Event):
    """After each stroke: the good strokes per side so far and the dose per side."""

    type: ClassVar[str] = "stroke_count"
    right: int
    left: int
    midline: int
    per_side: int


def stroke_fault_event(fault: StrokeFault, t: float) -> Fault:
    """A stroke fault as the live protocol's ``fault`` event (and the step record's fault entry)."""
    side: Side = None if fault.side == "midline" else fault.side
    return Fault(t, fault.kind, side, fault.start_s, fault.end_s, fault.cue)


def required_sides(spec: StrokeSpec) -> tuple[str, ...]:
    """The sides that need their dose: those the massage's directed paths run on."""
    sides = {p.side for p in spec.paths}
    return tuple(s for s in ("right", "left", "midline") if s in sides)


def frame_points(
    face: FaceObservation, hands: Sequence[HandObservation], kind: str
) -> tuple[list[Point], FaceBox | None]:
    """The working points of the hands in face mm and the face's box in the face frame (None: no box)."""
    box = face_box(face_aligned_mm(face))
    points: list[Point] = []
    for hand in hands:
        try:
            mm = hand_in_face_mm(hand, face)
        except ValueError:  # no scale from this face, or the hand is from another frame size
            continue
        points.append(working_point(mm, "hand" if kind == "hand" else "fingertips"))
    return points, box


class LiveMassage:
    """One massage step, live: the stroke analyser over the frames' hands, done from the dose."""

    def __init__(self, spec: CoachingSpec, strokes: StrokeSpec, hands_lost_s: float = HANDS_LOST_S) -> None:
        self.spec = spec
        self.strokes = strokes
        self.analyser = StrokeAnalyser(strokes)
        self.sides = required_sides(strokes)
        self.per_side = max(1, strokes.strokes_per_side)
        self.finished = False
        self.hands_lost_s = hands_lost_s
        self._last_hand_s: float | None = None
        self._first_s: float | None = None
        self._lost = False

    @property
    def dose_met(self) -> bool:
        counts = self.analyser.summary.per_side
        return all(counts[s] >= self.per_side for s in self.sides)

    def push(
        self,
        frame: FaceObservation | None,
        timestamp_s: float | None = None,
        hands: Sequence[HandObservation] | None = None,
    ) -> list[LiveEvent]:
        """One frame (``hands`` None: not tracked in this frame, which then says nothing of the hands)."""
        if self.finished:
            return []
        t = frame.timestamp_s if frame is not None else timestamp_s
        if t is None:
            raise ValueError("a frame without a face needs its timestamp")
        if hands is None:
            return []
        self._first_s = t if self._first_s is None else self._first_s
        points: list[Point] = []
        box: FaceBox | None = None
        if frame is not None:
            points, box = frame_points(frame, hands, self.strokes.working_point)
        events: list[LiveEvent] = self._presence(t, bool(points), frame is not None)
        events += self._judged(t, self.analyser.update(t, points, box))
        if self.dose_met:
            self.finished = True
            events.append(Finished(t, 0, 0))
        return events

    def _presence(self, t: float, seen: bool, face: bool) -> list[LiveEvent]:
        if seen:
            self._last_hand_s = t
            if self._lost:
                self._lost = False
                return [HandsFound(t)]
            return []
        since = self._last_hand_s if self._last_hand_s is not None else self._first_s
        if face and not self._lost and since is not None and t - since >= self.hands_lost_s:
            self._lost = True
            return [HandsLost(t, HANDS_LOST_CUE)]
        return []

    def _judged(self, t: float, events: list[StrokeEvent]) -> list[LiveEvent]:
        out: list[LiveEvent] = []
        for ev in events:
            if isinstance(ev, StrokeFault):
                out.append(stroke_fault_event(ev, t))
                continue
            out.append(ev)
            if isinstance(ev, Stroke) and ev.kind == "stroke":
                c = self.analyser.summary.per_side
                out.append(StrokeCount(t, c["right"], c["left"], c["midline"], self.per_side))
        return out

    def finish(self, t: float) -> list[LiveEvent]:
        """The step ends: strokes still open are judged, then each side short of its dose is reported."""
        if self.finished:
            return []
        self.finished = True
        out = self._judged(t, self.analyser.finish())
        out.append(Finished(t, 0, 0))
        return out
