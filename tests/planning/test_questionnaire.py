"""The questionnaire is data, validated against the answers format, and asked with rich prompts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from facecoach.cli import app
from facecoach.planning.assessment import load_answers
from facecoach.planning.questionnaire import (
    QUESTIONNAIRE_FILE,
    QuestionnaireError,
    load_questionnaire,
    validate_questionnaire,
)

RAW = yaml.safe_load(QUESTIONNAIRE_FILE.read_text(encoding="utf-8"))


def test_shipped_questionnaire_is_valid() -> None:
    qn = load_questionnaire()
    fields = [q.field for q in qn.questions]
    assert "habits.clenching" in fields and "conditions.injectables" in fields and fields[-1] == "tools"
    assert all(q.help for q in qn.questions)


def _broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    edit(data)
    return data


def _question(data: dict[str, Any], field: str) -> dict[str, Any]:
    return next(q for q in data["questions"] if q["field"] == field)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: _question(d, "habits.chewing_side")["choices"].append({"value": "front", "label": "x"}),
         "'habits.chewing_side'): the answers format refuses 'front'"),
        (lambda d: d["questions"].pop(), "no question asks tools"),
        (lambda d: d["questions"].append(copy.deepcopy(d["questions"][0])), "field asked twice"),
        (lambda d: _question(d, "minutes_per_day").update(max=None), "min ≤ max"),
        (lambda d: _question(d, "habits.stress").update(type="slider"), "questions.1.type"),
        (lambda d: _question(d, "habits.stress").update(max=11), "refuses 11"),
    ],
)  # fmt: skip
def test_broken_questionnaire_is_refused(edit: Any, words: str, tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError) as err:
        validate_questionnaire(_broken(edit), source="q.yaml")
    assert words in str(err.value)
    # and from a file, naming it
    p = tmp_path / "q.yaml"
    p.write_text(yaml.safe_dump(_broken(edit)), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"q\.yaml"):
        load_questionnaire(p)


# One line per prompt, in questionnaire order (follow-ups right after their question).
INPUT = "\n".join(
    [
        "lift_cheeks, 4",  # goals: a value and a number (4 = symmetry)
        "7",  # stress
        "y",  # clenching
        "left",  # chewing side
        "y",  # frowning
        "n",  # screen squinting
        "none",  # one-sided expression
        "left",  # sleeping side
        "n",  # tmj
        "y",  # injectables?
        "forehead",  # which regions
        "2",  # weeks ago
        "y",  # surgery?
        "nose",  # region
        "20",  # weeks ago
        "n",  # cleared?
        "y",  # skin?
        "sunburn",  # which
        "cheeks, nose",  # where
        "n",  # palsy
        "n",  # blood thinners
        "12",  # minutes
        "gua sha",  # tools: by label words
    ]
)


def test_assess_writes_answers(tmp_path: Path) -> None:
    out = tmp_path / "answers.json"
    res = CliRunner().invoke(app, ["assess", "--out", str(out)], input=INPUT + "\n")
    assert res.exit_code == 0, res.output
    a = load_answers(out)
    assert a.goals == ["lift_cheeks", "symmetry"]
    assert a.habits.stress == 7 and a.habits.clenching and a.habits.chewing_side == "left"
    assert a.habits.sleeping_side == "left" and not a.habits.screen_squinting
    assert [(i.region, i.weeks_ago) for i in a.conditions.injectables] == [("forehead", 2)]
    assert [(s.region, s.weeks_ago, s.cleared) for s in a.conditions.surgery] == [("nose", 20, False)]
    assert [(s.condition, s.region) for s in a.conditions.skin] == [
        ("sunburn", "cheeks"),
        ("sunburn", "nose"),
    ]
    assert a.minutes_per_day == 12 and a.tools == ["gua_sha"]


def test_assess_asks_again_on_bad_input_and_prints_json() -> None:
    lines = INPUT.split("\n")
    lines[1:2] = ["eleven", "11", "7"]  # not a number, out of range, then fine
    lines[0:1] = ["bigger lips", "depuff"]
    res = CliRunner().invoke(app, ["assess"], input="\n".join(lines) + "\n")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["goals"] == ["depuff"] and doc["habits"]["stress"] == 7
    assert "Not a choice: bigger lips" in res.stderr and "0 to 10" in res.stderr


def test_assess_interrupted_is_a_refusal(tmp_path: Path) -> None:
    out = tmp_path / "a.json"
    res = CliRunner().invoke(app, ["assess", "--out", str(out)], input="lift_cheeks\n5\n")
    assert res.exit_code == 2 and not out.exists() and res.stdout == ""
    assert "interrupted" in res.stderr
