"""Exercise specs from the knowledge base + movements.yaml, and the validation of that file."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import ValidationError

from facecoach.coaching.measures import MEASURE_FIELDS
from facecoach.coaching.specs import (
    CoachingSpec,
    MovementsFile,
    UnknownTechniqueError,
    load_movements,
    spec_by_id,
    spec_for,
)
from facecoach.knowledge.library import load_library


def test_every_technique_gets_a_spec() -> None:
    library = load_library()
    for technique in library.techniques.values():
        spec = spec_for(technique)
        assert spec.technique_id == technique.id and spec.kind == technique.kind
        if technique.kind == "massage":
            assert spec.measures == [] and spec.duration_s > 0
            continue
        assert technique.exercise is not None
        assert spec.movement == technique.exercise.movement
        assert spec.measures and set(spec.measures) <= set(MEASURE_FIELDS)
        assert spec.hold_s is not None or spec.reps is not None
        watched = {f.kind for f in spec.faults}
        assert watched <= set(technique.exercise.still)
        for fault in spec.faults:
            assert set(fault.measures) <= set(MEASURE_FIELDS)
            assert not set(fault.measures) & set(spec.measures), "the movement itself is never a fault"
        if technique.exercise.sides == "each":
            assert "asymmetry" not in watched
        CoachingSpec.model_validate(json.loads(spec.model_dump_json()))  # plain JSON for the browser


@pytest.mark.parametrize("technique_id", ["smile-lift", "lip-pucker", "cheek-puff"])
def test_guaranteed_exercises(technique_id: str) -> None:
    spec = spec_by_id(technique_id)
    assert spec.kind == "exercise" and spec.measures and spec.expected > 0
    technique = load_library().techniques[technique_id]
    assert spec.reps == technique.defaults.reps and spec.hold_s == technique.defaults.hold_s


def test_a_real_smile_is_not_a_squint_fault() -> None:
    spec = spec_by_id("smile-lift")
    assert "squint" not in {f.kind for f in spec.faults}
    assert "squint" in load_library().techniques["smile-lift"].exercise.still  # type: ignore[union-attr]


def test_unknown_technique() -> None:
    with pytest.raises(UnknownTechniqueError):
        spec_by_id("no-such-technique")


def _raw() -> dict:  # type: ignore[type-arg]
    from importlib import resources

    return yaml.safe_load(resources.files("facecoach.coaching").joinpath("data/movements.yaml").read_text())


def test_movements_file_is_validated() -> None:
    assert load_movements().movements["mouth_corners_up"].expected > 0
    broken = _raw()
    del broken["movements"]["jaw_open"]
    with pytest.raises(ValidationError, match="jaw_open"):
        MovementsFile.model_validate(broken)
    broken = _raw()
    broken["faults"]["frown"]["measures"] = {"brow_wiggle": 1.0}
    with pytest.raises(ValidationError, match="brow_wiggle"):
        MovementsFile.model_validate(broken)
    broken = _raw()
    broken["evaluation"]["release_fraction"] = 0.6
    with pytest.raises(ValidationError, match="hysteresis"):
        MovementsFile.model_validate(broken)
    broken = _raw()
    broken["faults"]["squint"]["measures"]["eyes_squeeze_left"] = -1
    with pytest.raises(ValidationError, match="positive"):
        MovementsFile.model_validate(broken)
