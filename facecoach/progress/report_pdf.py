"""The one-page progress report as PDF (fpdf2: pure Python, no network, no browser at run time).

The same content as the HTML report: adherence (sessions, streak, active weeks), one chart per measure
with its band of no detectable change (the very SVG the pages show, drawn by fpdf2's SVG renderer), the
change since the first check-in and whether it is beyond the between-session noise, and the aligned
before/after pair when the member kept pictures, beside it the sessions per week. A4 portrait, everything
on one page; chart labels at about 7 pt (the SVGs are drawn 440 units wide for a 93 mm column).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Page geometry (mm): A4 portrait, margins, the chart grid (2 columns), the pair's and the sessions
#: chart's height.
PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 10.0
CHART_W = 93.0
PAIR_H = 44.0
#: DejaVu Sans ships with matplotlib (a mediapipe dependency): full Unicode (°, ±, −, names).
_FONT_NAME = "DejaVu"


_SVG_TITLE = re.compile(r"<title[^>]*>.*?</title>", re.S)
_VIEWBOX = re.compile(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def _aspect(svg: str) -> float:
    """Height over width of an SVG drawn by facecoach.web.charts (its viewBox)."""
    found = _VIEWBOX.search(svg)
    return float(found.group(2)) / float(found.group(1)) if found else 0.5


def _signed(value: float) -> str:
    text = f"{value:+.1f}"
    return text[1:] if float(text) == 0 else text  # never "-0.0"


@dataclass(frozen=True)
class ReportMeasure:
    label: str
    unit: str
    svg: str
    mdc95: float
    delta: float | None
    beyond: bool


def _font_path(bold: bool = False) -> str:
    from pathlib import Path

    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name)


def _verdict(m: ReportMeasure) -> str:
    if m.delta is None:
        return f"one check-in so far; a change must exceed ±{m.mdc95:.1f}{m.unit}"
    word = "beyond noise" if m.beyond else "within noise"
    return f"change {_signed(m.delta)}{m.unit}: {word} (MDC95 ±{m.mdc95:.1f}{m.unit})"


def build_report(
    *,
    name: str,
    today: dt.date,
    checkins: int,
    streak: int,
    total_sessions: int,
    active_weeks: int,
    weeks: int,
    measures: Sequence[ReportMeasure],
    pair: tuple[bytes, bytes] | None,
    sessions_svg: str | None = None,
) -> bytes:
    """The report's PDF bytes. ``sessions_svg``: the sessions-per-week chart, drawn beside the pair."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_font(_FONT_NAME, "", _font_path())
    pdf.add_font(_FONT_NAME, "B", _font_path(bold=True))
    pdf.set_title("facecoach progress report")
    pdf.add_page()
    pdf.set_font(_FONT_NAME, "B", 15)
    pdf.cell(0, 8, f"Progress report — {name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT_NAME, "", 9)
    pdf.cell(
        0,
        5,
        f"{today:%d %B %Y} · {checkins} check-in{'s' if checkins != 1 else ''} · practice: {total_sessions} "
        f"sessions, active in {active_weeks} of the last {weeks} weeks, streak {streak} days",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        4,
        "Asymmetries are left minus right (your own sides), in mm (the midline in degrees). The band on each "
        "chart is the minimal detectable change from your first check-in: a later point inside it has not "
        "changed beyond the between-session noise of this measure.",
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    y = pdf.get_y() + 3
    x = MARGIN
    if pair is not None:
        x = _draw_pair(pdf, pair, y) + 8
    if sessions_svg is not None:
        _draw_sessions(pdf, sessions_svg, x, y)
    if pair is not None or sessions_svg is not None:
        y += PAIR_H + 8
    _draw_measures(pdf, measures, y)
    out = pdf.output()
    return bytes(out)


def _draw_sessions(pdf: object, svg: str, x: float, y: float) -> None:
    """The sessions-per-week chart, PAIR_H high, from ``x`` to the right margin at most."""
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    pdf.set_xy(x, y)
    pdf.set_font(_FONT_NAME, "B", 8)
    pdf.cell(0, 4, "Sessions per week")
    height = PAIR_H - 4
    width = min(height / _aspect(svg), PAGE_W - MARGIN - x)
    pdf.image(
        io.BytesIO(_SVG_TITLE.sub("", svg).encode("utf-8")), x=x, y=y + 4, w=width, h=width * _aspect(svg)
    )


def _draw_pair(pdf: object, pair: tuple[bytes, bytes], y: float) -> float:
    """Before and after side by side (the aligned crops); returns the x right of them."""
    from PIL import Image

    height = PAIR_H
    x = MARGIN
    for label, jpeg in zip(("first check-in (aligned)", "latest check-in (aligned)"), pair, strict=True):
        with Image.open(io.BytesIO(jpeg)) as im:
            w = height * im.width / im.height
        pdf.image(io.BytesIO(jpeg), x=x, y=y, h=height)  # type: ignore[attr-defined]
        pdf.set_xy(x, y + height)  # type: ignore[attr-defined]
        pdf.set_font(_FONT_NAME, "", 7)  # type: ignore[attr-defined]
        pdf.cell(w, 4, label)  # type: ignore[attr-defined]
        x += w + 4
    return x - 4


def _draw_measures(pdf: object, measures: Sequence[ReportMeasure], y: float) -> None:
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    if not measures:
        pdf.set_xy(MARGIN, y)
        pdf.cell(0, 6, "No check-ins yet: take one on the check-in page to start the record.")
        return
    rows = (len(measures) + 1) // 2
    room = PAGE_H - MARGIN - y
    for i, m in enumerate(measures):
        # Each chart keeps its own proportions (never stretched), as large as the page leaves room for.
        chart_h = min(CHART_W * _aspect(m.svg), room / rows - 7)
        chart_w = chart_h / _aspect(m.svg)
        col, row = i % 2, i // 2
        x = MARGIN + col * (CHART_W + 4)
        top = y + row * (chart_h + 7)
        pdf.set_xy(x, top)
        pdf.set_font(_FONT_NAME, "B", 8)
        label = m.label.capitalize()
        pdf.cell(pdf.get_string_width(label) + 1.5, 4, label)
        pdf.set_font(_FONT_NAME, "", 7)
        pdf.cell(CHART_W, 4, "· " + _verdict(m))
        # fpdf2 draws SVG shapes and text but not <title> (the tooltip), which it would warn about.
        svg = _SVG_TITLE.sub("", m.svg)
        pdf.image(io.BytesIO(svg.encode("utf-8")), x=x, y=top + 4.5, w=chart_w, h=chart_h)
