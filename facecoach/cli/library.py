"""Knowledge-base commands: techniques, show, muscles, check."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from rich import box
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from facecoach.cli.app import app, console, fail, print_json
from facecoach.knowledge.library import KnowledgeError, Library, load_library
from facecoach.knowledge.lookup import NOT_FOUND, check
from facecoach.knowledge.models import REGIONS, Claim, Muscle, Technique, Tool

_JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
_CATEGORY_STYLE = {"harmful": "bold red", "passive": "yellow", "massage": "cyan", "exercise": "green"}
_VERDICT_STYLE = {"false": "bold red", "partly": "yellow", "unproven": "yellow", "true": "green"}


def _library() -> Library:
    try:
        return load_library()
    except KnowledgeError as exc:
        fail(f"the knowledge base is broken: {exc}")


def _technique_row(t: Technique) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "region": t.region,
        "regions": list(t.regions),
        "targets": list(t.targets),
        "tool": t.tool,
        "summary": t.summary,
        "duration_s": t.defaults.duration_s,
        "movement": t.exercise.movement if t.exercise else None,
        "unlock_week": t.exercise.unlock_week if t.exercise else None,
        "releases": list(t.massage.releases) if t.massage else [],
        "drains": bool(t.massage and t.massage.drains),
        "contraindications": list(t.contraindications),
    }


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A list table that reads in an 80-column terminal: one line per row. Every column but the last keeps
    its full width; the last (free text) gets what is left and is cut with an ellipsis instead of folding
    into a tall stack of fragments."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_lines=False)
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    used = sum(w + 2 for w in widths[:-1])  # each column: its text, a space, a divider
    for header, width in zip(headers[:-1], widths, strict=False):
        table.add_column(header, no_wrap=True, min_width=width)
    table.add_column(
        headers[-1], no_wrap=True, overflow="ellipsis", max_width=max(8, console.width - used - 1)
    )
    return table


@app.command("techniques")
def techniques_cmd(
    kind: Annotated[str | None, typer.Option("--kind", help="exercise or massage.")] = None,
    muscle: Annotated[
        str | None, typer.Option("--muscle", help="Muscle id, e.g. masseter or masseter-left.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help=f"One of: {', '.join(REGIONS)}.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="hands, gua_sha, jade_roller or none.")] = None,
    as_json: _JSON = False,
) -> None:
    """List exercises and massages, filtered by kind, muscle, region or tool."""
    lib = _library()
    try:
        found = lib.techniques_for(kind=kind, muscle=muscle, region=region, tool=tool)
    except KeyError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))
    if as_json:
        print_json([_technique_row(t) for t in found])
        return
    if not found:
        console.print("No technique matches those filters.")
        return
    rows = [
        (
            t.id,
            t.kind,
            t.region,
            t.tool,
            str(t.exercise.unlock_week) if t.exercise else "",
            ", ".join(t.targets),
        )
        for t in found
    ]
    table = _table(f"{len(found)} technique(s)", ("id", "kind", "region", "tool", "week", "targets"), rows)
    for row in rows:
        table.add_row(*row[:1], Text(row[1], style="green" if row[1] == "exercise" else "cyan"), *row[2:])
    console.print(table)


@app.command("muscles")
def muscles_cmd(
    region: Annotated[str | None, typer.Option("--region", help=f"One of: {', '.join(REGIONS)}.")] = None,
    as_json: _JSON = False,
) -> None:
    """List the muscles, each side separately, with how a typical face uses them."""
    lib = _library()
    if region is not None and region not in REGIONS:
        fail(f"unknown region '{region}' (use one of: {', '.join(REGIONS)})")
    found = [m for m in lib.muscles.values() if region is None or m.region == region]
    if as_json:
        print_json([m.model_dump(mode="json") for m in found])
        return
    rows = [(m.id, m.region, m.use, m.name) for m in found]
    table = _table(f"{len(found)} muscle entries", ("id", "region", "use", "name"), rows)
    styles = {"overused": "red", "underused": "green", "balanced": ""}
    for m in found:
        table.add_row(m.id, m.region, Text(m.use, style=styles[m.use]), m.name)
    console.print(table)


@app.command("show")
def show_cmd(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="A technique, muscle, tool or claim id.")],
    as_json: _JSON = False,
) -> None:
    """Everything the library knows about one technique, muscle, tool or claim."""
    lib = _library()
    key = entry_id.strip().lower()
    entry: Technique | Muscle | Tool | Claim | None = None
    entry_type = ""
    for collection_type, collection in (
        ("technique", lib.techniques),
        ("muscle", lib.muscles),
        ("tool", lib.tools),
        ("claim", lib.claims),
    ):
        if key in collection:
            entry, entry_type = collection[key], collection_type  # type: ignore[assignment]
            break
    if entry is None and key in lib.muscle_ids():
        sides = lib.muscle_groups()[key]
        if as_json:
            print_json(
                {"type": "muscle_group", "id": key, "sides": [m.model_dump(mode="json") for m in sides]}
            )
        else:
            # The sides usually say the same: show one panel naming both ids, unless the texts differ.
            same = len({m.model_dump_json(exclude={"id", "side"}) for m in sides}) == 1
            if same and len(sides) > 1:
                _print_muscle(sides[0], title_ids=", ".join(m.id for m in sides))
            else:
                for m in sides:
                    _print_muscle(m)
        return
    if entry is None:
        known = [*lib.techniques, *lib.muscles, *lib.muscle_ids(), *lib.tools, *lib.claims]
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else " (see `facecoach techniques`)"
        fail(f"no technique, muscle, tool or claim with id '{entry_id}'{hint}")
    if as_json:
        print_json({"type": entry_type, **entry.model_dump(mode="json")})
        return
    if isinstance(entry, Technique):
        _print_technique(entry)
    elif isinstance(entry, Muscle):
        _print_muscle(entry)
    elif isinstance(entry, Tool):
        _print_tool(entry)
    else:
        _print_claim(entry)


def _bullets(items: list[str], numbered: bool = False) -> str:
    return "\n".join(f"  {i}. {s}" if numbered else f"  • {s}" for i, s in enumerate(items, 1))


def _print_technique(t: Technique) -> None:
    d = t.defaults
    dose = [f"{d.duration_s:g} s in all"]
    if d.reps:
        dose.insert(0, f"{d.sets} × {d.reps} reps" if d.sets > 1 else f"{d.reps} reps")
    if d.hold_s:
        dose.insert(1, f"hold {d.hold_s:g} s")
    if d.rest_s:
        dose.insert(2, f"rest {d.rest_s:g} s")
    lines = [
        f"[bold]{t.summary}[/bold]",
        "",
        f"[b]Kind[/b] {t.kind}   [b]Region[/b] {t.region} ({', '.join(t.regions)})   [b]Tool[/b] {t.tool}",
        f"[b]Targets[/b] {', '.join(t.targets)}",
        f"[b]Dose[/b] {', '.join(dose)}",
    ]
    if t.exercise:
        e = t.exercise
        lines += [
            f"[b]Camera checks[/b] {e.movement}; must stay still: {', '.join(e.still)}",
            f"[b]Sides[/b] {e.sides}   [b]From week[/b] {e.unlock_week}"
            + (f"   [b]Resistance[/b] {e.resistance}" if e.resistance else ""),
        ]
        if e.progression:
            lines.append(f"[b]Progression[/b] {e.progression}")
    if t.massage:
        m = t.massage
        angle = f", tool at {m.tool_angle_deg:g}°" if m.tool_angle_deg is not None else ""
        lines += [
            f"[b]Direction[/b] {m.direction}",
            f"[b]Pressure[/b] {m.pressure}{angle}{'   [b]Drains[/b] yes' if m.drains else ''}",
        ]
        if m.releases:
            lines.append(f"[b]Releases[/b] {', '.join(m.releases)}")
        if m.strokes:
            lines.append("[b]Strokes[/b] (in order)")
            lines += [f"  {i}. {s.label} ×{s.repeat} ({s.sides})" for i, s in enumerate(m.strokes, 1)]
    lines += ["", "[b]Steps[/b]", _bullets(t.steps, numbered=True), "[b]Cues[/b]", _bullets(t.cues)]
    if t.keep_still:
        lines += ["[b]Keep still[/b]", _bullets(t.keep_still)]
    lines += ["[b]Common mistakes[/b]", _bullets(t.mistakes)]
    if t.contraindications:
        lines.append(f"[b]Not with[/b] {', '.join(t.contraindications)}")
    lines += ["", f"[b]Evidence[/b] ({t.evidence.level}) {t.evidence.summary}"]
    lines += [f"  – {s}" for s in t.evidence.sources]
    console.print(Panel("\n".join(lines), title=f"{t.name} [dim]({t.id})[/dim]", expand=False))


def _print_muscle(m: Muscle, title_ids: str | None = None) -> None:
    lines = [
        f"[b]Side[/b] {'left and right' if title_ids else m.side}   [b]Group[/b] {m.group}   "
        f"[b]Region[/b] {m.region}   [b]Use[/b] {m.use}",
        f"[b]Origin[/b] {m.origin}",
        f"[b]Insertion[/b] {m.insertion} ({m.insertion_kind})",
        f"[b]Action[/b] {m.action}",
    ]
    if m.overused_by:
        lines += ["[b]Over-used by[/b]", _bullets(m.overused_by)]
    if m.notes:
        lines += ["", m.notes]
    console.print(Panel("\n".join(lines), title=f"{m.name} [dim]({title_ids or m.id})[/dim]", expand=False))


def _print_tool(tool: Tool) -> None:
    style = _CATEGORY_STYLE[tool.category]
    lines = [
        f"[{style}]{tool.category.upper()}[/{style}] — [bold]{tool.verdict}[/bold]",
        "",
        f"[b]What it does[/b] {tool.what_it_does}",
        f"[b]Results last[/b] {tool.results_last}",
        f"[b]Evidence[/b] ({tool.evidence.level}) {tool.evidence.summary}",
    ]
    if tool.risks:
        lines += ["[b]Risks[/b]", _bullets(tool.risks)]
    if tool.aliases:
        lines.append(f"[dim]Also called: {', '.join(tool.aliases)}[/dim]")
    console.print(Panel("\n".join(lines), title=f"{tool.name} [dim]({tool.id})[/dim]", expand=False))


def _print_claim(c: Claim) -> None:
    style = _VERDICT_STYLE[c.verdict]
    lines = [f"[{style}]{c.verdict.upper()}[/{style}]", "", c.explanation]
    if c.related:
        lines.append(f"\n[dim]Related: {', '.join(c.related)}[/dim]")
    console.print(Panel("\n".join(lines), title=f"“{c.claim}” [dim]({c.id})[/dim]", expand=False))


@app.command("check")
def check_cmd(
    text: Annotated[
        str, typer.Argument(help="A tool, treatment or claim in your own words, e.g. 'jaw exerciser'.")
    ],
    as_json: _JSON = False,
) -> None:
    """What the library says about a tool, treatment or claim (forgiving about wording and typos)."""
    lib = _library()
    try:
        result = check(text, lib)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    if result.match is None:
        console.print(f"[bold]{NOT_FOUND}[/bold]: nothing matches '{text.strip()}'. Closest entries:")
        for c in result.closest[:3]:
            console.print(f"  • {c.name} [dim]({c.id}, {c.score:.2f})[/dim]")
        return
    if result.kind == "tool":
        _print_tool(lib.tools[result.match])
    else:
        _print_claim(lib.claims[result.match])
    if result.closest:
        console.print(f"[dim]See also: {', '.join(c.id for c in result.closest[:3])}[/dim]")
