"""Every YAML data file is read by one loader, ``facecoach.yamlfile.load_yaml``, which refuses a key given
twice in one mapping (plain YAML keeps the last one silently, so an author's edit would vanish)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from facecoach.planning.policy import POLICY_FILE, PolicyError, load_policy
from facecoach.planning.questionnaire import QUESTIONNAIRE_FILE, QuestionnaireError, load_questionnaire
from facecoach.yamlfile import load_yaml, read_yaml

PACKAGE = Path(__file__).resolve().parents[1] / "facecoach"
#: Parses an instructor's edit from a form, not a data file of the package (web/ is being restructured).
NOT_A_DATA_FILE = {"web/routes/admin.py"}


def test_a_key_given_twice_is_refused_with_its_line() -> None:
    assert load_yaml("a: 1\nb: {c: 2}\n") == {"a": 1, "b": {"c": 2}}
    with pytest.raises(yaml.YAMLError, match=r"the key 'c' is given twice[\s\S]*line 4, column 3"):
        load_yaml("a: 1\nb:\n  c: 2\n  c: 3\n")


def test_every_shipped_data_file_has_unique_keys() -> None:
    files = sorted(PACKAGE.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        assert read_yaml(path) is not None, path


def test_no_module_reads_yaml_another_way() -> None:
    pattern = re.compile(r"\byaml\.(safe_load|load|full_load|unsafe_load)\(")
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "yamlfile.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert sorted(offenders) == sorted(NOT_A_DATA_FILE)


def test_the_policy_refuses_a_key_given_twice(tmp_path: Path) -> None:
    text = POLICY_FILE.read_text(encoding="utf-8")
    path = tmp_path / "policy.yaml"
    path.write_text(text.replace("windows:\n", "windows:\n  surgery_weeks: 9\n", 1), encoding="utf-8")
    with pytest.raises(PolicyError, match="surgery_weeks' is given twice"):
        load_policy(path)


def test_the_questionnaire_refuses_a_key_given_twice(tmp_path: Path) -> None:
    data = read_yaml(QUESTIONNAIRE_FILE)
    path = tmp_path / "questionnaire.yaml"
    first_key = next(iter(data))
    path.write_text(f"{first_key}: null\n" + QUESTIONNAIRE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match="ConstructorError"):
        load_questionnaire(path)
