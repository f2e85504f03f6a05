"""The packaged knowledge base is complete and consistent with the method (PRODUCT.md)."""

from __future__ import annotations

import math

import pytest

from facecoach.knowledge import Library, load_library
from facecoach.knowledge.library import STROKE_X, STROKE_Y
from facecoach.knowledge.models import REGIONS


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library()


MIMETIC = [
    "frontalis",
    "corrugator-supercilii",
    "procerus",
    "orbicularis-oculi",
    "nasalis",
    "depressor-septi-nasi",
    "levator-labii-superioris",
    "levator-labii-superioris-alaeque-nasi",
    "zygomaticus-major",
    "zygomaticus-minor",
    "risorius",
    "levator-anguli-oris",
    "depressor-anguli-oris",
    "depressor-labii-inferioris",
    "mentalis",
    "orbicularis-oris",
    "buccinator",
]
MASTICATORY = ["masseter", "temporalis", "medial-pterygoid", "lateral-pterygoid"]


def test_counts(lib: Library) -> None:
    assert len(lib.muscles) >= 40
    assert len(lib.techniques_for(kind="exercise")) >= 15
    assert len(lib.techniques_for(kind="massage")) >= 15
    assert len(lib.claims) >= 10
    assert len(lib.tools) >= 12


@pytest.mark.parametrize("muscle", [*MIMETIC, *MASTICATORY, "platysma"])
def test_every_muscle_is_present_per_side(lib: Library, muscle: str) -> None:
    entries = lib.muscle_groups()[muscle]
    sides = sorted(m.side for m in entries)
    assert sides in (["left", "right"], ["midline"])
    if sides == ["left", "right"]:
        assert {m.id for m in entries} == {f"{muscle}-left", f"{muscle}-right"}
    expected_group = "masticatory" if muscle in MASTICATORY else "neck" if muscle == "platysma" else "mimetic"
    assert {m.group for m in entries} == {expected_group}


def test_use_patterns_follow_the_method(lib: Library) -> None:
    groups = lib.muscle_groups()
    for overused in (
        "masseter",
        "temporalis",
        "corrugator-supercilii",
        "procerus",
        "frontalis",
        "mentalis",
        "depressor-anguli-oris",
        "platysma",
    ):
        assert groups[overused][0].use == "overused", overused
        assert groups[overused][0].overused_by, f"{overused} names no habit"
    for underused in (
        "zygomaticus-major",
        "levator-anguli-oris",
        "buccinator",
        "orbicularis-oris",
        "orbicularis-oculi",
    ):
        assert groups[underused][0].use == "underused", underused


def test_every_exercised_region_and_muscle_has_a_release_massage(lib: Library) -> None:
    exercises = lib.techniques_for(kind="exercise")
    for region in {r for t in exercises for r in t.regions}:
        assert lib.releases_for(region), f"no release massage for exercised region {region}"
    for t in exercises:
        for target in t.targets:
            releasing = lib.releases_for(target)
            assert releasing and all(m.kind == "massage" for m in releasing), (t.id, target)


def test_no_exercise_works_an_overused_muscle(lib: Library) -> None:
    groups = lib.muscle_groups()
    for t in lib.techniques_for(kind="exercise"):
        assert "masseter" not in t.targets
        for target in t.targets:
            assert groups[target][0].use != "overused", (t.id, target)
    assert lib.techniques_for(kind="exercise", muscle="masseter") == []


def test_harmful_items_are_never_a_technique_tool(lib: Library) -> None:
    harmful = [tool for tool in lib.tools.values() if tool.category == "harmful"]
    assert {"jawline-exerciser", "face-slimmer-spring"} <= {t.id for t in harmful}
    for tool in harmful:
        assert tool.technique_tool is None
        assert tool.risks
    used = {t.tool for t in lib.techniques.values()}
    assert not used & {tool.technique_tool for tool in harmful}
    assert all(t.tool in ("hands", "none") for t in lib.techniques_for(kind="exercise"))


@pytest.mark.parametrize(
    ("tech_id", "kind", "targets", "movement"),
    [
        ("smile-lift", "exercise", {"zygomaticus-major"}, "mouth_corners_up"),
        ("lip-pucker", "exercise", {"orbicularis-oris"}, "lips_pucker"),
        ("cheek-puff", "exercise", {"buccinator"}, "cheeks_puff"),
        ("jaw-release", "massage", {"masseter"}, None),
        ("frown-release", "massage", {"corrugator-supercilii", "procerus"}, None),
        ("forehead-release", "massage", {"frontalis"}, None),
        ("lymph-drainage", "massage", set(), None),
    ],
)
def test_required_techniques(
    lib: Library, tech_id: str, kind: str, targets: set[str], movement: str | None
) -> None:
    t = lib.technique(tech_id)
    assert t.kind == kind
    assert targets <= set(t.targets)
    if kind == "exercise":
        assert t.exercise is not None and t.massage is None
        assert t.exercise.movement == movement
        assert t.exercise.still
        assert t.defaults.hold_s or t.defaults.reps
    else:
        assert t.massage is not None and t.exercise is None
        assert targets <= set(t.massage.releases)
        assert t.massage.strokes


def test_smile_lift_also_works_the_corner_lifters(lib: Library) -> None:
    assert {"zygomaticus-minor", "levator-anguli-oris"} & set(lib.technique("smile-lift").targets)


EAR_NODE = (0.03, 0.47)  # pre-auricular lymph nodes, person's right side (where 'both' strokes are drawn)


def _towards_nodes(start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Independent of the loader's rule: ends nearer the ear node, or runs down the neck."""
    return math.dist(end, EAR_NODE) < math.dist(start, EAR_NODE) or (end[1] >= 1.0 and end[1] > start[1])


def test_lymph_drainage_sweeps_from_the_centre_out_to_the_ears_and_down_the_neck(lib: Library) -> None:
    t = lib.technique("lymph-drainage")
    assert t.massage is not None and t.massage.drains and t.pressure in ("feather", "light")
    strokes = t.massage.strokes
    assert len(strokes) >= 5
    face = [s for s in strokes if s.path[0][1] < 1.0 and s.path[0][0] > 0.3]
    assert face, "no stroke starts near the centre of the face"
    last = strokes[-1].path[-1]
    assert last[1] >= 1.3, "the sequence must finish down the neck"
    assert {"forehead", "eyes", "cheeks", "jaw", "neck"} <= set(t.regions)
    assert all(_towards_nodes(s.path[0], s.path[-1]) for s in strokes)


def test_every_drainage_stroke_moves_towards_the_lymph_nodes(lib: Library) -> None:
    drains = [t for t in lib.techniques_for(kind="massage") if t.massage is not None and t.massage.drains]
    assert len(drains) >= 3
    for t in drains:
        assert t.massage is not None
        for s in t.massage.strokes:
            assert _towards_nodes(s.path[0], s.path[-1]), (t.id, s.label)


def test_stroke_paths_lie_inside_the_face_box(lib: Library) -> None:
    for t in lib.techniques_for(kind="massage"):
        assert t.massage is not None
        for s in t.massage.strokes:
            for x, y in s.path:
                assert STROKE_X[0] <= x <= STROKE_X[1] and STROKE_Y[0] <= y <= STROKE_Y[1], (t.id, s.label)
                if s.sides in ("both", "right"):
                    assert x <= 0.52, (t.id, s.label)


def test_tool_massages_carry_angle_friction_and_skin_contraindications(lib: Library) -> None:
    gua = lib.techniques_for(tool="gua_sha")
    rollers = lib.techniques_for(tool="jade-roller")
    assert len(gua) >= 3 and len(rollers) >= 1
    for t in gua:
        assert t.massage is not None and t.massage.tool_angle_deg is not None
        assert 10 <= t.massage.tool_angle_deg <= 20 and t.friction
    for t in [*gua, *rollers]:
        assert {
            "broken_skin",
            "active_acne",
            "rosacea",
            "eczema",
            "sunburn",
            "injectables",
            "surgery",
        } <= set(t.contraindications)


def test_contraindications_follow_what_a_technique_does(lib: Library) -> None:
    for t in lib.techniques.values():
        if t.loads_jaw:
            assert "tmj" in t.contraindications, t.id
        if t.pressure in ("medium", "firm"):
            assert {"injectables", "surgery"} <= set(t.contraindications), t.id
        if t.pressure == "firm":
            assert "blood_thinners" in t.contraindications, t.id
        if t.kind == "exercise":
            assert "facial_palsy" in t.contraindications, t.id
    assert any(t.loads_jaw for t in lib.techniques_for(kind="exercise"))


def test_progression_unlocks_exercises_over_weeks(lib: Library) -> None:
    weeks = {t.exercise.unlock_week for t in lib.techniques_for(kind="exercise") if t.exercise}
    assert {1, 2, 3, 4} <= weeks
    for t_id in ("smile-lift", "lip-pucker", "cheek-puff"):
        exercise = lib.technique(t_id).exercise
        assert exercise is not None and exercise.unlock_week == 1


def test_evidence_is_honest(lib: Library) -> None:
    for t in lib.techniques_for(kind="exercise"):
        assert t.evidence.level in ("limited", "weak", "expert_opinion", "none")
    assert "JAMA" in lib.technique("smile-lift").evidence.summary
    assert lib.technique("lymph-drainage").evidence.level in ("limited", "expert_opinion")


@pytest.mark.parametrize(
    ("tool_id", "category", "technique_tool"),
    [
        ("jawline-exerciser", "harmful", None),
        ("gua-sha", "massage", "gua_sha"),
        ("jade-roller", "massage", "jade_roller"),
        ("hands", "massage", "hands"),
        ("microcurrent", "passive", None),
        ("ems", "passive", None),
        ("face-gym-salon", "massage", None),
        ("radiofrequency", "passive", None),
        ("ice-roller", "passive", None),
        ("heated-tools", "passive", None),
        ("hyaluronic-acid", "passive", None),
        ("face-taping", "passive", None),
    ],
)
def test_required_tools(lib: Library, tool_id: str, category: str, technique_tool: str | None) -> None:
    tool = lib.tools[tool_id]
    assert tool.category == category
    assert tool.technique_tool == technique_tool
    assert tool.results_last and tool.what_it_does and tool.verdict


def test_jaw_exerciser_names_its_harms(lib: Library) -> None:
    risks = " ".join(lib.tools["jawline-exerciser"].risks).lower()
    assert "masseter" in risks and "teeth" in risks and "tmj" in risks


@pytest.mark.parametrize(
    ("claim_id", "verdicts"),
    [
        ("exercise-causes-wrinkles", {"partly"}),
        ("salon-face-workout-is-exercise", {"false"}),
        ("jaw-exerciser-chiselled-jaw", {"false"}),
        ("gua-sha-removes-toxins", {"false"}),
        ("microcurrent-replaces-exercise", {"false"}),
        ("spot-reduce-face-fat", {"false"}),
    ],
)
def test_required_claims(lib: Library, claim_id: str, verdicts: set[str]) -> None:
    assert lib.claims[claim_id].verdict in verdicts


def test_ids_are_unique_across_the_library(lib: Library) -> None:
    ids = [*lib.muscles, *lib.techniques, *lib.tools, *lib.claims]
    assert len(ids) == len(set(ids))
    assert not set(lib.muscle_groups()) & (set(lib.techniques) | set(lib.tools) | set(lib.claims))


def test_regions_are_from_the_vocabulary_and_cover_the_muscles(lib: Library) -> None:
    groups = lib.muscle_groups()
    for t in lib.techniques.values():
        assert t.region in t.regions and set(t.regions) <= set(REGIONS)
        released = t.massage.releases if t.massage else []
        assert {groups[m][0].region for m in [*t.targets, *released]} <= set(t.regions), t.id


def test_every_overused_muscle_has_a_release_massage(lib: Library) -> None:
    overused = {m.muscle for m in lib.muscles.values() if m.use == "overused"}
    assert {"masseter", "corrugator-supercilii", "frontalis"} <= overused
    for muscle in overused:
        assert lib.releases_for(muscle), f"nothing releases the over-used {muscle}"
