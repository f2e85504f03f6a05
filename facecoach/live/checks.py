"""Whether a live step was completed, decided on the server (issue 11).

The page used to say when a massage was done (its own timer sent ``done``) and the server believed it.
Now each step has a check object; the session asks its ``finish()`` whether the step completed, and the
saved record says what the server decided. This is the seam for later checks: the hands and stroke
checks of a massage plug into :class:`MassageCheck` without touching the socket or the session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from facecoach.coaching.evaluator import Finished


class StepCheck(Protocol):
    """One step's completion check. Times are the server's clock (seconds, monotonic)."""

    def frame(self, now_s: float, events: Sequence[object]) -> None:
        """A frame of this step arrived (not paused) at ``now_s``; ``events``: what the evaluator said."""

    def pause(self) -> None:
        """The step is paused: time until the next frame does not count."""

    def finish(self) -> bool:
        """The step ends now: was it completed?"""


class ExerciseCheck:
    """An exercise is complete when the server's evaluator said ``finished`` (every rep of every set).
    Ending early is not completing, whatever the evaluator closes on the way out."""

    def __init__(self) -> None:
        self.done = False

    def frame(self, now_s: float, events: Sequence[object]) -> None:
        if any(isinstance(e, Finished) for e in events):
            self.done = True

    def pause(self) -> None:
        pass

    def finish(self) -> bool:
        return self.done


class MassageCheck:
    """A massage is complete when frames kept arriving for its duration, by the server's own clock.

    ``covered_s`` adds up the gaps between consecutive frames, each at most ``max_gap_s`` (a client that
    sends one frame, waits a minute and sends another gets ``max_gap_s`` for the wait, not the minute);
    paused time does not count. ``grace_s`` allows for the page's timer and the network: a ``done`` sent
    when the page's timer runs out arrives a little before the server has seen the whole duration.
    The frame timestamps a client writes are not used at all.
    """

    def __init__(self, duration_s: float, max_gap_s: float, grace_s: float) -> None:
        self.duration_s = duration_s
        self.max_gap_s = max_gap_s
        self.grace_s = grace_s
        self.covered_s = 0.0
        self._last: float | None = None

    def frame(self, now_s: float, events: Sequence[object]) -> None:
        if self._last is not None:
            self.covered_s += min(max(0.0, now_s - self._last), self.max_gap_s)
        self._last = now_s

    def pause(self) -> None:
        self._last = None

    def finish(self) -> bool:
        return self.covered_s >= self.duration_s - self.grace_s
