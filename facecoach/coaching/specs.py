"""Machine-readable exercise specs: the knowledge base's technique + the movement rules in
``coaching/data/movements.yaml``.

The knowledge base says *which* movement an exercise makes and *what* must stay still; the YAML says how
each movement and fault is measured and how much counts. A spec is all the evaluator needs, and it is a
plain pydantic model so the web app can send it to the browser as JSON.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.coaching.measures import Measures
from facecoach.knowledge.models import FaultKind, HandPlacement, Movement, TechniqueKind
from facecoach.yamlfile import load_yaml

if TYPE_CHECKING:
    from facecoach.knowledge.models import Technique

MEASURE_NAMES: frozenset[str] = frozenset(f.name for f in fields(Measures))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvaluationSettings(_Model):
    """Timing and threshold settings shared by every exercise (seconds; fractions of the expected size)."""

    calibration_s: float = Field(gt=0, le=10)
    calibration_min_frames: int = Field(ge=1, le=300)
    start_fraction: float = Field(gt=0, le=1)
    release_fraction: float = Field(gt=0, le=1)
    noise_multiple: float = Field(ge=0, le=20)
    smoothing_s: float = Field(ge=0, le=1)
    fault_min_s: float = Field(ge=0, le=5)
    fault_clear_s: float = Field(ge=0, le=5)
    max_gap_s: float = Field(gt=0, le=5)
    progress_every_s: float = Field(gt=0, le=10)
    min_rep_s: float = Field(ge=0, le=10)
    default_hold_s: float = Field(gt=0, le=60)
    rereference_after_s: float = Field(gt=0, le=60)
    rereference_s: float = Field(gt=0, le=10)

    @model_validator(mode="after")
    def _hysteresis(self) -> EvaluationSettings:
        if self.release_fraction >= self.start_fraction:
            raise ValueError("release_fraction must be below start_fraction (hysteresis)")
        return self


class MovementRule(_Model):
    measures: list[str] = Field(min_length=1, max_length=2)  # [midline] or [left, right]
    sign: Literal[1, -1] = 1
    expected: float = Field(gt=0)
    max_asymmetry: float | None = Field(default=None, gt=0, le=1)
    excludes: list[FaultKind] = Field(default_factory=list)


FaultRuleKind = Literal["any", "sum", "asymmetry"]


class FaultRule(_Model):
    rule: FaultRuleKind
    measures: dict[str, float] = Field(default_factory=dict)  # measure → tolerance (its unit)
    sum_over: float | None = Field(default=None, gt=0)
    cue: str = Field(min_length=3)

    @model_validator(mode="after")
    def _consistent(self) -> FaultRule:
        if self.rule == "sum" and self.sum_over is None:
            raise ValueError("rule 'sum' needs sum_over")
        if self.rule != "asymmetry" and not self.measures:
            raise ValueError(f"rule {self.rule!r} needs measures")
        if any(t <= 0 for t in self.measures.values()):
            raise ValueError("tolerances must be positive")
        return self


class MovementsFile(_Model):
    evaluation: EvaluationSettings
    movements: dict[Movement, MovementRule]
    faults: dict[FaultKind, FaultRule]

    @model_validator(mode="after")
    def _complete(self) -> MovementsFile:
        for name in Movement.__args__:  # type: ignore[attr-defined]
            if name not in self.movements:
                raise ValueError(f"movement {name!r} has no rule")
        for name in FaultKind.__args__:  # type: ignore[attr-defined]
            if name not in self.faults:
                raise ValueError(f"fault {name!r} has no rule")
        used = [m for r in self.movements.values() for m in r.measures]
        used += [m for r in self.faults.values() for m in r.measures]
        unknown = sorted(set(used) - MEASURE_NAMES)
        if unknown:
            raise ValueError(f"unknown measures: {', '.join(unknown)}")
        return self


class WatchedFault(_Model):
    kind: FaultKind
    rule: FaultRuleKind
    measures: dict[str, float]
    sum_over: float | None = None
    cue: str


class CoachingSpec(_Model):
    """Everything the evaluator needs for one technique.

    ``measures``: the measure(s) that count — one midline measure or ``[left, right]``; the activation
    is ``sign × measure / expected`` (for a pair, of the side that moves more: a rep done with one side
    only still counts, and the ``asymmetry`` fault says which side lags), so ``start_fraction`` and
    ``release_fraction`` are fractions of a clear movement. ``hold_s`` None: a rep is a movement and
    release. ``reps`` None: count every rep (massages and open-ended audits).
    """

    technique_id: str
    name: str
    kind: TechniqueKind
    movement: Movement | None = None
    measures: list[str] = Field(default_factory=list)
    sign: Literal[1, -1] = 1
    expected: float = 1.0
    hold_s: float | None = None
    reps: int | None = None
    sets: int = 1
    rest_s: float = 0.0
    duration_s: float
    max_asymmetry: float | None = None
    faults: list[WatchedFault] = Field(default_factory=list)
    settings: EvaluationSettings
    resisted: bool = False  # done against the hands' resistance (hands on the face are part of it)
    hands: HandPlacement | None = None  # where those hands rest (knowledge base, exercise.hands)


@lru_cache(maxsize=1)
def load_movements() -> MovementsFile:
    """The validated ``movements.yaml`` (cached; a malformed file raises ``ValueError`` on first use)."""
    text = resources.files("facecoach.coaching").joinpath("data/movements.yaml").read_text("utf-8")
    return MovementsFile.model_validate(load_yaml(text))


def fault_kinds() -> frozenset[str]:
    """Every fault kind the coaching engine knows (the ``faults`` of ``movements.yaml``, complete by its
    own validation): what a stored practice session may name."""
    return frozenset(load_movements().faults)


#: Faults raised from the hands (issue 13): a hand on the face in an exercise done without hands, hands
#: misplaced in a resisted one, and the massage stroke checks (``stroke_specs.FAULT_KINDS``).
HAND_FAULT_KINDS = frozenset(
    {"hands_on_face", "hand_placement", "stroke_direction", "stroke_region", "stroke_pace", "side_skipped"}
)


def recorded_fault_kinds() -> frozenset[str]:
    """Every fault kind a practice session may record: the face's (:func:`fault_kinds`) and the hands'."""
    return fault_kinds() | HAND_FAULT_KINDS


def spec_for(technique: Technique, rules: MovementsFile | None = None) -> CoachingSpec:
    """The coaching spec of one knowledge-base technique (massages get a timer-only spec)."""
    rules = rules or load_movements()
    d = technique.defaults
    base = {
        "technique_id": technique.id,
        "name": technique.name,
        "kind": technique.kind,
        "duration_s": d.duration_s,
        "sets": d.sets,
        "rest_s": d.rest_s or 0.0,
        "settings": rules.evaluation,
    }
    if technique.kind == "massage" or technique.exercise is None:
        return CoachingSpec(**base, reps=d.reps)  # type: ignore[arg-type]
    ex = technique.exercise
    move = rules.movements[ex.movement]
    hold = d.hold_s if d.hold_s is not None else (None if d.reps else rules.evaluation.default_hold_s)
    one_side = ex.sides == "each" and len(move.measures) == 2
    watched: list[WatchedFault] = []
    for kind in dict.fromkeys(ex.still):  # keeps order, drops repeats
        if kind in move.excludes:
            continue
        if kind == "asymmetry" and (len(move.measures) != 2 or one_side):
            continue  # a midline movement, or one side at a time: no sides to compare
        rule = rules.faults[kind]
        measures = {m: t for m, t in rule.measures.items() if m not in move.measures}
        if rule.rule != "asymmetry" and not measures:
            continue
        watched.append(
            WatchedFault(kind=kind, rule=rule.rule, measures=measures, sum_over=rule.sum_over, cue=rule.cue)
        )
    return CoachingSpec(
        **base,  # type: ignore[arg-type]
        movement=ex.movement,
        measures=move.measures,
        sign=move.sign,
        expected=move.expected,
        hold_s=hold,
        reps=d.reps,
        max_asymmetry=move.max_asymmetry,
        faults=watched,
        resisted=bool(ex.resistance),
        hands=ex.hands,
    )


class UnknownTechniqueError(LookupError):
    """No technique with that id in the knowledge base."""


def spec_by_id(technique_id: str) -> CoachingSpec:
    """The spec of a technique id from the knowledge base (``UnknownTechniqueError`` if absent)."""
    from facecoach.knowledge.library import load_library

    technique = load_library().techniques.get(technique_id)
    if technique is None:
        raise UnknownTechniqueError(f"unknown technique {technique_id!r}")
    return spec_for(technique)
