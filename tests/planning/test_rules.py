"""One test (or a few) per safety rule, on the real knowledge base: the rule removes what it must, the
planner obeys it, and the rule's own check catches a plan that breaks it."""

from __future__ import annotations

from facecoach.knowledge.library import Library
from facecoach.planning.plan import Plan, PlanItem
from facecoach.planning.planner import build_plan
from facecoach.planning.rules import (
    RULES_BY_NAME,
    BloodThinnersLightPressure,
    NoHarmfulTools,
    OverusedNeverExercised,
    RecentInjectablesOrSurgery,
    check_plan,
)
from tests.planning.conftest import context, person, pick, releases, scan_of


def excluded_by(plan: Plan, rule: str) -> set[str]:
    return {e.technique for e in plan.excluded if e.rule == rule}


def forged(plan: Plan, *items: PlanItem, drop: str | None = None) -> Plan:
    kept = [i for i in plan.items if i.technique != drop]
    return plan.model_copy(update={"items": [*kept, *items]})


def test_release_after_exercise(library: Library) -> None:
    a = person(goals=["lift_cheeks"], minutes_per_day=30)
    plan = build_plan(a, library=library)
    ctx = context(a, library)
    exercises = [i for i in plan.items if i.kind == "exercise"]
    assert exercises
    for ex in exercises:
        later = plan.items[plan.items.index(ex) + 1 :]
        released = {
            m for i in later if i.phase == "release" for m in library.technique(i.technique).massage.releases
        }  # type: ignore[union-attr]
        assert set(ex.targets) <= released
    assert RULES_BY_NAME["release_after_exercise"].violations(plan, ctx) == []
    # the check catches a plan whose releases were removed
    stripped = plan.model_copy(update={"items": [i for i in plan.items if i.phase != "release"]})
    assert RULES_BY_NAME["release_after_exercise"].violations(stripped, ctx)


def test_overused_by_clenching_is_released_never_exercised(library: Library) -> None:
    a = person(habits={"clenching": True}, goals=["jaw_tension"])
    plan = build_plan(a, library=library)
    first = plan.items[0]
    assert first.phase == "warmup" and "masseter" in first.targets and "clench" in first.reason
    assert not any(i.kind == "exercise" and {"masseter", "temporalis"} & set(i.targets) for i in plan.items)
    ctx = context(a, library)
    assert {"left", "right"} <= ctx.overused_sides("masseter") and ctx.overused_sides("temporalis")
    # a forged masseter exercise is caught: the masseter is never exercised, whoever asks
    bad = forged(plan, first.model_copy(update={"kind": "exercise", "phase": "exercise"}))
    assert any("never exercised" in v for v in RULES_BY_NAME["overused_never_exercised"].violations(bad, ctx))


def test_one_sided_expression_trains_only_the_other_side(library: Library) -> None:
    a = person(habits={"one_sided_expression": "left"}, goals=["symmetry"])
    plan = build_plan(a, library=library)
    smiles = [i for i in plan.items if i.kind == "exercise" and "zygomaticus-major" in i.targets]
    assert smiles and all(i.sides == ["right"] for i in smiles)
    assert "right side only" in smiles[0].reason
    ctx = context(a, library)
    both = smiles[0].model_copy(update={"sides": ["left", "right"]})
    assert RULES_BY_NAME["overused_never_exercised"].violations(forged(plan, both), ctx)


def test_overuse_from_habits_and_scan(library: Library) -> None:
    a = person(habits={"frowning": True, "chewing_side": "right"})
    ctx = context(a, library, scan_of(brow_height_mm=-2.0, lower_face_width_mm=2.5))
    assert ctx.overused_sides("corrugator-supercilii") == {"left", "right"} and ctx.overused_sides("procerus")
    assert {"left", "right"} <= ctx.overused_sides("masseter")  # chewing right + scan left + always
    assert "right" in ctx.overused_sides("frontalis")  # the higher (right) brow; frontalis also by frowning
    calm = context(person(), library, scan_of(brow_height_mm=-2.0))
    assert any(o.source == "scan_brow" and o.sides == {"right"} for o in calm.overuse)
    rule = OverusedNeverExercised()
    smile = library.technique("smile-lift")
    smirk = context(person(habits={"one_sided_expression": "right"}), library)
    assert rule.allowed_sides(smile, smirk) == ["left"] and rule.excludes(smile, smirk) is None
    pucker = library.technique("lip-pucker")  # a both-sides-at-once movement
    assert rule.allowed_sides(pucker, context(person(), library)) == ["left", "right"]


def test_no_harmful_tools(library: Library) -> None:
    harmful = [t for t in library.tools.values() if t.category == "harmful"]
    assert harmful
    a = person(
        goals=["jaw_tension"],
        habits={"clenching": True},
        tools=["gua_sha", "jade_roller"],
        minutes_per_day=60,
    )
    plan = build_plan(a, library=library)
    ids = {t.id for t in harmful}
    assert not ids & {i.technique for i in plan.items}
    # the rule does not trust the library: a technique dressed as a harmful device is removed
    fake = library.technique("jaw-release").model_copy(update={"id": harmful[0].id})
    assert NoHarmfulTools().excludes(fake, context(a, library))
    # and the person is told to avoid them
    assert any(harmful[0].name in tip for tip in plan.habit_tips)


def test_tmj_removes_everything_that_loads_the_jaw(library: Library) -> None:
    a = person(conditions={"tmj": True}, goals=["lift_cheeks"], minutes_per_day=60)
    for week in (1, 3, 6):
        plan = build_plan(a, week=week, library=library)
        for i in plan.items:
            t = library.technique(i.technique)
            assert not t.loads_jaw and "tmj" not in t.contraindications
            assert not (t.exercise and t.exercise.movement == "jaw_open")
    jaw_loading = set(pick(library, loads_jaw=True))
    assert jaw_loading <= excluded_by(build_plan(a, week=52, library=library), "tmj_no_jaw_load")
    # releasing the jaw is still allowed: it does not load it
    clench = build_plan(person(conditions={"tmj": True}, habits={"clenching": True}), library=library)
    assert releases(library, clench.items[0].technique, "masseter")


def test_recent_injectables_remove_pressure_and_tools_there(library: Library) -> None:
    rule = RecentInjectablesOrSurgery()
    recent = person(conditions={"injectables": [{"region": "forehead", "weeks_ago": 2}]}, tools=["gua_sha"])
    plan = build_plan(recent, library=library)
    pressing = set(pick(library, "massage", region="forehead", pressure_above_light=True))
    pressing |= set(pick(library, region="forehead", tool="gua_sha"))
    assert pressing and pressing <= excluded_by(plan, rule.name)
    for i in plan.items:
        t = library.technique(i.technique)
        if "forehead" in t.regions:
            assert t.pressure == "none" and t.tool in ("hands", "none")
    assert "4 weeks" in next(e.reason for e in plan.excluded if e.rule == rule.name)
    settled = person(conditions={"injectables": [{"region": "forehead", "weeks_ago": 4}]})
    assert all(rule.excludes(library.technique(t), context(settled, library)) is None for t in pressing)
    # a resisted exercise over the treated region goes too (fingers press there)
    cheeks = context(
        person(conditions={"injectables": [{"region": "cheeks", "weeks_ago": 0}]}), library, week=4
    )
    resisted = pick(library, "exercise", region="cheeks", resistance=True)
    assert resisted and all(rule.excludes(library.technique(t), cheeks) for t in resisted)
    assert rule.excludes(library.technique("smile-lift"), cheeks) is None


def test_recent_surgery_removes_everything_there_until_cleared(library: Library) -> None:
    rule = RecentInjectablesOrSurgery()
    op = person(conditions={"surgery": [{"region": "cheeks", "weeks_ago": 5}]}, goals=["lift_cheeks"])
    plan = build_plan(op, library=library)
    assert all("cheeks" not in library.technique(i.technique).regions for i in plan.items)
    assert "smile-lift" in excluded_by(plan, rule.name)
    for later in (
        {"region": "cheeks", "weeks_ago": 12},
        {"region": "cheeks", "weeks_ago": 5, "cleared": True},
    ):
        ctx = context(person(conditions={"surgery": [later]}), library)
        assert rule.excludes(library.technique("smile-lift"), ctx) is None


def test_skin_removes_tools_and_friction_there(library: Library) -> None:
    a = person(
        conditions={"skin": [{"condition": "active_acne", "region": "cheeks"}]},
        tools=["gua_sha", "jade_roller"],
    )
    plan = build_plan(a, library=library)
    rough = set(pick(library, region="cheeks", friction=True)) | set(
        pick(library, region="cheeks", tool="gua_sha")
    )
    rough |= set(pick(library, region="cheeks", tool="jade_roller"))
    assert rough and rough <= excluded_by(plan, "skin_no_friction_or_tools_there")
    for i in plan.items:
        t = library.technique(i.technique)
        if "cheeks" in t.regions:
            assert not t.friction and t.tool in ("hands", "none")
    # hands without friction stay: the cheeks can still be released
    ctx = context(a, library)
    assert (
        RULES_BY_NAME["skin_no_friction_or_tools_there"].excludes(
            library.technique(pick(library, "massage", region="cheeks", tool="hands", friction=False)[0]), ctx
        )
        is None
    )


def test_facial_palsy_gets_a_referral_and_no_exercise(library: Library) -> None:
    a = person(conditions={"facial_palsy": True}, goals=["symmetry", "lift_cheeks"], tools=["gua_sha"])
    plan = build_plan(a, scan_of(mouth_corner_mm=-3.0), library=library)
    assert plan.referral and "clinician" in plan.referral
    assert not [i for i in plan.items if i.kind == "exercise"]
    for i in plan.items:
        t = library.technique(i.technique)
        assert t.pressure in ("none", "feather", "light") and t.tool in ("hands", "none")
    assert "smile-lift" in excluded_by(plan, "facial_palsy_referral")
    ctx = context(a, library)
    assert RULES_BY_NAME["facial_palsy_referral"].violations(plan.model_copy(update={"referral": None}), ctx)
    assert build_plan(person(), library=library).referral is None


def test_blood_thinners_mean_light_pressure_only(library: Library) -> None:
    a = person(conditions={"blood_thinners": True}, habits={"clenching": True}, tools=["gua_sha"])
    plan = build_plan(a, library=library)
    firm = set(pick(library, pressure_above_light=True)) | set(pick(library, tool="gua_sha"))
    assert firm and firm <= excluded_by(plan, BloodThinnersLightPressure.name)
    assert all(library.technique(i.technique).pressure in ("none", "feather", "light") for i in plan.items)
    assert all(library.technique(i.technique).tool != "gua_sha" for i in plan.items)
    assert any("blood thinners" in t for t in plan.habit_tips)


def test_fits_time_budget(library: Library) -> None:
    for minutes in (1, 2, 3, 5, 8, 10, 15, 30, 60, 120):
        a = person(minutes_per_day=minutes, goals=["lift_cheeks", "symmetry"], habits={"clenching": True})
        plan = build_plan(a, scan_of(mouth_corner_mm=2.0), week=4, library=library)
        assert plan.total_s <= minutes * 60
        assert plan.minutes == round(plan.total_s / 60, 1)
        assert check_plan(plan, context(a, library, scan_of(mouth_corner_mm=2.0), week=4)) == []
    tight = build_plan(person(minutes_per_day=3, goals=["lift_cheeks"]), library=library)
    assert "fits_time_budget" in {e.rule for e in tight.excluded}
    roomy = build_plan(person(minutes_per_day=60, goals=["lift_cheeks"]), library=library)
    assert len(roomy.items) > len(tight.items)
    over = roomy.model_copy(update={"items": roomy.items * 10})
    assert RULES_BY_NAME["fits_time_budget"].violations(over, context(person(minutes_per_day=60), library))


def test_only_owned_tools(library: Library) -> None:
    none = build_plan(person(minutes_per_day=60), library=library)
    assert all(library.technique(i.technique).tool in ("hands", "none") for i in none.items)
    gua, jade = set(pick(library, tool="gua_sha")), set(pick(library, tool="jade_roller"))
    assert gua and jade and gua | jade <= excluded_by(none, "only_owned_tools")
    owned = build_plan(person(minutes_per_day=60, tools=["gua_sha"]), library=library)
    assert not gua & excluded_by(owned, "only_owned_tools")
    assert jade <= excluded_by(owned, "only_owned_tools")


def test_phases_in_order(library: Library) -> None:
    a = person(minutes_per_day=40, goals=["lift_cheeks", "depuff"], habits={"frowning": True})
    plan = build_plan(a, library=library)
    phases = [i.phase for i in plan.items]
    assert phases[0] == "warmup" and phases[-1] == "drainage" and "exercise" in phases and "release" in phases
    ctx = context(a, library)
    assert RULES_BY_NAME["phases_in_order"].violations(plan, ctx) == []
    assert RULES_BY_NAME["phases_in_order"].violations(
        plan.model_copy(update={"items": plan.items[::-1]}), ctx
    )


def test_rest_day_and_progression_rules(library: Library) -> None:
    from facecoach.planning.context import make_context
    from facecoach.planning.policy import default_policy

    a = person(goals=["lift_cheeks"], minutes_per_day=30)
    rest = build_plan(a, library=library, rest_day=True)
    assert not [i for i in rest.items if i.kind == "exercise"] and rest.items
    assert "smile-lift" in excluded_by(rest, "rest_day")
    week1 = build_plan(a, week=1, library=library)
    later = set(pick(library, "exercise", unlock_after=1))
    assert later and later <= excluded_by(week1, "progression")
    ctx = make_context(a, None, library, default_policy(), week=1)
    assert RULES_BY_NAME["progression"].violations(build_plan(a, week=4, library=library), ctx)
