"""Planner tests run against the REAL knowledge base (never a private copy of technique data)."""

from __future__ import annotations

from typing import Any

import pytest

from facecoach.knowledge.library import Library, load_library
from facecoach.planning.assessment import Answers, parse_answers
from facecoach.planning.context import Context, make_context
from facecoach.planning.policy import default_policy
from facecoach.planning.scan import ScanSummary, parse_scan


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


def person(**fields: Any) -> Answers:
    """Answers with a 15-minute budget unless told otherwise; ``habits``/``conditions`` are dicts."""
    data: dict[str, Any] = {"minutes_per_day": 15, **fields}
    return parse_answers(data)


def scan_of(**asymmetry: float) -> ScanSummary:
    return parse_scan({"asymmetry": asymmetry, "noise_mm": None, "notes": []})


def pick(library: Library, kind: str | None = None, **want: Any) -> list[str]:
    """Ids of techniques with the given properties (so tests follow the library's content, not its
    names): ``region`` (touched), ``tool``, ``pressure_above_light``, ``friction``, ``loads_jaw``,
    ``resistance``, ``releases`` (a muscle), ``unlock_after`` (week)."""
    out = []
    for t in library.techniques.values():
        if kind and t.kind != kind:
            continue
        checks = {
            "region": lambda v, t=t: v in t.regions,
            "tool": lambda v, t=t: t.tool == v,
            "pressure_above_light": lambda v, t=t: (t.pressure in ("medium", "firm")) == v,
            "friction": lambda v, t=t: t.friction == v,
            "loads_jaw": lambda v, t=t: t.loads_jaw == v,
            "resistance": lambda v, t=t: bool(t.exercise and t.exercise.resistance) == v,
            "releases": lambda v, t=t: bool(t.massage and v in t.massage.releases),
            "unlock_after": lambda v, t=t: bool(t.exercise and t.exercise.unlock_week > v),
            "drains": lambda v, t=t: bool(t.massage and t.massage.drains) == v,
        }
        if all(checks[k](v) for k, v in want.items()):
            out.append(t.id)
    return out


def releases(library: Library, technique: str, muscle: str) -> bool:
    spec = library.technique(technique).massage
    return spec is not None and muscle in spec.releases


def context(answers: Answers, library: Library, scan: ScanSummary | None = None, week: int = 1) -> Context:
    return make_context(answers, scan, library, default_policy(), week=week)
