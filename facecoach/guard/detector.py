"""The habit detector: frames in, held habits, nudges and hourly counts out. Pure (no I/O, no clock).

Every frame is first sorted into a state; only ``watching`` frames are measured:

* ``dark`` — the frame's mean luma is under ``presence.min_brightness`` (landmarks in the dark are guesses);
* ``no_face`` — nobody there (walked away); ``two_faces`` — someone else at the desk too: whose face is it?
* ``turned_away`` — the head is turned more than ``presence.max_head_motion_deg`` from the calibrated pose.

Anything but ``watching``, and any gap longer than ``presence.max_gap_s`` between frames (a closed lid, a
frozen tab), ends every held expression: a frown is only a habit when it was *seen* held.

A watching frame is measured with :func:`facecoach.coaching.measures.measure` against the member's neutral
face (:func:`facecoach.coaching.calibration.calibrate`). Each habit's value (mm, see ``rules.Habit``) starts
an episode at ``on`` and keeps it until it falls under ``off`` (hysteresis); ``on`` is the rule's size times
the face's size factor, never under ``noise_multiple`` × this person's calibrated noise. An episode held for
``hold_s`` is *sustained*: its seconds count, and it may bring one nudge when :mod:`facecoach.guard.policy`
allows. The page runs the same steps in ``web/static/guard/detector.js``; the tests feed both the same
landmark frames and compare every value, state and nudge.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from facecoach.coaching.calibration import Calibration, calibrate
from facecoach.coaching.measures import Measures, measure
from facecoach.guard.policy import GuardSettings, Refusal, refusal
from facecoach.guard.rules import GuardRules, Habit
from facecoach.vision.landmarks import FaceObservation

WATCHING = "watching"
STATES = (WATCHING, "dark", "no_face", "two_faces", "turned_away")
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class GuardFrame:
    """One sampled frame: ``t_s`` epoch seconds, ``utc_offset_s`` the local time zone's offset then,
    ``faces`` every face the landmarker found, ``brightness`` the frame's mean luma (0–255) or None."""

    t_s: float
    faces: Sequence[FaceObservation]
    brightness: float | None = None
    utc_offset_s: int = 0


@dataclass(frozen=True)
class Nudge:
    habit: str
    t_s: float
    held_s: float
    side: str | None
    cue: str


@dataclass(frozen=True)
class FrameOutcome:
    """``values``: each habit's value in mm (watching frames only); ``active``: habits whose expression is
    held now; ``sustained``: those held past their ``hold_s``; ``nudge``: shown on this frame, or None;
    ``held_back``: why a sustained habit's nudge was not shown (a policy refusal), or None."""

    t_s: float
    state: str
    values: dict[str, float] = field(default_factory=dict)
    active: tuple[str, ...] = ()
    sustained: tuple[str, ...] = ()
    nudge: Nudge | None = None
    held_back: Refusal | None = None


@dataclass
class HourCounts:
    """What may be saved (opt-in): seconds watched, seconds of each sustained habit, nudges shown, in one
    local hour of one local day."""

    day: dt.date
    hour: int
    measured_s: float = 0.0
    habit_s: dict[str, float] = field(default_factory=dict)
    nudges: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "hour": self.hour,
            "measured_s": round(self.measured_s, 3),
            "habit_s": {k: round(v, 3) for k, v in self.habit_s.items()},
            "nudges": dict(self.nudges),
        }


@dataclass
class _Episode:
    start_s: float
    side: str | None
    sustained: bool = False
    nudged: bool = False


def local_day_hour(t_s: float, utc_offset_s: int) -> tuple[dt.date, int]:
    """The local calendar day and hour (0–23) of an epoch time."""
    local = t_s + utc_offset_s
    days = math.floor(local / 86400.0)
    hour = math.floor((local - days * 86400.0) / 3600.0)
    return _EPOCH + dt.timedelta(days=days), min(hour, 23)


def calibrate_guard(frames: Sequence[FaceObservation]) -> Calibration:
    """The member's neutral face from frames of it (``coaching.calibration``; CalibrationError if none)."""
    return calibrate(list(frames))


def thresholds(habit: Habit, calibration: Calibration) -> tuple[float, float]:
    """(on, off) in mm for this face: the rule's sizes × the face's size factor, ``on`` at least
    ``noise_multiple`` × the noise of the habit's measures, ``off`` in the same proportion to ``on``."""
    noises = [calibration.noise.get(m, 0.0) for m in habit.measures]
    noises = [n if math.isfinite(n) else 0.0 for n in noises]
    noise = max(noises) if habit.combine == "one_sided" else sum(noises) / len(noises)
    on = max(habit.on_mm * calibration.size_factor, habit.noise_multiple * noise)
    return on, on * habit.off_mm / habit.on_mm


def habit_value(habit: Habit, m: Measures, size_factor: float) -> tuple[float, str | None]:
    """The habit's value in mm (NaN when unknown) and its side (one-sided habits only)."""
    values = [getattr(m, name) for name in habit.measures]
    if habit.combine == "single":
        return values[0], None
    if habit.combine == "mean":
        return (values[0] + values[1]) / 2.0, None
    left, right = values  # one_sided: measures are [left, right]
    hi, lo, side = (left, right, "left") if left >= right else (right, left, "right")
    if not (math.isfinite(hi) and math.isfinite(lo)):
        return math.nan, None
    other_max = (habit.other_side_max_mm or 0.0) * size_factor
    return (hi if lo <= other_max else 0.0), side


def _smiling(habit: Habit, m: Measures, size_factor: float) -> bool:
    if habit.unless_smiling_mm is None:
        return False
    lift = habit.unless_smiling_mm * size_factor
    return m.mouth_corners_up_left >= lift and m.mouth_corners_up_right >= lift


class HabitDetector:
    """Feed :class:`GuardFrame` s in time order with :meth:`push`; ``counts`` holds the hourly counts.

    ``history``: when each habit was last nudged (epoch s; key ``"*"`` for any habit), so a reloaded page
    keeps to the interval; :meth:`history` gives it back to be kept.
    """

    def __init__(
        self,
        rules: GuardRules,
        calibration: Calibration,
        settings: GuardSettings,
        history: dict[str, float] | None = None,
    ) -> None:
        self.rules = rules
        self.calibration = calibration
        self.settings = settings
        self._last_nudge: dict[str, float] = dict(history or {})
        self._episodes: dict[str, _Episode] = {}
        self._limits = {h.id: thresholds(h, calibration) for h in rules.habits}
        self._prev_t: float | None = None
        self._prev_watching = False
        self.counts: dict[tuple[dt.date, int], HourCounts] = {}

    def history(self) -> dict[str, float]:
        return dict(self._last_nudge)

    def limits(self) -> dict[str, tuple[float, float]]:
        """Each habit's (on, off) threshold in mm for this face."""
        return dict(self._limits)

    def _state(self, frame: GuardFrame) -> tuple[str, Measures | None]:
        min_light = self.rules.presence.min_brightness
        if frame.brightness is not None and frame.brightness < min_light:
            return "dark", None
        if not frame.faces:
            return "no_face", None
        if len(frame.faces) > 1:
            return "two_faces", None
        m = measure(frame.faces[0], self.calibration)
        if not m.head_motion <= self.rules.presence.max_head_motion_deg:
            return "turned_away", None
        return WATCHING, m

    def _bucket(self, frame: GuardFrame) -> HourCounts:
        key = local_day_hour(frame.t_s, frame.utc_offset_s)
        if key not in self.counts:
            self.counts[key] = HourCounts(day=key[0], hour=key[1])
        return self.counts[key]

    def push(self, frame: GuardFrame) -> FrameOutcome:
        t = frame.t_s
        gap = None if self._prev_t is None else t - self._prev_t
        if gap is not None and gap > self.rules.presence.max_gap_s:
            self._episodes.clear()
            self._prev_watching = False
        state, m = self._state(frame)
        if m is None:
            self._episodes.clear()
            self._prev_t, self._prev_watching = t, False
            return FrameOutcome(t_s=t, state=state)
        dt_s = gap if (gap is not None and self._prev_watching) else 0.0
        bucket = self._bucket(frame)
        bucket.measured_s += dt_s
        values = self._update_episodes(m, t, dt_s, bucket)
        nudge, held_back = self._maybe_nudge(frame, bucket)
        self._prev_t, self._prev_watching = t, True
        return FrameOutcome(
            t_s=t,
            state=WATCHING,
            values=values,
            active=tuple(h for h in self.rules.habit_ids if h in self._episodes),
            sustained=tuple(
                h for h in self.rules.habit_ids if h in self._episodes and self._episodes[h].sustained
            ),
            nudge=nudge,
            held_back=held_back,
        )

    def _update_episodes(self, m: Measures, t: float, dt_s: float, bucket: HourCounts) -> dict[str, float]:
        size = self.calibration.size_factor
        values: dict[str, float] = {}
        for habit in self.rules.habits:
            value, side = habit_value(habit, m, size)
            values[habit.id] = value
            on, off = self._limits[habit.id]
            episode = self._episodes.get(habit.id)
            level = off if episode is not None else on
            if not (value >= level) or _smiling(habit, m, size):
                self._episodes.pop(habit.id, None)
                continue
            if episode is None:
                episode = self._episodes[habit.id] = _Episode(start_s=t, side=side)
            if episode.sustained:
                bucket.habit_s[habit.id] = bucket.habit_s.get(habit.id, 0.0) + dt_s
            elif t - episode.start_s >= habit.hold_s:
                episode.sustained = True
                bucket.habit_s[habit.id] = bucket.habit_s.get(habit.id, 0.0) + (t - episode.start_s)
        return values

    def _maybe_nudge(self, frame: GuardFrame, bucket: HourCounts) -> tuple[Nudge | None, Refusal | None]:
        due = sorted(
            ((e.start_s, h) for h, e in self._episodes.items() if e.sustained and not e.nudged),
            key=lambda p: (p[0], self.rules.habit_ids.index(p[1])),
        )
        held_back: Refusal | None = None
        for _start, habit_id in due:
            why = refusal(
                self.settings,
                self.rules,
                habit_id,
                frame.t_s,
                bucket.hour,
                self._last_nudge.get("*"),
                self._last_nudge.get(habit_id),
            )
            if why is not None:
                held_back = held_back or why
                continue
            episode = self._episodes[habit_id]
            episode.nudged = True
            self._last_nudge["*"] = self._last_nudge[habit_id] = frame.t_s
            bucket.nudges[habit_id] = bucket.nudges.get(habit_id, 0) + 1
            habit = self.rules.habit(habit_id)
            nudge = Nudge(habit_id, frame.t_s, frame.t_s - episode.start_s, episode.side, habit.cue)
            return nudge, None
        return None, held_back
