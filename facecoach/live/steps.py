"""The steps of a live session as the page needs them: today's routine items joined with their techniques.

A step is plain JSON for the page: what to do (steps, cues, the reason it is in the routine), how much
(reps, hold seconds, duration seconds), and for a massage how (pressure, tool angle in degrees, the
strokes in normalised face coordinates, direction words). Content comes from the knowledge base.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from facecoach.knowledge import Library
from facecoach.knowledge.models import Technique
from facecoach.web.routine import routine_for


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
        }
    if t.exercise is not None:
        step["exercise"] = {"movement": t.exercise.movement, "resistance": t.exercise.resistance}
    return step


def single_step(library: Library, technique_id: str) -> list[dict[str, Any]]:
    """One technique on its own (practice from the library); empty when the id is unknown."""
    t = library.techniques.get(technique_id)
    return [technique_step(t)] if t is not None else []


def routine_steps(db: Session, member_id: int, library: Library, today: dt.date) -> list[dict[str, Any]]:
    """Today's routine of the member, in order (empty before the first assessment)."""
    routine = routine_for(db, member_id, library, today)
    if routine is None:
        return []
    steps = []
    for item in routine.today.plan.items:
        t = library.techniques.get(item.technique)
        if t is None:
            continue
        steps.append(
            technique_step(t, item.reps, item.hold_s, item.duration_s, item.reason, list(item.sides))
        )
    return steps
