"""SVG charts of the instructor's dashboard, drawn on the server (no script, same CSP as every page):
horizontal bars for counts by name, and the retention grid (a row per week of joining, a cell per week
since, its shade and its label the share of that cohort who practised)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from facecoach.studio.retention import Cohort

W = 640
FONT = 'font-family="DejaVu Sans, sans-serif"'


def hbars(items: Sequence[tuple[str, int]], chart_id: str, title: str, empty_text: str) -> Markup:
    """One bar a label, longest first as given; ``empty_text`` in the chart when there is nothing."""
    row, left = 30, 190
    height = max(1, len(items)) * row + 20
    top = max([n for _, n in items] + [1])
    out = [
        f'<svg viewBox="0 0 {W} {height}" role="img" aria-labelledby="{chart_id}-t" id="{chart_id}"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    if not items:
        out.append(
            f'<text x="{W / 2}" y="{height / 2 + 5}" font-size="15" text-anchor="middle"'
            f' fill="#4b525b" {FONT}'
            f' class="empty">{escape(empty_text)}</text>'
        )
    for i, (label, n) in enumerate(items):
        y = 10 + i * row
        width = (W - left - 60) * n / top
        out.append(
            f'<text x="{left - 8}" y="{y + 17}" font-size="13" text-anchor="end" fill="#1f2328" {FONT}>'
            f"{escape(label.replace('_', ' '))}</text>"
        )
        out.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{width:.1f}" height="20" rx="3" fill="#2f6f6a">'
            f"<title>{escape(label)}: {n}</title></rect>"
        )
        out.append(
            f'<text x="{left + width + 6:.1f}" y="{y + 17}" font-size="13" fill="#5f6670" {FONT}>{n}</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))


def retention_grid(rows: Sequence[Cohort], chart_id: str = "retention-chart") -> Markup:
    """Cohorts down (their Monday and size), weeks since joining across."""
    cell, left, head = 52, 150, 34
    weeks = max([len(c.retained) for c in rows] + [1])
    height = head + max(1, len(rows)) * cell * 0.7 + 10
    out = [
        f'<svg viewBox="0 0 {max(W, left + weeks * cell + 10)} {height:.0f}" role="img"'
        f' aria-labelledby="{chart_id}-t" id="{chart_id}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">Share of each week\'s new members who practised, week by week</title>',
    ]
    for k in range(weeks):
        out.append(
            f'<text x="{left + k * cell + cell / 2}" y="20" font-size="12" text-anchor="middle"'
            ' fill="#5f6670"'
            f" {FONT}>wk {k}</text>"
        )
    if not rows:
        out.append(
            f'<text x="{left}" y="{head + 20}" font-size="15" fill="#4b525b" {FONT} class="empty">'
            "No new members in these weeks</text>"
        )
    for i, c in enumerate(rows):
        y = head + i * cell * 0.7
        out.append(
            f'<text x="{left - 8}" y="{y + 22}" font-size="12.5" text-anchor="end" fill="#1f2328" {FONT}>'
            f"{c.week.strftime('%d %b')} · {c.size}</text>"
        )
        for k, share in enumerate(c.retained):
            shade = f"rgba(47, 111, 106, {0.12 + 0.88 * share:.2f})"
            ink = "#fff" if share >= 0.5 else "#1f2328"
            x = left + k * cell
            out.append(
                f'<rect class="cell" data-cohort="{c.week.isoformat()}" data-week="{k}"'
                f' x="{x + 2}" y="{y + 2}"'
                f' width="{cell - 4}" height="{cell * 0.7 - 4:.0f}" rx="4" fill="{shade}" />'
            )
            out.append(
                f'<text x="{x + cell / 2}" y="{y + 22}" font-size="12" text-anchor="middle"'
                f' fill="{ink}" {FONT}>'
                f"{round(share * 100)}%</text>"
            )
    out.append("</svg>")
    return Markup("".join(out))
