"""``facecoach assess`` and ``facecoach plan``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from facecoach.cli.app import app, console, err_console, fail, print_json
from facecoach.planning.assessment import AnswersError, load_answers
from facecoach.planning.plan import Day, Plan
from facecoach.planning.policy import PolicyError
from facecoach.planning.scan import ScanError, ScanSummary, load_scan

_PHASE_TITLES = {
    "warmup": "1. Warm-up: release and warm",
    "exercise": "2. Exercise",
    "release": "3. Release what you worked",
    "drainage": "4. Drain",
}


@app.command()
def assess(
    out: Path | None = typer.Option(None, "--out", help="Write the answers JSON here (default: stdout)."),
) -> None:
    """Ask the assessment questionnaire and write the answers as JSON (the format `plan --answers` reads)."""
    from facecoach.planning.questionnaire import QuestionnaireError, ask_questionnaire

    err_console.print(
        "[bold]facecoach assessment[/bold] — a few questions about your goals, habits and health."
    )
    try:
        answers = ask_questionnaire(err_console)
    except (QuestionnaireError, AnswersError) as exc:
        fail(str(exc))
    except (EOFError, KeyboardInterrupt):
        fail("assessment interrupted before the last question; nothing written")
    data = answers.model_dump(mode="json", exclude={"meta"})
    if out is None:
        print_json(data)
        return
    try:
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    err_console.print(f"Answers written to {out}. Next: facecoach plan --answers {out}")


def _sides(sides: list[str]) -> str:
    return "both" if sorted(sides) == ["left", "right"] else ", ".join(sides)


def _dose(reps: int | None, hold_s: float | None, duration_s: float) -> str:
    parts = []
    if reps:
        parts.append(f"{reps} reps")
    if hold_s:
        parts.append(f"hold {hold_s:g} s")
    parts.append(f"{duration_s / 60:.1f} min" if duration_s >= 60 else f"{duration_s:g} s")
    return " · ".join(parts)


def _render(plan: Plan, minutes_per_day: int, schedule: list[Day]) -> None:
    head = f"[bold]Your routine — week {plan.week}[/bold]"
    console.print(f"{head}  ({plan.minutes:g} of your {minutes_per_day} minutes a day)")
    if plan.referral:
        console.print(f"\n[bold yellow]See a clinician first.[/bold yellow] {plan.referral}")
    if not plan.items:
        console.print("\nNothing in the library is safe and fits for you today.")
    for phase, title in _PHASE_TITLES.items():
        items = [i for i in plan.items if i.phase == phase]
        if not items:
            continue
        table = Table(title=title, title_justify="left", show_lines=False, expand=True)
        table.add_column("technique", style="bold", no_wrap=True)
        table.add_column("sides", no_wrap=True)
        table.add_column("dose", no_wrap=True)
        table.add_column("why")
        for i in items:
            table.add_row(i.technique, _sides(list(i.sides)), _dose(i.reps, i.hold_s, i.duration_s), i.reason)
        console.print()
        console.print(table)
    if plan.habit_tips:
        console.print("\n[bold]Through the day[/bold]")
        for tip in plan.habit_tips:
            console.print(f"  • {tip}")
    safety = [e for e in plan.excluded if e.rule != "progression"]
    locked = [e.technique for e in plan.excluded if e.rule == "progression"]
    if safety:
        console.print("\n[bold]Left out, and why[/bold]")
        for e in safety:
            console.print(f"  • {e.technique} [dim]({e.rule})[/dim]: {e.reason}")
    if locked:
        console.print(f"\n[bold]Unlocks in a later week[/bold]  {', '.join(locked)}")
    week = "  ".join(f"day {d.day}: {'rest (massage only)' if d.rest else 'train'}" for d in schedule)
    console.print(f"\n[bold]This week[/bold]  {week}")


@app.command()
def plan(
    answers: Path = typer.Option(..., "--answers", help="Answers JSON (from `facecoach assess`)."),
    scan: Path | None = typer.Option(None, "--scan", help="Face scan JSON (from `facecoach scan --json`)."),
    week: int = typer.Option(
        1, "--week", help="Programme week (1 = first); progression and unlocks follow it."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as one JSON object."),
) -> None:
    """Build your personal routine: release, exercise, release what you worked, drain — with reasons."""
    from facecoach.knowledge import library as knowledge
    from facecoach.planning.planner import build_plan, week_schedule

    if week < 1 or week > 520:
        fail(f"--week must be between 1 and 520 (got {week})")
    try:
        person = load_answers(answers)
    except AnswersError as exc:
        fail(str(exc))
    summary: ScanSummary | None = None
    if scan is not None:
        try:
            summary = load_scan(scan)
        except ScanError as exc:
            fail(str(exc))
    try:
        lib = knowledge.load_library()
    except knowledge.KnowledgeError as exc:
        fail(f"the knowledge base is broken: {exc}")
    try:
        result = build_plan(person, summary, week=week, library=lib)
        schedule = [] if as_json else week_schedule(person, summary, week, lib)
    except PolicyError as exc:
        fail(f"the planner's data is broken: {exc}")
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    _render(result, person.minutes_per_day, schedule)
