"""The audit report as the page (and its one-file export) shows it, from a finished audit's result.

One time axis for everything: the verdict in one sentence, the segments (what each one is, its reps and
holds, its faults with the thumbnail of the worst frame), the annotated timeline under the video and
the charts of the working and keep-still measures against their thresholds. Pure: the result, the
thumbnails' ids and a way to name their images in, a :class:`Report` out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from PIL import Image

from facecoach.coaching.actions import load_actions
from facecoach.jobs.audit_media import fault_moment
from facecoach.web.charts import measure_chart, report_timeline

LEVEL_BADGE = {"safe": "ok", "care": "warn", "unsafe": "bad"}


@dataclass(frozen=True)
class Thumb:
    """A stored thumbnail as the report refers to it (``src``: its URL, or a data: URI in the export)."""

    t_s: float
    kind: str
    src: str
    #: the JPEG's size (px), so the page keeps its place before it loads (lazy thumbnails that grow
    #: when scrolled to would move every button below them)
    width: int
    height: int


@dataclass(frozen=True)
class FaultView:
    kind: str
    label: str
    side: str | None
    start_s: float
    end_s: float
    cue: str
    worst_s: float
    thumb: Thumb | None


@dataclass(frozen=True)
class SegmentView:
    number: int
    start_s: float
    end_s: float
    kind: str
    title: str
    confidence: float | None
    moved: str
    reps: int
    holds: list[dict[str, Any]]
    faults: list[FaultView]
    overuse: list[dict[str, Any]]
    wrinkling: list[dict[str, Any]]
    not_judged: list[str]


@dataclass(frozen=True)
class Chart:
    title: str
    note: str
    svg: Markup


@dataclass(frozen=True)
class Report:
    """Everything the report shows; ``level`` is None for the audit of one named exercise (no verdict)."""

    level: str | None
    badge: str
    sentence: str
    reasons: list[str]
    duration_s: float
    calibration: str
    segments: list[SegmentView]
    timeline: Markup
    charts: list[Chart] = field(default_factory=list)

    @property
    def n_faults(self) -> int:
        return sum(len(s.faults) for s in self.segments)


def _words(kind: str) -> str:
    return kind.replace("_", " ")


def _segment_title(seg: dict[str, Any], names: dict[str, str]) -> str:
    if seg.get("technique"):
        return names.get(seg["technique"], seg["technique"])
    if seg.get("view") and seg["view"] != "face":
        return {
            "no_face": "no face",
            "turned_away": "head turned away",
            "several_faces": "several faces",
        }.get(seg["view"], _words(seg["view"]))
    if seg["kind"] == "rest":
        return "the face at rest"
    return "not a library technique"


def _moved(seg: dict[str, Any]) -> str:
    moved = seg.get("what_moved") or {}
    parts = []
    if seg.get("action"):
        parts.append(_words(seg["action"]))
    if moved.get("regions"):
        parts.append("regions: " + ", ".join(moved["regions"]))
    if moved.get("muscles"):
        parts.append("muscles: " + ", ".join(m.replace("-", " ") for m in moved["muscles"]))
    return "; ".join(parts)


def _find_thumb(thumbs: Sequence[Thumb], kind: str, t_s: float) -> Thumb | None:
    return next((t for t in thumbs if t.kind == kind and abs(t.t_s - t_s) < 0.011), None)


def _fault_views(seg: dict[str, Any], thumbs: Sequence[Thumb]) -> list[FaultView]:
    out = []
    for f in seg.get("faults") or []:
        m = fault_moment(seg, f)
        side = f.get("side") if f.get("side") not in (None, "both") else None
        out.append(
            FaultView(
                kind=f["kind"],
                label=_words(f["kind"]) + (f" ({side})" if side else ""),
                side=side,
                start_s=float(f["start_s"]),
                end_s=float(f["end_s"]),
                cue=f.get("cue", ""),
                worst_s=m.t_s,
                thumb=_find_thumb(thumbs, m.kind, m.t_s),
            )
        )
    return out


def _calibration_text(cal: dict[str, Any]) -> str:
    if not cal:
        return ""
    span = f"{float(cal.get('start_s', 0)):.1f}–{float(cal.get('end_s', 0)):.1f} s"
    if cal.get("neutral", True):
        waited = float(cal.get("waited_s") or 0.0)
        after = f" (after waiting {waited:.1f} s for a face at rest)" if waited > 0.05 else ""
        text = f"Measured from the neutral face at {span}{after}."
    else:
        why = ", ".join(_words(r) for r in cal.get("reasons") or []) or "no face at rest"
        text = f"No neutral face in the video ({why}): measured from the most relaxed stretch, {span}."
    if cal.get("rereferenced"):
        text += f" Re-referenced {len(cal['rereferenced'])}× after the head turned away and back."
    return text


def _legend(measure: str) -> str:
    """A line's label: the side for a left/right pair (the chart's title names the measure)."""
    for side in ("left", "right"):
        if measure.endswith("_" + side):
            return side
    return _words(measure)


def _charts(result: dict[str, Any], segments: list[dict[str, Any]], duration: float) -> list[Chart]:
    """One chart per working movement the video makes and per keep-still check, from ``series``."""
    series = result.get("series") or {}
    t, values, thr, units = (series.get(k) or {} for k in ("t", "values", "thresholds", "units"))
    if not t or not isinstance(t, list):
        return []
    actions = load_actions()
    charts: list[Chart] = []
    done: set[str] = set()
    for seg in segments:
        action = actions.actions.get(seg.get("action") or "")
        if action is None or action.name in done or not all(m in values for m in action.measures):
            continue
        done.add(action.name)
        first = action.measures[0]
        charts.append(
            Chart(
                title=f"Working movement: {_words(action.name)}",
                note=f"{', '.join(_words(m) for m in action.measures)}; dashed: where a rep starts.",
                svg=measure_chart(
                    f"chart-work-{action.name}",
                    f"{_words(action.name)} over time",
                    t,
                    [(_legend(m), values[m]) for m in action.measures],
                    float(thr.get(first, 0.0)) * action.sign,
                    units.get(first, ""),
                    duration,
                ),
            )
        )
        pic = action.picture.measure if action.picture is not None else None
        if pic is not None and pic in values:  # the frown seen in its creases: the figure that found it
            charts.append(
                Chart(
                    title=f"Working movement: {_words(action.name)}, in the picture",
                    note=f"{_words(pic)} above the neutral face; dashed: where it starts.",
                    svg=measure_chart(
                        f"chart-work-{action.name}-picture",
                        f"{_words(pic)} over time",
                        t,
                        [(_legend(pic), values[pic])],
                        float(thr.get(pic, 0.0)),
                        units.get(pic, ""),
                        duration,
                    ),
                )
            )
    charted = {tuple(actions.actions[a].measures) for a in done}
    for kind, check in actions.keep_still.items():
        measures = [m for m in check.measures if m in values]
        if not measures or tuple(measures) in charted:  # the working chart shows it already
            continue
        flagged = [
            (float(f["start_s"]), float(f["end_s"]))
            for s in segments
            for f in s.get("faults") or []
            if f["kind"] in (kind, check.kind)
        ]
        charts.append(
            Chart(
                title=f"Keep still: {_words(kind)}",
                note=f"{', '.join(_words(m) for m in measures)}; dashed: the tolerance; shaded: flagged.",
                svg=measure_chart(
                    f"chart-still-{kind}",
                    f"{_words(kind)} over time",
                    t,
                    [(_legend(m), values[m]) for m in measures],
                    float(thr.get(measures[0], 0.0)),
                    units.get(measures[0], ""),
                    duration,
                    flagged,
                ),
            )
        )
    return charts


def _technique_segments(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The audit of one named exercise as one segment over the whole video (same report layout)."""
    return [
        {
            "start_s": 0.0,
            "end_s": float(result.get("duration_s") or 0.0),
            "kind": "exercise",
            "technique": result.get("technique"),
            "confidence": None,
            "reps": int(result.get("reps") or 0),
            "holds": result.get("holds") or [],
            "faults": result.get("faults") or [],
            "view": "face",
        }
    ]


def build_report(result: dict[str, Any], names: dict[str, str], thumbs: Sequence[Thumb]) -> Report:
    """The report of a finished audit (any tutorial, or one named exercise)."""
    duration = float(result.get("duration_s") or 0.0)
    verdict = result.get("verdict")
    raw = result["segments"] if isinstance(result.get("segments"), list) else _technique_segments(result)
    segments = [
        SegmentView(
            number=i + 1,
            start_s=float(s["start_s"]),
            end_s=float(s["end_s"]),
            kind=s["kind"],
            title=_segment_title(s, names),
            confidence=float(s["confidence"])
            if s.get("technique") and s.get("confidence") is not None
            else None,
            moved=_moved(s),
            reps=int(s.get("reps") or 0),
            holds=list(s.get("holds") or []),
            faults=_fault_views(s, thumbs),
            overuse=list(s.get("overuse") or []),
            wrinkling=list(s.get("wrinkling") or []),
            not_judged=list(s.get("not_judged") or []),
        )
        for i, s in enumerate(raw)
    ]
    timeline = report_timeline(
        duration,
        [(s.start_s, s.end_s, s.kind, s.title) for s in segments],
        [(f.start_s, f.end_s, f"{f.label} — {f.cue}", f.worst_s) for s in segments for f in s.faults],
    )
    if isinstance(verdict, dict):
        level = str(verdict.get("level"))
        sentence = str(verdict.get("sentence") or "")
        reasons = [str(r) for r in verdict.get("reasons") or []]
    else:
        level, reasons = None, []
        n = sum(len(s.faults) for s in segments)
        sentence = f"{segments[0].title}: {segments[0].reps} reps, {n} fault{'s' if n != 1 else ''} flagged."
    return Report(
        level=level,
        badge=LEVEL_BADGE.get(level or "", ""),
        sentence=sentence,
        reasons=reasons,
        duration_s=duration,
        calibration=_calibration_text(result.get("calibration") or {}),
        segments=segments,
        timeline=timeline,
        charts=_charts(result, raw, duration),
    )


def thumbs_of(rows: Sequence[Any], src: Callable[[Any], str]) -> list[Thumb]:
    """:class:`Thumb` s of stored thumbnail rows, each named by ``src(row)``."""
    return [Thumb(float(r.t_s), str(r.kind), src(r), *_jpeg_size(r.jpeg)) for r in rows]


def _jpeg_size(jpeg: bytes) -> tuple[int, int]:
    """(width, height) in px from the JPEG's header (Pillow reads the header, not the pixels)."""
    with Image.open(io.BytesIO(jpeg)) as im:
        return im.size
