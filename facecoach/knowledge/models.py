"""The schema of the knowledge base. Content lives in ``knowledge/data/*.yaml``; this file only says
what a valid entry is. Every cross-reference (muscles, techniques, tools) is resolved by the loader.

Units: lengths in millimetres, times in seconds, angles in degrees.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")  # e.g. "masseter-left"
    muscle: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")  # side-less id, e.g. "masseter"
    name: str
    side: Side
    group: MuscleGroup
    region: Region
    origin: str
    insertion: str
    insertion_kind: InsertionKind
    action: str
    overused_by: list[str] = Field(default_factory=list)  # habits, in plain words
    use: UsePattern
    notes: str = ""


class Evidence(_Entry):
    level: EvidenceLevel
    summary: str
    sources: list[str] = Field(default_factory=list)


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

    label: str
    path: list[tuple[float, float]] = Field(min_length=2)
    repeat: int = Field(default=1, ge=1, le=50)
    sides: Literal["both", "left", "right", "midline"] = "both"


class MassageSpec(_Entry):
    direction: str  # plain words: "from the chin outwards along the jaw to the ear"
    pressure: Pressure
    tool_angle_deg: float | None = Field(default=None, ge=0, le=90)  # tool to skin; None for hands
    strokes: list[Stroke] = Field(default_factory=list)
    releases: list[str] = Field(default_factory=list)  # side-less muscle ids it relaxes
    drains: bool = False  # a lymphatic-drainage technique (towards the ears and down the neck)


class ExerciseSpec(_Entry):
    movement: Movement
    still: list[FaultKind]  # faults the camera watches for while this exercise runs
    resistance: str = ""  # e.g. "fingertips on the cheekbones" — empty for a hold without resistance
    sides: Literal["both", "each"] = "both"  # "each": done one side at a time
    unlock_week: int = Field(default=1, ge=1, le=52)  # progression: first week it may appear
    progression: str = ""  # how it grows week by week, in plain words


class Technique(_Entry):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    kind: TechniqueKind
    region: Region  # the main region it works on
    regions: list[Region] = Field(default_factory=list)  # every region it touches, main one included
    targets: list[str] = Field(min_length=1)  # side-less muscle ids
    tool: ToolName
    summary: str
    steps: list[str] = Field(min_length=2)
    cues: list[str] = Field(min_length=1)
    keep_still: list[str] = Field(default_factory=list)  # what must stay still, in plain words
    mistakes: list[str] = Field(min_length=1)
    contraindications: list[Contraindication] = Field(default_factory=list)
    loads_jaw: bool = False  # works or loads the jaw joint/masticatory muscles
    friction: bool = False  # drags on the skin (matters for broken or inflamed skin)
    pressure: Pressure = "none"
    defaults: Defaults
    massage: MassageSpec | None = None
    exercise: ExerciseSpec | None = None
    evidence: Evidence


class Tool(_Entry):
    """A tool, device or treatment people ask about, and what it really is."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    aliases: list[str] = Field(default_factory=list)
    category: ToolCategory
    verdict: str  # one sentence a person can act on
    what_it_does: str
    results_last: str
    evidence: Evidence
    risks: list[str] = Field(default_factory=list)
    technique_tool: ToolName | None = None  # the technique tool value this maps to, if any


class Claim(_Entry):
    """A popular claim (often a myth) with a verdict and the reason."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    claim: str
    aliases: list[str] = Field(default_factory=list)
    verdict: Verdict
    explanation: str
    related: list[str] = Field(default_factory=list)  # tool or technique ids
