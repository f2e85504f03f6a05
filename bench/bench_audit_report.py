"""Benchmark of what the audit report adds to an audit of any tutorial (the job's extra work and the
report's size), on ../shared/data/woman_expressions_24fps.mp4.

Run: ``.venv/bin/python bench/bench_audit_report.py``

Prints: the audit itself (wall, × real time, for scale), then the report's own costs — the worst-frame
thumbnails (one decoding pass, JPEG-encoded), the report built from the result (segments, timeline,
charts), the page's and the export's sizes (the export holds the thumbnails as data: URIs) — and the
load average, since the machine is shared (figures are pessimistic under load).
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

from facecoach.coaching.audit import audit_any
from facecoach.config import InputLimits
from facecoach.jobs.audit_media import fault_moments, thumbnails
from facecoach.web.audit_report import Thumb, build_report

CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "woman_expressions_24fps.mp4"


def main() -> None:
    limits = InputLimits()
    one, five, _ = os.getloadavg()
    print(f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    result = audit_any(CLIP, limits=limits).model_dump(mode="json")
    audit_s = time.perf_counter() - t0
    duration = float(result["duration_s"])
    print(f"audit_any: {audit_s:.2f} s for {duration:.1f} s of video ({duration / audit_s:.1f}× real time)")

    moments = fault_moments(result)
    t0 = time.perf_counter()
    shots = thumbnails(CLIP, moments, limits)
    thumbs_s = time.perf_counter() - t0
    sizes = [len(j) for _, j in shots]
    print(
        f"thumbnails: {len(shots)} for {sum(len(s['faults']) for s in result['segments'])} faults in"
        f" {thumbs_s:.2f} s ({thumbs_s / audit_s:.0%} of the audit); JPEG {min(sizes, default=0)}–"
        f"{max(sizes, default=0)} bytes, {sum(sizes) / 1000:.0f} kB in all"
    )
    names: dict[str, str] = {}
    inline = [
        Thumb(m.t_s, m.kind, "data:image/jpeg;base64," + base64.b64encode(j).decode()) for m, j in shots
    ]
    t0 = time.perf_counter()
    report = build_report(result, names, inline)
    build_s = time.perf_counter() - t0
    svg = len(report.timeline) + sum(len(c.svg) for c in report.charts)
    print(
        f"report: {len(report.segments)} segments, {len(report.charts)} charts"
        f" built in {build_s * 1000:.0f} ms;"
        f" inline SVG {svg / 1000:.0f} kB; export ≈ {(svg + sum(len(t.src) for t in inline)) / 1000:.0f} kB"
        " plus the stylesheets (~20 kB)"
    )


if __name__ == "__main__":
    main()
