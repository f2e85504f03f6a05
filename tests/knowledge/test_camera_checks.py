"""The camera checks of massages (``massage.camera``) are data, validated on load like the rest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facecoach.coaching.stroke_specs import stroke_spec
from facecoach.knowledge import load_library
from facecoach.knowledge.library import DATA_DIR
from tests.knowledge.test_loader import Entries, _edit, _entry, _fails


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def test_every_massage_says_what_the_camera_checks() -> None:
    massages = load_library().techniques_for(kind="massage")
    assert massages
    for technique in massages:
        assert technique.massage is not None and technique.massage.camera is not None, technique.id
        spec = stroke_spec(technique)
        assert spec.paths, technique.id
        assert all(cue.strip() for cue in spec.cues.values()), technique.id
        if technique.tool in ("gua_sha", "jade_roller"):
            assert spec.working_point == "hand", technique.id  # the tool's edge is not tracked


def test_a_both_sides_stroke_is_checked_on_each_side_mirrored() -> None:
    spec = stroke_spec(load_library().technique("cheek-release"))
    by_side = {(p.label, p.side): p.points for p in spec.paths}
    right = by_side[("beside the nose under the cheekbone to the ear", "right")]
    left = by_side[("beside the nose under the cheekbone to the ear", "left")]
    assert [(round(1 - x, 6), y) for x, y in right] == left


def test_a_directed_stroke_must_exist(data_dir: Path) -> None:
    def change(entries: Entries) -> None:
        _entry(entries, "cheek-release")["massage"]["camera"]["directed"] = ["beside the nose to the ear"]

    _edit(data_dir, "techniques.yaml", change)
    _fails(data_dir, "techniques.yaml", "cheek-release", "massage.camera.directed.0", "no stroke")


def test_pace_limits_must_be_ordered_below_the_return_speed(data_dir: Path) -> None:
    def change(entries: Entries) -> None:
        _entry(entries, "cheek-release")["massage"]["camera"]["pace_mm_s"] = [10, 250]

    _edit(data_dir, "techniques.yaml", change)
    _fails(data_dir, "techniques.yaml", "cheek-release", "massage.camera.pace_mm_s", "return_mm_s")


def test_an_unknown_camera_field_or_region_is_refused(data_dir: Path) -> None:
    def change(entries: Entries) -> None:
        _entry(entries, "cheek-release")["massage"]["camera"]["regions"] = ["cheeks", "ears"]

    _edit(data_dir, "techniques.yaml", change)
    _fails(data_dir, "techniques.yaml", "cheek-release", "massage.camera.regions.1", "forehead")
