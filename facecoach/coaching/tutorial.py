"""The audit of any video, without being told its technique: segments, what each one is, what it gets
wrong, and whether the video is safe to follow. Pure: analysed frames in, :class:`TutorialResult` out.

Steps (each in its own module): the neutral stretch to calibrate on (:mod:`.calibration`), the timeline
(:mod:`.segments`), per segment the technique, the engine's reps/holds/faults, whole-face wrinkling and
over-use (:mod:`.review`), then the verdict (:func:`verdict`):

* **unsafe** — a segment trains a muscle that should be released (over-used in the knowledge base), or a
  keep-still region creases or moves for at least ``unsafe_wrinkle_share`` of a segment;
* **care** — any fault, a movement that is no technique of the library, or no neutral face to measure
  from (every figure is then relative to a face that was not at rest);
* **safe** — otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from facecoach.coaching.actions import Actions, load_actions
from facecoach.coaching.calibration import Calibration
from facecoach.coaching.evaluator import Fault
from facecoach.coaching.hand_audit import stroke_inputs
from facecoach.coaching.hand_checks import hands_on_face
from facecoach.coaching.massage_audit import (
    MassageOut,
    StrokeOut,
    massage_out,
    recognise_massage,
    strokes_out,
)
from facecoach.coaching.measures import MM_MEASURES as _MM
from facecoach.coaching.review import (
    Overuse,
    Recognition,
    Wrinkle,
    overuse,
    recognise,
    run_engine,
    tolerances,
    wrinkling,
)
from facecoach.coaching.segments import (
    Cut,
    FrameState,
    HandPresence,
    companions,
    cut,
    frame_states,
    label_frames,
    seen_in_picture,
    thresholds,
)
from facecoach.coaching.specs import CoachingSpec, load_movements, spec_for
from facecoach.knowledge.library import Library, load_library
from facecoach.knowledge.models import WorkingPoint
from facecoach.vision.hands import HandFrame
from facecoach.vision.landmarks import FaceObservation

SegmentKind = Literal["rest", "exercise", "massage", "unrecognised"]
Level = Literal["safe", "care", "unsafe"]
SAFE_SENTENCE = "Safe to follow: yes — every movement is a library technique, the rest of the face still."


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _r(x: float) -> float:
    return round(float(x), 3)


class SegmentFault(_Out):
    kind: str
    side: Literal["left", "right", "both", "midline"] | None
    start_s: float
    end_s: float
    cue: str


class SegmentHold(_Out):
    start_s: float
    end_s: float
    seconds: float
    completed: bool


class WhatMoved(_Out):
    regions: list[str]
    muscles: list[str]


class WrinkleOut(_Out):
    kind: str
    share: float  # of the segment's time with a face, 0..1
    worst_s: list[float]


class NotVisibleOut(_Out):
    """A keep-still check a hand hides (its region covered): not judged there, never a fault."""

    kind: str
    region: str
    start_s: float
    end_s: float


class OveruseOut(_Out):
    muscle: str
    name: str
    reason: str
    release: list[str]


class WorstMoment(_Out):
    t_s: float
    kind: str
    severity: float  # value ÷ tolerance


class SegmentOut(_Out):
    start_s: float
    end_s: float
    kind: SegmentKind
    technique: str | None
    confidence: float
    reps: int
    holds: list[SegmentHold]
    faults: list[SegmentFault]
    trains_overused: list[str]
    # for the report page
    action: str | None
    view: Literal["face", "no_face", "turned_away", "several_faces"]
    what_moved: WhatMoved
    wrinkling: list[WrinkleOut]
    overuse: list[OveruseOut]
    worst_moments: list[WorstMoment]
    not_judged: list[str]
    not_visible: list[NotVisibleOut] = []  # keep-still checks a hand hides, and when
    strokes: list[StrokeOut] = []  # a massage segment's strokes (hands tracked)
    massage: MassageOut | None = None  # … and its dose, from them


class VerdictOut(_Out):
    level: Level
    reasons: list[str]
    sentence: str


class CalibrationOut(_Out):
    start_s: float
    end_s: float
    neutral: bool
    reasons: list[str]
    waited_s: float
    rereferenced: list[tuple[float, float]]


class Series(_Out):
    """Measures over time for charts: ``t`` seconds; per measure its values (None without a face) in its
    unit, and its threshold (the working movement's start, or the keep-still tolerance)."""

    t: list[float]
    values: dict[str, list[float | None]]
    thresholds: dict[str, float]
    units: dict[str, str]


class TutorialResult(_Out):
    """The JSON of ``facecoach audit VIDEO --json`` without ``--technique`` (times in seconds)."""

    verdict: VerdictOut
    segments: list[SegmentOut]
    calibration: CalibrationOut
    hands: list[dict[str, object]]
    fps: float
    duration_s: float
    series: Series


def _faults(faults: Sequence[Fault], end_s: float) -> list[SegmentFault]:
    return [
        SegmentFault(
            kind=f.kind,
            side=f.side,
            start_s=_r(f.start_s),
            end_s=_r(f.end_s if f.end_s is not None else end_s),
            cue=f.cue,
        )
        for f in sorted(faults, key=lambda f: f.start_s)
    ]


def _in(c: Cut, t: float) -> bool:
    return c.start_s <= t < c.end_s


class _Context:
    """What every segment's review needs (one video)."""

    def __init__(
        self,
        frames: Sequence[tuple[float, FaceObservation | None]],
        states: list[FrameState],
        cal: Calibration,
        actions: Actions,
        library: Library,
        hands_tracked: bool,
        hand_frames: Sequence[HandFrame] = (),
    ) -> None:
        self.frames = frames
        self.hand_frames = hand_frames
        self.states = states
        self.cal = cal
        self.actions = actions
        self.library = library
        self.settings = load_movements().evaluation
        self.thr = thresholds(actions, cal, self.settings)
        self.hands_tracked = hands_tracked
        self.template = spec_for(next(t for t in library.techniques.values() if t.kind == "exercise"))

    def segment(self, c: Cut) -> SegmentOut:
        states = [s for s in self.states if _in(c, s.t_s)]
        if c.label in ("no_face", "turned_away", "several_faces"):
            return self._empty(c, "unrecognised", c.label, [self.actions.not_judged[c.label]])  # type: ignore[index]
        if c.label == "rest":
            return self._empty(c, "rest", "face", [])
        if c.label == "massage":
            return self._massage(c)
        return self._moving(c, states)

    def _massage(self, c: Cut) -> SegmentOut:
        """A massage segment: its strokes checked against the massage they fit (see massage_audit)."""
        out = self._empty(c, "massage", "face", [self.actions.not_judged["pressure"]])
        if len(self.hand_frames) != len(self.frames):
            return out
        picked = [i for i, (t, _f) in enumerate(self.frames) if _in(c, t)]
        frames = [self.frames[i] for i in picked]
        hands = [self.hand_frames[i] for i in picked]

        made: dict[WorkingPoint, list[tuple[float, list[tuple[float, float]], object]]] = {}

        def inputs_for(kind: WorkingPoint) -> list[tuple[float, list[tuple[float, float]], object]]:
            # every massage of the library is tried: the inputs depend only on the working point
            if kind not in made:
                made[kind] = stroke_inputs(frames, hands, kind)  # type: ignore[assignment]
            return made[kind]

        check = recognise_massage(inputs_for, self.library)  # type: ignore[arg-type]
        faults = [
            SegmentFault(kind=f.kind, side=f.side, start_s=_r(f.start_s), end_s=_r(f.end_s), cue=f.cue)
            for f in sorted(check.summary.faults, key=lambda f: f.start_s)
        ]
        return out.model_copy(
            update={
                "technique": check.technique.id if check.technique is not None else None,
                "confidence": round(check.fit, 3) if check.technique is not None else 0.0,
                "faults": faults,
                "strokes": strokes_out(check.summary),
                "massage": massage_out(check.summary, check.spec) if check.technique is not None else None,
            }
        )

    def _empty(self, c: Cut, kind: SegmentKind, view: str, not_judged: list[str]) -> SegmentOut:
        return SegmentOut(
            start_s=_r(c.start_s),
            end_s=_r(c.end_s),
            kind=kind,
            technique=None,
            confidence=0.0,
            reps=0,
            holds=[],
            faults=[],
            trains_overused=[],
            action=None,
            view=view,  # type: ignore[arg-type]
            what_moved=WhatMoved(regions=[], muscles=[]),
            wrinkling=[],
            overuse=[],
            worst_moments=[],
            not_judged=not_judged,
        )

    def _moving(self, c: Cut, states: list[FrameState]) -> SegmentOut:
        action = self.actions.actions[c.label]
        frames = [(t, f) for t, f in self.frames if _in(c, t)]
        pictured = sum(action.name in seen_in_picture(st, self.thr) for st in states) >= 0.5 * len(states)
        probe = run_engine(
            self.actions.action_spec(action, self.template, pictured), self.cal, frames, c.end_s
        )
        rec: Recognition = recognise(
            action, states, probe.holds, self.thr, self.library, self.actions, self.hands_tracked
        )
        spec: CoachingSpec | None = spec_for(rec.technique) if rec.technique is not None else None
        run = run_engine(spec, self.cal, frames, c.end_s) if spec is not None else probe
        watched = {f.kind for f in spec.faults} if spec is not None else set()
        wrinkles: list[Wrinkle] = [
            wrinkling(check, states, self.cal, self.settings, c.end_s)
            for kind, check in self.actions.keep_still.items()
            if kind not in action.ignores and not set(check.measures) & set(action.measures)
        ]
        faults = list(run.faults) + [f for w in wrinkles if w.kind not in watched for f in w.faults]
        over: list[Overuse] = overuse(action, self.library)
        muscles = self.library.muscle_groups()
        moments = sorted((m for w in wrinkles for m in w.worst), key=lambda m: -m.severity)[:3]
        return SegmentOut(
            start_s=_r(c.start_s),
            end_s=_r(c.end_s),
            kind="exercise" if rec.technique is not None else "unrecognised",
            technique=rec.technique.id if rec.technique is not None else None,
            confidence=rec.confidence,
            reps=run.reps,
            holds=[
                SegmentHold(
                    start_s=_r(h.start_s), end_s=_r(h.end_s), seconds=_r(h.seconds), completed=h.completed
                )
                for h in run.holds
            ],
            faults=_faults(faults, c.end_s),
            trains_overused=[o.muscle for o in over],
            action=action.name,
            view="face",
            what_moved=WhatMoved(
                regions=list(dict.fromkeys(muscles[m][0].region for m in action.muscles)),
                muscles=list(action.muscles),
            ),
            wrinkling=[
                WrinkleOut(kind=w.kind, share=w.share, worst_s=[_r(m.t_s) for m in w.worst])
                for w in wrinkles
                if w.faults
            ],
            not_visible=[
                NotVisibleOut(kind=h.kind, region=h.region, start_s=_r(h.start_s), end_s=_r(h.end_s))
                for w in wrinkles
                for h in w.hidden
                if h.end_s - h.start_s >= self.settings.fault_min_s  # the engine's debounce
            ],
            overuse=[
                OveruseOut(muscle=o.muscle, name=o.name, reason=o.reason, release=o.release) for o in over
            ],
            worst_moments=[
                WorstMoment(t_s=_r(m.t_s), kind=m.kind, severity=round(m.severity, 2))
                for m in sorted(moments, key=lambda m: m.t_s)
            ],
            not_judged=self._not_judged(rec, states),
        )

    def _not_judged(self, rec: Recognition, states: list[FrameState]) -> list[str]:
        nj = self.actions.not_judged
        out: list[str] = []
        t = rec.technique
        if t is not None and t.exercise is not None and t.exercise.resistance:
            out.append(nj["resistance"])
        if t is not None and t.exercise is not None and t.exercise.movement == "lips_press":
            out.append(nj["jaw_clench"])
        if not self.hands_tracked:
            out.append(nj["hands"])
        if any(
            s.measures is not None and s.measures.forehead_wrinkle != s.measures.forehead_wrinkle
            for s in states
        ):
            out.append(nj["forehead"])
        return out

    def series(self) -> Series:
        names: dict[str, float] = {}
        for a in self.actions.actions.values():
            expected = a.expected * (self.cal.size_factor if a.measures[0] in _MM else 1.0)
            for m in a.measures:
                names.setdefault(m, round(self.thr[a.name][0] * expected, 3))
            if a.picture is not None:  # the frown's creases: charted against the frown's start
                names.setdefault(a.picture.measure, round(self.thr[a.name][0] * a.picture.expected, 3))
        for check in self.actions.keep_still.values():
            for m, tol in tolerances(check, self.cal, self.settings).items():
                names[m] = round(min(names.get(m, tol), tol) + (1.0 if m == "forehead_wrinkle" else 0.0), 3)
        values: dict[str, list[float | None]] = {m: [] for m in names}
        for st in self.states:
            for m in names:
                v = None if st.measures is None else getattr(st.measures, m)
                values[m].append(None if v is None or v != v else round(v, 2))
        return Series(
            t=[round(s.t_s, 2) for s in self.states],
            values=values,
            thresholds=names,
            units={m: _unit(m) for m in names},
        )


def _unit(measure: str) -> str:
    if measure in _MM:
        return "mm"
    if measure == "forehead_wrinkle":
        return "ratio"
    if measure == "head_motion":
        return "deg"
    if measure == "frown_lines":
        return "figure"
    return "score"


def _span(seg: SegmentOut) -> str:
    return f"{seg.start_s:.1f}–{seg.end_s:.1f} s"


def verdict(segments: Sequence[SegmentOut], cal: CalibrationOut, actions: Actions) -> VerdictOut:
    """Safe to follow: yes / with care / no (see the module docstring), with a reason per finding."""
    unsafe: list[str] = []
    care: list[str] = []
    share = actions.verdict.unsafe_wrinkle_share
    for seg in segments:
        what = seg.technique or (seg.action or seg.kind).replace("_", " ")
        for o in seg.overuse:
            if actions.verdict.unsafe_overuse:
                release = f" Release it instead ({', '.join(o.release[:2])})." if o.release else ""
                unsafe.append(
                    f"{_span(seg)}: the {what} trains the {o.name}, an over-used muscle. {o.reason}{release}"
                )
        for w in seg.wrinkling:
            line = f"{_span(seg)}: {w.kind.replace('_', ' ')} for {w.share:.0%} of the {what}"
            (unsafe if w.share >= share else care).append(line + ".")
        watched = {w.kind for w in seg.wrinkling}
        for f in seg.faults:
            if f.kind not in watched:
                side = f" ({f.side})" if f.side else ""
                care.append(
                    f"{f.start_s:.1f}–{f.end_s:.1f} s: {f.kind.replace('_', ' ')}{side} in the {what}."
                )
        if seg.kind == "unrecognised" and seg.view == "face" and not seg.overuse:
            care.append(f"{_span(seg)}: a {what} movement that is no technique of the library.")
    if not cal.neutral:
        why = ", ".join(r.replace("_", " ") for r in cal.reasons) or "no face at rest"
        care.append(
            f"No neutral face to measure from ({why}): every figure is relative to a face not at rest."
        )
    if unsafe:
        return VerdictOut(
            level="unsafe", reasons=unsafe + care, sentence="Safe to follow: no, because " + _first(unsafe)
        )
    if care:
        return VerdictOut(
            level="care", reasons=care, sentence="Safe to follow: with care, because " + _first(care)
        )
    return VerdictOut(
        level="safe",
        reasons=[],
        sentence=SAFE_SENTENCE,
    )


def _first(reasons: list[str]) -> str:
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    text = reasons[0]
    return text[0].lower() + text[1:] + more if text else text


def covered(
    frames: Sequence[tuple[float, FaceObservation | None]], hand_frames: Sequence[HandFrame]
) -> list[frozenset[str]]:
    """Per frame, the face regions the hands cover (:func:`facecoach.coaching.hand_checks.hands_on_face`);
    empty without the hands of every frame."""
    if len(hand_frames) != len(frames):
        return []
    return [
        hands_on_face(h.hands, face).covered if face is not None and h.hands else frozenset()
        for (_t, face), h in zip(frames, hand_frames, strict=True)
    ]


def review_video(
    frames: Sequence[tuple[float, FaceObservation | None]],
    cal: Calibration,
    calibration: CalibrationOut,
    fps: float,
    duration_s: float,
    crowded_s: Sequence[tuple[float, float]] = (),
    hands: Sequence[HandPresence] = (),
    hand_frames: Sequence[HandFrame] = (),
) -> TutorialResult:
    """The whole any-video audit from analysed frames and the calibration found on them; with the hands
    of each frame (``hand_frames``), massage segments get their strokes checked."""
    actions = load_actions()
    library = load_library()
    settings = load_movements().evaluation
    states = frame_states(frames, cal, actions, settings, crowded_s, hands, covered(frames, hand_frames))
    ctx = _Context(frames, states, cal, actions, library, hands_tracked=bool(hands), hand_frames=hand_frames)
    labels = label_frames(
        states, ctx.thr, actions.segments.still_fraction, companions(actions), strokes_known=bool(hand_frames)
    )
    cuts = cut(states, labels, actions, settings, duration_s)
    segments = [ctx.segment(c) for c in cuts]
    return TutorialResult(
        verdict=verdict(segments, calibration, actions),
        segments=segments,
        calibration=calibration,
        hands=[],
        fps=_r(fps),
        duration_s=_r(duration_s),
        series=ctx.series(),
    )
