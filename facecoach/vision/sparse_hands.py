"""Hands in every analysed frame of a recorded video at a fraction of the Hand Landmarker's cost.

The Hand Landmarker runs two models: a palm detector over the whole frame, then the hand landmark model on
each hand's region. In VIDEO mode the detector is skipped only once as many hands are tracked as it is
allowed (``max_hands``): with ``max_hands=2`` it runs on every frame that has fewer than two hands, which
in a video is nearly every frame. Measured on this 2-core machine over
``woman_expressions_24fps.mp4`` (CPU time a frame, under load): detector alone ≈ 17 ms, tracking one hand
≈ 13 ms, one hand with ``max_hands=2`` (detector and landmarks) ≈ 32 ms.

:class:`SparseHandTracker` gives the same per-frame answer for much less:

* **Two one-hand lanes.** Lane A is a one-hand VIDEO tracker on the frames as they are: while it tracks a
  hand it runs the landmark model only. Lane B looks for a second hand on the same frames with A's hand
  painted over (so it cannot find A's hand again); it is another one-hand tracker.
* **Probing while nothing is seen.** A lane that tracks nothing runs its detector on one frame every
  ``probe_s`` only, and keeps the frames of the last ``rewind_s`` in which it found nothing. When a probe
  finds a hand, the lane starts afresh on those frames and the skipped ones, in order, then the probe
  frame: the detector on each frame until it finds the hand, then tracking, exactly as a tracker that saw
  every frame. So a hand's stretch starts where that tracker would start it, and its landmarks are
  tracked forwards as usual (following a hand back in time was tried: on a fast arrival its landmarks
  lagged and made a stroke out of a still hand). A hand in view for less than ``probe_s`` between two
  probes can be missed; with the audit's 0.3 s that is shorter than the audit's ``merge_gap_s``.
* **A second hand is looked for less often.** Lane B probes every ``second_probe_s`` (the audit's 0.9 s,
  ``audit.yaml``): its skipped frames wait for the next probe and are analysed afresh on a hit, as above,
  so a second hand is still followed from where a tracker on every frame would start it; only one in view
  for less than ``second_probe_s`` between two probes can be missed.
* **Putting a probe off while nothing changes.** The caller may say of a frame that nothing changed near
  the face since the previous one (``still``, its own pixel check over a box well beyond where a hand
  counts as near). Lane A then puts a due probe off until something changes there or ``max_wait_s`` has
  passed; the frames put off wait with the skipped ones and are analysed afresh on a hit, as above. A
  hand cannot reach the face without changing those pixels, so only hands far from the face are seen
  later (at most ``max_wait_s``); where the face keeps moving (a real tutorial) nothing is put off.

Measured on the same clip at the audit's rate (236 frames): the hands of every frame as a ``max_hands=2``
tracker on every frame finds them (a hand in the same 87 frames), for about 55 % of the CPU time, the
same landmarks on every frame with one hand.

Results per frame: A's and B's hands, one hand seen twice (boxes overlapping) kept once
(:func:`facecoach.vision.hands.drop_duplicate_hands`). Frames must be pushed in time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
from numpy.typing import NDArray

from facecoach.vision.hands import HandFrame, HandObservation, HandTracker, drop_duplicate_hands

#: The box painted over lane A's hand before lane B looks: the hand's image box grown by this × its size.
MASK_MARGIN = 0.25
MASK_GREY = 128

Frame = tuple[int, float, NDArray[np.uint8]]  # index, timestamp_s, RGB
Settled = tuple[int, float, NDArray[np.uint8], list[HandObservation]]


def painted_over(
    rgb: NDArray[np.uint8], hands: list[HandObservation], margin: float = MASK_MARGIN
) -> NDArray[np.uint8]:
    """A copy of the frame with each hand's grown image box painted grey (the frame itself is unchanged)."""
    out = rgb.copy()
    height, width = rgb.shape[:2]
    for hand in hands:
        xy = np.asarray(hand.points_px, dtype=np.float64)[:, :2]
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        grow = margin * (hi - lo)
        x0, y0 = np.floor(lo - grow).astype(int)
        x1, y1 = np.ceil(hi + grow).astype(int)
        out[max(0, y0) : min(height, y1 + 1), max(0, x0) : min(width, x1 + 1)] = MASK_GREY
    return out


@dataclass
class _Lane:
    """One one-hand tracker that probes every ``probe_s`` while it sees nothing (see the module docstring)."""

    tracker: HandTracker
    probe_s: float
    rewind_s: float
    skipped: list[Frame] = field(default_factory=list)  # not looked at yet: wait for the next probe
    held: list[Frame] = field(default_factory=list)  # no hand found, kept back ``rewind_s`` for a rewind
    last_probe_s: float | None = None
    tracking: bool = False
    max_wait_s: float = 0.0  # a probe put off while nothing changes waits at most this long (0: never)
    changed: bool = True  # the caller saw a change near the face since the last look

    def push(self, i: int, t: float, rgb: NDArray[np.uint8], still: bool = False) -> list[Settled]:
        """The frames whose hands are now known, in order (none while frames wait or are held back).

        ``still``: the caller saw nothing change near the face since the previous frame; a due probe
        is then put off until something changes or ``max_wait_s`` has passed since the last look."""
        if self.tracking:
            hands = self.tracker.detect(rgb, t).hands
            if hands:
                return [(i, t, rgb, hands)]
            self.tracking = False
            self.last_probe_s = t  # this frame was a look: the next probe is probe_s later
            self.changed = False
            return self._hold([(i, t, rgb)], t)
        self.changed = self.changed or not still
        if not self._due(t):
            self.skipped.append((i, t, rgb))
            return []
        return self._probe((i, t, rgb))

    def _due(self, t: float) -> bool:
        if self.last_probe_s is None:
            return True
        since = t - self.last_probe_s
        if since < self.probe_s - 1e-6:
            return False
        return self.changed or self.max_wait_s <= 0 or since >= self.max_wait_s - 1e-6

    def _hold(self, frames: list[Frame], now_s: float) -> list[Settled]:
        self.held.extend(frames)
        released: list[Settled] = []
        while self.held and self.held[0][1] < now_s - self.rewind_s - 1e-6:
            j, tj, im = self.held.pop(0)
            released.append((j, tj, im, []))
        return released

    def _probe(self, frame: Frame) -> list[Settled]:
        _i, t, rgb = frame
        self.last_probe_s = t
        self.changed = False
        waiting, self.skipped = self.skipped, []
        if not self.tracker.detect(rgb, t).hands:
            return self._hold([*waiting, frame], t)
        # A hand: the held and skipped frames again, in order, from a fresh start (the detector on each
        # frame until it finds the hand, then tracking), as a tracker on every frame would have seen them.
        self.tracker.detect(np.full_like(rgb, MASK_GREY), t)  # forget the hand found by the probe
        again, self.held = [*self.held, *waiting, frame], []
        settled = [(j, tj, im, self.tracker.detect(im, tj).hands) for j, tj, im in again]
        self.tracking = bool(settled[-1][3])
        return settled

    def finish(self) -> list[Settled]:
        """Every frame still waiting or held, settled (a probe of the last skipped one decides)."""
        settled = self._probe(self.skipped.pop()) if self.skipped else []
        held, self.held = self.held, []
        return [*settled, *((j, tj, im, []) for j, tj, im in held)]

    def close(self) -> None:
        self.tracker.close()


class SparseHandTracker:
    """Hands of every frame pushed, in order (see the module docstring). Use as a context manager.

    ``probe_s``: how often a lane that sees no hand runs the palm detector (s of video);
    ``second_probe_s``: the same for lane B, which looks for a second hand beside lane A's (default
    ``probe_s``); ``model`` and ``mirrored`` as for :class:`HandTracker`.
    """

    def __init__(
        self,
        probe_s: float = 0.3,
        rewind_s: float = 0.5,
        *,
        max_wait_s: float = 0.0,
        second_probe_s: float | None = None,
        mirrored: bool = False,
        model: Path | None = None,
    ) -> None:
        second = probe_s if second_probe_s is None else second_probe_s
        if not (0 <= probe_s <= 5 and 0 <= second <= 5 and 0 <= rewind_s <= 5 and 0 <= max_wait_s <= 10):
            raise ValueError(
                f"probe_s, second_probe_s, rewind_s must be within 0–5 s and max_wait_s 0–10 s, got "
                f"{probe_s}, {second}, {rewind_s}, {max_wait_s}"
            )
        trackers: list[HandTracker] = []
        try:
            for _ in range(2):
                trackers.append(HandTracker(mode="video", max_hands=1, mirrored=mirrored, model=model))
        except BaseException:
            for tracker in trackers:
                tracker.close()
            raise
        self._a = _Lane(trackers[0], probe_s, rewind_s, max_wait_s=max_wait_s)
        self._b = _Lane(trackers[1], second, rewind_s)
        self._count = 0
        self._a_hands: dict[int, list[HandObservation]] = {}
        self._b_hands: dict[int, list[HandObservation]] = {}
        self._times: dict[int, float] = {}
        self._next = 0
        self._previous: list[HandObservation] = []
        self.settled: list[HandFrame] = []

    def push(self, rgb: NDArray[np.uint8], timestamp_s: float, still: bool = False) -> None:
        """Add a frame (later than the previous one); its hands appear in :attr:`settled` when known.

        ``still``: nothing changed near the face since the previous frame pushed (the caller's check, e.g.
        :func:`facecoach.vision.still_gate.unchanged` over the face's box grown well beyond where a hand
        counts as near); while nothing changes, lane A puts its probe off, up to ``max_wait_s``."""
        i = self._count
        self._count += 1
        self._times[i] = timestamp_s
        self._to_b(self._a.push(i, timestamp_s, rgb, still))
        self._collect()

    def finish(self) -> list[HandFrame]:
        """Settle every frame still waiting for a probe; the hands of every frame pushed, in order."""
        self._to_b(self._a.finish())
        self._b_hands.update((j, h) for j, _t, _im, h in self._b.finish())
        self._collect()
        return self.settled

    def _to_b(self, settled: list[Settled]) -> None:
        for i, t, rgb, hands in settled:
            self._a_hands[i] = hands
            if not hands and not (self._b.tracking or self._b.skipped or self._b.held):
                self._b_hands[i] = []  # nothing to look beside, and B is not following a hand
                continue
            image = painted_over(rgb, hands) if hands else rgb
            self._b_hands.update((j, h) for j, _t, _im, h in self._b.push(i, t, image))

    def _collect(self) -> None:
        while self._next in self._a_hands and self._next in self._b_hands:
            i = self._next
            hands = drop_duplicate_hands(self._a_hands.pop(i) + self._b_hands.pop(i), self._previous)
            self._previous = hands
            self.settled.append(HandFrame(self._times.pop(i), hands))
            self._next += 1

    def close(self) -> None:
        self._a.close()
        self._b.close()

    def __enter__(self) -> SparseHandTracker:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
