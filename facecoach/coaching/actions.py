"""What a face can be seen doing, as data: the actions, keep-still checks, segmentation, recognition and
verdict settings of ``coaching/data/actions.yaml`` (validated on load against ``movements.yaml`` and
the knowledge base), for auditing a video without being told its technique.

An :class:`Action` is a movement with its measures, sign and expected size (mm, score or ratio — the
measure's unit), and the side-less muscles that do it. Most actions are a knowledge-base
``Movement`` (their numbers come from ``movements.yaml``); a frown or a nose scrunch is not an exercise
of the library but must still be seen, so its numbers are in ``actions.yaml``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facecoach.coaching.specs import MEASURE_NAMES, CoachingSpec, MovementsFile, load_movements
from facecoach.knowledge.models import FaultKind, Movement
from facecoach.yamlfile import load_yaml

if TYPE_CHECKING:
    from facecoach.knowledge.library import Library

NotJudged = Literal[
    "pressure", "resistance", "hands", "no_face", "several_faces", "turned_away", "forehead", "jaw_clench"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentSettings(_Model):
    min_action_s: float = Field(gt=0, le=10)
    merge_gap_s: float = Field(ge=0, le=30)
    min_rest_s: float = Field(ge=0, le=30)
    still_fraction: float = Field(gt=0, le=1)


class RecognitionSettings(_Model):
    min_confidence: float = Field(ge=0, le=1)
    hold_tolerance: float = Field(gt=0, lt=1)


class VerdictSettings(_Model):
    unsafe_wrinkle_share: float = Field(gt=0, le=1)
    unsafe_overuse: bool


class PictureEntry(_Model):
    """A measure read from the picture (not the landmarks) that shows the action too, with its own
    expected size in its unit: while it is past the action's start threshold the action *leads* (see
    :func:`facecoach.coaching.segments.leader`)."""

    measure: str
    expected: float = Field(gt=0)


class ActionEntry(_Model):
    movement: Movement | None = None
    measures: list[str] = Field(default_factory=list, max_length=2)
    sign: Literal[1, -1] = 1
    expected: float | None = Field(default=None, gt=0)
    muscles: list[str] = Field(min_length=1)
    ignores: list[str] = Field(default_factory=list)
    picture: PictureEntry | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ActionEntry:
        if (self.movement is None) == (not self.measures or self.expected is None):
            raise ValueError("give either a movement, or measures and expected")
        return self


class KeepStillEntry(_Model):
    fault: FaultKind | None = None
    measures: dict[str, float] = Field(default_factory=dict)
    cue: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> KeepStillEntry:
        if (self.fault is None) == (not self.measures or self.cue is None):
            raise ValueError("give either a fault, or measures and a cue")
        return self


class ActionsFile(_Model):
    segments: SegmentSettings
    recognition: RecognitionSettings
    verdict: VerdictSettings
    actions: dict[str, ActionEntry] = Field(min_length=1)
    keep_still: dict[str, KeepStillEntry] = Field(min_length=1)
    not_judged: dict[NotJudged, str]


class Action(_Model):
    """One action, resolved: ``measures`` one midline measure or ``[left, right]``."""

    name: str
    movement: Movement | None
    measures: list[str]
    sign: Literal[1, -1]
    expected: float
    muscles: list[str]
    ignores: list[str]
    picture: PictureEntry | None = None


class KeepStill(_Model):
    """One whole-face wrinkling check: on while any measure exceeds its tolerance (its unit)."""

    kind: str
    measures: dict[str, float]
    cue: str


class Actions(_Model):
    """Everything the any-video audit reads from ``actions.yaml``, resolved and checked."""

    segments: SegmentSettings
    recognition: RecognitionSettings
    verdict: VerdictSettings
    actions: dict[str, Action]
    keep_still: dict[str, KeepStill]
    not_judged: dict[NotJudged, str]

    def action_spec(self, action: Action, template: CoachingSpec, picture: bool = False) -> CoachingSpec:
        """An exercise spec for an action that is no technique (reps counted as movement and release,
        no watched faults): the engine still counts what an unrecognised segment does. ``picture``:
        count them on the action's picture measure (a segment seen in the picture, see ``segments``)."""
        pic = action.picture if picture else None
        return template.model_copy(
            update={
                "technique_id": action.name,
                "name": action.name.replace("_", " "),
                "kind": "exercise",
                "movement": action.movement,
                "measures": [pic.measure] if pic is not None else action.measures,
                "sign": 1 if pic is not None else action.sign,
                "expected": pic.expected if pic is not None else action.expected,
                "hold_s": None,
                "reps": None,
                "max_asymmetry": None,
                "faults": [],
            }
        )


def resolve_actions(raw: ActionsFile, rules: MovementsFile, library: Library) -> Actions:
    """Join ``actions.yaml`` with ``movements.yaml`` and check every name (``ValueError`` if one is wrong)."""
    muscles = library.muscle_ids()
    actions: dict[str, Action] = {}
    for name, entry in raw.actions.items():
        unknown = sorted(set(entry.muscles) - muscles)
        if unknown:
            raise ValueError(f"action {name!r}: unknown muscles {', '.join(unknown)}")
        bad_ignores = sorted(set(entry.ignores) - set(raw.keep_still))
        if bad_ignores:
            raise ValueError(f"action {name!r}: ignores unknown keep-still checks {', '.join(bad_ignores)}")
        if entry.movement is not None:
            move = rules.movements[entry.movement]
            measures, sign, expected = list(move.measures), move.sign, move.expected
        else:
            measures, sign, expected = entry.measures, entry.sign, float(entry.expected or 0.0)
        if set(measures) - MEASURE_NAMES:
            raise ValueError(f"action {name!r}: unknown measures {sorted(set(measures) - MEASURE_NAMES)}")
        if entry.picture is not None and entry.picture.measure not in MEASURE_NAMES:
            raise ValueError(f"action {name!r}: unknown picture measure {entry.picture.measure!r}")
        actions[name] = Action(
            name=name,
            movement=entry.movement,
            measures=measures,
            sign=sign,
            expected=expected,
            muscles=entry.muscles,
            ignores=entry.ignores,
            picture=entry.picture,
        )
    keep: dict[str, KeepStill] = {}
    for kind, still in raw.keep_still.items():
        if still.fault is not None:
            rule = rules.faults[still.fault]
            keep[kind] = KeepStill(kind=kind, measures=dict(rule.measures), cue=rule.cue)
        else:
            if set(still.measures) - MEASURE_NAMES:
                raise ValueError(f"keep_still {kind!r}: unknown measures")
            keep[kind] = KeepStill(kind=kind, measures=still.measures, cue=str(still.cue))
    return Actions(
        segments=raw.segments,
        recognition=raw.recognition,
        verdict=raw.verdict,
        actions=actions,
        keep_still=keep,
        not_judged=raw.not_judged,
    )


@lru_cache(maxsize=1)
def load_actions() -> Actions:
    """The validated, resolved ``actions.yaml`` (cached; a malformed file raises ``ValueError``)."""
    from facecoach.knowledge.library import load_library

    text = resources.files("facecoach.coaching").joinpath("data/actions.yaml").read_text("utf-8")
    return resolve_actions(ActionsFile.model_validate(load_yaml(text)), load_movements(), load_library())
