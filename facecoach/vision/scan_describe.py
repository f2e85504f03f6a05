"""A scan's result in words: one sentence per measure, the person's sides, with a noise threshold;
the sentences and thresholds are data (``scan_texts.yaml``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.vision.asymmetry import KEYS
from facecoach.vision.neutral import FROWN_LINES, load_neutral_rules
from facecoach.vision.scan import ScanResult
from facecoach.yamlfile import read_yaml


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)  # what the measure is called (the progress charts' headings)
    floor: float = Field(gt=0)
    left: str
    right: str
    even: str


class _NeutralTexts(BaseModel):
    """Refusals and notes of the neutral check (``neutral:`` in ``scan_texts.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    refusals: dict[Literal["occluded", "expression", "eyes_closed"], str]
    too_few_frames: str
    expressions: dict[str, str]
    trace: str
    trace_measures: dict[str, str]

    @model_validator(mode="after")
    def _complete(self) -> _NeutralTexts:
        names = {*load_neutral_rules().expressions, FROWN_LINES}
        for part, table in (("expressions", self.expressions), ("trace_measures", self.trace_measures)):
            if set(table) != names:
                raise ValueError(f"scan_texts.yaml neutral.{part} must name exactly {sorted(names)}")
        if set(self.refusals) != {"occluded", "expression", "eyes_closed"}:
            raise ValueError("scan_texts.yaml neutral.refusals must give occluded, expression, eyes_closed")
        if "{what}" not in self.refusals["expression"] or "{what}" not in self.trace:
            raise ValueError("scan_texts.yaml: the expression refusal and the trace note need {what}")
        for key in ("{usable}", "{seen}", "{needed}", "{dropped}"):
            if key not in self.too_few_frames:
                raise ValueError(f"scan_texts.yaml neutral.too_few_frames needs {key}")
        return self


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    measures: dict[str, _Text]
    neutral: _NeutralTexts

    @model_validator(mode="after")
    def _all_keys(self) -> _Texts:
        if set(self.measures) != set(KEYS):
            raise ValueError(f"scan_texts.yaml must describe exactly {sorted(KEYS)}")
        for key, text in self.measures.items():
            for template in (text.left, text.right, text.even):
                if "{size}" not in template:
                    raise ValueError(f"{key}: every sentence needs {{size}}")
        return self


@lru_cache(maxsize=1)
def scan_texts() -> _Texts:
    """Sentences and thresholds from ``scan_texts.yaml`` (validated on load)."""
    raw = read_yaml(Path(__file__).with_name("scan_texts.yaml"))
    return _Texts.model_validate(raw)


def threshold(result: ScanResult, key: str) -> float:
    """Smallest difference put into words: max(floor, 2 × measured noise)."""
    floor = scan_texts().measures[key].floor
    if result.noise_mm is None:
        return floor
    return max(floor, 2.0 * getattr(result.noise_mm, key))


def describe(result: ScanResult) -> list[str]:
    """One readable sentence per measure, the person's sides, with a noise threshold."""
    sentences = []
    for key in KEYS:
        text = scan_texts().measures[key]
        value = getattr(result.asymmetry, key)
        unit = "°" if key.endswith("_deg") else " mm"
        size = f"{abs(value):.1f}{unit}"
        if abs(value) < threshold(result, key):
            sentences.append(text.even.format(size=size))
        else:
            sentences.append((text.left if value > 0 else text.right).format(size=size))
    return sentences
