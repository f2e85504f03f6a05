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

from facecoach.coaching.evaluator import Calibrated, Event, Fault, Finished, RepDone, RepFailed
from facecoach.coaching.specs import CoachingSpec, spec_for
from facecoach.knowledge import Library
from facecoach.live.checks import ExerciseCheck, MassageCheck, StepCheck
from facecoach.live.protocol import Control, ProtocolError
from facecoach.members.session_summary import SessionSummary, parse_summary
from facecoach.vision.landmarks import FaceObservation


class StepEvaluator(Protocol):
    """What a step needs from the coaching engine's evaluators (exercise or massage timer): frames in,
    typed events out; ``finish(t)`` closes what is still open when the step ends (seconds)."""

    def push(self, frame: FaceObservation | None, timestamp_s: float | None = None) -> list[Event]: ...

    def finish(self, t: float) -> list[Event]: ...


EvaluatorFactory = Callable[[CoachingSpec], StepEvaluator]
SpecLookup = Callable[[str], CoachingSpec]


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
    ) -> None:
        self._specs = specs
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
        self._evaluator = self._make(spec)
        self._check = (
            ExerciseCheck()
            if spec.kind == "exercise"
            else MassageCheck(spec.duration_s, self._massage_gap_s, self._massage_grace_s)
        )
        self._t0 = None
        self.paused = False
        record = StepRecord(spec.technique_id, spec.kind, spec.reps, self._clock())
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
            }
        ]

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

    def frame(self, frame: FaceObservation | None, timestamp_s: float) -> list[Event]:
        """Feed one frame (None: no usable face); returns the evaluator's events (the socket sends them
        with ``Event.to_dict``)."""
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
        events = self._evaluator.push(frame, t)
        if not isinstance(self._check, MassageCheck):
            self._check.frame(now, events)
        self._record(events)
        return events

    def _record(self, events: Sequence[Event]) -> None:
        record = self._current
        assert record is not None
        for ev in events:
            if isinstance(ev, Calibrated):
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
