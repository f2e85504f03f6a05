"""The schema of the knowledge base. Content lives in ``knowledge/data/*.yaml``; this file only says
what a valid entry is. Every cross-reference (muscles, techniques, tools) is resolved by the loader.

Units: lengths in millimetres, times in seconds, angles in degrees.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# Bounds on every field, so the data files and the instructor's admin edits share them (the admin
# validates through these models). Maxima are several times the longest entry in the data files
# (docs/knowledge.md lists them); the database stores ids in 100 characters.
#: An entry's own id: lowercase words joined by hyphens.
Id = Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
#: A reference to another entry's id (resolved by the loader).
Ref = Annotated[str, Field(min_length=1, max_length=60)]
#: A name or a label (a technique's name, a claim, a stroke's label).
Name = Annotated[str, Field(min_length=1, max_length=120)]
#: One sentence or instruction (a step, a cue, a mistake, a verdict, a source).
Sentence = Annotated[str, Field(max_length=500)]
#: A paragraph (an explanation, an evidence summary, notes).
Paragraph = Annotated[str, Field(max_length=2000)]
#: Items in any list of sentences or references.
MAX_ITEMS = 30

Region = Literal["forehead", "brows", "eyes", "nose", "cheeks", "mouth", "chin", "jaw", "neck"]
REGIONS: tuple[Region, ...] = ("forehead", "brows", "eyes", "nose", "cheeks", "mouth", "chin", "jaw", "neck")

Side = Literal["left", "right", "midline"]
MuscleGroup = Literal["mimetic", "masticatory", "neck"]
InsertionKind = Literal["bone", "skin", "muscle", "other"]
# How a typical modern face uses the muscle: over-used muscles are released and never exercised.
UsePattern = Literal["overused", "underused", "balanced"]

TechniqueKind = Literal["exercise", "massage"]
ToolName = Literal["hands", "gua_sha", "jade_roller", "none"]
Pressure = Literal["none", "feather", "light", "medium", "firm"]
EvidenceLevel = Literal["strong", "moderate", "limited", "weak", "none", "expert_opinion"]

# The movement the camera checks for an exercise: a small, closed vocabulary that the coaching
# engine knows how to measure (see facecoach.coaching).
Movement = Literal[
    "mouth_corners_up",
    "lips_pucker",
    "cheeks_puff",
    "cheeks_suck",
    "jaw_open",
    "brows_up",
    "eyes_squeeze",
    "lips_press",
]
# What the camera watches must stay still, as fault kinds of the coaching engine.
FaultKind = Literal[
    "forehead_wrinkle", "frown", "squint", "asymmetry", "head_motion", "scrunch", "jaw_clench"
]

# Conditions from the assessment that can remove or change a technique.
Contraindication = Literal[
    "tmj",
    "injectables",
    "surgery",
    "active_acne",
    "rosacea",
    "eczema",
    "sunburn",
    "broken_skin",
    "facial_palsy",
    "blood_thinners",
]

ToolCategory = Literal["exercise", "massage", "passive", "harmful"]
Verdict = Literal["true", "false", "partly", "unproven"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Muscle(_Entry):
    """One muscle on one side (``side: midline`` for unpaired muscles such as procerus)."""

    id: Id  # e.g. "masseter-left"
    muscle: Id  # side-less id, e.g. "masseter"
    name: Name
    side: Side
    group: MuscleGroup
    region: Region
    origin: Sentence
    insertion: Sentence
    insertion_kind: InsertionKind
    action: Sentence
    overused_by: list[Sentence] = Field(default_factory=list, max_length=MAX_ITEMS)  # habits, in words
    use: UsePattern
    notes: Paragraph = ""


class Evidence(_Entry):
    level: EvidenceLevel
    summary: Paragraph
    sources: list[Sentence] = Field(default_factory=list, max_length=MAX_ITEMS)


class Defaults(_Entry):
    reps: int | None = Field(default=None, ge=1, le=100)
    sets: int = Field(default=1, ge=1, le=10)
    hold_s: float | None = Field(default=None, gt=0, le=120)
    rest_s: float | None = Field(default=None, ge=0, le=120)
    duration_s: float = Field(gt=0, le=1800)  # the whole technique, as done once in a routine


class Stroke(_Entry):
    """One massage stroke on the face outline, in normalised face coordinates.

    x runs 0 (person's right ear side, image left) … 1 (person's left); y runs 0 (hairline) … 1 (chin),
    below 1 is the neck. ``path`` is drawn in order, so it also gives the direction.
    """

    label: Name
    path: list[tuple[float, float]] = Field(min_length=2, max_length=50)
    repeat: int = Field(default=1, ge=1, le=50)
    sides: Literal["both", "left", "right", "midline"] = "both"


WorkingPoint = Literal["fingertips", "hand"]


class CameraCues(_Entry):
    """What the coach says when the camera sees a stroke fault, in plain words (one per fault kind)."""

    stroke_direction: str = Field(min_length=3)  # "Sweep outwards, towards your ear."
    stroke_region: str = Field(min_length=3)
    stroke_pace: str = Field(min_length=3)
    side_skipped: str = Field(min_length=3)


class CameraCheck(_Entry):
    """What the camera checks while this massage runs (facecoach.coaching.strokes); pressure it cannot see.

    ``directed``: labels of the strokes whose direction is checked (their paths give it; circles and
    kneading are not directed). ``regions``: where strokes belong (empty: the technique's ``regions``).
    Pace in mm/s of the working point along a stroke; a movement faster than ``return_mm_s`` is the hand
    travelling back between strokes (lifted), not a stroke. ``strokes_per_side``: the fewest directed
    strokes each side must get (0 for a midline-only massage).
    """

    working_point: WorkingPoint = "fingertips"  # "hand": the hand's centre, for a tool held in it
    directed: list[str] = Field(min_length=1)
    regions: list[Region] = Field(default_factory=list)
    pace_mm_s: tuple[float, float]
    return_mm_s: float = Field(gt=0, le=2000)
    strokes_per_side: int = Field(ge=0, le=50)
    cues: CameraCues


class MassageSpec(_Entry):
    direction: Sentence  # plain words: "from the chin outwards along the jaw to the ear"
    pressure: Pressure
    tool_angle_deg: float | None = Field(default=None, ge=0, le=90)  # tool to skin; None for hands
    strokes: list[Stroke] = Field(default_factory=list, max_length=MAX_ITEMS)
    releases: list[Ref] = Field(default_factory=list, max_length=MAX_ITEMS)  # side-less muscle ids
    drains: bool = False  # a lymphatic-drainage technique (towards the ears and down the neck)
    camera: CameraCheck | None = None  # what the camera checks (strokes, direction, region, pace, sides)


class HandPlacement(_Entry):
    """Where the hands rest for a hand-resisted exercise (checked by the camera while it runs).

    ``at``: the target points of the working point (the index and middle fingertips, or ``hand``: the
    palm's centre) on the person's right side, in stroke coordinates (x 0 = right ear … 1 = left ear,
    y 0 = top of the forehead … 1 = chin); mirrored for the left hand. ``within``: how far from a target
    (stroke units) still counts as placed. ``cue``: what the coach says when the hands are elsewhere.
    """

    working_point: WorkingPoint = "fingertips"
    at: list[tuple[float, float]] = Field(min_length=1, max_length=MAX_ITEMS)
    within: float = Field(gt=0, le=0.5)
    cue: Sentence


class ExerciseSpec(_Entry):
    movement: Movement
    still: list[FaultKind] = Field(max_length=MAX_ITEMS)  # faults the camera watches during the exercise
    resistance: Sentence = ""  # e.g. "fingertips on the cheekbones" — empty for a hold without resistance
    hands: HandPlacement | None = None  # where the resisting hands rest (the camera checks it)
    sides: Literal["both", "each"] = "both"  # "each": done one side at a time
    unlock_week: int = Field(default=1, ge=1, le=52)  # progression: first week it may appear
    progression: Sentence = ""  # how it grows week by week, in plain words


class Technique(_Entry):
    id: Id
    name: Name
    kind: TechniqueKind
    region: Region  # the main region it works on
    regions: list[Region] = Field(default_factory=list, max_length=MAX_ITEMS)  # every region it touches
    targets: list[Ref] = Field(min_length=1, max_length=MAX_ITEMS)  # side-less muscle ids
    tool: ToolName
    summary: Sentence
    steps: list[Sentence] = Field(min_length=2, max_length=MAX_ITEMS)
    cues: list[Sentence] = Field(min_length=1, max_length=MAX_ITEMS)
    keep_still: list[Sentence] = Field(default_factory=list, max_length=MAX_ITEMS)  # in plain words
    mistakes: list[Sentence] = Field(min_length=1, max_length=MAX_ITEMS)
    contraindications: list[Contraindication] = Field(default_factory=list, max_length=MAX_ITEMS)
    loads_jaw: bool = False  # works or loads the jaw joint/masticatory muscles
    friction: bool = False  # drags on the skin (matters for broken or inflamed skin)
    pressure: Pressure = "none"
    defaults: Defaults
    massage: MassageSpec | None = None
    exercise: ExerciseSpec | None = None
    evidence: Evidence


class Tool(_Entry):
    """A tool, device or treatment people ask about, and what it really is."""

    id: Id
    name: Name
    aliases: list[Name] = Field(default_factory=list, max_length=MAX_ITEMS)
    category: ToolCategory
    verdict: Sentence  # one sentence a person can act on
    what_it_does: Paragraph
    results_last: Sentence
    evidence: Evidence
    risks: list[Sentence] = Field(default_factory=list, max_length=MAX_ITEMS)
    technique_tool: ToolName | None = None  # the technique tool value this maps to, if any


class Claim(_Entry):
    """A popular claim (often a myth) with a verdict and the reason."""

    id: Id
    claim: Sentence
    aliases: list[Name] = Field(default_factory=list, max_length=MAX_ITEMS)
    verdict: Verdict
    explanation: Paragraph
    related: list[Ref] = Field(default_factory=list, max_length=MAX_ITEMS)  # tool or technique ids
