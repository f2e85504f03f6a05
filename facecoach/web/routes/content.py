"""Public pages over the knowledge base: home, library, technique, muscles, myths & tools checker."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from facecoach.knowledge import CheckResult, Library, check
from facecoach.knowledge.models import REGIONS, Technique, ToolName
from facecoach.web.context import AppContext
from facecoach.web.deps import CtxDep, SessionDep, Viewer, ViewerDep, render
from facecoach.web.diagrams import SIDES_NOTE, regions_diagram, regions_legend, stroke_diagram

router = APIRouter(include_in_schema=False)

TOOL_LABELS = {"hands": "Hands", "gua_sha": "Gua sha", "jade_roller": "Jade roller", "none": "No tool"}


def library_of(ctx: AppContext, db: Session) -> Library:
    return ctx.library.current(db)


@router.get("/")
def home(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    library = library_of(ctx, db)
    techniques = list(library.techniques.values())
    featured = [t for t in techniques if t.kind == "massage"][:2] + [
        t for t in techniques if t.kind == "exercise"
    ][:2]
    return render(
        request,
        "home.html",
        viewer,
        featured=featured,
        n_exercises=sum(t.kind == "exercise" for t in techniques),
        n_massages=sum(t.kind == "massage" for t in techniques),
        n_muscles=len(library.muscle_groups()),
        tool_labels=TOOL_LABELS,
    )


def _muscle_options(library: Library) -> list[tuple[str, str]]:
    groups = library.muscle_groups()
    return sorted(((mid, entries[0].name) for mid, entries in groups.items()), key=lambda kv: kv[1])


def library_title(filters: dict[str, str], muscle_names: dict[str, str]) -> str:
    """The page title of a filtered library view ("Massages for the jaw · Library"), so each view is told
    apart in tabs, history and screen readers; plain "Library" when nothing is filtered."""
    kind = {"exercise": "Exercises", "massage": "Massages"}.get(filters["kind"], "Techniques")
    parts = [kind]
    if filters["region"] in REGIONS:
        parts.append(f"for the {filters['region']}")
    if filters["muscle"] in muscle_names:
        parts.append(f"for the {muscle_names[filters['muscle']]}")
    if filters["tool"] == "none":
        parts.append("without a tool")
    elif filters["tool"] in TOOL_LABELS:
        parts.append(f"with {TOOL_LABELS[filters['tool']].lower()}")
    return "Library" if len(parts) == 1 and kind == "Techniques" else " ".join(parts) + " · Library"


@router.get("/library")
def library_page(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
    kind: str = "",
    region: str = "",
    muscle: str = "",
    tool: str = "",
) -> Response:
    from facecoach.studio.enrolment import published_programs

    library = library_of(ctx, db)
    error = None
    try:
        techniques = library.techniques_for(
            kind=kind or None, muscle=muscle or None, region=region or None, tool=tool or None
        )
    except KeyError as exc:
        error = str(exc.args[0]) if exc.args else "unknown filter"
        techniques = []
    filters = {"kind": kind, "region": region, "muscle": muscle, "tool": tool}
    muscles = _muscle_options(library)
    return render(
        request,
        "library.html",
        viewer,
        title=library_title(filters, dict(muscles)) if not error else "Library",
        status_code=400 if error else 200,
        techniques=techniques,
        error=error,
        filters=filters,
        regions=REGIONS,
        muscles=muscles,
        tools=[(t, TOOL_LABELS.get(t, t)) for t in get_args(ToolName)],
        tool_labels=TOOL_LABELS,
        programs=published_programs(db),
    )


def progression_weeks(technique: Technique, weeks: int = 4) -> list[tuple[int, str]]:
    """(week, dose) for the first ``weeks`` weeks an exercise is in a routine, as the planner prescribes them
    from the technique's defaults — so the page follows an edit of reps or holds at once, instead of
    repeating numbers typed into the prose."""
    from facecoach.planning.planner import progressed
    from facecoach.planning.policy import default_policy

    if technique.exercise is None:
        return []
    first = technique.exercise.unlock_week
    out = []
    for week in range(first, first + weeks):
        reps, hold, duration = progressed(technique.defaults, week, default_policy())
        if reps and hold:
            dose = f"{reps} × {hold:g} s"
        elif reps:
            dose = f"{reps} reps"
        else:
            dose = f"{hold:g} s hold"
        out.append((week, f"{dose}, about {duration / 60:.1f} min"))
    return out


@router.get("/library/{technique_id}")
def technique_page(
    request: Request,
    technique_id: str,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    library = library_of(ctx, db)
    technique = library.techniques.get(technique_id)
    if technique is None:
        raise HTTPException(
            status_code=404, detail=f"There is no technique '{technique_id[:80]}' in the library."
        )
    groups = library.muscle_groups()
    names = {mid: entries[0].name for mid, entries in groups.items()}
    diagram = None
    if technique.massage is not None and technique.massage.strokes:
        diagram = stroke_diagram(
            technique.massage.strokes, f"strokes-{technique.id}", f"Strokes of {technique.name}"
        )
    from facecoach.web.routes.lessons import lesson_context

    releases = (
        [library.techniques[r.id] for r in library.releases_for(technique.targets[0])]
        if technique.kind == "exercise"
        else []
    )
    return render(
        request,
        "technique.html",
        viewer,
        t=technique,
        muscle_names=names,
        diagram=diagram,
        releases=[r for r in releases if r.id != technique.id][:4],
        tool_labels=TOOL_LABELS,
        sides_note=SIDES_NOTE,
        progression=progression_weeks(technique),
        **lesson_context(db, ctx, viewer, technique.id),
    )


@router.get("/muscles")
def muscles_page(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
) -> Response:
    library = library_of(ctx, db)
    by_region: dict[str, list[Any]] = {r: [] for r in REGIONS}
    for _mid, entries in library.muscle_groups().items():
        by_region.setdefault(entries[0].region, []).append(entries[0])
    use: dict[str, str] = {}
    for region, muscles in by_region.items():
        kinds = {m.use for m in muscles}
        use[region] = (
            "overused" if "overused" in kinds else ("underused" if "underused" in kinds else "balanced")
        )
    diagram = regions_diagram(use, {r: len(ms) for r, ms in by_region.items()})
    return render(
        request,
        "muscles.html",
        viewer,
        by_region=by_region,
        diagram=diagram,
        legend=regions_legend(),
        sides_note=SIDES_NOTE,
    )


def _run_check(library: Library, query: str) -> CheckResult | str:
    try:
        return check(query, library)
    except ValueError as exc:  # empty or over-long text: said to the person, not a crash
        return str(exc)


@router.get("/checker")
def checker_page(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
    q: str = "",
) -> Response:
    result = _run_check(library_of(ctx, db), q.strip()) if q.strip() else None
    return _checker(request, viewer, q, result)


@router.post("/checker")
def checker_post(
    request: Request,
    viewer: ViewerDep,
    ctx: CtxDep,
    db: SessionDep,
    q: str = Form(..., max_length=300),
) -> Response:
    result = _run_check(library_of(ctx, db), q.strip()) if q.strip() else None
    return _checker(request, viewer, q, result)


def _checker(request: Request, viewer: Viewer | None, q: str, result: CheckResult | str | None) -> Response:
    if isinstance(result, str):
        return render(request, "checker.html", viewer, status_code=400, q=q[:300], result=None, error=result)
    return render(request, "checker.html", viewer, q=q, result=result, error=None)
