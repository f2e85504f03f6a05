"""Machine-readable massage camera checks: a technique's ``massage.camera`` + the rules in
``coaching/data/strokes.yaml``.

The knowledge base says which strokes a massage makes, where, which way and how fast; the YAML says how
a stroke is cut out of a hand's track and where each face region lies. A :class:`StrokeSpec` is all the
stroke analyser (:mod:`facecoach.coaching.strokes`) needs; it is a plain pydantic model so the web app
can send it to the browser as JSON.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from facecoach.knowledge.models import REGIONS, Region, WorkingPoint
from facecoach.yamlfile import load_yaml

if TYPE_CHECKING:
    from facecoach.knowledge.models import Technique

StrokeSide = Literal["left", "right", "midline"]
StrokeFaultKind = Literal["stroke_direction", "stroke_region", "stroke_pace", "side_skipped"]
FAULT_KINDS: tuple[StrokeFaultKind, ...] = (
    "stroke_direction",
    "stroke_region",
    "stroke_pace",
    "side_skipped",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentSettings(_Model):
    """How strokes are cut out of a track (units in ``strokes.yaml``); measured, not tuned per clip."""

    median_frames: int = Field(ge=1, le=9)
    smooth_s: float = Field(gt=0, le=2)
    start_mm_s: float = Field(gt=0, le=1000)
    stop_mm_s: float = Field(gt=0, le=1000)
    stop_s: float = Field(ge=0, le=2)
    reverse_deg: float = Field(ge=30, le=180)
    max_gap_s: float = Field(gt=0, le=5)
    settle_s: float = Field(ge=0, le=2)
    settle_jump_mm: float = Field(gt=0, le=200)
    settle_jump_mm_s: float = Field(gt=0, le=5000)
    min_length_mm: float = Field(gt=0, le=200)
    min_duration_s: float = Field(ge=0, le=10)
    min_straightness: float = Field(ge=0, le=1)
    track_gate_mm: float = Field(gt=0, le=500)
    box_frames: int = Field(ge=1, le=10_000)
    midline_band: float = Field(ge=0, le=0.25)
    path_corridor_mm: float = Field(gt=0, le=200)
    against_cos: float = Field(ge=-1, le=0)

    @model_validator(mode="after")
    def _hysteresis(self) -> SegmentSettings:
        if self.stop_mm_s >= self.start_mm_s:
            raise ValueError("stop_mm_s must be below start_mm_s (hysteresis)")
        if self.settle_jump_mm_s <= self.start_mm_s:
            raise ValueError("settle_jump_mm_s must be above start_mm_s (a jump is faster than any stroke)")
        return self


Box = tuple[float, float, float, float]  # x_min, x_max, y_min, y_max in stroke coordinates


class StrokeRules(_Model):
    segmenting: SegmentSettings
    regions: dict[Region, list[Box]]

    @model_validator(mode="after")
    def _boxes(self) -> StrokeRules:
        for name, boxes in self.regions.items():
            for x0, x1, y0, y1 in boxes:
                if not (0 <= x0 < x1 <= 0.5 and 0 <= y0 < y1 <= 1.6):
                    raise ValueError(f"region {name}: box {[x0, x1, y0, y1]} is not inside the right half")
        if set(self.regions) != set(REGIONS):
            raise ValueError(f"regions must name every face region exactly once: {sorted(REGIONS)}")
        return self


class ExpectedPath(_Model):
    """One directed stroke as drawn on one side (stroke coordinates, in the order it is done)."""

    label: str
    side: StrokeSide
    points: list[tuple[float, float]] = Field(min_length=2)


class StrokeSpec(_Model):
    """Everything the stroke analyser checks for one massage."""

    technique_id: str
    working_point: WorkingPoint
    paths: list[ExpectedPath]
    regions: list[Region] = Field(min_length=1)
    pace_mm_s: tuple[float, float]
    return_mm_s: float
    strokes_per_side: int
    cues: dict[StrokeFaultKind, str]
    settings: SegmentSettings
    region_boxes: dict[Region, list[Box]]


DATA_FILE = Path(__file__).resolve().parent / "data" / "strokes.yaml"


class StrokeSpecError(ValueError):
    """A technique has no camera check, or the stroke rules file is invalid."""


def load_stroke_rules(path: Path | None = None) -> StrokeRules:
    """The rules in ``coaching/data/strokes.yaml`` (or ``path``), validated."""
    if path is None:
        return _default_rules(DATA_FILE.read_text("utf-8"))
    return _parse_rules(path.read_text("utf-8"), str(path))


@lru_cache(maxsize=1)
def _default_rules(text: str) -> StrokeRules:
    return _parse_rules(text, "coaching/data/strokes.yaml")


def _parse_rules(text: str, where: str) -> StrokeRules:
    try:
        return StrokeRules.model_validate(load_yaml(text))
    except (ValidationError, yaml.YAMLError) as exc:
        raise StrokeSpecError(f"{where}: {exc}") from None


def _mirror(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(round(1.0 - x, 6), y) for x, y in points]


def stroke_spec(technique: Technique, rules: StrokeRules | None = None) -> StrokeSpec:
    """The camera check of a massage; raises :class:`StrokeSpecError` if it has none."""
    rules = rules or load_stroke_rules()
    massage = technique.massage
    if massage is None or massage.camera is None:
        raise StrokeSpecError(f"'{technique.id}' has no camera check (massage.camera)")
    camera = massage.camera
    paths: list[ExpectedPath] = []
    for stroke in massage.strokes:
        if stroke.label not in camera.directed:
            continue
        points = list(stroke.path)
        if stroke.sides == "midline":
            paths.append(ExpectedPath(label=stroke.label, side="midline", points=points))
            continue
        if stroke.sides in ("both", "right"):
            paths.append(ExpectedPath(label=stroke.label, side="right", points=points))
        if stroke.sides == "both":
            paths.append(ExpectedPath(label=stroke.label, side="left", points=_mirror(points)))
        if stroke.sides == "left":
            paths.append(ExpectedPath(label=stroke.label, side="left", points=points))
    return StrokeSpec(
        technique_id=technique.id,
        working_point=camera.working_point,
        paths=paths,
        regions=camera.regions or technique.regions or [technique.region],
        pace_mm_s=camera.pace_mm_s,
        return_mm_s=camera.return_mm_s,
        strokes_per_side=camera.strokes_per_side,
        cues=camera.cues.model_dump(),
        settings=rules.segmenting,
        region_boxes=rules.regions,
    )
