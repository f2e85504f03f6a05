"""The Python detector on warped real faces (tests/guard/clips.py): each habit held 14 s after 8 s at rest,
at 1 frame/s through the guard's own frame path, calibrated on the first 6 frames as the page does.

Each held habit brings exactly one nudge, for itself, once it has been held for its hold_s; a neutral face
brings none. Then the settings (quiet hours, pause, off, the interval) and the bad-input states (no face,
two faces, dark, a long gap) on the same frames.
"""

from __future__ import annotations

import dataclasses

import pytest

from facecoach.guard.detector import FrameOutcome, GuardFrame, HabitDetector, calibrate_guard, local_day_hour
from facecoach.guard.policy import GuardSettings
from facecoach.guard.rules import guard_rules
from tests.guard.clips import HABIT_WARPS
from tests.guard.conftest import T0

RULES = guard_rules()
CAL_FRAMES = RULES.calibration.frames


def run(
    frames: list[GuardFrame], settings: GuardSettings | None = None
) -> tuple[HabitDetector, list[FrameOutcome]]:
    cal = calibrate_guard([f.faces[0] for f in frames[:CAL_FRAMES]])
    det = HabitDetector(RULES, cal, settings or GuardSettings())
    return det, [det.push(f) for f in frames[CAL_FRAMES:]]


@pytest.mark.parametrize("habit", list(HABIT_WARPS))
def test_a_held_habit_brings_one_nudge_for_itself(
    habit: str, held_frames: dict[str | None, list[GuardFrame]]
) -> None:
    frames = held_frames[habit]
    assert all(len(f.faces) == 1 for f in frames), "the warped face must be found in every frame"
    det, outs = run(frames)
    nudges = [o.nudge for o in outs if o.nudge]
    assert [n.habit for n in nudges] == [habit], [(o.t_s - T0, o.active) for o in outs]
    hold_from = T0 + 8.0
    nudge = nudges[0]
    # not before the habit was held for its hold_s (the ramp takes 0.5 s), and before the hold ends
    assert hold_from + RULES.habit(habit).hold_s <= nudge.t_s <= hold_from + 0.5 + 14.0
    assert nudge.held_s >= RULES.habit(habit).hold_s
    # no other habit was ever sustained on this face
    assert {h for o in outs for h in o.sustained} == {habit}
    if habit == "smirk":
        assert nudge.side == "left"  # the person's left corner was lifted
    # the counts: seconds held ≈ the sustained stretch of the hold, nudges 1, watched ≈ the whole clip
    (bucket,) = det.counts.values()
    assert bucket.nudges == {habit: 1}
    held = bucket.habit_s[habit]
    assert 10.0 <= held <= 15.0
    assert bucket.measured_s == pytest.approx(outs[-1].t_s - outs[0].t_s)


def test_a_neutral_face_brings_no_nudge(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    det, outs = run(held_frames[None])
    assert len(outs) >= 20 and all(o.state == "watching" for o in outs)
    assert [o.nudge for o in outs if o.nudge] == []
    assert not any(o.sustained for o in outs)
    assert next(iter(det.counts.values())).habit_s == {}


def _frown_twice(held_frames: dict[str | None, list[GuardFrame]], gap_s: float) -> list[GuardFrame]:
    """The frown clip, then the same clip again ``gap_s`` after it ended."""
    first = held_frames["frown"]
    shift = first[-1].t_s - first[0].t_s + gap_s
    return first + [dataclasses.replace(f, t_s=f.t_s + shift) for f in first]


def test_never_more_often_than_the_interval(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    frames = _frown_twice(held_frames, 1.0)  # the second frown ~30 s after the first: inside 10 minutes
    _det, outs = run(frames, GuardSettings(interval_min=10))
    assert [o.nudge.habit for o in outs if o.nudge] == ["frown"]
    assert "interval" in {o.held_back for o in outs}
    # …but a second frown after the interval (and 3 × it for the same habit) is nudged again
    late = _frown_twice(held_frames, 31 * 60.0)
    _det, outs = run(late, GuardSettings(interval_min=10))
    assert [o.nudge.habit for o in outs if o.nudge] == ["frown", "frown"]
    # 20 minutes later is past the interval but not past 3 × it for the same habit
    mid = _frown_twice(held_frames, 20 * 60.0)
    _det, outs = run(mid, GuardSettings(interval_min=10))
    assert [o.nudge.habit for o in outs if o.nudge] == ["frown"]
    assert "same_habit" in {o.held_back for o in outs}


def test_history_from_a_reloaded_page_is_kept(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    frames = held_frames["frown"]
    cal = calibrate_guard([f.faces[0] for f in frames[:CAL_FRAMES]])
    det = HabitDetector(RULES, cal, GuardSettings(), history={"*": frames[0].t_s - 60.0})
    outs = [det.push(f) for f in frames[CAL_FRAMES:]]
    assert not any(o.nudge for o in outs) and "interval" in {o.held_back for o in outs}


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        (GuardSettings(enabled=False), "off"),
        (GuardSettings(paused_until_s=T0 + 3600), "paused"),
        (GuardSettings(quiet_start_h=8, quiet_end_h=10), "quiet_hours"),  # T0 is 09:00 UTC
        (GuardSettings(quiet_start_h=22, quiet_end_h=10), "quiet_hours"),  # across midnight
    ],
)
def test_off_paused_and_quiet_hours_hold_the_nudge_back(
    held_frames: dict[str | None, list[GuardFrame]], settings: GuardSettings, why: str
) -> None:
    det, outs = run(held_frames["frown"], settings)
    assert not any(o.nudge for o in outs)
    assert {o.held_back for o in outs} - {None} == {why}
    assert next(iter(det.counts.values())).habit_s["frown"] > 5  # still counted, just not nudged


def test_quiet_hours_outside_them_do_not_hold_back(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    _det, outs = run(held_frames["frown"], GuardSettings(quiet_start_h=22, quiet_end_h=7))
    assert [o.nudge.habit for o in outs if o.nudge] == ["frown"]


def _replace_in_hold(frames: list[GuardFrame], k: int, **change: object) -> list[GuardFrame]:
    """The frown clip with frame k of the hold changed (8 s rest: the hold is frames 8…22)."""
    out = list(frames)
    out[8 + k] = dataclasses.replace(out[8 + k], **change)  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize(
    ("change", "state"),
    [
        ({"faces": []}, "no_face"),
        ({"brightness": 12.0}, "dark"),
    ],
)
def test_a_bad_frame_mid_hold_starts_the_hold_again(
    held_frames: dict[str | None, list[GuardFrame]], change: dict[str, object], state: str
) -> None:
    frames = held_frames["frown"]
    changed = _replace_in_hold(frames, 6, **change)  # 6 s into the hold: 8 s of it are left (< 10 s)
    _det, outs = run(changed)
    assert state in {o.state for o in outs}
    assert not any(o.nudge for o in outs)


def test_two_people_at_the_desk_are_not_measured(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    frames = held_frames["frown"]
    two = [dataclasses.replace(f, faces=[f.faces[0], held_frames[None][0].faces[0]]) for f in frames]
    _det, outs = run(frames[:CAL_FRAMES] + two[CAL_FRAMES:])
    assert {o.state for o in outs} == {"two_faces"} and not any(o.nudge for o in outs)


def test_a_closed_lid_ends_the_hold(held_frames: dict[str | None, list[GuardFrame]]) -> None:
    """A gap longer than max_gap_s mid-hold (lid closed, reopened): the frown is not carried across it."""
    frames = held_frames["frown"]
    gap = RULES.presence.max_gap_s + 5
    split = [f if i < 8 + 6 else dataclasses.replace(f, t_s=f.t_s + gap) for i, f in enumerate(frames)]
    det, outs = run(split)
    assert not any(o.nudge for o in outs)
    assert next(iter(det.counts.values())).measured_s < frames[-1].t_s - frames[CAL_FRAMES].t_s


def test_local_day_and_hour() -> None:
    assert local_day_hour(T0, 0)[1] == 9
    day, hour = local_day_hour(T0, -10 * 3600)  # 09:00 UTC is 23:00 the day before at UTC−10
    assert hour == 23 and day == local_day_hour(T0, 0)[0].fromordinal(
        local_day_hour(T0, 0)[0].toordinal() - 1
    )
