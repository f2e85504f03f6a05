"""Hands over the face during an exercise: which face regions they cover, whether they are on the face,
and whether a hand-resisted exercise's hands are where they should be. Pure; settings in
``coaching/data/hands.yaml`` (with the audit's), placements in the knowledge base (``exercise.hands``).

Each hand's 21 points are put in the face frame (:func:`facecoach.vision.hands.hand_in_face_mm`), then in
stroke coordinates by the face's own box; a region is *covered* when a hand point lies in it (the region
boxes of ``strokes.yaml``). The face faults measured on a covered region (``fault_regions``) cannot be
seen: the evaluator reports them as not visible, never as faults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from facecoach.coaching.stroke_specs import load_stroke_rules
from facecoach.coaching.strokes import face_box, region_at
from facecoach.knowledge.models import HandPlacement
from facecoach.vision.geometry import face_aligned_mm
from facecoach.vision.hands import HandObservation, hand_in_face_mm, working_point
from facecoach.vision.landmarks import FaceObservation
from facecoach.yamlfile import load_yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "hands.yaml"


class HandSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    near_face_margin: float = Field(ge=0, le=2)
    merge_gap_s: float = Field(ge=0, le=10)
    probe_s: float = Field(ge=0, le=5)
    rewind_s: float = Field(ge=0, le=5)
    fault_regions: dict[str, list[str]]
    hands_off_cue: str = Field(min_length=3)
    massage_min_repeats: int = Field(ge=1, le=10)


@lru_cache(maxsize=1)
def load_hand_settings() -> HandSettings:
    """``coaching/data/hands.yaml``, validated."""
    return HandSettings.model_validate(load_yaml(DATA_FILE.read_text("utf-8")))


@dataclass(frozen=True)
class HandsOnFace:
    """What the hands of one frame do to the face: ``covered`` regions, ``on_face`` (any hand point on
    the face, i.e. in some region), and the working points in stroke coordinates (``points``)."""

    covered: frozenset[str]
    on_face: bool
    points: tuple[tuple[float, float], ...]


NO_HANDS = HandsOnFace(frozenset(), False, ())


def hands_on_face(
    hands: Sequence[HandObservation], face: FaceObservation, placement: HandPlacement | None = None
) -> HandsOnFace:
    """The regions the hands cover and their working points (see the module docstring)."""
    if not hands:
        return NO_HANDS
    box = face_box(face_aligned_mm(face))
    if box is None:
        return NO_HANDS
    boxes = load_stroke_rules().regions
    kind = placement.working_point if placement is not None else "fingertips"
    covered: set[str] = set()
    points: list[tuple[float, float]] = []
    for hand in hands:
        try:
            mm = hand_in_face_mm(hand, face)
        except ValueError:
            continue
        xy = np.array([box.to_stroke(float(x), float(y)) for x, y in mm[:, :2]])
        inside = (xy[:, 0] >= 0) & (xy[:, 0] <= 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= 1.02)
        covered |= {region_at(float(x), float(y), boxes) for x, y in xy[inside]}
        points.append(box.to_stroke(*working_point(mm, kind)))
    return HandsOnFace(frozenset(covered), bool(covered), tuple(points))


def placed(seen: HandsOnFace, placement: HandPlacement) -> bool:
    """Whether a working point rests within ``within`` of a target (either side; targets mirrored)."""
    targets = [*placement.at, *((1.0 - x, y) for x, y in placement.at)]
    return any(
        float(np.hypot(px - tx, py - ty)) <= placement.within for px, py in seen.points for tx, ty in targets
    )


def hidden(fault_kind: str, seen: HandsOnFace) -> str | None:
    """The covered region that hides this fault kind, or None when it can be seen."""
    regions = load_hand_settings().fault_regions.get(fault_kind, [])
    return next((r for r in regions if r in seen.covered), None)
