"""Judge each segment of a video against the method: which technique it is, whether the rest of the face
stays still, whether it trains a muscle that should be released — and the verdict on the whole video.

Pure: the frame states and cuts of :mod:`facecoach.coaching.segments`, the calibration, the knowledge
base and ``actions.yaml`` in; plain dataclasses out (the audit turns them into its JSON).

* **Recognition** (:func:`recognise`): the segment's main action (the one that leads in most of its
  moving frames; its share is the *dominance*) picks the library's exercises with that movement; each is
  scored by how well the video fits it — the held time per rep against the technique's ``hold_s``
  (full fit within ``hold_tolerance``), one side at a time or both (``sides: each`` needs reps on
  either side alone), and resistance by the hands (fits only when hands are seen on the face; unknown
  while hands are not tracked). ``confidence = dominance × best fit × (1 − ½ · second fit / best fit)``:
  two equally good candidates halve it. Below ``min_confidence``, or an action no exercise of the
  library makes (a frown, a brow raise), the segment is *unrecognised* and says what moved.
* **Whole-face wrinkling** (:func:`wrinkling`): every keep-still check of ``actions.yaml`` that is not
  the action's own companion, over the segment's frames: the share of the time it is over its tolerance
  (scaled to the face and floored at the person's noise like every engine threshold), its runs as
  faults (the engine's debounce), and its worst moments. Where a hand covers the region the check is
  measured on (``fault_regions`` of ``hands.yaml``), the check is *not visible*: those frames are left
  out and reported as such, never as a fault (the landmarks under a hand are the model's guess).
* **Over-use** (:func:`overuse`): the action's muscles that the knowledge base marks over-used on every
  side, with the knowledge base's reason and the massages that release them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facecoach.coaching.actions import Action, Actions, KeepStill
from facecoach.coaching.calibration import Calibration
from facecoach.coaching.evaluator import Evaluator, Fault, FaultTracker, Hold, Side
from facecoach.coaching.hand_checks import load_hand_settings
from facecoach.coaching.measures import MM_MEASURES, NEUTRAL_VALUE
from facecoach.coaching.segments import FrameState, companions, leader, seen_in_picture
from facecoach.coaching.specs import CoachingSpec, EvaluationSettings
from facecoach.knowledge.library import Library
from facecoach.knowledge.models import Technique
from facecoach.vision.landmarks import FaceObservation

WORST_MOMENTS = 3
WORST_APART_S = 1.0


@dataclass(frozen=True)
class Recognition:
    technique: Technique | None
    confidence: float
    dominance: float
    candidates: dict[str, float]  # technique id → fit (0..1)


@dataclass(frozen=True)
class Moment:
    t_s: float
    kind: str
    severity: float  # value ÷ tolerance (1.0 = at the tolerance)


@dataclass(frozen=True)
class Wrinkle:
    kind: str
    share: float  # of the segment's time with a face (and the check's region in view)
    faults: list[Fault]
    worst: list[Moment]
    hidden: list[Hidden] = field(default_factory=list)


@dataclass(frozen=True)
class Hidden:
    """A stretch in which a hand covers ``region``, where keep-still check ``kind`` is measured: not
    judged there ("not visible"), never a fault."""

    kind: str
    region: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Overuse:
    muscle: str
    name: str
    reason: str
    release: list[str]  # technique ids of massages that release it


@dataclass(frozen=True)
class EngineRun:
    reps: int
    holds: list[Hold]
    faults: list[Fault]


@dataclass(frozen=True)
class Verdict:
    level: str  # safe | care | unsafe
    reasons: list[str] = field(default_factory=list)


def dominance(
    states: Sequence[FrameState],
    name: str,
    thr: dict[str, tuple[float, float]],
    companion: dict[str, frozenset[str]],
) -> float:
    """Share of the moving frames (some action past its start) in which ``name`` leads."""
    moving = 0
    lead = 0
    for st in states:
        if not st.activation:
            continue
        ratio = {k: a / thr[k][0] for k, a in st.activation.items()}
        best = leader(ratio, companion, seen_in_picture(st, thr))
        if ratio[best] >= 1.0:
            moving += 1
            lead += best == name
    return lead / moving if moving else 0.0


def run_engine(
    spec: CoachingSpec, cal: Calibration, frames: Sequence[tuple[float, FaceObservation | None]], end_s: float
) -> EngineRun:
    """The coaching engine as today over a segment's frames, with the video's calibration."""
    ev = Evaluator(spec, stop_after_reps=False, calibration=cal)
    for t, face in frames:
        ev.push(face, t)
    ev.finish(end_s)
    return EngineRun(ev.reps, list(ev.holds), sorted(ev.faults, key=lambda f: f.start_s))


def _sides_fit(technique: Technique, states: Sequence[FrameState], action: Action, start: float) -> float:
    """1.0 for both sides together; for ``sides: each`` the share of reps done by either side alone."""
    sided = (
        technique.exercise is not None and technique.exercise.sides == "each" and len(action.measures) == 2
    )
    if not sided:
        return 1.0
    left = right = 0
    for st in states:
        if st.measures is None:
            continue
        lv, rv = (action.sign * getattr(st.measures, m) for m in action.measures)
        big = max(lv, rv)
        if not math.isfinite(big) or big <= 0:
            continue
        if min(lv, rv) < 0.5 * big and st.activation.get(action.name, 0.0) >= start:
            left += lv > rv
            right += rv > lv
    total = left + right
    return 2.0 * min(left, right) / total if total else 0.0


def _hold_fit(technique: Technique, holds: Sequence[Hold], tolerance: float) -> float:
    target = technique.defaults.hold_s
    held = [h.seconds for h in holds if h.seconds > 0]
    if target is None or not held:
        return 0.5
    r = float(np.median(held)) / target
    return min(1.0, (1.0 + tolerance) * min(r, 1.0 / r))


def _resistance_fit(technique: Technique, hands_tracked: bool, hands_on: bool) -> float:
    wants = bool(technique.exercise and technique.exercise.resistance)
    if not hands_tracked:
        return 0.6 if wants else 1.0
    return (1.0 if hands_on else 0.2) if wants else (0.6 if hands_on else 1.0)


def recognise(
    action: Action,
    states: Sequence[FrameState],
    holds: Sequence[Hold],
    thr: dict[str, tuple[float, float]],
    library: Library,
    actions: Actions,
    hands_tracked: bool,
) -> Recognition:
    """Which technique of the library this segment is (see the module docstring)."""
    dom = dominance(states, action.name, thr, companions(actions))
    # resisted by the hands: a hand on the face for most of the segment (a hand leaving the face as the
    # movement starts does not make it a resisted one)
    faced = [st for st in states if st.measures is not None]
    hands_on = bool(faced) and sum(st.hands_on_face for st in faced) >= 0.5 * len(faced)
    fits: dict[str, float] = {}
    for t in library.techniques.values():
        if t.kind != "exercise" or t.exercise is None or t.exercise.movement != action.movement:
            continue
        fits[t.id] = (
            _hold_fit(t, holds, actions.recognition.hold_tolerance)
            * _sides_fit(t, states, action, thr[action.name][0])
            * _resistance_fit(t, hands_tracked, hands_on)
        )
    if not fits:
        return Recognition(None, 0.0, dom, {})
    ranked = sorted(fits.items(), key=lambda kv: -kv[1])
    best_id, best = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = dom * best * (1.0 - 0.5 * second / best) if best > 0 else 0.0
    technique = library.techniques[best_id] if confidence >= actions.recognition.min_confidence else None
    return Recognition(technique, round(confidence, 3), round(dom, 3), {k: round(v, 3) for k, v in ranked})


def tolerances(check: KeepStill, cal: Calibration, s: EvaluationSettings) -> dict[str, float]:
    """A keep-still check's tolerances for this person (as the evaluator sets fault tolerances)."""
    return {
        m: max(tol * (cal.size_factor if m in MM_MEASURES else 1.0), s.noise_multiple * cal.noise.get(m, 0.0))
        if math.isfinite(cal.noise.get(m, 0.0))
        else tol
        for m, tol in check.measures.items()
    }


def _severity(st: FrameState, tol: dict[str, float]) -> tuple[float, Side]:
    """The largest value ÷ tolerance over the check's measures, and the side of that measure."""
    assert st.measures is not None
    worst, side = 0.0, None
    side_of: dict[str, Side] = {"_left": "left", "_right": "right"}
    for name, t in tol.items():
        v = getattr(st.measures, name) - NEUTRAL_VALUE[name]
        if math.isfinite(v) and v / t > worst:
            worst = v / t
            side = next((v for k, v in side_of.items() if name.endswith(k)), None)
    return worst, side


def _worst(moments: list[Moment]) -> list[Moment]:
    picked: list[Moment] = []
    for m in sorted(moments, key=lambda m: -m.severity):
        if all(abs(m.t_s - p.t_s) >= WORST_APART_S for p in picked):
            picked.append(m)
        if len(picked) == WORST_MOMENTS:
            break
    return sorted(picked, key=lambda m: m.t_s)


def wrinkling(
    check: KeepStill, states: Sequence[FrameState], cal: Calibration, s: EvaluationSettings, end_s: float
) -> Wrinkle:
    """One keep-still check over a segment (see the module docstring)."""
    tol = tolerances(check, cal, s)
    tracker = FaultTracker(check.kind, check.cue, s.fault_min_s, s.fault_clear_s)
    faults: list[Fault] = []
    moments: list[Moment] = []
    hidden: list[Hidden] = []
    regions = load_hand_settings().fault_regions.get(check.kind, [])
    on_time = seen_time = 0.0
    last: FrameState | None = None
    for st in states:
        dt = min(st.t_s - last.t_s, s.max_gap_s) if last is not None else 0.0
        last = st
        cover = next((r for r in regions if r in st.covered), None)
        if cover is not None:
            hidden = _hidden_until(hidden, check.kind, cover, st.t_s, s.max_gap_s)
        if st.measures is None or cover is not None:
            ended = tracker.close(st.t_s, st.t_s)
            faults += [ended] if ended else []
            continue
        severity, side = _severity(st, tol)
        on = severity > 1.0
        seen_time += dt
        on_time += dt if on else 0.0
        if on:
            moments.append(Moment(st.t_s, check.kind, severity))
        ev = tracker.update(st.t_s, on, side)
        if ev is not None and ev.end_s is not None:
            faults.append(ev)
    ended = tracker.close(end_s, end_s if not tracker.clear_since else tracker.clear_since)
    faults += [ended] if ended else []
    share = on_time / seen_time if seen_time > 0 else 0.0
    return Wrinkle(check.kind, round(share, 3), faults, _worst(moments) if faults else [], hidden)


def _hidden_until(hidden: list[Hidden], kind: str, region: str, t: float, max_gap_s: float) -> list[Hidden]:
    """``hidden`` with the cover of ``region`` extended to ``t`` (or a new one after a gap)."""
    if hidden and hidden[-1].region == region and t - hidden[-1].end_s <= max_gap_s:
        return [*hidden[:-1], Hidden(kind, region, hidden[-1].start_s, t)]
    return [*hidden, Hidden(kind, region, t, t)]


def overuse(action: Action, library: Library) -> list[Overuse]:
    """The action's muscles that are over-used on every side, with the reason and the release."""
    groups = library.muscle_groups()
    out: list[Overuse] = []
    for muscle in action.muscles:
        entries = groups.get(muscle, [])
        if not entries or not all(m.use == "overused" for m in entries):
            continue
        first = entries[0]
        reason = first.notes.split(". ")[0].rstrip(".") + "." if first.notes else first.action
        release = [t.id for t in library.releases_for(muscle)]
        out.append(Overuse(muscle, first.name, reason, release))
    return out
