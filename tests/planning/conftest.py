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


def context(answers: Answers, library: Library, scan: ScanSummary | None = None, week: int = 1) -> Context:
    return make_context(answers, scan, library, default_policy(), week=week)
