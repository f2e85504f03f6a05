"""`facecoach techniques | show | muscles | check`, their JSON and their refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from facecoach.cli import app
from facecoach.knowledge import load_library

runner = CliRunner()


def _ok_json(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(*args: str, words: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words.lower() in lines[0].lower(), result.stderr


def test_techniques_json_lists_everything() -> None:
    rows = _ok_json("techniques", "--json")
    lib = load_library()
    assert [r["id"] for r in rows] == list(lib.techniques)
    for row in rows:
        assert {"id", "name", "kind", "targets", "region"} <= row.keys()
        assert row["kind"] in ("exercise", "massage") and row["targets"]


def test_techniques_filters() -> None:
    exercises = _ok_json("techniques", "--kind", "exercise", "--json")
    assert exercises and all(r["kind"] == "exercise" for r in exercises)
    jaw = _ok_json("techniques", "--muscle", "masseter", "--json")
    assert "jaw-release" in {r["id"] for r in jaw} and all(r["kind"] == "massage" for r in jaw)
    mouth = _ok_json("techniques", "--region", "mouth", "--kind", "exercise", "--json")
    assert {"lip-pucker"} <= {r["id"] for r in mouth}
    assert all("mouth" in r["regions"] for r in mouth)
    gua = _ok_json("techniques", "--tool", "gua_sha", "--json")
    assert gua and all(r["tool"] == "gua_sha" for r in gua)
    assert _ok_json("techniques", "--tool", "gua-sha", "--json") == gua


def test_techniques_table() -> None:
    result = runner.invoke(app, ["techniques", "--kind", "massage"])
    assert result.exit_code == 0
    assert "jaw-release" in result.stdout and "smile-lift" not in result.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["techniques", "--kind", "stretch"], "unknown kind"),
        (["techniques", "--muscle", "maseter"], "did you mean 'masseter'"),
        (["techniques", "--region", "ears"], "no region 'ears'"),
        (["techniques", "--tool", "jawline-exerciser"], "not a tool any technique uses"),
        (["show", "smile-lfit"], "did you mean smile-lift"),
        (["show", "zzz"], "no technique, muscle, tool or claim"),
        (["muscles", "--region", "ears"], "unknown region"),
        (["check", "   "], "give some text"),
    ],
)
def test_refusals(args: list[str], words: str) -> None:
    _refused(*args, words=words)


def test_show_technique() -> None:
    data = _ok_json("show", "lymph-drainage", "--json")
    assert data["type"] == "technique" and data["id"] == "lymph-drainage"
    assert data["massage"]["drains"] is True and data["massage"]["strokes"]
    result = runner.invoke(app, ["show", "smile-lift"])
    assert result.exit_code == 0
    for text in ("Smile lift", "mouth_corners_up", "Common mistakes", "Evidence"):
        assert text in result.stdout


@pytest.mark.parametrize(
    ("entry_id", "kind"),
    [("masseter-left", "muscle"), ("gua-sha", "tool"), ("gua-sha-removes-toxins", "claim")],
)
def test_show_other_entries(entry_id: str, kind: str) -> None:
    data = _ok_json("show", entry_id, "--json")
    assert data["type"] == kind and data["id"] == entry_id
    assert runner.invoke(app, ["show", entry_id]).exit_code == 0


def test_show_side_less_muscle_shows_both_sides() -> None:
    data = _ok_json("show", "masseter", "--json")
    assert data["type"] == "muscle_group"
    assert {m["side"] for m in data["sides"]} == {"left", "right"}


def test_muscles() -> None:
    rows = _ok_json("muscles", "--json")
    assert len(rows) >= 40 and {"id", "muscle", "side", "region", "use"} <= rows[0].keys()
    chin = _ok_json("muscles", "--region", "chin", "--json")
    assert chin and all(r["region"] == "chin" for r in chin)
    result = runner.invoke(app, ["muscles"])
    assert result.exit_code == 0 and "masseter-left" in result.stdout


def test_check_json() -> None:
    data = _ok_json("check", "--json", "jaw exerciser")
    assert data["match"] == "jawline-exerciser" and data["category"] == "harmful" and data["verdict"]
    data = _ok_json("check", "face gym", "--json")
    assert data["match"] == "face-gym-salon" and data["category"] == "massage"
    data = _ok_json("check", "gua sha removes toxins", "--json")
    assert (
        data["match"] == "gua-sha-removes-toxins" and data["verdict"] == "false" and data["category"] is None
    )


def test_check_unknown_text_is_not_an_error() -> None:
    data = _ok_json("check", "banana smoothie", "--json")
    assert data["match"] is None and data["verdict"] == "not in the library" and len(data["closest"]) >= 3
    result = runner.invoke(app, ["check", "banana smoothie"])
    assert result.exit_code == 0 and "not in the library" in result.stdout


def test_check_table_output() -> None:
    result = runner.invoke(app, ["check", "microcurrent facial"])
    assert result.exit_code == 0 and "PASSIVE" in result.stdout


def test_a_broken_knowledge_base_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facecoach.knowledge import library

    broken = tmp_path / "data"
    shutil.copytree(library.DATA_DIR, broken)
    (broken / "claims.yaml").write_text("- id: only-an-id\n", encoding="utf-8")
    monkeypatch.setattr(library, "DATA_DIR", broken)
    library._load_default.cache_clear()
    try:
        _refused("techniques", words="claims.yaml")
    finally:
        library._load_default.cache_clear()
