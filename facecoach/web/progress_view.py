"""What the progress page, the before/after view and the report show of a member's check-ins: one chart
per measure with the band of no detectable change, the change since the first check-in and whether it is
beyond the between-session noise (:mod:`facecoach.progress.noise`), and which check-ins kept a picture."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy.orm import Session

from facecoach.members.models import Checkin
from facecoach.progress import store
from facecoach.progress.noise import Change, MeasureNoise, change_between, estimate_noise
from facecoach.vision.asymmetry import KEYS
from facecoach.web.charts import asymmetry_chart


def label_of(key: str) -> str:
    """The measure's name in words (``brow_height_mm`` → ``brow height``)."""
    return key.removesuffix("_mm").removesuffix("_deg").replace("_", " ")


def unit_of(key: str) -> str:
    return "°" if key.endswith("_deg") else " mm"


@dataclass(frozen=True)
class MeasureRow:
    key: str
    label: str
    unit: str
    chart: Markup
    noise: MeasureNoise
    change: Change | None
    n: int


@dataclass
class CheckinView:
    rows: list[Checkin]
    measures: list[MeasureRow] = field(default_factory=list)
    picture_ids: list[int] = field(default_factory=list)  # check-in ids with a kept picture, oldest first

    @property
    def count(self) -> int:
        return len(self.rows)


def checkin_view(db: Session, user_id: int, chart_prefix: str = "checkin") -> CheckinView:
    """Everything about a member's check-ins, computed once for a page."""
    rows = [r for r in store.member_checkins(db, user_id) if store.measures_of(r) is not None]
    view = CheckinView(rows)
    pictures = store.member_pictures(db, user_id)
    view.picture_ids = [r.id for r in rows if r.id in pictures]
    if not rows:
        return view
    points = store.noise_points(rows)
    noise = estimate_noise(points)
    first, last = points[0], points[-1]
    changes = change_between(first.values, last.values, noise) if len(points) > 1 else {}
    for key in KEYS:
        series: list[tuple[dt.datetime, float, float]] = [
            (p.when, float(p.values[key]), float(p.spread.get(key, 0.0))) for p in points if key in p.values
        ]
        if not series:
            continue
        band = (series[0][1], noise[key].mdc95)
        title = f"{label_of(key)}: check-ins, band = no detectable change from the first (±MDC95)"
        view.measures.append(
            MeasureRow(
                key=key,
                label=label_of(key),
                unit=unit_of(key),
                chart=asymmetry_chart(series, unit_of(key), title, f"{chart_prefix}-{key}", change_band=band),
                noise=noise[key],
                change=changes.get(key),
                n=len(series),
            )
        )
    return view


def pair_changes(db: Session, user_id: int, before: Checkin, after: Checkin) -> dict[str, Change]:
    """The change of every measure between two of the member's check-ins, with the member's own MDC95."""
    rows = [r for r in store.member_checkins(db, user_id) if store.measures_of(r) is not None]
    noise = estimate_noise(store.noise_points(rows))
    a, b = store.measures_of(before), store.measures_of(after)
    if a is None or b is None:
        return {}
    return change_between(a.values, b.values, noise)
