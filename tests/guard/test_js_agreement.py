"""One detector, two languages: static/guard/detector.js in Chromium against facecoach.guard on the very
same landmark frames (real footage and warped real faces), the same rules (as /guard/rules.json serves
them) and the same settings. Calibration, every frame's state and habit values, every held habit, nudge
and held-back nudge, and the hourly counts must agree."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from facecoach.guard.detector import GuardFrame, HabitDetector, calibrate_guard
from facecoach.guard.policy import GuardSettings
from facecoach.guard.rules import GuardRules, browser_model, guard_rules

pytestmark = pytest.mark.browser

JS_RUN = """async ([model, calFrames, frames, settings, history]) => {
  const m = await import('/guard-static/detector.js');
  const cal = m.calibrate(model, calFrames);
  const det = new m.HabitDetector(model, cal, settings, history);
  const outs = frames.map((f) => det.push(f));
  return {cal, outs, counts: [...det.counts.values()], limits: det.limits};
}"""


def _frame_json(f: GuardFrame) -> dict[str, Any]:
    return {
        "t_s": f.t_s,
        "faces": [face.points_px.reshape(-1).tolist() for face in f.faces],
        "brightness": f.brightness,
        "utc_offset_s": f.utc_offset_s,
    }


def _compare(
    page: Any,
    rules: GuardRules,
    cal_frames: list[GuardFrame],
    frames: list[GuardFrame],
    settings: GuardSettings,
    history: dict[str, float] | None = None,
) -> int:
    """Run both; assert they agree; return how many nudges there were (so a test can ask for some)."""
    cal = calibrate_guard([f.faces[0] for f in cal_frames])
    det = HabitDetector(rules, cal, settings, history)
    py = [det.push(f) for f in frames]
    model = browser_model(rules)
    got = page.evaluate(
        JS_RUN,
        [
            model,
            [f.faces[0].points_px.reshape(-1).tolist() for f in cal_frames],
            [_frame_json(f) for f in frames],
            dict(settings.__dict__),
            history or {},
        ],
    )
    js_cal = got["cal"]
    assert js_cal["mm_per_unit"] == pytest.approx(cal.mm_per_unit, rel=1e-12)
    assert js_cal["size_factor"] == pytest.approx(cal.size_factor, rel=1e-12)
    for key, value in js_cal["neutral"].items():
        assert value == pytest.approx(cal.neutral[key], rel=1e-9, abs=1e-12), key
    for name, value in js_cal["noise"].items():
        assert value == pytest.approx(cal.noise[name], rel=1e-7, abs=1e-10), name
    for habit, (on, off) in det.limits().items():
        assert got["limits"][habit] == pytest.approx([on, off], rel=1e-9)
    for p, j in zip(py, got["outs"], strict=True):
        assert j["state"] == p.state, p.t_s
        assert set(j["values"]) == set(p.values)
        for habit, v in p.values.items():
            w = j["values"][habit]
            assert (w is None and math.isnan(v)) or w == pytest.approx(v, rel=1e-9, abs=1e-9), (p.t_s, habit)
        assert (tuple(j["active"]), tuple(j["sustained"]), j["held_back"]) == (
            p.active,
            p.sustained,
            p.held_back,
        )
        if p.nudge is None:
            assert j["nudge"] is None
        else:
            assert j["nudge"] == {**dataclasses.asdict(p.nudge), "held_s": pytest.approx(p.nudge.held_s)}
    counts = [c.to_dict() for c in det.counts.values()]
    assert len(got["counts"]) == len(counts)
    for j, p in zip(got["counts"], counts, strict=True):
        assert (j["day"], j["hour"], j["nudges"]) == (p["day"], p["hour"], p["nudges"])
        assert j["measured_s"] == pytest.approx(p["measured_s"], abs=1e-3)
        assert j["habit_s"] == pytest.approx(p["habit_s"], abs=1e-3)
    return sum(p.nudge is not None for p in py)


def _short(rules: GuardRules) -> GuardRules:
    return rules.model_copy(update={"habits": [h.model_copy(update={"hold_s": 2.0}) for h in rules.habits]})


def test_real_footage_agrees(guard_static_page: Any, footage: list[tuple[float, GuardFrame]]) -> None:
    cal = [f for t, f in footage if 9.6 <= t <= 10.3 and len(f.faces) == 1]
    frames = [f for _t, f in footage]
    assert _compare(guard_static_page, _short(guard_rules()), cal, frames, GuardSettings(interval_min=5)) >= 1
    # quiet hours (09:00 UTC, an offset of 0) hold the same nudges back on both sides
    quiet = GuardSettings(interval_min=5, quiet_start_h=8, quiet_end_h=10)
    assert _compare(guard_static_page, _short(guard_rules()), cal, frames, quiet) == 0


@pytest.mark.parametrize("habit", ["frown", "brow_raise", "squint", "lip_press", "smirk", None])
def test_warped_faces_agree(
    guard_static_page: Any, held_frames: dict[str | None, list[GuardFrame]], habit: str | None
) -> None:
    frames = held_frames[habit]
    n = _compare(guard_static_page, guard_rules(), frames[:6], frames[6:], GuardSettings())
    assert n == (0 if habit is None else 1)


def test_states_gaps_and_history_agree(
    guard_static_page: Any, held_frames: dict[str | None, list[GuardFrame]]
) -> None:
    """No face, two faces, dark, a long gap, a time zone, and a reloaded page's nudge history."""
    frames = list(held_frames["frown"])
    other = held_frames[None][0].faces[0]
    frames[9] = dataclasses.replace(frames[9], faces=[])
    frames[10] = dataclasses.replace(frames[10], faces=[frames[10].faces[0], other])
    frames[11] = dataclasses.replace(frames[11], brightness=3.0)
    again = [dataclasses.replace(f, t_s=f.t_s + 100.0, utc_offset_s=-5 * 3600) for f in held_frames["frown"]]
    seq = frames[6:] + again + [dataclasses.replace(f, t_s=f.t_s + 4000.0) for f in held_frames["brow_raise"]]
    _compare(guard_static_page, guard_rules(), frames[:6], seq, GuardSettings(interval_min=5))
    _compare(
        guard_static_page,
        guard_rules(),
        frames[:6],
        seq,
        GuardSettings(),
        history={"*": seq[0].t_s - 30, "frown": 1.0},
    )
