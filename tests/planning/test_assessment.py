"""The answers file: the issue's shape is accepted; a bad file is refused with the field and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facecoach.planning.assessment import AnswersError, load_answers, parse_answers
from facecoach.planning.scan import ScanError, load_scan, parse_scan

ISSUE_SHAPE = {
    "goals": ["lift_cheeks", "smooth_forehead", "jaw_tension", "symmetry", "depuff"],
    "habits": {
        "stress": 7,
        "clenching": True,
        "chewing_side": "left",
        "frowning": True,
        "one_sided_expression": "right",
    },
    "conditions": {
        "tmj": False,
        "injectables": [{"region": "forehead", "weeks_ago": 2}],
        "surgery": [{"region": "nose", "weeks_ago": 30}],
        "skin": [{"condition": "rosacea", "region": "cheeks"}],
        "facial_palsy": False,
        "blood_thinners": True,
    },
    "minutes_per_day": 12,
    "tools": ["gua_sha", "jade_roller"],
}


def write(tmp_path: Path, data: object) -> Path:
    p = tmp_path / "answers.json"
    p.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return p


def test_issue_shape_is_accepted(tmp_path: Path) -> None:
    a = load_answers(write(tmp_path, ISSUE_SHAPE))
    assert a.habits.chewing_side == "left" and a.conditions.injectables[0].weeks_ago == 2
    assert a.conditions.skin[0].condition == "rosacea" and a.tools == ["gua_sha", "jade_roller"]
    # extras we add have defaults
    assert a.habits.sleeping_side == "varies" and a.habits.screen_squinting is False


def test_none_tool_and_repeats_mean_nothing() -> None:
    a = parse_answers(
        {"minutes_per_day": 5, "tools": ["none", "gua_sha", "gua_sha"], "goals": ["depuff", "depuff"]}
    )
    assert a.tools == ["gua_sha"] and a.goals == ["depuff"]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"habits": {"stress": 12}}, "habits.stress", "less than or equal to 10"),
        ({"habits": {"chewing_side": "middle"}}, "habits.chewing_side", "'left', 'right' or 'both'"),
        ({"goals": ["bigger_lips"]}, "goals.0", "lift_cheeks"),
        ({"conditions": {"injectables": [{"region": "elbow", "weeks_ago": 1}]}},
         "conditions.injectables.0.region", "forehead"),
        ({"conditions": {"surgery": [{"region": "nose", "weeks_ago": -1}]}},
         "conditions.surgery.0.weeks_ago", "greater than or equal to 0"),
        ({"conditions": {"skin": [{"condition": "freckles", "region": "nose"}]}},
         "conditions.skin.0.condition", "rosacea"),
        ({"tools": ["jawline_exerciser"]}, "tools.0", "gua_sha"),
        ({"minutes_per_day": 0}, "minutes_per_day", "greater than or equal to 1"),
        ({"habbits": {}}, "habbits", "unknown field"),
    ],
)  # fmt: skip
def test_bad_field_is_named(tmp_path: Path, change: dict[str, object], field: str, words: str) -> None:
    data = {**ISSUE_SHAPE, **change}
    with pytest.raises(AnswersError) as err:
        load_answers(write(tmp_path, data))
    msg = str(err.value)
    assert f"field '{field}'" in msg and words in msg and str(tmp_path) in msg


def test_missing_minutes_is_named() -> None:
    with pytest.raises(AnswersError, match="field 'minutes_per_day': required field is missing"):
        parse_answers({"goals": []})


@pytest.mark.parametrize(
    ("text", "words"), [("{not json", "not valid JSON (line 1"), ("[1, 2]", "must be a JSON object")]
)
def test_not_an_answers_document(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(AnswersError, match=words.replace("(", r"\(")):
        load_answers(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AnswersError, match="cannot read"):
        load_answers(tmp_path / "nope.json")


def test_scan_json_extra_keys_ignored_and_values_checked(tmp_path: Path) -> None:
    full = {
        "head_pose": {"yaw_deg": 1.0, "pitch_deg": 0.0, "roll_deg": 0.0},
        "mm_per_px": 0.2,
        "frames_used": 12,
        "asymmetry": {
            "brow_height_mm": 1.4,
            "mouth_corner_mm": -2.0,
            "lower_face_width_mm": 0.3,
            "new_thing": 1,
        },
        "noise_mm": {"brow_height_mm": 0.2},
        "notes": ["ok"],
    }
    p = tmp_path / "scan.json"
    p.write_text(json.dumps(full), encoding="utf-8")
    s = load_scan(p)
    assert (
        s.asymmetry.brow_height_mm == 1.4
        and s.noise("brow_height_mm") == 0.2
        and s.noise("mouth_corner_mm") == 0
    )
    with pytest.raises(ScanError, match=r"field 'asymmetry\.mouth_corner_mm'"):
        parse_scan({"asymmetry": {"mouth_corner_mm": 300}})
    with pytest.raises(ScanError, match="field 'asymmetry': required field is missing"):
        parse_scan({"head_pose": {}})
