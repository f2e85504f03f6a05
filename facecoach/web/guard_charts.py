"""The habit guard's pictures, drawn on the server as inline SVG like the other charts (web/charts.py).

Day view: minutes of each habit in every hour of the day, stacked, over a pale bar of the minutes watched.
Week view: minutes of each habit per hour watched, week by week (a rate, so a week with the page open
less often does not look better for it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from facecoach.guard.rules import Habit
from facecoach.guard.store import Totals
from facecoach.web.charts import PAD_B, PAD_L, PAD_R, PAD_T, H, W, _nice_limit

#: one colour per habit, in the order of habits.yaml (more habits reuse them)
COLOURS = ("#b23b3b", "#c9734f", "#2f6f6a", "#6b5ca5", "#8a8177")
_TEXT = 'font-size="12.5" fill="#7a828c" font-family="DejaVu Sans, sans-serif"'


def _colour(i: int) -> str:
    return COLOURS[i % len(COLOURS)]


def _y_axis(out: list[str], top: float, ih: float, unit: str) -> None:
    for k in range(5):
        v = top * k / 4
        yy = PAD_T + ih - v / top * ih
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e3ded7" />')
        out.append(f'<text x="{PAD_L - 6}" y="{yy + 4:.1f}" text-anchor="end" {_TEXT}>{v:g}{unit}</text>')


def day_chart(hours: Sequence[Totals], habits: Sequence[Habit], chart_id: str = "guard-day") -> Markup:
    """Minutes held per habit in each of the 24 hours (bars stacked on the hour's watched minutes)."""
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    top = _nice_limit(max([h.measured_s / 60 for h in hours] + [5.0]))
    slot = iw / 24
    out = [
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-labelledby="{chart_id}-t" id="{chart_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">Minutes of each habit per hour of the day</title>',
    ]
    _y_axis(out, top, ih, " min")
    for hour, t in enumerate(hours):
        x = PAD_L + hour * slot + slot * 0.15
        bw = slot * 0.7
        watched = t.measured_s / 60
        if watched > 0:
            bh = watched / top * ih
            out.append(
                f'<rect x="{x:.1f}" y="{PAD_T + ih - bh:.1f}" width="{bw:.1f}" height="{bh:.1f}"'
                f' fill="#efebe5" class="watched" data-hour="{hour}" data-minutes="{watched:.2f}">'
                f"<title>{hour:02d}:00 — watched {watched:.0f} min</title></rect>"
            )
        base: float = PAD_T + ih
        for i, habit in enumerate(habits):
            minutes = t.habit_s.get(habit.id, 0.0) / 60
            if minutes <= 0:
                continue
            bh = minutes / top * ih
            base -= bh
            out.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bw:.1f}" height="{bh:.1f}" fill="{_colour(i)}"'
                f' class="habit" data-habit="{habit.id}" data-hour="{hour}" data-minutes="{minutes:.2f}">'
                f"<title>{hour:02d}:00 — {escape(habit.label)} {minutes:.1f} min</title></rect>"
            )
        if hour % 3 == 0:
            out.append(
                f'<text x="{x + bw / 2:.1f}" y="{H - 12}" text-anchor="middle" {_TEXT}>{hour:02d}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def week_chart(
    weeks: Sequence[tuple[dt.date, Totals]], habits: Sequence[Habit], chart_id: str = "guard-weeks"
) -> Markup:
    """Minutes held per hour watched, per habit, one point per week (weeks with nothing watched: none)."""
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    rates = [[(t.share(h.id) or 0.0) * 60 if t.measured_s > 0 else None for _, t in weeks] for h in habits]
    top = _nice_limit(max([r for row in rates for r in row if r is not None] + [5.0]))
    slot = iw / max(len(weeks), 1)
    out = [
        f'<svg viewBox="0 0 {W} {H}" role="img" aria-labelledby="{chart_id}-t" id="{chart_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">Minutes of each habit per hour watched, week by week</title>',
    ]
    _y_axis(out, top, ih, "")

    def xy(k: int, v: float) -> tuple[float, float]:
        return PAD_L + (k + 0.5) * slot, PAD_T + ih - v / top * ih

    for i, (habit, row) in enumerate(zip(habits, rates, strict=True)):
        points = [(k, v) for k, v in enumerate(row) if v is not None]
        if len(points) > 1:
            line = " ".join(f"{xy(k, v)[0]:.1f},{xy(k, v)[1]:.1f}" for k, v in points)
            out.append(f'<polyline points="{line}" fill="none" stroke="{_colour(i)}" stroke-width="2.2" />')
        for k, v in points:
            cx, cy = xy(k, v)
            out.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{_colour(i)}" class="point"'
                f' data-habit="{habit.id}" data-rate="{v:.3f}"><title>week of {weeks[k][0]:%d %b}:'
                f" {escape(habit.label)} {v:.1f} min per hour watched</title></circle>"
            )
    for k, (monday, _t) in enumerate(weeks):
        out.append(
            f'<text x="{PAD_L + (k + 0.5) * slot:.1f}" y="{H - 12}" text-anchor="middle" {_TEXT}>'
            f"{monday:%d %b}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
