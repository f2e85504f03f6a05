"""Property test: over thousands of generated people and scans, no routine breaks any rule.

Each generated case is checked by the rules' own checks (``check_plan``) and, independently, by
direct assertions on the plan and the real knowledge base.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facecoach.knowledge.library import load_library
from facecoach.knowledge.models import REGIONS
from facecoach.planning.assessment import GOALS, SKIN_CONDITIONS, parse_answers
from facecoach.planning.context import make_context
from facecoach.planning.plan import PHASES
from facecoach.planning.planner import build_plan
from facecoach.planning.policy import default_policy
from facecoach.planning.rules import check_plan
from facecoach.planning.scan import parse_scan

LIBRARY = load_library()
POLICY = default_policy()
HARMFUL = {t.id for t in LIBRARY.tools.values() if t.category == "harmful"}
IDS = list(LIBRARY.techniques)

regions = st.sampled_from(REGIONS)
when = st.fixed_dictionaries(
    {"region": regions, "weeks_ago": st.integers(0, 30)}, optional={"cleared": st.booleans()}
)
answers_st = st.fixed_dictionaries(
    {
        "goals": st.lists(st.sampled_from(GOALS), max_size=5),
        "habits": st.fixed_dictionaries(
            {},
            optional={
                "stress": st.integers(0, 10),
                "clenching": st.booleans(),
                "chewing_side": st.sampled_from(["left", "right", "both"]),
                "frowning": st.booleans(),
                "one_sided_expression": st.sampled_from(["left", "right", "none"]),
                "sleeping_side": st.sampled_from(["left", "right", "back", "varies"]),
                "screen_squinting": st.booleans(),
            },
        ),
        "conditions": st.fixed_dictionaries(
            {},
            optional={
                "tmj": st.booleans(),
                "injectables": st.lists(when, max_size=3),
                "surgery": st.lists(when, max_size=2),
                "skin": st.lists(
                    st.fixed_dictionaries({"condition": st.sampled_from(SKIN_CONDITIONS), "region": regions}),
                    max_size=3,
                ),
                "facial_palsy": st.booleans(),
                "blood_thinners": st.booleans(),
            },
        ),
        "minutes_per_day": st.integers(1, 120),
        "tools": st.lists(st.sampled_from(["gua_sha", "jade_roller", "none"]), max_size=3),
    }
)
mm = st.floats(-8, 8, allow_nan=False)
scan_st = st.none() | st.fixed_dictionaries(
    {
        "asymmetry": st.fixed_dictionaries(
            {},
            optional={
                "brow_height_mm": mm,
                "mouth_corner_mm": mm,
                "lower_face_width_mm": mm,
                "eye_opening_mm": mm,
            },
        ),
        "noise_mm": st.none()
        | st.fixed_dictionaries({"brow_height_mm": st.floats(0, 2), "mouth_corner_mm": st.floats(0, 2)}),
        "head_pose": st.just({"yaw_deg": 0.0, "pitch_deg": 0.0, "roll_deg": 0.0}),
    }
)


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=answers_st,
    raw_scan=scan_st,
    week=st.integers(1, 12),
    rest_day=st.booleans(),
    order=st.none() | st.permutations(IDS),
)
def test_no_routine_breaks_any_rule(
    raw: dict[str, Any], raw_scan: dict[str, Any] | None, week: int, rest_day: bool, order: list[str] | None
) -> None:
    """``order`` shuffles the real library's technique order (the planner's tie-break), so every
    technique gets its chance to be picked, not only the first ones in the file."""
    library = (
        LIBRARY if order is None else replace(LIBRARY, techniques={i: LIBRARY.techniques[i] for i in order})
    )
    answers = parse_answers(raw)
    scan = parse_scan(raw_scan) if raw_scan is not None else None
    plan = build_plan(answers, scan, week, library, rest_day=rest_day)
    ctx = make_context(answers, scan, library, POLICY, week=week, rest_day=rest_day)

    assert check_plan(plan, ctx) == []
    c = answers.conditions
    # fits its time
    assert sum(i.duration_s for i in plan.items) <= answers.minutes_per_day * 60
    # phases in the method's order, and every item has a reason
    ranks = [PHASES.index(i.phase) for i in plan.items]
    assert ranks == sorted(ranks)
    assert all(i.reason.strip() and i.duration_s > 0 for i in plan.items)
    for n, item in enumerate(plan.items):
        t = library.technique(item.technique)
        assert item.technique not in HARMFUL  # harmful tools never appear
        assert t.kind == item.kind
        assert t.tool in ("hands", "none") or t.tool in answers.tools
        if item.kind == "exercise":
            assert "masseter" not in item.targets
            assert not rest_day and not c.facial_palsy
            assert t.exercise is not None and t.exercise.unlock_week <= week
            # followed by a release of its muscles
            released = {
                m for later in plan.items[n + 1 :] if later.phase == "release"
                for m in (library.technique(later.technique).massage.releases or [])  # type: ignore[union-attr]
            }  # fmt: skip
            assert set(item.targets) <= released
        if c.tmj:
            assert not t.loads_jaw and "tmj" not in t.contraindications
        if c.blood_thinners:
            assert t.pressure in ("none", "feather", "light") and t.tool != "gua_sha"
        for s in c.skin:
            if s.region in t.regions:
                assert not t.friction and t.tool in ("hands", "none")
        for i in c.injectables:
            if i.weeks_ago < POLICY.windows.injectables_weeks and i.region in t.regions:
                assert t.pressure == "none" and t.tool in ("hands", "none")
        for s in c.surgery:
            if s.weeks_ago < POLICY.windows.surgery_weeks and not s.cleared:
                assert s.region not in t.regions
    # palsy → referral and no exercise plan
    assert (plan.referral is not None) == c.facial_palsy
