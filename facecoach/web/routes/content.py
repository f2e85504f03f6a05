"""Public pages over the knowledge base: home, library, technique, muscles, myths & tools checker."""

from __future__ import annotations

from typing import Any, get_args

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from facecoach.knowledge import CheckResult, Library, check
from facecoach.knowledge.models import REGIONS, ToolName
from facecoach.web.context import AppContext
from facecoach.web.deps import Viewer, get_ctx, get_db, get_viewer, render
from facecoach.web.diagrams import regions_diagram, stroke_diagram

router = APIRouter(include_in_schema=False)

TOOL_LABELS = {"hands": "Hands", "gua_sha": "Gua sha", "jade_roller": "Jade roller", "none": "No tool"}


def library_of(ctx: AppContext, db: Session) -> Library:
    return ctx.library.current(db)


@router.get("/")
def home(
    request: Request,
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
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
    )


def _muscle_options(library: Library) -> list[tuple[str, str]]:
    groups = library.muscle_groups()
    return sorted(((mid, entries[0].name) for mid, entries in groups.items()), key=lambda kv: kv[1])


@router.get("/library")
def library_page(
    request: Request,
    kind: str = "",
    region: str = "",
    muscle: str = "",
    tool: str = "",
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
) -> Response:
    library = library_of(ctx, db)
    error = None
    try:
        techniques = library.techniques_for(
            kind=kind or None, muscle=muscle or None, region=region or None, tool=tool or None
        )
    except KeyError as exc:
        error = str(exc.args[0]) if exc.args else "unknown filter"
        techniques = []
    return render(
        request,
        "library.html",
        viewer,
        status_code=400 if error else 200,
        techniques=techniques,
        error=error,
        filters={"kind": kind, "region": region, "muscle": muscle, "tool": tool},
        regions=REGIONS,
        muscles=_muscle_options(library),
        tools=[(t, TOOL_LABELS.get(t, t)) for t in get_args(ToolName)],
        tool_labels=TOOL_LABELS,
    )


@router.get("/library/{technique_id}")
def technique_page(
    request: Request,
    technique_id: str,
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
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
    )


@router.get("/muscles")
def muscles_page(
    request: Request,
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
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
    return render(request, "muscles.html", viewer, by_region=by_region, diagram=diagram)


def _run_check(library: Library, query: str) -> CheckResult | str:
    try:
        return check(query, library)
    except ValueError as exc:  # empty or over-long text: said to the person, not a crash
        return str(exc)


@router.get("/checker")
def checker_page(
    request: Request,
    q: str = "",
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
) -> Response:
    result = _run_check(library_of(ctx, db), q.strip()) if q.strip() else None
    return _checker(request, viewer, q, result)


@router.post("/checker")
def checker_post(
    request: Request,
    q: str = Form(..., max_length=300),
    viewer: Viewer | None = Depends(get_viewer),
    ctx: AppContext = Depends(get_ctx),
    db: Session = Depends(get_db),
) -> Response:
    result = _run_check(library_of(ctx, db), q.strip()) if q.strip() else None
    return _checker(request, viewer, q, result)


def _checker(request: Request, viewer: Viewer | None, q: str, result: CheckResult | str | None) -> Response:
    if isinstance(result, str):
        return render(request, "checker.html", viewer, status_code=400, q=q[:300], result=None, error=result)
    return render(request, "checker.html", viewer, q=q, result=result, error=None)
