"""The three worked examples of the issue (docs/planner.md), run through the real planner: each shows
what the issue says it must."""

from __future__ import annotations

from pathlib import Path

from facecoach.knowledge.library import Library
from facecoach.planning.examples import END, START, load_examples, render, run_example

DOC = Path(__file__).resolve().parents[2] / "docs" / "planner.md"


def test_clencher_releases_the_jaw_never_trains_it(library: Library) -> None:
    plan = next(run_example(e, library) for e in load_examples() if e.id == "clencher")
    jaw = [i for i in plan.items if "masseter" in i.targets]
    assert jaw and all(i.kind == "massage" for i in jaw)
    assert any(i.sides == ["left"] for i in jaw)  # the bulkier side gets more
    assert any("right side" in t for t in plan.habit_tips) and plan.minutes <= 15


def test_frowner_keeps_pressure_off_the_filler(library: Library) -> None:
    plan = next(run_example(e, library) for e in load_examples() if e.id == "frowner")
    assert any(i.phase == "warmup" and "frown" in i.reason for i in plan.items)
    off = {e.technique for e in plan.excluded if e.rule == "recent_injectables_or_surgery"}
    assert "forehead-release" in off  # a guaranteed id of the library
    for i in plan.items:
        t = library.technique(i.technique)
        assert "forehead" not in t.regions or (t.pressure == "none" and t.tool in ("hands", "none"))


def test_lower_left_corner_in_ten_minutes(library: Library) -> None:
    plan = next(run_example(e, library) for e in load_examples() if e.id == "corner")
    assert plan.minutes <= 10
    lifting = {
        t.id for t in library.techniques.values() if t.exercise and t.exercise.movement == "mouth_corners_up"
    }
    assert [i.sides for i in plan.items if i.technique in lifting][-1] == ["left"]


def test_doc_has_the_generated_section(library: Library) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text
    rendered = render(library)
    assert rendered.startswith("### Example 1") and rendered.count("### Example") == 3
