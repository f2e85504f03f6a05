"""Fault debounce by timestamps: the same onsets and ends at 10, 30 and 60 frames per second."""

from __future__ import annotations

import pytest

from facecoach.coaching.evaluator import Fault, FaultTracker


def _run(fps: float, on_windows: list[tuple[float, float, str]], merge: bool = True) -> list[Fault]:
    tr = FaultTracker("squint", "Keep your {side} eye soft.", 0.3, 0.2, merge_sides=merge)
    out = []
    for i in range(int(6 * fps)):
        t = i / fps
        sides = [side for a, b, side in on_windows if a <= t < b]
        ev = tr.update(t, bool(sides), sides[0] if sides else None)  # type: ignore[arg-type]
        if ev is not None:
            out.append(ev)
    return out


@pytest.mark.parametrize("fps", [10.0, 30.0, 60.0])
def test_debounce_is_frame_rate_independent(fps: float) -> None:
    events = _run(fps, [(1.0, 2.5, "left"), (3.0, 3.2, "right")])  # the second is too short to report
    assert [(e.kind, e.end_s is None) for e in events] == [("squint", True), ("squint", False)]
    started, ended = events
    assert started.start_s == pytest.approx(1.0, abs=1 / fps + 1e-9)
    assert started.t_s == pytest.approx(1.3, abs=1 / fps + 1e-9)  # announced once it lasted 0.3 s
    assert ended.end_s == pytest.approx(2.5, abs=1 / fps + 1e-9)  # ends where it cleared
    assert ended.t_s == pytest.approx(2.7, abs=1 / fps + 1e-9)
    assert started.side == "left" and started.cue == "Keep your left eye soft."


def test_sides_merge_or_stay() -> None:
    merged = _run(30.0, [(1.0, 2.0, "left"), (2.0, 3.0, "right")])
    assert merged[-1].side == "both"
    kept = _run(30.0, [(1.0, 2.0, "left"), (2.0, 3.0, "right")], merge=False)
    assert kept[-1].side == "left"
