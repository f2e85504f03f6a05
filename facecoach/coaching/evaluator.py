"""The streaming exercise evaluator: timestamped frames in, coaching events out. Pure Python, no I/O.

One :class:`Evaluator` follows one exercise. It first calibrates on ~1.5 s of the neutral face (only
frames that pass :func:`facecoach.vision.neutral.check_neutral` count: a face mid-expression restarts the
wait, so a frown is never taken as neutral; or it is given a calibration found beforehand, as the audit of
a recorded video does), then
turns the spec's movement into an *activation* (``sign × measure / expected``; for a left/right pair, of
the side that moves more — the ``asymmetry`` fault watches the other): a rep starts when the activation
crosses ``start_fraction`` and ends when it falls back under ``release_fraction`` (hysteresis, so noise
near one threshold does not chatter). A hold counts only the time spent above the release threshold;
releasing before ``hold_s`` is a failed rep.

Everything is timed by the frames' timestamps, never by frame counts, so 10 fps and 60 fps give the same
reps and the same fault onsets. A frame without a usable face (``None``, non-finite landmarks, or a
head turned/tilted past the vision quality gate's limits) pauses the clock: a gap never counts as
holding, and a fault that was on ends at the last frame that showed it.

After the face has been lost for ``rereference_after_s`` (turned away past the limits, or out of view) and
comes back, the next ``rereference_s`` of neutral frames re-reference the pose, position and forehead
(:meth:`Calibration.rereferenced`; a ``rereferenced`` event), so the turn away and back does not linger as
head motion. Head turns within the limits need no such step: the geometry is measured in the pose-free
face frame and the blendshapes are pose-independent.

Faults (kinds from the knowledge base) must persist ``fault_min_s`` before they are reported, with
``start_s`` at their true onset, and end once clear for ``fault_clear_s``. A fault event is sent twice:
when it is confirmed (``end_s`` None — live coaching shows the cue now) and when it ends (``end_s`` set).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal

from facecoach.coaching.calibration import Calibration, CalibrationError, calibrate
from facecoach.coaching.hand_checks import (
    NO_HANDS,
    HandsOnFace,
    hands_on_face,
    hidden,
    load_hand_settings,
    placed,
)
from facecoach.coaching.measures import (
    MEASURE_FIELDS,
    MM_MEASURES,
    NEUTRAL_VALUE,
    Measures,
    measures_from_raw,
    raw_measures,
)
from facecoach.coaching.specs import CoachingSpec, WatchedFault
from facecoach.vision import landmark_ids as ids
from facecoach.vision.geometry import HeadPose
from facecoach.vision.hands import HandObservation
from facecoach.vision.landmarks import FaceObservation
from facecoach.vision.neutral import NeutralRules, check_neutral
from facecoach.vision.quality import check_pose

Side = Literal["left", "right", "both"] | None


@dataclass(frozen=True)
class Event:
    """Base of every event: ``t_s`` is the timestamp (s) of the frame that produced it."""

    type: ClassVar[str] = "event"
    t_s: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, float):
                data[key] = round(value, 3)
        return {"type": self.type, **data}


@dataclass(frozen=True)
class Calibrated(Event):
    type: ClassVar[str] = "calibrated"
    start_s: float
    end_s: float
    noise: dict[str, float | None] = field(default_factory=dict)  # None: not measurable (no forehead)


@dataclass(frozen=True)
class Rereferenced(Event):
    """New pose, position and forehead references from ``start_s``–``end_s`` (the head came back)."""

    type: ClassVar[str] = "rereferenced"
    start_s: float
    end_s: float


@dataclass(frozen=True)
class RepStarted(Event):
    type: ClassVar[str] = "rep_started"
    rep: int  # the number this rep will have when it is done (1-based)


@dataclass(frozen=True)
class HoldProgress(Event):
    type: ClassVar[str] = "hold_progress"
    rep: int
    held_s: float
    target_s: float
    fraction: float


@dataclass(frozen=True)
class RepDone(Event):
    type: ClassVar[str] = "rep_done"
    rep: int  # reps done so far, this one included
    start_s: float
    held_s: float


@dataclass(frozen=True)
class RepFailed(Event):
    type: ClassVar[str] = "rep_failed"
    rep: int
    start_s: float
    end_s: float
    held_s: float
    target_s: float
    cue: str


@dataclass(frozen=True)
class Fault(Event):
    type: ClassVar[str] = "fault"
    kind: str
    side: Side
    start_s: float
    end_s: float | None
    cue: str


@dataclass(frozen=True)
class NotVisible(Event):
    """A face fault the camera cannot judge now: a hand covers ``region``, where ``kind`` is measured.

    Sent once when the cover starts (not a fault: nothing is counted against the exercise); ``end_s``
    is set on the second event, when the region shows again.
    """

    type: ClassVar[str] = "not_visible"
    kind: str
    region: str
    start_s: float
    end_s: float | None = None


@dataclass(frozen=True)
class FaceLost(Event):
    """No usable face any more; ``reason`` says what to change when the face is there but unusable
    (turned or tilted too far — the vision quality gate's sentence), None when no face was seen."""

    type: ClassVar[str] = "face_lost"
    reason: str | None = None


@dataclass(frozen=True)
class FaceFound(Event):
    type: ClassVar[str] = "face_found"


@dataclass(frozen=True)
class Progress(Event):
    """Massage timing: seconds done of the technique's duration."""

    type: ClassVar[str] = "progress"
    elapsed_s: float
    target_s: float
    fraction: float


@dataclass(frozen=True)
class Finished(Event):
    type: ClassVar[str] = "finished"
    reps: int
    failed: int


@dataclass(frozen=True)
class Hold:
    """One movement from rep start to release (``seconds``: time held above the release threshold)."""

    start_s: float
    end_s: float
    seconds: float
    completed: bool


def usable(face: FaceObservation) -> bool:
    """A frame the measures can use: 478 finite landmarks, eye corners ≥ 4 px apart (else: no face)."""
    pts = face.points_px
    if getattr(pts, "shape", None) != (478, 3) or not math.isfinite(float(pts.sum())):
        return False
    left, right = pts[ids.LEFT_EYE_OUTER], pts[ids.RIGHT_EYE_OUTER]
    return bool(abs(left[0] - right[0]) + abs(left[1] - right[1]) >= 4.0)


def _side_of(name: str) -> Side:
    if name.endswith("_left"):
        return "left"
    if name.endswith("_right"):
        return "right"
    return None


def _merge(a: Side, b: Side) -> Side:
    if a is None or a == b:
        return b
    if b is None:
        return a
    return "both"


class FaultTracker:
    """Debounce of one fault kind by timestamps (see the module docstring)."""

    def __init__(self, kind: str, cue: str, min_s: float, clear_s: float, merge_sides: bool = True) -> None:
        self.kind = kind
        self.merge_sides = merge_sides  # False: the side named at onset stays (asymmetry: the lagging side)
        self.cue = cue
        self.min_s = min_s
        self.clear_s = clear_s
        self.pending_since: float | None = None
        self.active = False
        self.start_s = 0.0
        self.side: Side = None
        self.clear_since: float | None = None
        self.last_on_s = 0.0

    def _cue(self, side: Side) -> str:
        return self.cue.replace("{side}", side or "one")

    def update(self, t: float, on: bool, side: Side) -> Fault | None:
        if on:
            self.clear_since = None
            self.last_on_s = t
            if self.active:
                if self.merge_sides:
                    self.side = _merge(self.side, side)
                return None
            if self.pending_since is None:
                self.pending_since = t
                self.side = side
            elif self.merge_sides:
                self.side = _merge(self.side, side)
            if t - self.pending_since >= self.min_s:
                self.active = True
                self.start_s = self.pending_since
                return Fault(t, self.kind, self.side, self.start_s, None, self._cue(self.side))
            return None
        self.pending_since = None
        if not self.active:
            return None
        if self.clear_since is None:
            self.clear_since = t
        if t - self.clear_since >= self.clear_s:
            return self.close(t, self.clear_since)
        return None

    def close(self, t: float, end_s: float) -> Fault | None:
        self.pending_since = None
        self.clear_since = None
        if not self.active:
            return None
        self.active = False
        return Fault(t, self.kind, self.side, self.start_s, end_s, self._cue(self.side))


class Evaluator:
    """Streaming evaluator of one exercise spec.

    ``push(face)`` with a :class:`FaceObservation` (its own ``timestamp_s`` is used), or
    ``push(None, timestamp_s)`` for a frame without a usable face;
    returns the events that frame caused. ``finish(t)`` closes what is open and emits ``finished``.
    ``stop_after_reps``: emit ``finished`` as soon as reps × sets are done (live coaching); the audit
    passes False and counts every rep in the video. ``calibration``: one found beforehand (the audit's
    neutral stretch): the evaluator measures from the first frame and emits no ``calibrated`` event.
    ``neutral_rules``: the neutral range (``vision/neutral.yaml`` by default).
    """

    def __init__(
        self,
        spec: CoachingSpec,
        stop_after_reps: bool = True,
        calibration: Calibration | None = None,
        neutral_rules: NeutralRules | None = None,
    ) -> None:
        if spec.kind != "exercise" or not spec.measures:
            raise ValueError(f"{spec.technique_id} is not an exercise with a measurable movement")
        self.spec = spec
        self.settings = spec.settings
        self.stop_after_reps = stop_after_reps
        self.calibration: Calibration | None = None
        self.reps = 0
        self.failed = 0
        self.holds: list[Hold] = []
        self.faults: list[Fault] = []  # ended faults, in order
        self.finished = False
        self.measures: Measures | None = None  # the latest smoothed measures
        self.activation = 0.0
        self.active = False
        self._calib: list[FaceObservation] = []
        self._calib_time = 0.0
        self._present = False
        self._seen = False
        self._last_t: float | None = None
        self._smooth: list[float] | None = None
        self._rep_start = 0.0
        self._held = 0.0
        self._done = False
        self._next_progress = 0.0
        self._start_thr = spec.settings.start_fraction
        self._release_thr = spec.settings.release_fraction
        self._trackers = [
            FaultTracker(
                f.kind,
                f.cue,
                spec.settings.fault_min_s,
                spec.settings.fault_clear_s,
                merge_sides=f.rule != "asymmetry",
            )
            for f in spec.faults
        ]
        self._idx = {name: i for i, name in enumerate(MEASURE_FIELDS)}
        self._move_idx = [self._idx[m] for m in spec.measures]
        self._move_in_mm = all(m in MM_MEASURES for m in spec.measures)
        self._expected = spec.expected  # scaled to the person's face size at calibration
        self._tol: list[dict[str, float]] = []
        self._neutral_rules = neutral_rules
        self._lost_since: float | None = None
        self._reref: list[FaceObservation] | None = None  # collecting a re-reference when not None
        self._hands: HandsOnFace | None = None  # this frame's hands (None: hands are not tracked)
        self._hidden: dict[str, NotVisible] = {}  # fault kind → the cover going on now
        self.not_visible: list[NotVisible] = []  # ended covers, in order
        self._hand_trackers = self._hand_fault_trackers(spec)
        if calibration is not None:
            self._apply_calibration(calibration)

    @staticmethod
    def _hand_fault_trackers(spec: CoachingSpec) -> list[FaultTracker]:
        """``hands_on_face`` for an exercise done without hands; ``hand_placement`` for a resisted one."""
        s = spec.settings
        if not spec.resisted:
            cue = load_hand_settings().hands_off_cue
            return [FaultTracker("hands_on_face", cue, s.fault_min_s, s.fault_clear_s)]
        if spec.hands is not None:
            return [FaultTracker("hand_placement", spec.hands.cue, s.fault_min_s, s.fault_clear_s)]
        return []

    # -- public -----------------------------------------------------------------------------------
    @property
    def active_faults(self) -> list[tuple[str, Side]]:
        """(kind, side) of every fault that is on right now (confirmed and not yet cleared)."""
        return [(tr.kind, tr.side) for tr in [*self._trackers, *self._hand_trackers] if tr.active]

    @property
    def rep_start_s(self) -> float | None:
        """When the rep in progress started (None between reps)."""
        return self._rep_start if self.active else None

    @property
    def target_reps(self) -> int | None:
        return None if self.spec.reps is None else self.spec.reps * self.spec.sets

    def push(
        self,
        frame: FaceObservation | None,
        timestamp_s: float | None = None,
        hands: Sequence[HandObservation] | None = None,
    ) -> list[Event]:
        """One frame. ``hands``: the hands seen in the same frame (same image size as the face), ``[]``
        when none; None (the default) when hands are not tracked, and no hand check runs."""
        if self.finished:
            return []
        self._hands = None
        if hands is not None and frame is not None:
            self._hands = hands_on_face(hands, frame, self.spec.hands) if hands else NO_HANDS
        if frame is None:
            if timestamp_s is None:
                raise ValueError("a frame without a face needs its timestamp")
            return self._lost(timestamp_s)
        t = frame.timestamp_s
        if not usable(frame):
            return self._lost(t)
        raw = raw_measures(frame)
        verdict = check_pose(HeadPose(raw["pose:yaw"], raw["pose:pitch"], raw["pose:roll"]))
        if not verdict.ok:  # turned too far for the measures to mean anything: pause, and say why
            return self._lost(t, verdict.message)
        events: list[Event] = []
        dt = self._step(t, events)
        if self.calibration is None:
            self._collect(frame, dt, t, events)
            return events
        if self._reref is not None:
            self._rereference(frame, events)
        m = measures_from_raw(raw, self.calibration)
        self._update(t, dt, m, events)
        return events

    def _step(self, t: float, events: list[Event]) -> float:
        """Seconds since the last usable frame (0 on the first one back, or after a long gap)."""
        if not self._present:
            if self._seen:
                events.append(FaceFound(t))
                away = t - (self._lost_since if self._lost_since is not None else t)
                if self.calibration is not None and away >= self.settings.rereference_after_s:
                    self._reref = []
            self._present = True
            self._seen = True
            dt = 0.0
        else:
            dt = t - (self._last_t if self._last_t is not None else t)
            if dt < 0 or dt > self.settings.max_gap_s:
                dt = 0.0
        self._last_t = t
        return dt

    def _collect(self, frame: FaceObservation, dt: float, t: float, events: list[Event]) -> None:
        """One more calibration frame, if the face is neutral (else the wait starts again)."""
        if not check_neutral(frame, self._neutral_rules).neutral:
            self._calib = []  # mid-expression, eyes shut or turned: wait for a neutral face
            self._calib_time = 0.0
            return
        self._calib.append(frame)
        self._calib_time += dt
        if (
            self._calib_time >= self.settings.calibration_s
            and len(self._calib) >= self.settings.calibration_min_frames
        ):
            calibrated = self._calibrate(t)
            if calibrated is not None:
                events.append(calibrated)

    def finish(self, t: float) -> list[Event]:
        if self.finished:
            return []
        events: list[Event] = []
        if self.active:
            self._release(self._last_t if self._last_t is not None else t, events)
        self._close_faults(t, events)
        self.finished = True
        events.append(Finished(t, self.reps, self.failed))
        return events

    # -- internals --------------------------------------------------------------------------------
    def _calibrate(self, t: float) -> Calibrated | None:
        try:
            cal = calibrate(self._calib)
        except CalibrationError:
            self._calib = []  # no usable scale in these frames: start calibrating afresh
            self._calib_time = 0.0
            return None
        self._calib = []
        noise = self._apply_calibration(cal)
        return Calibrated(t, cal.start_s, cal.end_s, noise)

    def _rereference(self, frame: FaceObservation, events: list[Event]) -> None:
        assert self._reref is not None and self.calibration is not None
        if not check_neutral(frame, self._neutral_rules).neutral:
            self._reref = []
            return
        self._reref.append(frame)
        first = self._reref[0].timestamp_s
        if frame.timestamp_s - first >= self.settings.rereference_s:
            self.calibration = self.calibration.rereferenced(self._reref)
            self._reref = None
            events.append(Rereferenced(frame.timestamp_s, first, frame.timestamp_s))

    def _apply_calibration(self, cal: Calibration) -> dict[str, float | None]:
        """Set the thresholds for this person; returns the noise per measure (None: not measurable)."""
        self.calibration = cal
        s = self.settings
        noise_act = sum(cal.noise.get(m, 0.0) for m in self.spec.measures) / len(self.spec.measures)
        self._expected = self.spec.expected * (cal.size_factor if self._move_in_mm else 1.0)
        noise_act /= self._expected
        self._start_thr = max(s.start_fraction, s.noise_multiple * noise_act)
        self._release_thr = min(
            max(s.release_fraction, 0.5 * s.noise_multiple * noise_act), 0.6 * self._start_thr
        )
        for f in self.spec.faults:
            self._tol.append(
                {
                    m: max(
                        tol * (cal.size_factor if m in MM_MEASURES else 1.0),
                        s.noise_multiple * cal.noise.get(m, 0.0),
                    )
                    for m, tol in f.measures.items()
                }
            )
        return {k: (round(v, 4) if math.isfinite(v) else None) for k, v in cal.noise.items()}

    def _lost(self, t: float, reason: str | None = None) -> list[Event]:
        events: list[Event] = []
        if self._present:
            self._present = False
            self._lost_since = t
            self._reref = None
            events.append(FaceLost(t, reason))
            self._close_faults(t, events)
        return events

    def _close_faults(self, t: float, events: list[Event]) -> None:
        """End every open fault: at the last face frame, or where it had already started to clear."""
        end = self._last_t if self._last_t is not None else t
        for cover in self._hidden.values():
            ended = NotVisible(t, cover.kind, cover.region, cover.start_s, end)
            self.not_visible.append(ended)
            events.append(ended)
        self._hidden.clear()
        for tr in [*self._trackers, *self._hand_trackers]:
            ev = tr.close(t, end if not tr.clear_since else tr.clear_since)
            if ev:
                self._record_fault(ev, events)

    def _record_fault(self, ev: Fault, events: list[Event]) -> None:
        self.faults.append(ev)
        events.append(ev)

    def _update(self, t: float, dt: float, m: Measures, events: list[Event]) -> None:
        values = [getattr(m, name) for name in MEASURE_FIELDS]
        tau = self.settings.smoothing_s
        if self._smooth is None or tau <= 0 or dt <= 0:
            self._smooth = list(values)  # first frame, or resuming after a pause: start afresh
        else:
            alpha = 1.0 - math.exp(-dt / tau)
            self._smooth = [
                v if math.isnan(p) else (p if math.isnan(v) else p + alpha * (v - p))
                for p, v in zip(self._smooth, values, strict=True)
            ]
        smooth = self._smooth
        self.measures = Measures(*smooth)
        sign = self.spec.sign
        move = [sign * smooth[i] for i in self._move_idx]
        act = max(move) / self._expected  # the side that moves more (see CoachingSpec)
        if math.isnan(act):
            act = 0.0
        self.activation = act
        self._reps(t, dt, act, events)
        for k, (tr, f) in enumerate(zip(self._trackers, self.spec.faults, strict=True)):
            on, side = self._fault_on(f, self._tol[k], smooth, move, act)
            if self._covered(t, f.kind, events):
                on = False  # not visible under a hand: never a fault
            ev = tr.update(t, on, side)
            if ev is not None:
                if ev.end_s is None:
                    events.append(ev)
                else:
                    self._record_fault(ev, events)
        self._hand_faults(t, events)
        if self.stop_after_reps and not self.active and self.target_reps and self.reps >= self.target_reps:
            events.extend(self.finish(t))

    def _covered(self, t: float, kind: str, events: list[Event]) -> bool:
        """Whether a hand hides this fault's region now; sends ``not_visible`` when that starts/ends."""
        region = hidden(kind, self._hands) if self._hands is not None else None
        open_ = self._hidden.get(kind)
        if region is not None and open_ is None:
            self._hidden[kind] = NotVisible(t, kind, region, t)
            events.append(self._hidden[kind])
        elif region is None and open_ is not None:
            ended = NotVisible(t, kind, open_.region, open_.start_s, t)
            del self._hidden[kind]
            self.not_visible.append(ended)
            events.append(ended)
        return region is not None

    def _hand_faults(self, t: float, events: list[Event]) -> None:
        """A hand on the face in an exercise without hands; misplaced hands in a resisted one."""
        if self._hands is None:
            return
        for tr in self._hand_trackers:
            if tr.kind == "hands_on_face":
                on = self._hands.on_face
            else:
                on = self.spec.hands is not None and not placed(self._hands, self.spec.hands)
            ev = tr.update(t, on, None)
            if ev is not None:
                if ev.end_s is None:
                    events.append(ev)
                else:
                    self._record_fault(ev, events)

    def _fault_on(
        self, f: WatchedFault, tol: dict[str, float], smooth: list[float], move: list[float], act: float
    ) -> tuple[bool, Side]:
        if f.rule == "asymmetry":
            limit = self.spec.max_asymmetry
            if limit is None or len(move) != 2 or not self.active or act < self._start_thr:
                return False, None
            left, right = move
            big = max(left, right)
            if big <= 0:
                return False, None
            if (big - min(left, right)) / big <= limit:
                return False, None
            return True, "right" if left > right else "left"
        if f.rule == "any":
            side: Side = None
            on = False
            for name, t in tol.items():
                v = smooth[self._idx[name]] - NEUTRAL_VALUE[name]
                if v > t:
                    on = True
                    side = _merge(side, _side_of(name))
            return on, side
        total = 0.0
        for name, t in tol.items():
            v = smooth[self._idx[name]] - NEUTRAL_VALUE[name]
            if v > 0:
                total += v / t
        return total >= (f.sum_over or math.inf), "both"

    def _reps(self, t: float, dt: float, act: float, events: list[Event]) -> None:
        target = self.spec.hold_s
        if not self.active:
            if act >= self._start_thr:
                self.active = True
                self._rep_start = t
                self._held = 0.0
                self._done = False
                self._next_progress = self.settings.progress_every_s
                events.append(RepStarted(t, self.reps + 1))
            return
        if act >= self._release_thr:
            self._held += dt
            if target is not None and not self._done:
                if self._held >= target:
                    self._done = True
                    self.reps += 1
                    events.append(RepDone(t, self.reps, self._rep_start, self._held))
                elif self._held >= self._next_progress:
                    self._next_progress += self.settings.progress_every_s
                    events.append(
                        HoldProgress(t, self.reps + 1, self._held, target, min(self._held / target, 1.0))
                    )
            return
        self._release(t, events)

    def _release(self, t: float, events: list[Event]) -> None:
        target = self.spec.hold_s
        self.active = False
        if target is None:
            completed = self._held >= self.settings.min_rep_s
            if completed:
                self.reps += 1
                events.append(RepDone(t, self.reps, self._rep_start, self._held))
        else:
            completed = self._done
            if not completed:
                self.failed += 1
                events.append(
                    RepFailed(
                        t,
                        self.reps + 1,
                        self._rep_start,
                        t,
                        self._held,
                        target,
                        f"Hold it for the full {target:g} seconds before you let go.",
                    )
                )
        self.holds.append(Hold(self._rep_start, t, self._held, completed))


class MassageTimer:
    """Times a massage: ``progress`` about every ``progress_every_s`` and ``finished`` at its duration.

    Hands cover the face during a massage, so the clock runs on timestamps whether or not a face is seen.
    """

    def __init__(self, spec: CoachingSpec) -> None:
        self.spec = spec
        self.start_s: float | None = None
        self.finished = False
        self._next = spec.settings.progress_every_s

    def push(self, frame: FaceObservation | None, timestamp_s: float | None = None) -> list[Event]:
        if self.finished:
            return []
        now = frame.timestamp_s if frame is not None else timestamp_s
        if now is None:
            raise ValueError("a frame without a face needs its timestamp")
        if self.start_s is None:
            self.start_s = now
        elapsed = now - self.start_s
        target = self.spec.duration_s
        events: list[Event] = []
        if elapsed >= target:
            self.finished = True
            events.append(Progress(now, target, target, 1.0))
            events.append(Finished(now, 0, 0))
        elif elapsed >= self._next:
            self._next += self.spec.settings.progress_every_s
            events.append(Progress(now, elapsed, target, elapsed / target))
        return events

    def finish(self, t: float) -> list[Event]:
        """The step ends at ``t`` (seconds): ``finished`` unless it already was, as
        :meth:`Evaluator.finish` (a massage has no hold or fault left open)."""
        if self.finished:
            return []
        self.finished = True
        return [Finished(t, 0, 0)]


def evaluator_for(spec: CoachingSpec, stop_after_reps: bool = True) -> Evaluator | MassageTimer:
    """The right evaluator for a spec: reps and faults for an exercise, a timer for a massage."""
    if spec.kind == "exercise" and spec.measures:
        return Evaluator(spec, stop_after_reps=stop_after_reps)
    return MassageTimer(spec)
