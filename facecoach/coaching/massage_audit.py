"""A massage in a recorded video, judged from its strokes: which massage it is, its strokes, its faults,
and whether its dose was done. Pure: the stroke analyser's per-frame input in (see
:func:`facecoach.coaching.hand_audit.stroke_inputs`), plain results out.

* **Completion** comes from the strokes seen, not a timer: a massage is done when each side got
  ``strokes_per_side`` good strokes (on a directed path, the right way; a midline-only massage: one).
* **Recognition** (the any-video audit, no technique named): every massage of the library with a camera
  check is run over the segment; its *fit* is the share of its strokes that are good for it. The best
  fit wins when it is at least ``MIN_FIT`` and clearly ahead of the next (by ``MARGIN``); otherwise the
  strokes are checked against the generic drainage rule (``GENERIC``'s directed paths — from the centre of
  the face towards the ears and down the neck — over every region, no dose).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from facecoach.coaching.hand_audit import StrokeInput
from facecoach.coaching.stroke_specs import StrokeSpec, stroke_spec
from facecoach.coaching.strokes import Stroke, StrokeSide, StrokeSummary, analyse_strokes
from facecoach.knowledge.library import Library
from facecoach.knowledge.models import REGIONS, Technique, WorkingPoint

GENERIC = "lymph-drainage"
MIN_FIT = 0.6
MARGIN = 0.15


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StrokeOut(_Out):
    start_s: float
    end_s: float
    side: StrokeSide
    region: str
    direction: str
    length_mm: float


class MassageOut(_Out):
    """The dose: good strokes per side against ``strokes_per_side``; ``completed`` from them."""

    completed: bool
    strokes_per_side: int
    per_side: dict[str, int]


def good(stroke: Stroke) -> bool:
    return stroke.kind == "stroke" and stroke.path is not None and not stroke.faults


def strokes_out(summary: StrokeSummary) -> list[StrokeOut]:
    """The strokes (quick returns between them left out), times in s and lengths in mm, 3 decimals."""
    return [
        StrokeOut(
            start_s=round(s.start_s, 3),
            end_s=round(s.end_s, 3),
            side=s.side,
            region=s.region,
            direction=s.direction,
            length_mm=round(s.length_mm, 1),
        )
        for s in summary.strokes
        if s.kind == "stroke"
    ]


def massage_out(summary: StrokeSummary, spec: StrokeSpec) -> MassageOut:
    wanted = spec.strokes_per_side
    per = dict(summary.per_side)
    done = per["right"] >= wanted and per["left"] >= wanted if wanted > 0 else per["midline"] >= 1
    return MassageOut(completed=done, strokes_per_side=wanted, per_side=per)


def generic_spec(library: Library) -> StrokeSpec:
    """The drainage direction rule for a massage that is not recognised: any region, no dose."""
    spec = stroke_spec(library.technique(GENERIC))
    return spec.model_copy(update={"regions": list(REGIONS), "strokes_per_side": 0, "technique_id": ""})


@dataclass(frozen=True)
class MassageCheck:
    technique: Technique | None  # None: not recognised, checked against the generic drainage rule
    fit: float  # share of the strokes good for it (0..1)
    spec: StrokeSpec
    summary: StrokeSummary


def _fit(summary: StrokeSummary) -> float:
    strokes = [s for s in summary.strokes if s.kind == "stroke"]
    return sum(good(s) for s in strokes) / len(strokes) if strokes else 0.0


def recognise_massage(
    inputs_for: Callable[[WorkingPoint], Sequence[StrokeInput]], library: Library
) -> MassageCheck:
    """Which massage the strokes are (see the module docstring); ``inputs_for`` gives the analyser's
    input for a working point (fingertips, or the hand holding a tool)."""
    tried: list[MassageCheck] = []
    for t in library.techniques.values():
        if t.massage is None or t.massage.camera is None:
            continue
        spec = stroke_spec(t)
        summary = analyse_strokes(inputs_for(spec.working_point), spec)
        tried.append(MassageCheck(t, _fit(summary), spec, summary))
    ranked = sorted(tried, key=lambda c: -c.fit)
    if ranked and ranked[0].fit >= MIN_FIT and (len(ranked) < 2 or ranked[0].fit - ranked[1].fit >= MARGIN):
        return ranked[0]
    spec = generic_spec(library)
    summary = analyse_strokes(inputs_for(spec.working_point), spec)
    return MassageCheck(None, round(_fit(summary), 3), spec, summary)
