"""``facecoach plan``: JSON and readable output, and clear refusals (exit 2, one line on stderr)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from facecoach.cli import app

CLENCHER = {
    "goals": ["jaw_tension", "lift_cheeks"],
    "habits": {"stress": 4, "clenching": True, "chewing_side": "left", "frowning": False,
               "one_sided_expression": "none"},
    "conditions": {"tmj": False, "injectables": [], "surgery": [], "skin": [], "facial_palsy": False,
                   "blood_thinners": False},
    "minutes_per_day": 15,
    "tools": [],
}  # fmt: skip
SCAN = {
    "head_pose": {"yaw_deg": 0.4, "pitch_deg": -1.0, "roll_deg": 0.2},
    "mm_per_px": 0.2,
    "frames_used": 20,
    "asymmetry": {"brow_height_mm": 0.2, "mouth_corner_mm": 0.1, "lower_face_width_mm": 2.6},
    "noise_mm": None,
    "notes": [],
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


def test_plan_json(tmp_path: Path) -> None:
    a, s = write(tmp_path, "a.json", CLENCHER), write(tmp_path, "s.json", SCAN)
    res = CliRunner().invoke(app, ["plan", "--answers", str(a), "--scan", str(s), "--week", "2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["week"] == 2 and doc["referral"] is None and doc["minutes"] <= 15
    assert "masseter" in doc["items"][0]["targets"] and doc["items"][-1]["phase"] == "drainage"
    assert any(i["sides"] == ["left"] and "masseter" in i["targets"] for i in doc["items"])
    assert any("right side" in t for t in doc["habit_tips"])


def test_plan_readable(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", CLENCHER)
    res = CliRunner().invoke(app, ["plan", "--answers", str(a)], env={"COLUMNS": "160"})
    assert res.exit_code == 0, res.output
    out = res.stdout
    expected = ["Your routine — week 1", "1. Warm-up", "2. Exercise", "3. Release", "4. Drain", "clench"]
    expected += ["Through the day", "Left out, and why", "day 3: rest"]
    for words in expected:
        assert words in out


def test_palsy_readable_shows_referral(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", {**CLENCHER, "conditions": {"facial_palsy": True}})
    res = CliRunner().invoke(app, ["plan", "--answers", str(a)], env={"COLUMNS": "160"})
    assert res.exit_code == 0 and "See a clinician first" in res.stdout and "2. Exercise" not in res.stdout


@pytest.mark.parametrize(
    ("answers", "scan", "extra", "words"),
    [
        ({**CLENCHER, "minutes_per_day": "lots"}, None, [], "field 'minutes_per_day'"),
        ({**CLENCHER, "habits": {"clenching": "sometimes"}}, None, [], "field 'habits.clenching'"),
        ("{oops", None, [], "not valid JSON"),
        (CLENCHER, {"asymmetry": {"brow_height_mm": "high"}}, [], "field 'asymmetry.brow_height_mm'"),
        (CLENCHER, "[]", [], "must be the JSON object"),
        (CLENCHER, None, ["--week", "0"], "--week must be between 1 and 520"),
    ],
)
def test_plan_refusals(tmp_path: Path, answers: object, scan: object, extra: list[str], words: str) -> None:
    args = ["plan", "--answers", str(write(tmp_path, "a.json", answers)), "--json", *extra]
    if scan is not None:
        args += ["--scan", str(write(tmp_path, "s.json", scan))]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    assert res.stdout == ""
    assert words in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_plan_missing_file(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["plan", "--answers", str(tmp_path / "none.json")])
    assert res.exit_code == 2 and "cannot read the answers file" in res.stderr


def test_plan_reads_what_the_real_scan_prints(tmp_path: Path, shared_data: Path) -> None:
    """End to end: `facecoach scan --json` on a real photo, then `facecoach plan --scan` with it."""
    from facecoach.knowledge.library import load_library
    from facecoach.planning.assessment import load_answers
    from facecoach.planning.context import make_context
    from facecoach.planning.plan import Plan
    from facecoach.planning.policy import default_policy
    from facecoach.planning.rules import check_plan
    from facecoach.planning.scan import load_scan

    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", str(shared_data / "smile_man.jpg"), "--json"])
    assert scanned.exit_code == 0, scanned.stderr
    scan_file = write(tmp_path, "scan.json", scanned.stdout)
    answers = write(tmp_path, "a.json", {**CLENCHER, "goals": ["symmetry"]})
    res = runner.invoke(app, ["plan", "--answers", str(answers), "--scan", str(scan_file), "--json"])
    assert res.exit_code == 0, res.stderr
    plan = Plan.model_validate(json.loads(res.stdout))
    library = load_library()
    ctx = make_context(load_answers(answers), load_scan(scan_file), library, default_policy())
    assert check_plan(plan, ctx) == []
    # what the scan found shows in the plan, on the right side
    for f in ctx.findings:
        if f.kind == "bulky_jaw":
            assert any("masseter" in i.targets and i.sides == [f.side] for i in plan.items)
        if f.kind == "lower_mouth_corner":
            assert any(i.kind == "exercise" and i.sides == [f.side] for i in plan.items)


def test_plan_readable_when_nothing_is_safe(tmp_path: Path) -> None:
    regions = ["forehead", "brows", "eyes", "nose", "cheeks", "mouth", "chin", "jaw", "neck"]
    everywhere = {"surgery": [{"region": r, "weeks_ago": 1} for r in regions]}
    a = write(tmp_path, "a.json", {**CLENCHER, "conditions": everywhere})
    res = CliRunner().invoke(app, ["plan", "--answers", str(a)], env={"COLUMNS": "160"})
    assert res.exit_code == 0 and "Nothing in the library is safe and fits for you today." in res.stdout
    assert "recent_injectables_or_surgery" in res.stdout
