"""``facecoach audit``: the coaching engine over a recorded video — one named exercise, or any tutorial."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from facecoach.cli.app import app, console, fail, frames_bar, print_json

if TYPE_CHECKING:
    from facecoach.coaching.tutorial import TutorialResult


@app.command()
def audit(
    video: Path = typer.Argument(..., help="a recorded video (MP4, WebM, AVI, MOV)"),
    technique: str | None = typer.Option(
        None, "--technique", "-t", help="the exercise's technique id (without it: find what the video does)"
    ),
    json_out: bool = typer.Option(False, "--json", help="print one JSON document"),
    annotate: Path | None = typer.Option(
        None, "--annotate", help="write the video with measures, reps and faults drawn on it (mp4)"
    ),
) -> None:
    """Audit a video: reps, holds and form faults on a timeline; without --technique, any tutorial:
    its segments, the techniques recognised, what it gets wrong, and whether it is safe to follow."""
    from facecoach.coaching.audit import AuditError, audit_any, audit_video
    from facecoach.config import get_settings

    settings = get_settings()
    if technique is None:
        if annotate is not None:
            fail("--annotate needs --technique (the annotated video draws one exercise's measures)")
        try:
            with frames_bar("auditing") as bar:
                task = bar.add_task("audit", total=None)
                found = audit_any(
                    video,
                    limits=settings.input_limits,
                    model=settings.model_path,
                    progress=lambda done, total: bar.update(task, completed=done, total=total or None),
                )
        except AuditError as exc:
            fail(str(exc))
        if json_out:
            print_json(found.model_dump(exclude={"series"}) | {"series": found.series.model_dump()})
            return
        _print_tutorial(video, found)
        return
    try:
        with frames_bar("auditing") as bar:
            task = bar.add_task("audit", total=None)
            result = audit_video(
                video,
                technique,
                limits=settings.input_limits,
                model=settings.model_path,
                annotate=annotate,
                progress=lambda done, total: bar.update(task, completed=done, total=total or None),
            )
    except AuditError as exc:
        fail(str(exc))
    if json_out:
        print_json(result.model_dump())
        return
    console.print(
        f"[bold]Audit[/bold] of {video.name} for [bold]{result.technique}[/bold]: "
        f"{result.duration_s:.1f} s at {result.fps:g} fps; calibrated on "
        f"{result.calibration.start_s:.1f}–{result.calibration.end_s:.1f} s"
    )
    console.print(f"reps: {result.reps}")
    for i, hold in enumerate(result.holds, 1):
        mark = "done" if hold.completed else "released too early"
        console.print(
            f"  hold {i}: {hold.start_s:6.1f}–{hold.end_s:6.1f} s, held {hold.seconds:.1f} s ({mark})"
        )
    if not result.faults:
        console.print("faults: none")
    for fault in result.faults:
        side = f" ({fault.side})" if fault.side else ""
        console.print(
            f"  fault {fault.kind}{side}: {fault.start_s:6.1f}–{fault.end_s:6.1f} s — {fault.cue}",
            soft_wrap=True,
        )
    if annotate is not None:
        console.print(f"annotated video: {annotate}")


def _print_tutorial(video: Path, result: TutorialResult) -> None:
    cal = result.calibration
    note = (
        "" if cal.neutral else f" — not a neutral face ({', '.join(cal.reasons)}): no neutral stretch found"
    )
    console.print(
        f"[bold]Audit[/bold] of {video.name}: {result.duration_s:.1f} s at {result.fps:g} fps; "
        f"calibrated on {cal.start_s:.1f}–{cal.end_s:.1f} s{note}",
        soft_wrap=True,
    )
    style = {"safe": "green", "care": "yellow", "unsafe": "red"}[result.verdict.level]
    console.print(f"[bold {style}]{result.verdict.sentence}[/bold {style}]", soft_wrap=True)
    for seg in result.segments:
        name = seg.technique or seg.action or seg.view.replace("_", " ")
        conf = f" ({seg.confidence:.0%})" if seg.technique else ""
        reps = f", reps {seg.reps}" if seg.kind in ("exercise", "unrecognised") and seg.action else ""
        console.print(
            f"  {seg.start_s:6.1f}–{seg.end_s:6.1f} s  {seg.kind}: {name}{conf}{reps}", soft_wrap=True
        )
        if seg.kind == "unrecognised" and seg.action:
            console.print(
                f"      moved: {', '.join(seg.what_moved.regions)} ({', '.join(seg.what_moved.muscles)})"
            )
        for o in seg.overuse:
            console.print(
                f"      trains the over-used {o.muscle}: {o.reason} Release: {', '.join(o.release)}"
            )
        for w in seg.wrinkling:
            console.print(f"      {w.kind.replace('_', ' ')}: {w.share:.0%} of the time")
        for f in seg.faults:
            side = f" ({f.side})" if f.side else ""
            console.print(
                f"      fault {f.kind}{side}: {f.start_s:.1f}–{f.end_s:.1f} s — {f.cue}", soft_wrap=True
            )
        for line in seg.not_judged:
            console.print(f"      [dim]not judged: {line}[/dim]", soft_wrap=True)
