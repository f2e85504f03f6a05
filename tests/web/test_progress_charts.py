"""The progress page's scan charts, built outside the route from stored scan measurements."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from facecoach.vision.scan import KEYS
from facecoach.vision.scan_describe import scan_texts
from facecoach.web.progress import scan_charts


def _measurements(mouth_width_mm: float, noise: float | None) -> dict[str, Any]:
    values = dict.fromkeys(KEYS, 0.25) | {"mouth_width_mm": mouth_width_mm}
    return {
        "head_pose": {"yaw_deg": 1.0, "pitch_deg": -2.0, "roll_deg": 0.5},
        "mm_per_px": 0.1,
        "frames_used": 60 if noise is not None else 1,
        "asymmetry": values,
        "noise_mm": dict.fromkeys(KEYS, noise) if noise is not None else None,
        "kind": "video" if noise is not None else "photo",
        "iris_px": 117.0,
    }


def test_each_measure_is_charted_under_its_own_label() -> None:
    """Before: ``getattr(texts.get(key), "label", None)`` was always None (the texts had no label), so
    every heading was the key with its unit cut off ("mouth width" for how far a mouth corner reaches)."""
    first, second = dt.datetime(2026, 1, 5, 9), dt.datetime(2026, 2, 5, 9)
    stored = [
        (first, _measurements(1.5, None)),
        (first + dt.timedelta(days=1), {"asymmetry": "not a scan any more"}),  # left out
        (second, _measurements(-0.5, 2.0)),
    ]
    charts = {c.key: c for c in scan_charts(stored)}
    assert set(charts) == set(KEYS)
    reach = charts["mouth_width_mm"]
    assert reach.label == "mouth corner reach"
    assert '<title id="chart-mouth_width_mm-t">mouth corner reach</title>' in reach.svg
    assert (reach.n, reach.latest, reach.unit) == (2, -0.5, " mm")
    assert reach.band == pytest.approx(max(scan_texts().measures["mouth_width_mm"].floor, 2 * 2.0))
    assert charts["midline_deviation_deg"].unit == "°"
    labels = [c.label for c in charts.values()]
    assert labels == [scan_texts().measures[k].label for k in charts] and len(set(labels)) == len(KEYS)
    assert scan_charts([]) == []
