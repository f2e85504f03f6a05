"""The steps of a live session as the page needs them: today's plan items joined with their techniques.

A step is plain JSON for the page: what to do (steps, cues, the reason it is in the routine), how much
(reps, hold seconds, duration seconds), and for a massage how (pressure, tool angle in degrees, the
strokes in normalised face coordinates, direction words). Content comes from the knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from facecoach.knowledge import Library
from facecoach.knowledge.models import Technique
from facecoach.planning.plan import PlanItem


def technique_step(
    t: Technique,
    reps: int | None = None,
    hold_s: float | None = None,
    duration_s: float | None = None,
    reason: str = "",
    sides: list[str] | None = None,
) -> dict[str, Any]:
    d = t.defaults
    step: dict[str, Any] = {
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "region": t.region,
        "regions": list(t.regions or [t.region]),
        "tool": t.tool,
        "summary": t.summary,
        "steps": list(t.steps),
        "cues": list(t.cues),
        "keep_still": list(t.keep_still),
        "reps": reps if reps is not None else d.reps,
        "hold_s": hold_s if hold_s is not None else d.hold_s,
        "duration_s": duration_s if duration_s is not None else d.duration_s,
        "reason": reason or t.summary,
        "sides": sides or [],
    }
    if t.massage is not None:
        m = t.massage
        step["massage"] = {
            "direction": m.direction,
            "pressure": m.pressure,
            "tool_angle_deg": m.tool_angle_deg,
            "drains": m.drains,
            "strokes": [
                {"label": s.label, "path": [list(p) for p in s.path], "repeat": s.repeat, "sides": s.sides}
                for s in m.strokes
            ],
            **_camera_check(t),
        }
    if t.exercise is not None:
        step["exercise"] = {"movement": t.exercise.movement, "resistance": t.exercise.resistance}
    return step


def _camera_check(t: Technique) -> dict[str, Any]:
    """What the page needs of a massage's camera check: the working point, the dose per side and the
    sides that need it (none: the massage has no camera check)."""
    from facecoach.coaching.stroke_specs import StrokeSpecError, stroke_spec
    from facecoach.live.massage import required_sides

    try:
        spec = stroke_spec(t)
    except StrokeSpecError:
        return {}
    return {
        "working_point": spec.working_point,
        "strokes_per_side": max(1, spec.strokes_per_side),
        "stroke_sides": list(required_sides(spec)),
    }


def single_step(library: Library, technique_id: str) -> list[dict[str, Any]]:
    """One technique on its own (practice from the library); empty when the id is unknown."""
    t = library.techniques.get(technique_id)
    return [technique_step(t)] if t is not None else []


def routine_steps(items: Sequence[PlanItem], library: Library) -> list[dict[str, Any]]:
    """The plan's items as steps, in order (an item whose technique the library no longer has is left out)."""
    steps = []
    for item in items:
        t = library.techniques.get(item.technique)
        if t is not None:
            steps.append(
                technique_step(t, item.reps, item.hold_s, item.duration_s, item.reason, list(item.sides))
            )
    return steps
