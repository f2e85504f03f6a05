"""Charts drawn on the server as inline SVG (no script, so the CSP stays strict and they print well)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

W, H = 640, 220
PAD_L, PAD_R, PAD_T, PAD_B = 48, 16, 14, 34
#: Width of one character of the 12.5-unit DejaVu Sans axis labels, rounded up (its widest digits and
#: signs are ~0.64 em): the left margin is sized from the longest label so none is clipped.
CHAR_W = 8.2
#: The asymmetry charts sit in half-width cards (and in the PDF's two columns): drawn 440 units wide, so
#: their 12.5-unit labels show at about 12 px on a laptop, 8.7 px on a 390 px phone and 7 pt in the PDF
#: (at 640 units they were 6 px and 5 pt).
ASYM_W, ASYM_H = 440, 200


def signed(value: float, digits: int = 1) -> str:
    """``value`` with its sign (``+1.5``, ``-0.3``), and plain ``0.0`` when it rounds to zero: never
    ``-0.0`` or ``+0.0``, which read as a change that is not there."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def _left_pad(labels: Sequence[str]) -> float:
    """The left margin (SVG units) that fits the longest y-axis label plus the 6-unit gap to the axis."""
    return max(float(PAD_L), max((len(label) for label in labels), default=0) * CHAR_W + 12)


def _nice_limit(value: float) -> float:
    for step in (0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 100, 200, 500, 1000):
        if value <= step:
            return float(step)
    return float(value)


def asymmetry_chart(
    points: Sequence[tuple[dt.datetime, float, float]],
    unit: str,
    title: str,
    chart_id: str,
    change_band: tuple[float, float] | None = None,
) -> Markup:
    """Each scan's signed asymmetry (left minus right) over time. ``points``: (when, value, noise band).

    The shaded band around zero is the measurement noise of the latest scan: a value inside it cannot be
    told from a symmetric face; the whiskers show each scan's own band. ``change_band`` = (baseline,
    MDC95) draws instead the band of no detectable change around the first check-in (``rect.mdc-band``):
    a later point inside it has not changed beyond the between-session noise.
    """
    if not points:
        return Markup('<p class="muted">No scans yet.</p>')
    reach = max(abs(v) + b for _, v, b in points)
    if change_band is not None:
        reach = max(reach, abs(change_band[0]) + change_band[1])
    lim = _nice_limit(max(reach, 0.5) * 1.1)
    ticks = [(v, f"{v:+g}{unit}" if v else f"0{unit}") for v in (-lim, -lim / 2, 0.0, lim / 2, lim)]
    pad_l = _left_pad([label for _, label in ticks])
    t0 = points[0][0].timestamp()
    t1 = points[-1][0].timestamp()
    span = max(t1 - t0, 1.0)
    iw, ih = ASYM_W - pad_l - PAD_R, ASYM_H - PAD_T - PAD_B

    def x(t: dt.datetime) -> float:
        if len(points) == 1:
            return pad_l + iw / 2
        return pad_l + (t.timestamp() - t0) / span * iw

    def y(v: float) -> float:
        return PAD_T + (lim - v) / (2 * lim) * ih

    centre, band, band_class = 0.0, points[-1][2], "noise-band"
    if change_band is not None:
        centre, band, band_class = change_band[0], change_band[1], "mdc-band"
    out = [
        f'<svg viewBox="0 0 {ASYM_W} {ASYM_H}" role="img" aria-labelledby="{chart_id}-t" class="asym-chart"'
        f' id="{chart_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<rect x="{pad_l:.1f}" y="{y(centre + band):.1f}" width="{iw:.1f}"'
        f' height="{max(y(centre - band) - y(centre + band), 1):.1f}" fill="#e2efed" class="{band_class}"'
        f' data-centre="{centre:.3f}" data-half="{band:.3f}" />',
    ]
    for v, label in ticks:
        yy = y(v)
        out.append(
            f'<line x1="{pad_l:.1f}" x2="{ASYM_W - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}"'
            f' stroke="{"#8a8177" if v == 0 else "#e3ded7"}"'
            ' stroke-width="1" />'
        )
        out.append(
            f'<text x="{pad_l - 6:.1f}" y="{yy + 4:.1f}" font-size="12.5" text-anchor="end" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif" class="tick">{escape(label)}</text>'
        )
    out.append(
        f'<text x="{pad_l + 4:.1f}" y="{PAD_T + 11}" font-size="12.5" fill="#5f6670" font-family="DejaVu'
        f' Sans, sans-serif">'
        "left higher / larger</text>"
        f'<text x="{pad_l + 4:.1f}" y="{ASYM_H - PAD_B - 4}" font-size="12.5" fill="#5f6670"'
        f' font-family="DejaVu Sans, sans-serif">'
        "right higher / larger</text>"
    )
    coords = [(x(t), y(v)) for t, v, _ in points]
    if len(coords) > 1:
        pts = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        out.append(f'<polyline points="{pts}" fill="none" stroke="#2f6f6a" stroke-width="2.2" />')
    for (t, v, b), (cx, cy) in zip(points, coords, strict=True):
        out.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(v + b):.1f}" y2="{y(v - b):.1f}" stroke="#2f6f6a"'
            ' stroke-opacity="0.45" stroke-width="2" />'
        )
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#2f6f6a" class="point"><title>{t:%d %b %Y}: '
            f"{signed(v)}{escape(unit)} (±{b:.1f})</title></circle>"
        )
    first, last = points[0][0], points[-1][0]
    out.append(
        f'<text x="{pad_l:.1f}" y="{ASYM_H - 10}" font-size="12.5" fill="#5f6670" font-family="DejaVu Sans,'
        f' sans-serif">'
        f"{first:%d %b %Y}</text>"
    )
    if len(points) > 1:
        out.append(
            f'<text x="{ASYM_W - PAD_R}" y="{ASYM_H - 10}" font-size="12.5" text-anchor="end" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif">{last:%d %b %Y}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def weekly_bars(
    weeks: Sequence[tuple[dt.date, int]],
    chart_id: str = "sessions-chart",
    manual: Sequence[int] | None = None,
    empty_text: str = "No sessions yet",
    width: int = W,
) -> Markup:
    """Sessions per ISO week (Monday's date under each bar); ``empty_text`` across it when all are 0.

    ``manual``: per week, how many of those sessions were logged by hand rather than coached live; that
    part of a bar is drawn hatched and pale on top (``rect.bar-manual``), so a chart never passes off a
    claimed session as one the coach saw. ``width``: of the drawing (the PDF report draws it narrower, so
    its labels are larger on paper).
    """
    manual = list(manual) if manual is not None else [0] * len(weeks)
    top = max([c for _, c in weeks] + [7])
    iw, ih = width - PAD_L - PAD_R, H - PAD_T - PAD_B
    slot = iw / max(len(weeks), 1)
    out = [
        f'<svg viewBox="0 0 {width} {H}" role="img" aria-labelledby="{chart_id}-t" id="{chart_id}"'
        ' class="bars" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">Sessions per week'
        f"{': none yet' if not any(c for _, c in weeks) else ''}</title>",
    ]
    for v in range(0, top + 1, max(1, top // 4)):
        yy = PAD_T + ih - v / top * ih
        out.append(f'<line x1="{PAD_L}" x2="{width - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e3ded7" />')
        out.append(
            f'<text x="{PAD_L - 6}" y="{yy + 4:.1f}" font-size="12.5" text-anchor="end" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif" class="y">{v}</text>'
        )
    if not any(count for _, count in weeks):
        # An empty chart must say so, not look like a chart whose bars failed to draw.
        out.append(
            f'<text x="{PAD_L + iw / 2:.1f}" y="{PAD_T + ih / 2:.1f}" font-size="16" text-anchor="middle"'
            ' fill="#4b525b" font-family="DejaVu Sans, sans-serif" class="empty">'
            f"{escape(empty_text)}</text>"
        )
    if any(manual):
        out.append(
            '<defs><pattern id="manual-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
            ' patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3dccf" />'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#c9734f" stroke-width="2" /></pattern></defs>'
        )
    for i, ((monday, count), by_hand) in enumerate(zip(weeks, manual, strict=True)):
        bh = count / top * ih
        bx = PAD_L + i * slot + slot * 0.18
        note = f" ({by_hand} logged by hand)" if by_hand else ""
        out.append(
            f'<rect x="{bx:.1f}" y="{PAD_T + ih - bh:.1f}" width="{slot * 0.64:.1f}" height="{bh:.1f}" rx="4"'
            f' fill="#c9734f" class="bar" data-count="{count}" data-manual="{by_hand}"><title>week of'
            f" {monday:%d %b}: {count}{note}</title></rect>"
        )
        if by_hand:
            mh = min(by_hand, count) / top * ih
            out.append(
                f'<rect x="{bx:.1f}" y="{PAD_T + ih - bh:.1f}" width="{slot * 0.64:.1f}" height="{mh:.1f}"'
                f' rx="4" fill="url(#manual-hatch)" class="bar-manual" data-manual="{by_hand}"><title>week of'
                f" {monday:%d %b}: {by_hand} logged by hand, not coached live</title></rect>"
            )
        # On phones the labels are drawn larger (app.css) and every other one is left out, the latest kept.
        alt = " alt" if (len(weeks) - 1 - i) % 2 else ""
        out.append(
            f'<text x="{bx + slot * 0.32:.1f}" y="{H - 12}" font-size="12" text-anchor="middle"'
            f' fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif" class="week{alt}">{monday:%d %b}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def audit_timeline(result: dict[str, object], chart_id: str = "audit-chart") -> Markup:
    """The audited video as a time axis: calibration, holds (green) and faults (red), one lane each."""
    duration = float(result.get("duration_s") or 0.0)  # type: ignore[arg-type]
    events = result.get("events") or []
    assert isinstance(events, list)
    if duration <= 0:
        return Markup("")
    lanes = {"calibration": 0, "hold": 1, "fault": 2}
    colours = {"calibration": "#7a828c", "hold": "#2e7d4f", "fault": "#b23b3b"}
    lane_h, top, left, right = 26, 12, 96, 16
    height = top + lane_h * 3 + 30
    iw = W - left - right

    def x(t: float) -> float:
        return left + max(0.0, min(t, duration)) / duration * iw

    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-labelledby="{chart_id}-t" id="{chart_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">Timeline of the audited video</title>',
    ]
    for name, lane in lanes.items():
        y = top + lane * lane_h
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{iw}" height="{lane_h - 8}" rx="4" fill="#f1eee9" />'
        )
        out.append(
            f'<text x="{left - 8}" y="{y + lane_h / 2 + 4:.1f}" font-size="12.5" text-anchor="end"'
            f' fill="#4b525b"'
            f' font-family="DejaVu Sans, sans-serif">{name}s</text>'
        )
    for e in events:
        if not isinstance(e, dict) or e.get("kind") not in lanes:
            continue
        t0 = float(e.get("t") or 0.0)
        t1 = float(e.get("end") or t0)
        y = top + lanes[e["kind"]] * lane_h
        out.append(
            f'<rect x="{x(t0):.1f}" y="{y + 4}" width="{max(x(t1) - x(t0), 3):.1f}"'
            f' height="{lane_h - 8}" rx="3"'
            f' fill="{colours[e["kind"]]}" class="event {e["kind"]}"><title>{t0:.1f}–{t1:.1f} s: '
            f"{escape(str(e.get('message', '')))}</title></rect>"
        )
    for i in range(6):
        t = duration * i / 5
        out.append(
            f'<text x="{x(t):.1f}" y="{height - 8}" font-size="12" text-anchor="middle" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif">{t:.0f} s</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


# --- the audit report: charts and timeline on one time axis, synchronised with the video --------------

#: 440 units wide like the asymmetry charts: their 12-unit labels stay legible on a 390 px phone.
REPORT_W = 440
REPORT_LEFT, REPORT_RIGHT = 70, 12
#: At most this many points per line (a long video's series is thinned evenly: the SVG stays small).
MAX_CHART_POINTS = 600
SEGMENT_COLOURS = {
    "rest": "#c9c3ba",
    "exercise": "#2f6f6a",
    "massage": "#6b5ca5",
    "unrecognised": "#c9734f",
}
LINE_COLOURS = ("#2f6f6a", "#c9734f", "#6b5ca5")


def _time_axis(duration: float, height: float, left: float, iw: float) -> list[str]:
    """Tick labels in seconds under a report chart (about six, on whole seconds)."""
    step = max(1.0, _nice_limit(duration / 5))
    out = []
    t = 0.0
    while t <= duration + 1e-6:
        x = left + t / duration * iw
        out.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="12" text-anchor="middle" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif">{t:.0f} s</text>'
        )
        t += step
    return out


def _synced_svg_open(chart_id: str, height: float, duration: float, title: str, css: str) -> str:
    """The opening of a chart the report's script keeps in step with the video: a click seeks to the
    time under the pointer, and the ``playhead`` line follows the video (``data-*`` give the geometry)."""
    iw = REPORT_W - REPORT_LEFT - REPORT_RIGHT
    return (
        f'<svg viewBox="0 0 {REPORT_W} {height:.0f}" role="img" aria-labelledby="{chart_id}-t"'
        f' id="{chart_id}"'
        f' class="{css} synced" data-duration="{duration:.3f}" data-left="{REPORT_LEFT}" data-width="{iw}"'
        f' data-view-width="{REPORT_W}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title>'
    )


def _playhead(top: float, bottom: float) -> str:
    return (
        f'<line class="playhead" x1="{REPORT_LEFT}" x2="{REPORT_LEFT}" y1="{top}" y2="{bottom}"'
        ' stroke="#1f2328" stroke-width="1.5" />'
    )


def report_timeline(
    duration: float,
    segments: Sequence[tuple[float, float, str, str]],
    faults: Sequence[tuple[float, float, str, float]],
    chart_id: str = "audit-report-timeline",
) -> Markup:
    """The annotated timeline under the video: one lane of segments (``(start, end, kind, label)``,
    coloured by kind) and one of faults (``(start, end, label, worst_s)``, red); each mark seeks the
    video to its start (a fault to its worst moment) when clicked."""
    if duration <= 0:
        return Markup("")
    lane_h, top = 30, 8
    height = top + 2 * lane_h + 26
    iw = REPORT_W - REPORT_LEFT - REPORT_RIGHT

    def x(t: float) -> float:
        return REPORT_LEFT + max(0.0, min(t, duration)) / duration * iw

    out = [_synced_svg_open(chart_id, height, duration, "Timeline of the audited video", "report-timeline")]
    for lane, name in enumerate(("segments", "faults")):
        y = top + lane * lane_h
        out.append(
            f'<rect x="{REPORT_LEFT}" y="{y + 3}" width="{iw}" height="{lane_h - 6}" rx="4" fill="#f1eee9" />'
        )
        out.append(
            f'<text x="{REPORT_LEFT - 6}" y="{y + lane_h / 2 + 4:.1f}" font-size="12" text-anchor="end"'
            f' fill="#4b525b" font-family="DejaVu Sans, sans-serif">{name}</text>'
        )
    for start, end, kind, label in segments:
        w = max(x(end) - x(start), 2.0)
        out.append(
            f'<rect class="seek segment {escape(kind)}" data-seek="{start:.2f}" x="{x(start):.1f}"'
            f' y="{top + 3}"'
            f' width="{w:.1f}" height="{lane_h - 6}" rx="3" fill="{SEGMENT_COLOURS.get(kind, "#7a828c")}">'
            f"<title>{start:.1f}–{end:.1f} s: {escape(label)}</title></rect>"
        )
        if w > len(label) * 7 + 8:
            out.append(
                f'<text x="{x(start) + 4:.1f}" y="{top + lane_h / 2 + 4:.1f}" font-size="11.5" fill="#ffffff"'
                f' font-family="DejaVu Sans, sans-serif" pointer-events="none">{escape(label)}</text>'
            )
    y = top + lane_h
    for start, end, label, worst in faults:
        out.append(
            f'<rect class="seek fault" data-seek="{worst:.2f}" x="{x(start):.1f}" y="{y + 3}"'
            f' width="{max(x(end) - x(start), 3.0):.1f}" height="{lane_h - 6}" rx="3" fill="#b23b3b"'
            f' fill-opacity="0.8"><title>{start:.1f}–{end:.1f} s: {escape(label)}</title></rect>'
        )
    out += _time_axis(duration, height, REPORT_LEFT, iw)
    out.append(_playhead(top, top + 2 * lane_h))
    out.append("</svg>")
    return Markup("".join(out))


def _thin(t: Sequence[float], values: Sequence[float | None]) -> list[tuple[float, float | None]]:
    step = max(1, -(-len(t) // MAX_CHART_POINTS))
    return [(t[i], values[i]) for i in range(0, len(t), step)]


def _series_lines(
    lines: Sequence[tuple[str, Sequence[float | None]]],
    t: Sequence[float],
    x: Callable[[float], float],
    y: Callable[[float], float],
    top: float,
) -> list[str]:
    """One polyline per run of frames with a face (a gap breaks the line), and a legend when several."""
    out: list[str] = []
    for k, (label, values) in enumerate(lines):
        runs: list[list[str]] = [[]]
        for s, v in _thin(t, values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(s):.1f},{y(v):.1f}")
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        for run in runs:
            if len(run) > 1:
                out.append(
                    f'<polyline class="series" points="{" ".join(run)}" fill="none" stroke="{colour}"'
                    f' stroke-width="1.6"><title>{escape(label)}</title></polyline>'
                )
        if len(lines) > 1:
            out.append(
                f'<text x="{REPORT_LEFT + 6 + k * 60}" y="{top + 14}" font-size="12" fill="{colour}"'
                f' font-family="DejaVu Sans, sans-serif">{escape(label)}</text>'
            )
    return out


def measure_chart(
    chart_id: str,
    title: str,
    t: Sequence[float],
    lines: Sequence[tuple[str, Sequence[float | None]]],
    threshold: float,
    unit: str,
    duration: float,
    spans: Sequence[tuple[float, float]] = (),
) -> Markup:
    """Measures over the video's time against their threshold (dashed), with the stretches the report
    flags (``spans``, shaded red); gaps without a face break the line. Same time axis as the timeline."""
    if duration <= 0 or not t:
        return Markup("")
    height, top, bottom = 160, 10, 28
    ih = height - top - bottom
    iw = REPORT_W - REPORT_LEFT - REPORT_RIGHT
    seen = [v for _, vals in lines for v in vals if v is not None]
    lo = min([0.0, threshold, *seen])
    hi = max([0.0, threshold, *seen])
    if hi - lo < 1e-6:
        hi = lo + 1.0
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad

    def x(s: float) -> float:
        return REPORT_LEFT + max(0.0, min(s, duration)) / duration * iw

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * ih

    out = [_synced_svg_open(chart_id, height, duration, title, "measure-chart")]
    out.append(
        f'<rect x="{REPORT_LEFT}" y="{top}" width="{iw}" height="{ih}" fill="#fbfaf8" stroke="#e3ded7" />'
    )
    for start, end in spans:
        out.append(
            f'<rect class="flagged" x="{x(start):.1f}" y="{top}" width="{max(x(end) - x(start), 2.0):.1f}"'
            f' height="{ih}" fill="#f8e1e1" />'
        )
    for v, label in ((hi - pad, f"{hi - pad:.1f}"), (lo + pad, f"{lo + pad:.1f}")):
        out.append(
            f'<text x="{REPORT_LEFT - 6}" y="{y(v) + 4:.1f}" font-size="12" text-anchor="end" fill="#5f6670"'
            f' font-family="DejaVu Sans, sans-serif">{label}</text>'
        )
    out.append(
        f'<text x="{REPORT_LEFT - 6}" y="{top + ih / 2 + 4:.1f}" font-size="11" text-anchor="end"'
        f' fill="#5f6670" font-family="DejaVu Sans, sans-serif">{escape(unit)}</text>'
    )
    out.append(
        f'<line class="threshold" x1="{REPORT_LEFT}" x2="{REPORT_LEFT + iw}" y1="{y(threshold):.1f}"'
        f' y2="{y(threshold):.1f}" stroke="#b23b3b" stroke-dasharray="5 4" stroke-width="1.2">'
        f"<title>threshold {threshold:.2f} {escape(unit)}</title></line>"
    )
    out += _series_lines(lines, t, x, y, top)
    out += _time_axis(duration, height, REPORT_LEFT, iw)
    out.append(_playhead(top, top + ih))
    out.append("</svg>")
    return Markup("".join(out))
