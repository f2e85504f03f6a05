"""Broken copies of the data files fail with the file, the entry and the field named."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from facecoach.knowledge import KnowledgeError, Library, load_library, validate_claim, validate_technique
from facecoach.knowledge.library import DATA_DIR
from facecoach.knowledge.models import Claim, Technique

Entries = list[dict[str, Any]]
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _edit(data_dir: Path, name: str, change: Callable[[Entries], None]) -> None:
    path = data_dir / name
    entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    change(entries)
    path.write_text(yaml.dump(entries, Dumper=_DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _entry(entries: Entries, ident: str) -> dict[str, Any]:
    return next(e for e in entries if e["id"] == ident)


def _fails(data_dir: Path, file: str | None, entry: str | None, field: str | None, words: str = "") -> None:
    with pytest.raises(KnowledgeError) as info:
        load_library(data_dir)
    err = info.value
    assert (err.file, err.entry, err.field) == (file, entry, field), str(err)
    text = str(err)
    for part in (file, entry, field):
        if part:
            assert part in text
    assert words.lower() in text.lower()


def test_an_untouched_copy_loads(data_dir: Path) -> None:
    copy = load_library(data_dir)
    assert copy.techniques.keys() == load_library().techniques.keys()


def test_default_library_is_cached() -> None:
    assert load_library() is load_library()


def test_unknown_target_muscle(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "lip-pucker").update(targets=["orbicularis-orls"]))
    _fails(data_dir, "techniques.yaml", "lip-pucker", "targets.0", "did you mean 'orbicularis-oris'")


def test_sided_target_gets_a_hint(data_dir: Path) -> None:
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "lip-pucker").update(targets=["orbicularis-oris-left"]),
    )
    _fails(data_dir, "techniques.yaml", "lip-pucker", "targets.0", "side-less")


def test_missing_field_is_named(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "cheek-puff").pop("steps"))
    _fails(data_dir, "techniques.yaml", "cheek-puff", "steps", "required")


def test_bad_vocabulary_value_is_named(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "smile-lift")["exercise"].update(movement="grin"))
    _fails(data_dir, "techniques.yaml", "smile-lift", "exercise.movement")


def test_duplicate_id(data_dir: Path) -> None:
    def dup(entries: Entries) -> None:
        entries.append(dict(_entry(entries, "jaw-release")))

    _edit(data_dir, "techniques.yaml", dup)
    _fails(data_dir, "techniques.yaml", "jaw-release", "id", "duplicate")


def test_exercise_with_a_massage_block(data_dir: Path) -> None:
    def both(entries: Entries) -> None:
        _entry(entries, "smile-lift")["massage"] = _entry(entries, "jaw-release")["massage"]

    _edit(data_dir, "techniques.yaml", both)
    _fails(data_dir, "techniques.yaml", "smile-lift", "massage")


def test_exercise_without_its_exercise_block(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "smile-lift").pop("exercise"))
    _fails(data_dir, "techniques.yaml", "smile-lift", "exercise")


def test_massage_without_its_massage_block(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "frown-release").pop("massage"))
    _fails(data_dir, "techniques.yaml", "frown-release", "massage")


def test_region_outside_its_regions(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "smile-lift").update(regions=["mouth"]))
    _fails(data_dir, "techniques.yaml", "smile-lift", "regions")


def test_regions_must_cover_the_muscles_worked(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "cheek-release").update(regions=["cheeks"]))
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "cheek-release")["massage"]["releases"].append("mentalis"),
    )
    _fails(data_dir, "techniques.yaml", "cheek-release", "regions", "chin")


def test_unknown_released_muscle(data_dir: Path) -> None:
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "jaw-release")["massage"].update(releases=["maseter"]),
    )
    _fails(data_dir, "techniques.yaml", "jaw-release", "massage.releases.0", "masseter")


def test_exercising_the_masseter_is_refused(data_dir: Path) -> None:
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "cheek-puff").update(targets=["buccinator", "masseter"]),
    )
    _fails(data_dir, "techniques.yaml", "cheek-puff", "targets.1", "over-used")


def test_an_exercise_with_a_gua_sha_is_refused(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "cheek-puff").update(tool="gua_sha"))
    _fails(data_dir, "techniques.yaml", "cheek-puff", "tool")


def test_exercised_muscle_without_a_release_massage(data_dir: Path) -> None:
    def no_eye_release(entries: Entries) -> None:
        for e in entries:
            if e["kind"] == "massage":
                e["massage"]["releases"] = [r for r in e["massage"]["releases"] if r != "orbicularis-oculi"]

    _edit(data_dir, "techniques.yaml", no_eye_release)
    _fails(data_dir, "techniques.yaml", "lower-lid-lift", "targets.0", "no massage releases")


def test_stroke_outside_the_face_box(data_dir: Path) -> None:
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "forehead-release")["massage"]["strokes"][0].update(
            path=[[0.5, 0.2], [-0.2, 0.2]]
        ),
    )
    _fails(data_dir, "techniques.yaml", "forehead-release", "massage.strokes.0.path.1", "face box")


def test_drainage_stroke_going_back_to_the_centre(data_dir: Path) -> None:
    def reverse(entries: Entries) -> None:
        stroke = _entry(entries, "lymph-drainage")["massage"]["strokes"][3]
        stroke["path"] = list(reversed(stroke["path"]))

    _edit(data_dir, "techniques.yaml", reverse)
    _fails(data_dir, "techniques.yaml", "lymph-drainage", "massage.strokes.3.path", "lymph nodes")


def test_gua_sha_needs_its_skin_contraindications(data_dir: Path) -> None:
    def drop(entries: Entries) -> None:
        t = _entry(entries, "gua-sha-cheeks")
        t["contraindications"] = [c for c in t["contraindications"] if c != "sunburn"]

    _edit(data_dir, "techniques.yaml", drop)
    _fails(data_dir, "techniques.yaml", "gua-sha-cheeks", "contraindications", "sunburn")


def test_exercise_duration_covers_its_reps(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "smile-lift")["defaults"].update(reps=20))
    _fails(data_dir, "techniques.yaml", "smile-lift", "defaults.duration_s", "shorter")


def test_gua_sha_needs_an_angle(data_dir: Path) -> None:
    _edit(
        data_dir,
        "techniques.yaml",
        lambda e: _entry(e, "gua-sha-neck")["massage"].update(tool_angle_deg=None),
    )
    _fails(data_dir, "techniques.yaml", "gua-sha-neck", "massage.tool_angle_deg")


def test_jaw_loading_needs_tmj(data_dir: Path) -> None:
    _edit(data_dir, "techniques.yaml", lambda e: _entry(e, "lip-press").update(loads_jaw=True))
    _fails(data_dir, "techniques.yaml", "lip-press", "contraindications", "tmj")


def test_harmful_tool_cannot_map_to_a_technique_tool(data_dir: Path) -> None:
    _edit(data_dir, "tools.yaml", lambda e: _entry(e, "jawline-exerciser").update(technique_tool="hands"))
    _fails(data_dir, "tools.yaml", "jawline-exerciser", "technique_tool", "harmful")


def test_a_technique_tool_must_be_described(data_dir: Path) -> None:
    _edit(data_dir, "tools.yaml", lambda e: _entry(e, "jade-roller").update(technique_tool=None))
    _fails(data_dir, "techniques.yaml", "jade-roller-drainage", "tool", "technique_tool")


def test_claim_relating_to_nothing(data_dir: Path) -> None:
    _edit(data_dir, "claims.yaml", lambda e: _entry(e, "gua-sha-removes-toxins").update(related=["gua-shaa"]))
    _fails(data_dir, "claims.yaml", "gua-sha-removes-toxins", "related.0", "gua-sha")


def test_bad_claim_verdict(data_dir: Path) -> None:
    _edit(data_dir, "claims.yaml", lambda e: _entry(e, "gua-sha-removes-toxins").update(verdict="nope"))
    _fails(data_dir, "claims.yaml", "gua-sha-removes-toxins", "verdict")


def test_muscle_with_one_side_only(data_dir: Path) -> None:
    _edit(data_dir, "muscles.yaml", lambda e: e.remove(_entry(e, "risorius-left")))
    _fails(data_dir, "muscles.yaml", "risorius-right", "side", "left and a right")


def test_muscle_id_must_match_its_side(data_dir: Path) -> None:
    _edit(data_dir, "muscles.yaml", lambda e: _entry(e, "risorius-left").update(side="right"))
    _fails(data_dir, "muscles.yaml", "risorius-left", "id", "risorius-right")


def test_entry_without_an_id_is_named_by_position(data_dir: Path) -> None:
    _edit(data_dir, "tools.yaml", lambda e: e[2].pop("id"))
    _fails(data_dir, "tools.yaml", "#3", "id")


def test_id_shared_between_files(data_dir: Path) -> None:
    _edit(data_dir, "claims.yaml", lambda e: e[0].update(id="gua-sha"))
    _fails(data_dir, "claims.yaml", "gua-sha", "id", "tools.yaml")


def test_invalid_yaml_names_the_file_and_line(data_dir: Path) -> None:
    (data_dir / "claims.yaml").write_text("- id: x\n  claim: [unclosed\n", encoding="utf-8")
    _fails(data_dir, "claims.yaml", None, None, "line")


def test_a_key_given_twice_is_refused(data_dir: Path) -> None:
    text = (data_dir / "claims.yaml").read_text(encoding="utf-8")
    text = text.replace("  verdict: partly\n", "  verdict: partly\n  verdict: 'true'\n", 1)
    (data_dir / "claims.yaml").write_text(text, encoding="utf-8")
    _fails(data_dir, "claims.yaml", None, None, "the key 'verdict' is given twice")


def test_a_file_that_is_not_a_list(data_dir: Path) -> None:
    (data_dir / "tools.yaml").write_text("gua-sha: nice\n", encoding="utf-8")
    _fails(data_dir, "tools.yaml", None, None, "list")


def test_a_missing_file(data_dir: Path) -> None:
    (data_dir / "muscles.yaml").unlink()
    _fails(data_dir, "muscles.yaml", None, None, "not found")


def test_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_library(tmp_path / "nowhere")


# -- the instructor's edits ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library()


def test_validate_technique_accepts_a_valid_new_entry(lib: Library) -> None:
    data = lib.technique("smile-lift").model_dump()
    data.update(id="smile-lift-long", name="Long smile lift")
    t = validate_technique(data, lib)
    assert isinstance(t, Technique) and t.id == "smile-lift-long"


def test_validate_technique_fills_in_regions(lib: Library) -> None:
    data = lib.technique("lip-press").model_dump()
    data.update(id="lip-press-2", regions=[])
    assert validate_technique(data, lib).regions == ["mouth"]


def test_validate_technique_names_the_field(lib: Library) -> None:
    data = lib.technique("smile-lift").model_dump()
    data["defaults"]["reps"] = 0
    with pytest.raises(KnowledgeError) as info:
        validate_technique(data, lib)
    assert info.value.field == "defaults.reps" and info.value.entry == "smile-lift"
    assert info.value.file is None


def test_validate_technique_rejects_non_mappings(lib: Library) -> None:
    with pytest.raises(KnowledgeError):
        validate_technique(["not", "a", "mapping"], lib)  # type: ignore[arg-type]


def test_with_technique_returns_a_changed_copy(lib: Library) -> None:
    t = lib.technique("smile-lift").model_copy(update={"name": "Smile lift (edited)"})
    changed = lib.with_technique(t)
    assert changed.technique("smile-lift").name == "Smile lift (edited)"
    assert lib.technique("smile-lift").name == "Smile lift"
    assert list(changed.techniques) == list(lib.techniques)


def test_with_technique_checks_the_whole_library(lib: Library) -> None:
    release = lib.technique("eye-release")
    assert release.massage is not None
    # eye-release is the only massage that releases the eye muscle the lower-lid exercises work.
    stripped = release.model_copy(update={"massage": release.massage.model_copy(update={"releases": []})})
    with pytest.raises(KnowledgeError) as info:
        lib.with_technique(stripped)
    assert (info.value.entry, info.value.field) == ("lower-lid-lift", "targets.0")
    bad = release.model_copy(update={"targets": ["eyeball"]})
    with pytest.raises(KnowledgeError) as info:
        lib.with_technique(bad)
    assert (info.value.entry, info.value.field) == ("eye-release", "targets.0")


def test_with_technique_refuses_an_id_of_another_kind(lib: Library) -> None:
    t = lib.technique("smile-lift").model_copy(update={"id": "gua-sha"})
    with pytest.raises(KnowledgeError, match="another kind"):
        lib.with_technique(t)


def test_with_claim(lib: Library) -> None:
    c = Claim(
        id="new-claim",
        claim="Gua sha every hour is best",
        verdict="false",
        explanation="Rest.",
        related=["gua-sha"],
    )
    changed = lib.with_claim(c)
    assert "new-claim" in changed.claims and "new-claim" not in lib.claims
    with pytest.raises(KnowledgeError) as info:
        validate_claim({**c.model_dump(), "related": ["nothing-here"]}, lib)
    assert info.value.field == "related.0"


def test_queries_refuse_unknown_filters(lib: Library) -> None:
    with pytest.raises(KeyError, match="did you mean 'masseter'"):
        lib.techniques_for(muscle="maseter")
    with pytest.raises(KeyError, match="region"):
        lib.techniques_for(region="ears")
    with pytest.raises(KeyError, match="kind"):
        lib.techniques_for(kind="stretch")
    with pytest.raises(KeyError, match="tool"):
        lib.techniques_for(tool="hammer")
    with pytest.raises(KeyError, match="not a tool any technique uses"):
        lib.techniques_for(tool="jawline-exerciser")
    with pytest.raises(KeyError, match="did you mean 'smile-lift'"):
        lib.technique("smile-lfit")
    with pytest.raises(KeyError):
        lib.releases_for("elbow")


def test_queries(lib: Library) -> None:
    assert [t.id for t in lib.techniques_for(kind="exercise", muscle="zygomaticus-major-left")][:1] == [
        "smile-lift"
    ]
    assert {t.kind for t in lib.techniques_for(tool="gua-sha")} == {"massage"}
    assert {t.id for t in lib.releases_for("masseter")} >= {"jaw-release", "gua-sha-jawline"}
    assert "frown-release" in {t.id for t in lib.releases_for("brows")}
    assert all(t.massage is not None and t.massage.releases for t in lib.releases_for("cheeks"))
    groups = lib.muscle_groups()
    assert [m.side for m in groups["procerus"]] == ["midline"]
    assert sum(len(v) for v in groups.values()) == len(lib.muscles)


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("claim", "id", "a" * 5_000),
        ("claim", "claim", "x" * 90_000),
        ("claim", "aliases", ["y"] * 1_000),
        ("technique", "id", "a" * 5_000),
        ("technique", "name", "x" * 90_000),
        ("technique", "steps", ["step"] * 1_000),
        ("technique", "summary", "z" * 10_000),
    ],
)
def test_every_field_is_bounded(kind: str, field: str, value: object) -> None:
    """Issue 11: instructor edits took a 5,000-character id and a 90,000-character name. The bounds are
    in the models, so the data files and the admin share them."""
    lib = load_library()
    entry = next(iter(lib.claims.values())) if kind == "claim" else next(iter(lib.techniques.values()))
    data = {**entry.model_dump(mode="json"), field: value}
    validate = validate_claim if kind == "claim" else validate_technique
    with pytest.raises(KnowledgeError) as info:
        validate(data, lib)
    assert field in str(info.value) and "at most" in str(info.value), str(info.value)[:300]
    assert len(str(info.value)) < 1_000  # the refusal does not echo the oversized value whole
