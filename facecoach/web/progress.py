"""The progress page's scan charts: one per asymmetry measure, built from the member's stored scans.

A pure function of the stored measurements (no database, no request), so the route only loads the rows
and renders; labels, units and noise bands come from the scan's own data (``vision/scan_texts.yaml``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from facecoach.web.charts import asymmetry_chart

#: One point of a measure's series: (when the scan was taken, signed value, noise band), mm or degrees.
Point = tuple[dt.datetime, float, float]


@dataclass(frozen=True)
class ScanChart:
    """One measure over time, as ``progress.html`` shows it."""

    key: str
    label: str
    svg: Markup
    latest: float  # the latest scan's value (mm, or degrees for ``*_deg``)
    band: float  # the latest scan's noise band, same unit
    unit: str
    n: int  # scans in the chart


def scan_series(scans: Iterable[tuple[dt.datetime, dict[str, Any]]]) -> dict[str, list[Point]]:
    """Each measure's points over ``scans`` ((taken at, stored measurements), oldest first). A stored
    scan that no longer validates as a :class:`facecoach.vision.scan.ScanResult` is left out."""
    from facecoach.vision.scan import ScanResult
    from facecoach.vision.scan_describe import threshold

    series: dict[str, list[Point]] = {}
    for when, measurements in scans:
        try:
            result = ScanResult.model_validate(measurements)
        except ValueError:
            continue
        for key, value in result.asymmetry.model_dump().items():
            series.setdefault(key, []).append((when, float(value), threshold(result, key)))
    return series


def scan_charts(scans: Iterable[tuple[dt.datetime, dict[str, Any]]]) -> list[ScanChart]:
    """The charts of the progress page, one per measure, labelled as ``scan_texts.yaml`` names them."""
    from facecoach.vision.scan_describe import scan_texts

    texts = scan_texts().measures
    charts = []
    for key, points in scan_series(scans).items():
        unit = "°" if key.endswith("_deg") else " mm"
        label = texts[key].label
        svg = asymmetry_chart(points, unit, label, f"chart-{key}")
        charts.append(ScanChart(key, label, svg, points[-1][1], points[-1][2], unit, len(points)))
    return charts
