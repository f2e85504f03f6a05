"""One live-coaching connection's state: the current step's evaluator and what every step achieved.

No I/O here: the socket handler (``facecoach.web.live``) decodes messages, feeds them in and sends what
comes out. The summary it builds is what the *server* saw (reps and faults from its own evaluator, and
whether each step completed from its step check, :mod:`facecoach.live.checks`), so the saved
session cannot be inflated by a client that claims more than it did: a ``done`` or ``skip`` only ends
a step, it never completes one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from facecoach.coaching.evaluator import (
    Calibrated,
    Evaluator,
    Fault,
    Finished,
    RepDone,
    RepFailed,
)
from facecoach.coaching.specs import CoachingSpec, spec_for
from facecoach.coaching.stroke_specs import StrokeSpec, StrokeSpecError, stroke_spec
from facecoach.coaching.strokes import Stroke
from facecoach.knowledge import Library
from facecoach.live.checks import ExerciseCheck, MassageCheck, StepCheck
from facecoach.live.massage import LiveEvent, LiveMassage, StrokeCount
from facecoach.live.protocol import Control, ProtocolError
from facecoach.members.session_summary import SessionSummary, parse_summary
from facecoach.vision.hands import HandObservation, drop_duplicate_hands
from facecoach.vision.landmarks import FaceObservation

#: Hands seen this recently (s, the frames' clock) still stand for a frame sent without them: the page
#: looks for hands only every few frames during an exercise done without hands.
HANDS_HOLD_S = 0.6
#: How often the page looks for hands: every frame in a massage or a hand-resisted exercise, every
#: ``LOW_RATE_EVERY``-th frame in an exercise done without hands (to raise "hands down").
LOW_RATE_EVERY = 4


class StepEvaluator(Protocol):
    """What a step needs from the coaching engine's evaluators (exercise or massage timer): frames in,
    typed events out; ``finish(t)`` closes what is still open when the step ends (seconds)."""

    def push(
        self, frame: FaceObservation | None, timestamp_s: float | None = None
    ) -> Sequence[LiveEvent]: ...

    def finish(self, t: float) -> Sequence[LiveEvent]: ...


EvaluatorFactory = Callable[[CoachingSpec], StepEvaluator]
SpecLookup = Callable[[str], CoachingSpec]
StrokeLookup = Callable[[str], StrokeSpec | None]


def library_strokes(library: Library) -> StrokeLookup:
    """A massage's camera check (None: the technique has none, and its step is timed as before)."""

    def lookup(technique_id: str) -> StrokeSpec | None:
        technique = library.techniques.get(technique_id)
        if technique is None or technique.kind != "massage":
            return None
        try:
            return stroke_spec(technique)
        except StrokeSpecError:
            return None

    return lookup


def library_specs(library: Library) -> SpecLookup:
    """Specs from a library (the app's current one: the YAML plus the instructor's edits); an unknown
    technique id raises ``LookupError``."""

    def lookup(technique_id: str) -> CoachingSpec:
        technique = library.techniques.get(technique_id)
        if technique is None:
            raise LookupError(technique_id)
        return spec_for(technique)

    return lookup


@dataclass
class StepRecord:
    """What one step achieved, from the server's own events."""

    technique_id: str
    kind: str
    reps_target: int | None
    started_s: float  # server clock (seconds, monotonic)
    reps: int = 0
    reps_failed: int = 0
    faults: list[Fault] = field(default_factory=list)  # the latest report of each (kind, onset)
    strokes: dict[str, int] | None = None  # a massage with a camera check: good strokes per side
    calibrated: bool = False
    finished: bool = False
    skipped: bool = False
    ended_s: float | None = None

    def to_dict(self, now_s: float) -> dict[str, Any]:
        end = self.ended_s if self.ended_s is not None else now_s
        return {
            "technique_id": self.technique_id,
            "kind": self.kind,
            "reps": self.reps,
            "reps_target": self.reps_target,
            "reps_failed": self.reps_failed,
            "faults": [_fault_entry(f) for f in self.faults],
            "completed": self.finished,
            "skipped": self.skipped,
            "duration_s": round(max(0.0, end - self.started_s), 2),
            **({"strokes": dict(self.strokes)} if self.strokes is not None else {}),
        }


class LiveSession:
    """The coaching state of one socket.

    ``specs`` finds a technique's spec (raises ``LookupError`` when unknown); ``make_evaluator`` builds
    the coaching engine's evaluator for it. Time for an exercise's frames is the client's capture time
    (seconds, re-based per step so every evaluator starts near zero); a massage's timer runs on the
    server's clock of the frames it received (:class:`MassageCheck`, gaps capped at
    ``massage_max_gap_s``, ``massage_grace_s`` of slack); durations use the server clock.
    """

    def __init__(
        self,
        specs: SpecLookup,
        make_evaluator: EvaluatorFactory,
        max_steps: int,
        clock: Callable[[], float] = time.monotonic,
        massage_max_gap_s: float = 1.0,
        massage_grace_s: float = 1.0,
        strokes: StrokeLookup | None = None,
    ) -> None:
        self._specs = specs
        self._strokes = strokes or (lambda _id: None)
        self._previous_hands: list[HandObservation] = []
        self._held_hands: tuple[float, list[HandObservation]] | None = None
        self._make = make_evaluator
        self._max_steps = max_steps
        self._clock = clock
        self._massage_gap_s = massage_max_gap_s
        self._massage_grace_s = massage_grace_s
        self._check: StepCheck | None = None
        self.started_s = clock()
        self.steps: list[StepRecord] = []
        self._current: StepRecord | None = None
        self._evaluator: StepEvaluator | None = None
        self._spec: CoachingSpec | None = None
        self._t0: float | None = None
        self._last_ts: float = -1.0
        self.paused = False
        self.finished = False
        self._reps_override: int | None = None

    # -- control -------------------------------------------------------------------------------------------

    def control(self, msg: Control) -> list[dict[str, Any]]:
        """Apply a control message; returns the messages to send back."""
        if self.finished:
            raise ProtocolError("the session has finished")
        if msg.type == "ping":
            return [{"type": "pong"}]
        if msg.type == "start":
            assert msg.technique is not None  # the decoder guarantees it
            return self._start(msg.technique, msg.reps)
        if msg.type == "repeat":
            if self._spec is None:
                raise ProtocolError("nothing to repeat: no step has started")
            self._discard_current()
            return self._start(self._spec.technique_id, self._reps_override)
        if msg.type == "pause":
            self.paused = True
            if self._check is not None:
                self._check.pause()
            return [{"type": "state", "paused": True}]
        if msg.type == "resume":
            self.paused = False
            return [{"type": "state", "paused": False}]
        if msg.type in ("skip", "done"):
            return self._end_step(skipped=msg.type == "skip")
        # finish: the socket handler saves the summary
        self._end_step(skipped=False)
        self.finished = True
        return []

    def _start(self, technique_id: str, reps: int | None) -> list[dict[str, Any]]:
        if len(self.steps) >= self._max_steps:
            raise ProtocolError("too many steps in one session")
        try:
            spec = self._specs(technique_id)
        except LookupError:
            raise ProtocolError(f"unknown technique {technique_id!r}") from None
        self._end_step(skipped=True)
        self._reps_override = reps
        if reps is not None and spec.reps is not None:
            spec = spec.model_copy(update={"reps": max(1, min(reps, spec.reps))})
        self._spec = spec
        strokes = self._strokes(spec.technique_id) if spec.kind == "massage" else None
        if strokes is not None:  # completed from the strokes seen (LiveMassage says finished)
            self._evaluator = LiveMassage(spec, strokes)
            self._check = ExerciseCheck()
        else:
            self._evaluator = self._make(spec)
            self._check = (
                ExerciseCheck()
                if spec.kind == "exercise"
                else MassageCheck(spec.duration_s, self._massage_gap_s, self._massage_grace_s)
            )
        self._t0 = None
        self.paused = False
        self._previous_hands = []
        self._held_hands = None
        record = StepRecord(spec.technique_id, spec.kind, spec.reps, self._clock())
        if strokes is not None:
            record.strokes = {side: 0 for side in ("right", "left", "midline")}
        self.steps.append(record)
        self._current = record
        return [
            {
                "type": "step",
                "technique_id": spec.technique_id,
                "kind": spec.kind,
                "reps": spec.reps,
                "hold_s": spec.hold_s,
                "duration_s": spec.duration_s,
                "hands": self.hands_wanted,
                **self._stroke_dose(strokes),
            }
        ]

    @staticmethod
    def _stroke_dose(strokes: StrokeSpec | None) -> dict[str, Any]:
        if strokes is None:
            return {}
        from facecoach.live.massage import required_sides

        return {
            "strokes_per_side": max(1, strokes.strokes_per_side),
            "stroke_sides": list(required_sides(strokes)),
        }

    @property
    def hands_wanted(self) -> str:
        """``"every"`` frame (a massage, a hand-resisted exercise), ``"low"`` (every ``LOW_RATE_EVERY``-th:
        an exercise done without hands, for "hands down"), ``"none"`` (a timed massage, no step)."""
        spec = self._spec
        if spec is None or (spec.kind == "massage" and not isinstance(self._evaluator, LiveMassage)):
            return "none"
        if spec.kind == "massage" or spec.resisted:
            return "every"
        return "low"

    def _discard_current(self) -> None:
        if self._current is not None and self.steps and self.steps[-1] is self._current:
            self.steps.pop()
        self._current = None
        self._evaluator = None
        self._check = None

    def _end_step(self, skipped: bool) -> list[dict[str, Any]]:
        record = self._current
        if record is None:
            return []
        # Close what the evaluator still has open (a fault in progress, a hold) before recording.
        # Its own "finished" does not count here: ending early is not completing the step.
        if self._evaluator is not None and self._t0 is not None and not record.finished:
            closing = self._evaluator.finish(max(0.0, self._last_ts - self._t0))
            self._record([e for e in closing if not isinstance(e, Finished)])
        record.ended_s = self._clock()
        # Completed or not is the server's decision (the step check), whatever the client said.
        record.finished = self._check.finish() if self._check is not None else False
        record.skipped = skipped and not record.finished
        self._current = None
        self._evaluator = None
        self._check = None
        return [{"type": "step_end", **record.to_dict(record.ended_s)}]

    # -- frames --------------------------------------------------------------------------------------------

    def frame(
        self,
        frame: FaceObservation | None,
        timestamp_s: float,
        hands: list[HandObservation] | None = None,
    ) -> list[LiveEvent]:
        """Feed one frame (None: no usable face) and the hands seen in it (None: not looked for); returns
        the evaluator's events (the socket sends them with ``to_dict``)."""
        if timestamp_s < self._last_ts:
            raise ProtocolError("frame timestamps went backwards")
        self._last_ts = timestamp_s
        if self._evaluator is None or self.paused or self._current is None or self._check is None:
            return []
        if self._t0 is None:
            self._t0 = timestamp_s
        now = self._clock()
        if isinstance(self._check, MassageCheck):
            self._check.frame(now, [])
            t = self._check.covered_s  # the massage timer runs on the server's clock, not the client's
        else:
            t = timestamp_s - self._t0
        if frame is not None:
            frame = replace(frame, timestamp_s=t)
        events = list(self._push(frame, t, self._hands_for(t, hands)))
        if not isinstance(self._check, MassageCheck):
            self._check.frame(now, events)
        self._record(events)
        return events

    def _hands_for(self, t: float, hands: list[HandObservation] | None) -> list[HandObservation] | None:
        """This frame's hands (one hand seen twice kept once), or the last ones seen within
        ``HANDS_HOLD_S`` when the page did not look in this frame (exercises: every few frames)."""
        if hands is None:
            held = self._held_hands
            if (
                held is not None
                and 0 <= t - held[0] <= HANDS_HOLD_S
                and not isinstance(self._evaluator, LiveMassage)
            ):
                return held[1]
            return None
        hands = drop_duplicate_hands(hands, self._previous_hands)
        self._previous_hands = hands
        self._held_hands = (t, hands)
        return hands

    def _push(
        self, frame: FaceObservation | None, t: float, hands: list[HandObservation] | None
    ) -> Sequence[LiveEvent]:
        evaluator = self._evaluator
        assert evaluator is not None
        if isinstance(evaluator, LiveMassage | Evaluator):
            return evaluator.push(frame, t, hands=hands)
        return evaluator.push(frame, t)  # a timed massage (no camera check): hands play no part

    def _record(self, events: Sequence[LiveEvent]) -> None:
        record = self._current
        assert record is not None
        for ev in events:
            if isinstance(ev, StrokeCount) and record.strokes is not None:
                record.strokes = {"right": ev.right, "left": ev.left, "midline": ev.midline}
            elif isinstance(ev, Stroke):
                continue
            elif isinstance(ev, Calibrated):
                record.calibrated = True
            elif isinstance(ev, RepDone):
                record.reps += 1
            elif isinstance(ev, RepFailed):
                record.reps_failed += 1
            elif isinstance(ev, Fault):
                _keep_fault(record.faults, ev)
            elif isinstance(ev, Finished):
                record.finished = True

    # -- summary -------------------------------------------------------------------------------------------

    def summary(self, mode: str) -> dict[str, Any]:
        """The session as the page shows it (and, through :meth:`record`, as it is saved)."""
        now = self._clock()
        steps = [s.to_dict(now) for s in self.steps]
        faults = Counter(f.kind for s in self.steps for f in s.faults)
        return {
            "technique_ids": list(dict.fromkeys(s.technique_id for s in self.steps)),
            "reps": sum(s.reps for s in self.steps),
            "faults": dict(faults),
            "duration_s": round(now - self.started_s, 1),
            "steps": steps,
            "mode": mode,
            "source": "live",
        }


def _keep_fault(faults: list[Fault], fault: Fault) -> None:
    """A fault is reported at its onset (``end_s`` None) and again when it ends: one entry, the latest."""
    for i, known in enumerate(faults):
        if (known.kind, _ms(known.start_s)) == (fault.kind, _ms(fault.start_s)):
            faults[i] = fault
            return
    faults.append(fault)


def _ms(seconds: float) -> float:
    """A time as the page and the saved record see it (``Event.to_dict`` rounds to milliseconds)."""
    return round(seconds, 3)


def _fault_entry(fault: Fault) -> dict[str, Any]:
    """A fault in a step's summary: its event without the ``type`` key."""
    entry = fault.to_dict()
    del entry["type"]
    return entry


def saved_record(summary: dict[str, Any]) -> tuple[SessionSummary, dict[str, Any]]:
    """What is saved of a :meth:`LiveSession.summary`: the summary model (validated like a posted one)
    and the details kept beside it (steps, mode). All of it is the server's own step records."""
    fields = {k: summary[k] for k in ("technique_ids", "reps", "faults", "duration_s")}
    return parse_summary(fields), {"steps": summary["steps"], "mode": summary["mode"]}
