"""Hands in a recorded video: where a hand is on or near the face, and the working points for strokes.

Pure: the analysed frames (timestamp, face or None) and the Hand Landmarker's :class:`HandFrame` of each
(same order, same sampling) in; hand stretches, the hand-presence seam of the any-video audit
(:class:`facecoach.coaching.segments.HandPresence`) and the stroke analyser's input out. Settings in
``coaching/data/hands.yaml``.

**On or near the face**: some hand point lies inside the face's image box (its landmarks' extent) grown
by ``near_face_margin`` × the face's width on every side. A hand seen while the face is lost (a hand
covering the whole face hides it from the Face Landmarker) is judged against the last face seen within
``merge_gap_s``; a hand far from every face (waving beside the head) is not on it.

**A massage** (:func:`massage_movements`) is a hand that repeats a stroke: within one stretch of a hand on
the face, at least ``massage_min_repeats`` strokes along the same directed path of the stroke map, the
same way. A hand brought to the face and moved once or twice before it rests there (her hand over her
mouth while she frowns, in the woman_expressions clip) makes strokes too, but repeats none: it is a
hand on the face, not a massage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facecoach.coaching.hand_checks import HandSettings, load_hand_settings
from facecoach.coaching.segments import HandPresence
from facecoach.coaching.strokes import FaceBox, Point, Stroke, face_box
from facecoach.knowledge.models import WorkingPoint
from facecoach.vision.geometry import face_aligned_mm
from facecoach.vision.hands import HandFrame, hand_in_face_mm, working_point
from facecoach.vision.landmarks import FaceObservation

Frames = Sequence[tuple[float, FaceObservation | None]]
StrokeInput = tuple[float, list[Point], FaceBox | None]


@dataclass(frozen=True)
class HandSpan:
    """A stretch of the video with a hand on or near the face (first and last analysed frame, s)."""

    start_s: float
    end_s: float


def _grown_box(face: FaceObservation, margin: float) -> NDArray[np.float64]:
    pts = np.asarray(face.points_px, dtype=np.float64)[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    grow = margin * float(hi[0] - lo[0])
    return np.array([lo[0] - grow, lo[1] - grow, hi[0] + grow, hi[1] + grow])


def near_face(hands: HandFrame, face: FaceObservation | None, margin: float) -> bool:
    """Whether any hand of the frame has a point inside the face's grown image box."""
    if face is None or not hands.hands:
        return False
    x0, y0, x1, y1 = _grown_box(face, margin)
    for hand in hands.hands:
        xy = np.asarray(hand.points_px, dtype=np.float64)[:, :2]
        inside = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        if bool(inside.any()):
            return True
    return False


def presence(
    frames: Frames, hand_frames: Sequence[HandFrame], settings: HandSettings | None = None
) -> list[HandPresence]:
    """One :class:`HandPresence` per analysed frame (see the module docstring)."""
    s = settings or load_hand_settings()
    if len(frames) != len(hand_frames):
        raise ValueError(f"{len(frames)} face frames but {len(hand_frames)} hand frames")
    out: list[HandPresence] = []
    last: tuple[float, FaceObservation] | None = None
    for (t, face), hands in zip(frames, hand_frames, strict=True):
        if face is not None:
            last = (t, face)
        judge = face if face is not None else (last[1] if last and t - last[0] <= s.merge_gap_s else None)
        out.append(HandPresence(t, near_face(hands, judge, s.near_face_margin)))
    return out


def with_strokes(
    hands: Sequence[HandPresence], movements: Sequence[tuple[float, float]], pad_s: float | None = None
) -> list[HandPresence]:
    """The presence marked ``stroking`` within ``pad_s`` (default ``merge_gap_s``) of a movement of the
    hand (start_s, end_s), so the short rests between strokes stay part of the massage."""
    pad = load_hand_settings().merge_gap_s if pad_s is None else pad_s
    return [
        HandPresence(h.t_s, h.on_face, h.on_face and any(a - pad <= h.t_s <= b + pad for a, b in movements))
        for h in hands
    ]


def spans(hands: Sequence[HandPresence], merge_gap_s: float | None = None) -> list[HandSpan]:
    """Runs of frames with a hand on the face; runs less than ``merge_gap_s`` apart are joined."""
    gap = load_hand_settings().merge_gap_s if merge_gap_s is None else merge_gap_s
    out: list[HandSpan] = []
    for h in sorted(hands, key=lambda h: h.t_s):
        if not h.on_face:
            continue
        if out and h.t_s - out[-1].end_s < gap:
            out[-1] = HandSpan(out[-1].start_s, h.t_s)
        else:
            out.append(HandSpan(h.t_s, h.t_s))
    return out


def repeats_a_stroke(strokes: Sequence[Stroke], min_repeats: int) -> bool:
    """Whether some directed path of the stroke map was stroked ``min_repeats`` times the same way."""
    ways = Counter((s.path, s.direction) for s in strokes if s.kind == "stroke" and s.path is not None)
    return bool(ways) and max(ways.values()) >= min_repeats


def massage_movements(
    strokes: Sequence[Stroke], hands: Sequence[HandPresence], settings: HandSettings | None = None
) -> list[tuple[float, float]]:
    """The (start_s, end_s) of the strokes and returns that make a massage (see the module docstring):
    those of each stretch of a hand on the face that repeats a stroke."""
    s = settings or load_hand_settings()
    out: list[tuple[float, float]] = []
    for span in spans(hands, s.merge_gap_s):
        lo, hi = span.start_s - s.merge_gap_s, span.end_s + s.merge_gap_s
        inside = [st for st in strokes if lo <= st.start_s <= hi]
        if repeats_a_stroke(inside, s.massage_min_repeats):
            out.extend((st.start_s, st.end_s) for st in inside)
    return out


def stroke_inputs(frames: Frames, hand_frames: Sequence[HandFrame], kind: WorkingPoint) -> list[StrokeInput]:
    """Per analysed frame (t_s, working points in face mm, face box): what the stroke analyser takes.

    A frame without a face has no face frame to put the hands in: it counts as no hand (the analyser
    ends a stroke after ``max_gap_s`` of that).
    """
    out: list[StrokeInput] = []
    for (t, face), hands in zip(frames, hand_frames, strict=True):
        if face is None:
            out.append((t, [], None))
            continue
        points: list[Point] = []
        for hand in hands.hands:
            try:
                points.append(working_point(hand_in_face_mm(hand, face), kind))
            except ValueError:  # a degenerate iris gives no scale: this hand is not placed
                continue
        out.append((t, points, face_box(face_aligned_mm(face))))
    return out
