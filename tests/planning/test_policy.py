"""The planner's data file is validated on load and against the knowledge base."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from facecoach.knowledge.library import Library
from facecoach.planning.policy import POLICY_FILE, PolicyError, check_against_library, load_policy

RAW = yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))


def test_shipped_policy_matches_the_library(library: Library) -> None:
    policy = load_policy()
    check_against_library(policy, library.muscle_ids())
    assert policy.windows.injectables_weeks == 4 and policy.windows.surgery_weeks == 12
    assert "masseter" in policy.never_exercised


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d["windows"].update(injectables_weeks=0), "field 'windows.injectables_weeks'"),
        (lambda d: d["goals"].pop("depuff"), "goals is missing depuff"),
        (lambda d: d["text"]["tips"].pop("tmj"), "text.tips is missing tmj"),
        (lambda d: d["progression"].update(rest_days_by_week=[[8]]), "1-3 distinct days"),
        (lambda d: d["overuse"][0].update(when="yawning"), "field 'overuse.0.when'"),
    ],
)
def test_broken_policy_is_refused(tmp_path: Path, edit: Any, words: str) -> None:
    data = copy.deepcopy(RAW)
    edit(data)
    with pytest.raises(PolicyError) as err:
        load_policy(_write(tmp_path, data))
    assert words in str(err.value) and "policy.yaml" in str(err.value)


def test_unknown_muscle_is_refused(tmp_path: Path, library: Library) -> None:
    data = copy.deepcopy(RAW)
    data["overuse"][0]["muscles"].append("jaw-muscle")
    policy = load_policy(_write(tmp_path, data))
    with pytest.raises(PolicyError, match=r"unknown muscle ids .*jaw-muscle"):
        check_against_library(policy, library.muscle_ids())
