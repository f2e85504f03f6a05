"""The planner on the real knowledge base: the method's order, personalisation from the scan, reasons,
progression, rest days, determinism."""

from __future__ import annotations

from facecoach.knowledge.library import Library
from facecoach.planning.planner import build_plan, progressed, rest_days, week_schedule
from facecoach.planning.policy import default_policy
from facecoach.planning.rules import check_plan
from tests.planning.conftest import context, person, releases, scan_of


def test_plan_dump_is_exactly_the_issue_shape(library: Library) -> None:
    doc = build_plan(person(goals=["lift_cheeks"]), library=library).model_dump(mode="json")
    assert list(doc) == ["week", "minutes", "items", "excluded", "habit_tips", "referral"]
    item_keys = ["technique", "kind", "phase", "targets", "sides", "reps", "hold_s", "duration_s", "reason"]
    assert all(list(i) == item_keys for i in doc["items"])
    assert all(list(e) == ["technique", "rule", "reason"] for e in doc["excluded"])


def test_clencher_who_chews_left(library: Library) -> None:
    a = person(habits={"clenching": True, "chewing_side": "left"}, goals=["jaw_tension"])
    scan = scan_of(lower_face_width_mm=2.4)
    plan = build_plan(a, scan, library=library)
    jaw = [i for i in plan.items if releases(library, i.technique, "masseter")]
    assert [i.sides for i in jaw] == [["left", "right"], ["left"]]  # more release on the bulkier side
    assert "2.4 mm wider" in jaw[1].reason and "left" in jaw[1].reason
    assert any("Chew on your right side" in t for t in plan.habit_tips)
    assert check_plan(plan, context(a, library, scan)) == []


def test_scan_within_its_noise_changes_nothing(library: Library) -> None:
    a = person(goals=["lift_cheeks"])
    noisy = scan_of(lower_face_width_mm=2.4, mouth_corner_mm=-1.8)
    noisy = noisy.model_copy(update={"noise_mm": {"lower_face_width_mm": 1.5, "mouth_corner_mm": 1.0}})
    assert context(a, library, noisy).findings == ()
    assert build_plan(a, noisy, library=library) == build_plan(a, None, library=library)


def test_higher_brow_relaxed_on_that_side(library: Library) -> None:
    plan = build_plan(person(), scan_of(brow_height_mm=-1.6), library=library)
    brow = [i for i in plan.items if releases(library, i.technique, "frontalis") and i.sides == ["right"]]
    assert brow and brow[0].phase == "warmup" and "right brow sits 1.6 mm higher" in brow[0].reason


def test_lower_mouth_corner_gets_the_lift_emphasised(library: Library) -> None:
    a = person(goals=["symmetry"], minutes_per_day=10)
    plan = build_plan(a, scan_of(mouth_corner_mm=-2.0), library=library)  # left corner 2 mm lower
    ids = {
        t.id for t in library.techniques.values() if t.exercise and t.exercise.movement == "mouth_corners_up"
    }
    lifts = [i for i in plan.items if i.technique in ids]
    assert [i.sides for i in lifts] == [["left", "right"], ["left"]]
    assert "left mouth corner sits 2.0 mm lower" in lifts[1].reason
    right = build_plan(a, scan_of(mouth_corner_mm=2.0), library=library)
    assert [i.sides for i in right.items if i.technique in ids][-1] == ["right"]


def test_every_item_has_a_personal_reason(library: Library) -> None:
    a = person(
        goals=["lift_cheeks", "depuff"],
        habits={"frowning": True, "sleeping_side": "right"},
        minutes_per_day=30,
    )
    plan = build_plan(a, library=library)
    for i in plan.items:
        assert i.reason.endswith(".") and i.reason[0].isupper() and i.reason.count(". ") == 0
    assert any("frown" in i.reason for i in plan.items if i.phase == "warmup")
    assert "puffiness" in next(i.reason for i in plan.items if i.phase == "drainage")


def test_depuff_gets_a_longer_drainage(library: Library) -> None:
    def drainage_s(goals: list[str]) -> float:
        plan = build_plan(person(goals=goals, minutes_per_day=10), library=library)
        return next(i.duration_s for i in plan.items if i.phase == "drainage")

    assert drainage_s(["depuff"]) > drainage_s([])


def test_progression_grows_then_caps(library: Library) -> None:
    policy = default_policy()
    d = library.technique("smile-lift").defaults
    r1, h1, s1 = progressed(d, 1, policy)
    r3, h3, s3 = progressed(d, 3, policy)
    r50, h50, _ = progressed(d, 50, policy)
    assert (r1, h1, s1) == (d.reps, d.hold_s, d.duration_s)
    assert r1 is not None and r3 is not None and h1 is not None and h3 is not None
    assert r3 == r1 + 2 and h3 > h1 and s3 > s1
    assert r50 == 2 * r1 and h50 == 2 * h1
    a = person(goals=["lift_cheeks"], minutes_per_day=60)
    w1, w4 = build_plan(a, week=1, library=library), build_plan(a, week=4, library=library)
    ex1 = {i.technique for i in w1.items if i.kind == "exercise"}
    ex4 = {i.technique for i in w4.items if i.kind == "exercise"}
    assert len(ex4) > len(ex1)
    unlocks = {library.technique(t).exercise.unlock_week for t in ex4}  # type: ignore[union-attr]
    assert max(unlocks) > 1  # something new unlocked


def test_week_schedule_marks_rest_days(library: Library) -> None:
    a = person(goals=["lift_cheeks"])
    days = week_schedule(a, None, 1, library)
    assert [d.day for d in days] == list(range(1, 8))
    assert [d.day for d in days if d.rest] == rest_days(1) == [3, 7]
    assert len([d for d in days if d.rest]) > len([d for d in week_schedule(a, None, 6, library) if d.rest])
    for d in days:
        has_ex = any(i.kind == "exercise" for i in d.plan.items)
        assert has_ex != d.rest
        assert check_plan(d.plan, context(a, library)) == []


def test_deterministic(library: Library) -> None:
    a = person(goals=["lift_cheeks", "symmetry"], habits={"clenching": True, "one_sided_expression": "right"})
    s = scan_of(mouth_corner_mm=1.7, lower_face_width_mm=-2.2, brow_height_mm=1.3)
    first = build_plan(a, s, 2, library).model_dump_json()
    assert all(build_plan(a, s, 2, library).model_dump_json() == first for _ in range(5))


def test_nothing_safe_gives_an_empty_but_valid_plan(library: Library) -> None:
    regions = ["forehead", "brows", "eyes", "nose", "cheeks", "mouth", "chin", "jaw", "neck"]
    a = person(
        conditions={"surgery": [{"region": r, "weeks_ago": 1} for r in regions]}, goals=["lift_cheeks"]
    )
    plan = build_plan(a, library=library)
    assert plan.items == [] and plan.minutes == 0 and plan.excluded
    assert check_plan(plan, context(a, library)) == []
