"""Cut a recorded video into segments — rest, a movement, a massage, no usable face — from its frames.

Pure: analysed frames (timestamp, face or None), the calibration and ``actions.yaml`` in; a timeline out.

1. **Per frame** (:func:`frame_states`): the measures relative to the calibrated neutral face
   (exponentially smoothed with the evaluator's time constant), and for every action of
   ``actions.yaml`` its *activation*: ``sign × measure / expected`` (for a left/right pair, the side that
   moves more), the same number the evaluator counts reps with; an action with a ``picture`` measure
   (the frown: the creases between the brows) takes the larger of that and ``picture / its expected``,
   and its picture activation is kept apart (``picture``). A frame without a usable face says why:
   ``no_face``, ``turned_away`` (past the pose limits of the vision quality gate), ``several_faces``
   (another face was seen in that second).
2. **Label** (:func:`label_frames`): the action whose activation is furthest past its start threshold
   (the engine's ``start_fraction`` with this person's noise floor), held while it stays above its
   release threshold (hysteresis) — except that an action seen *in the picture* past its start threshold
   leads whatever the landmarks say (:func:`leader`: a crying grimace moves the landmarks like a broad
   smile with shut eyes, but only the frown creases the glabella). A hand making massage strokes over
   the face is a ``massage`` frame whatever the face seems to do (a hand sliding over the cheek drags the
   landmarks under it: that is not a smile). A hand that rests on the face or moves without strokes is
   no massage: the face's movement is read as without it (what the hand covers is "not visible", see
   :mod:`facecoach.coaching.review`). Only where the strokes are not known (the caller gave hand
   presence without the hands themselves) does a hand on a still face — every activation under
   ``still_fraction`` × its threshold — make a ``massage`` frame.
3. **Cut** (:func:`cut`): runs of equal labels; a movement shorter than ``min_action_s`` is noise; the
   same movement again after a rest shorter than ``merge_gap_s`` is the same exercise (the rest between
   reps); a rest shorter than ``min_rest_s`` between two movements joins the movement before it; a gap
   without a face shorter than the evaluator's ``max_gap_s`` is a pause, not a segment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from facecoach.coaching.actions import Action, Actions
from facecoach.coaching.calibration import Calibration
from facecoach.coaching.evaluator import usable
from facecoach.coaching.measures import MEASURE_FIELDS, MM_MEASURES, Measures, measures_from_raw, raw_measures
from facecoach.coaching.specs import EvaluationSettings
from facecoach.vision.geometry import HeadPose
from facecoach.vision.landmarks import FaceObservation
from facecoach.vision.quality import check_pose

View = Literal["face", "no_face", "turned_away", "several_faces"]
NO_VIEW: tuple[View, ...] = ("no_face", "turned_away", "several_faces")


@dataclass(frozen=True)
class HandPresence:
    """The seam for hand tracking: at ``t_s`` a hand is (``on_face``) or is not on the face.

    Filled by the hands step (facecoach.vision.hands); an empty sequence means hands are not tracked.
    """

    t_s: float
    on_face: bool
    stroking: bool = False  # the hand is making massage strokes (moving over the face) around t_s


@dataclass(frozen=True)
class FrameState:
    """One analysed frame: ``measures`` smoothed (None without a usable face), ``activation`` per action."""

    t_s: float
    view: View
    measures: Measures | None
    activation: dict[str, float]
    hands_on_face: bool = False
    hands_stroking: bool = False
    #: the picture activation of each action that has one (see the module docstring)
    picture: dict[str, float] = field(default_factory=dict)
    #: face regions a hand covers in this frame (``strokes.yaml`` regions; empty: none or not tracked)
    covered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Cut:
    """One stretch of the timeline; ``label`` is ``rest``, ``massage``, an action name or a view."""

    start_s: float
    end_s: float
    label: str


def thresholds(actions: Actions, cal: Calibration, s: EvaluationSettings) -> dict[str, tuple[float, float]]:
    """(start, release) activation thresholds per action for this person, as the evaluator sets them:
    the expected size scaled to the face, and never closer to neutral than ``noise_multiple`` × noise."""
    out: dict[str, tuple[float, float]] = {}
    for name, action in actions.actions.items():
        expected = scaled_expected(action, cal)
        noise = sum(cal.noise.get(m, 0.0) for m in action.measures) / len(action.measures) / expected
        noise = noise if math.isfinite(noise) else 0.0
        if action.picture is not None:  # the picture measure's noise floors it too
            pic = cal.noise.get(action.picture.measure, 0.0) / action.picture.expected
            noise = max(noise, pic if math.isfinite(pic) else 0.0)
        start = max(s.start_fraction, s.noise_multiple * noise)
        release = min(max(s.release_fraction, 0.5 * s.noise_multiple * noise), 0.6 * start)
        out[name] = (start, release)
    return out


def scaled_expected(action: Action, cal: Calibration) -> float:
    """The action's expected size for this face (mm measures scale with the face's size)."""
    in_mm = all(m in MM_MEASURES for m in action.measures)
    return action.expected * (cal.size_factor if in_mm else 1.0)


def activation(action: Action, m: Measures, expected: float) -> float:
    """``sign × measure / expected`` of the side that moves more (0 when unknown), or the picture
    activation when that is larger."""
    values = [action.sign * getattr(m, name) for name in action.measures]
    finite = [v for v in values if math.isfinite(v)]
    geo = max(finite) / expected if finite else 0.0
    pic = picture_activation(action, m)
    return geo if pic is None else max(geo, pic)


def picture_activation(action: Action, m: Measures) -> float | None:
    """``picture measure / its expected`` for an action seen in the picture (None: it has no picture
    measure, or the frame's is unknown — landmarks from the browser)."""
    if action.picture is None:
        return None
    v = getattr(m, action.picture.measure)
    return v / action.picture.expected if math.isfinite(v) else None


def _view(face: FaceObservation | None, crowded: bool) -> tuple[View, dict[str, float] | None]:
    if crowded:  # another face in view: whose face the measures follow is not known
        return "several_faces", None
    if face is None or not usable(face):
        return "no_face", None
    raw = raw_measures(face)
    if not check_pose(HeadPose(raw["pose:yaw"], raw["pose:pitch"], raw["pose:roll"])).ok:
        return "turned_away", None
    return "face", raw


def _hands_at(hands: Sequence[HandPresence], times: Sequence[float]) -> list[tuple[bool, bool]]:
    """Whether a hand is on the face, and stroking, at each time (the latest hand report at or before it,
    ≤ 0.5 s old)."""
    out: list[tuple[bool, bool]] = []
    j = 0
    ordered = sorted(hands, key=lambda h: h.t_s)
    for t in times:
        while j + 1 < len(ordered) and ordered[j + 1].t_s <= t:
            j += 1
        h = ordered[j] if ordered else None
        fresh = bool(h and h.on_face and 0 <= t - h.t_s <= 0.5)
        out.append((fresh, fresh and bool(h and h.stroking)))
    return out


def frame_states(
    frames: Sequence[tuple[float, FaceObservation | None]],
    cal: Calibration,
    actions: Actions,
    settings: EvaluationSettings,
    crowded_s: Sequence[tuple[float, float]] = (),
    hands: Sequence[HandPresence] = (),
    covered: Sequence[frozenset[str]] = (),
) -> list[FrameState]:
    """Per-frame views, smoothed measures and activations (step 1 of the module docstring).

    ``crowded_s``: (start, end) seconds in which more than one face was seen; ``covered``: per frame,
    the face regions a hand covers (empty: hands not tracked).
    """
    expected = {name: scaled_expected(a, cal) for name, a in actions.actions.items()}
    on_face = _hands_at(hands, [t for t, _f in frames])
    cover = list(covered) or [frozenset()] * len(frames)
    states: list[FrameState] = []
    smooth: list[float] | None = None
    last_t: float | None = None
    for (t, face), (hand, stroking), hid in zip(frames, on_face, cover, strict=True):
        view, raw = _view(face, any(a <= t < b for a, b in crowded_s))
        if raw is None:
            states.append(FrameState(t, view, None, {}, hand, stroking, covered=hid))
            smooth = None
            continue
        values = [getattr(measures_from_raw(raw, cal), name) for name in MEASURE_FIELDS]
        dt = t - last_t if last_t is not None else 0.0
        last_t = t
        smooth = _smoothed(smooth, values, dt, settings)
        m = Measures(*smooth)
        act = {name: activation(a, m, expected[name]) for name, a in actions.actions.items()}
        pic = {name: p for name, a in actions.actions.items() if (p := picture_activation(a, m)) is not None}
        states.append(FrameState(t, view, m, act, hand, stroking, pic, hid))
    return states


def _smoothed(prev: list[float] | None, values: list[float], dt: float, s: EvaluationSettings) -> list[float]:
    """The evaluator's exponential smoothing (time constant ``smoothing_s``); restarts after a gap."""
    if prev is None or s.smoothing_s <= 0 or dt <= 0 or dt > s.max_gap_s:
        return list(values)
    alpha = 1.0 - math.exp(-dt / s.smoothing_s)
    return [
        v if math.isnan(p) else (p if math.isnan(v) else p + alpha * (v - p))
        for p, v in zip(prev, values, strict=True)
    ]


def companions(actions: Actions) -> dict[str, frozenset[str]]:
    """Action → the other actions that are its unavoidable companion: their measures are those of a
    keep-still check it ignores (a broad smile narrows the eyes: the eye squeeze is the smile's)."""
    out: dict[str, frozenset[str]] = {}
    for name, a in actions.actions.items():
        ignored = {m for kind in a.ignores for m in actions.keep_still[kind].measures}
        out[name] = frozenset(
            other
            for other, b in actions.actions.items()
            if other != name and b.measures and set(b.measures) <= ignored
        )
    return out


def seen_in_picture(st: FrameState, thr: Mapping[str, tuple[float, float]]) -> frozenset[str]:
    """The actions whose picture activation is past their start threshold in this frame."""
    return frozenset(k for k, p in st.picture.items() if p >= thr[k][0])


def leader(
    ratio: Mapping[str, float], companion: Mapping[str, frozenset[str]], seen: frozenset[str] = frozenset()
) -> str:
    """The action furthest past its start threshold, unless it only accompanies another active one; an
    action ``seen`` in the picture past its threshold leads over those read from the landmarks alone."""
    if seen:
        return max(seen, key=lambda k: ratio[k])
    active = {k for k, r in ratio.items() if r >= 1.0}
    kept = [k for k in ratio if not any(k in companion.get(o, ()) for o in active if o != k)]
    return max(kept or list(ratio), key=lambda k: ratio[k])


def _let_go(
    current: str,
    st: FrameState,
    thr: Mapping[str, tuple[float, float]],
    ratio: Mapping[str, float],
    companions: Mapping[str, frozenset[str]],
    seen: frozenset[str],
) -> bool:
    """Whether the held label ends: under its release threshold; another action seen in the picture;
    or it only accompanies an action that has now started (the brows drawing together as a smile
    begins: the smile, once past its threshold, takes the label)."""
    if st.activation[current] < thr[current][1]:
        return True
    if seen and current not in seen:
        return True
    return current not in seen and any(
        current in companions.get(o, ()) and r >= 1.0 for o, r in ratio.items() if o != current
    )


def label_frames(
    states: Sequence[FrameState],
    thr: Mapping[str, tuple[float, float]],
    still_fraction: float,
    companions: Mapping[str, frozenset[str]] | None = None,
    strokes_known: bool = False,
) -> list[str]:
    """One label per frame (step 2 of the module docstring); ``companions`` from :func:`companions`;
    ``strokes_known``: the hands' strokes were analysed (``hands_stroking`` says where they are), so a
    hand without strokes is not a massage."""
    companions = companions or {}
    labels: list[str] = []
    current: str | None = None
    for st in states:
        if st.view != "face":
            labels.append(st.view)
            current = None
            continue
        if st.hands_stroking:  # a hand moving over the face is a massage: the mesh under it is not the face's
            labels.append("massage")
            current = None
            continue
        seen = seen_in_picture(st, thr)
        ratio = {name: a / thr[name][0] for name, a in st.activation.items()}
        if current is not None and _let_go(current, st, thr, ratio, companions, seen):
            current = None
        if current is None:
            best = leader(ratio, companions, seen)
            current = best if ratio[best] >= 1.0 else None
            if current is None and not strokes_known and st.hands_on_face and ratio[best] < still_fraction:
                labels.append("massage")
                continue
        labels.append(current or "rest")
    return labels


def _runs(times: Sequence[float], labels: Sequence[str], end_s: float) -> list[Cut]:
    cuts: list[Cut] = []
    for i, (t, label) in enumerate(zip(times, labels, strict=True)):
        nxt = times[i + 1] if i + 1 < len(times) else end_s
        if cuts and cuts[-1].label == label:
            cuts[-1] = Cut(cuts[-1].start_s, nxt, label)
        else:
            cuts.append(Cut(t, nxt, label))
    return cuts


def _joined(cuts: list[Cut]) -> list[Cut]:
    out: list[Cut] = []
    for c in cuts:
        if out and out[-1].label == c.label:
            out[-1] = Cut(out[-1].start_s, c.end_s, c.label)
        else:
            out.append(c)
    return out


def _relabel(cuts: list[Cut], keep: Mapping[int, str]) -> list[Cut]:
    return _joined([Cut(c.start_s, c.end_s, keep.get(i, c.label)) for i, c in enumerate(cuts)])


def _is_move(label: str) -> bool:
    return label not in ("rest", "massage", *NO_VIEW)


def cut(
    states: Sequence[FrameState],
    labels: Sequence[str],
    actions: Actions,
    settings: EvaluationSettings,
    end_s: float,
) -> list[Cut]:
    """The timeline (step 3 of the module docstring): contiguous cuts from the first frame to ``end_s``."""
    if not states:
        return []
    seg = actions.segments
    cuts = _runs([s.t_s for s in states], labels, end_s)
    # a short gap without a face is a pause: it takes the label of what came before it
    cuts = _relabel(
        cuts,
        {
            i: cuts[i - 1].label
            for i, c in enumerate(cuts)
            if c.label in NO_VIEW and i > 0 and c.end_s - c.start_s <= settings.max_gap_s
        },
    )
    # a movement too short to be a segment is noise
    cuts = _relabel(
        cuts,
        {
            i: "rest"
            for i, c in enumerate(cuts)
            if _is_move(c.label) and c.end_s - c.start_s < seg.min_action_s
        },
    )
    # the same movement again after a short rest: the rest between reps
    cuts = _relabel(
        cuts,
        {
            i: cuts[i - 1].label
            for i in range(1, len(cuts) - 1)
            if cuts[i].label == "rest"
            and _is_move(cuts[i - 1].label)
            and cuts[i + 1].label == cuts[i - 1].label
            and cuts[i].end_s - cuts[i].start_s <= seg.merge_gap_s
        },
    )
    # a rest too short to be a segment between two movements joins the movement before it
    return _relabel(
        cuts,
        {
            i: cuts[i - 1].label
            for i in range(1, len(cuts) - 1)
            if cuts[i].label == "rest"
            and _is_move(cuts[i - 1].label)
            and _is_move(cuts[i + 1].label)
            and cuts[i].end_s - cuts[i].start_s < seg.min_rest_s
        },
    )
