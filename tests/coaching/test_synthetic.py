"""The evaluator on warped real-face videos with known reps, holds and faults (tests/coaching/synth.py)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from facecoach.coaching.evaluator import Evaluator, Event, Fault, MassageTimer, evaluator_for
from facecoach.coaching.specs import CoachingSpec, spec_by_id
from tests.coaching.conftest import ALL_FAULTS, HEAD_MOVES_AT_S, HOLD_S, Frames, Sequence, exercise_spec

ONSET_TOLERANCE_S = 0.5
RAMP_S = 0.4  # rep_script's ramps into and out of each hold
GetSequence = Callable[[str], Sequence]


def run(spec: CoachingSpec, frames: Frames, step: int = 1) -> tuple[Evaluator, list[Event]]:
    ev = Evaluator(spec, stop_after_reps=False)
    events: list[Event] = []
    for t, frame in frames[::step]:
        events += ev.push(frame, t)
    events += ev.finish(frames[-1][0])
    return ev, events


def hold_windows(seq: Sequence) -> list[tuple[float, float]]:
    """(start, end) of every hold segment in the script (the movement at full amplitude)."""
    out = []
    t = 0.0
    for seg in seq.script.segments:
        if seg.moves and all(a == b and a > 0 for a, b in seg.moves.values()):
            if out and abs(out[-1][1] - t) < 1e-9:
                out[-1] = (out[-1][0], t + seg.seconds)  # consecutive hold segments are one hold
            else:
                out.append((t, t + seg.seconds))
        t += seg.seconds
    return out


def test_clean_smile_counts_every_rep_and_reports_no_fault(sequences: GetSequence) -> None:
    seq = sequences("smile")
    ev, events = run(exercise_spec("smile-lift", ALL_FAULTS), seq.frames)
    windows = hold_windows(seq)
    assert len(windows) == 2
    assert ev.reps == 2
    assert [h.completed for h in ev.holds] == [True, True]
    for hold, (start, end) in zip(ev.holds, windows, strict=True):
        # the rep starts during the ramp before the hold and ends once the ramp after it is over
        assert abs(hold.start_s - start) < ONSET_TOLERANCE_S
        assert abs(hold.end_s - (end + RAMP_S)) < ONSET_TOLERANCE_S
        assert hold.seconds >= HOLD_S
    assert [e for e in events if isinstance(e, Fault)] == []
    assert events[0].type == "calibrated"
    assert events[-1].type == "finished"


@pytest.mark.parametrize("name", ["pucker", "cheeks"])
def test_other_clean_exercises(sequences: GetSequence, name: str) -> None:
    technique = {"pucker": "lip-pucker", "cheeks": "cheek-puff"}[name]
    seq = sequences(name)
    ev, events = run(exercise_spec(technique, ALL_FAULTS), seq.frames)
    windows = hold_windows(seq)
    assert ev.reps == len(windows)
    for hold, (start, _end) in zip(ev.holds, windows, strict=True):
        assert abs(hold.start_s - start) < ONSET_TOLERANCE_S
    assert [e for e in events if isinstance(e, Fault)] == []


@pytest.mark.parametrize("name", ["smile", "smile_left_only", "smile_creases"])
def test_same_reps_and_faults_at_30_and_10_fps(sequences: GetSequence, name: str) -> None:
    spec = exercise_spec("smile-lift", ALL_FAULTS)
    seq = sequences(name)
    ev30, _ = run(spec, seq.frames)
    ev10, _ = run(spec, seq.frames, step=3)
    assert ev30.reps == ev10.reps > 0
    assert len(ev30.holds) == len(ev10.holds)
    for a, b in zip(ev30.holds, ev10.holds, strict=True):
        assert abs(a.start_s - b.start_s) < 0.25
        assert abs(a.seconds - b.seconds) < 0.4
    assert [(f.kind, f.side) for f in ev30.faults] == [(f.kind, f.side) for f in ev10.faults]
    for a30, a10 in zip(ev30.faults, ev10.faults, strict=True):
        assert abs(a30.start_s - a10.start_s) < 0.3


def test_one_sided_smile_is_asymmetry_with_the_lagging_side(sequences: GetSequence) -> None:
    seq = sequences("smile_left_only")  # the person's left corner lifts; the right one stays
    ev, _ = run(exercise_spec("smile-lift", ALL_FAULTS), seq.frames)
    windows = hold_windows(seq)
    asym = [f for f in ev.faults if f.kind == "asymmetry"]
    assert len(asym) == len(windows) == 2
    for fault, (start, end) in zip(asym, windows, strict=True):
        assert fault.side == "right"
        assert "right side is lagging" in fault.cue
        assert abs(fault.start_s - start) < ONSET_TOLERANCE_S
        assert (
            fault.end_s is not None
            and end - ONSET_TOLERANCE_S < fault.end_s < end + RAMP_S + ONSET_TOLERANCE_S
        )
    assert {f.kind for f in ev.faults} == {"asymmetry"}


def test_forehead_creases_during_the_hold_are_a_forehead_wrinkle_fault(sequences: GetSequence) -> None:
    seq = sequences("smile_creases")
    ev, _ = run(exercise_spec("smile-lift", ALL_FAULTS), seq.frames)
    windows = hold_windows(seq)
    wrinkles = [f for f in ev.faults if f.kind == "forehead_wrinkle"]
    assert len(wrinkles) == len(windows) == 2
    for fault, (start, end) in zip(wrinkles, windows, strict=True):
        assert fault.side is None
        assert fault.cue.startswith("Relax your forehead")
        assert abs(fault.start_s - start) < ONSET_TOLERANCE_S
        assert fault.end_s is not None and abs(fault.end_s - end) < ONSET_TOLERANCE_S
    assert ev.reps == 2  # the creases are a fault, not a reason to lose the rep


def test_head_rolling_and_drifting_is_head_motion(sequences: GetSequence) -> None:
    seq = sequences("smile_head")
    ev, _ = run(exercise_spec("smile-lift", ALL_FAULTS), seq.frames)
    moves = [f for f in ev.faults if f.kind == "head_motion"]
    assert len(moves) == 1
    assert abs(moves[0].start_s - HEAD_MOVES_AT_S) < ONSET_TOLERANCE_S
    assert moves[0].end_s is not None and moves[0].end_s > HEAD_MOVES_AT_S + 1.5
    # the measures are pose-free: the rep held while the head moved still counts
    assert ev.reps == 2
    assert {f.kind for f in ev.faults} == {"head_motion"}


def test_releasing_too_early_fails_the_rep(sequences: GetSequence) -> None:
    seq = sequences("smile_short_hold")  # 1 s holds against the spec's 2 s
    ev, events = run(exercise_spec("smile-lift"), seq.frames)
    assert ev.reps == 0
    failed = [e for e in events if e.type == "rep_failed"]
    assert len(failed) == 2 and ev.failed == 2
    assert all(not h.completed and h.seconds < HOLD_S for h in ev.holds)
    assert "Hold it" in failed[0].to_dict()["cue"]


def test_frames_without_a_face_pause_the_hold(sequences: GetSequence) -> None:
    seq = sequences("smile")
    start, _end = hold_windows(seq)[0]
    gap = (start + 0.4, start + 1.4)
    frames: Frames = [(t, None if gap[0] <= t < gap[1] else f) for t, f in seq.frames]
    ev, events = run(exercise_spec("smile-lift"), frames)
    types = [e.type for e in events]
    assert types.count("face_lost") == 1 and types.count("face_found") == 1
    first = ev.holds[0]
    # one second without a face is not counted: the first hold falls short and fails; the second counts
    assert not first.completed
    assert first.seconds <= (first.end_s - first.start_s) - 0.9
    assert ev.reps == 1


def test_live_mode_finishes_after_the_prescribed_reps(sequences: GetSequence) -> None:
    spec = exercise_spec("smile-lift").model_copy(update={"reps": 2})
    seq = sequences("smile")
    ev = Evaluator(spec)
    events: list[Event] = []
    for t, frame in seq.frames:
        events += ev.push(frame, t)
    assert [e.type for e in events].count("rep_done") == 2
    assert events[-1].type == "finished" and ev.finished
    assert ev.push(seq.frames[-1][1]) == []
    progress = [e for e in events if e.type == "hold_progress"]
    assert progress and all(0 < e.to_dict()["fraction"] < 1 for e in progress)
    json.dumps([e.to_dict() for e in events])  # every event is plain JSON


def test_massage_is_timed_not_evaluated() -> None:
    spec = spec_by_id("jaw-release")
    assert spec.kind == "massage"
    timer = evaluator_for(spec)
    assert isinstance(timer, MassageTimer)
    with pytest.raises(ValueError, match="not an exercise"):
        Evaluator(spec)
    events: list[Event] = []
    t = 0.0
    while not timer.finished and t < spec.duration_s + 5:
        events += timer.push(None, t)  # hands cover the face: the clock still runs
        t += 0.1
    assert events[-1].type == "finished"
    assert abs(events[-1].t_s - spec.duration_s) < 0.15
    fractions = [e.to_dict()["fraction"] for e in events if e.type == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_massage_timer_finishes_like_an_exercise() -> None:
    """Both evaluators end a step through ``finish(t)`` (the live session calls it on either, no
    getattr): an early end is one ``finished`` at that time, a second call or a timed-out massage none."""
    from facecoach.coaching.evaluator import Finished

    spec = spec_by_id("jaw-release")
    timer = evaluator_for(spec)
    timer.push(None, 0.0)
    timer.push(None, 3.0)
    assert [(type(e), e.t_s) for e in timer.finish(3.5)] == [(Finished, 3.5)]
    assert timer.finished and timer.finish(4.0) == [] and timer.push(None, 5.0) == []
    done = evaluator_for(spec)
    done.push(None, 0.0)
    assert done.push(None, spec.duration_s)[-1].type == "finished"
    assert done.finish(spec.duration_s + 1) == []
